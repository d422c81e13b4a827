"""``schema_version``: carried by every JSON document the command line writes.

``scan --json`` and ``tail --json`` lines, ``decode --json``, ``doctor --json``,
``profile ... --json`` and ``rules --json`` all start with it, so a script can refuse a
shape it does not know. Adding a field keeps the version; renaming or removing one, or
changing what a value means, raises it (and the README says what changed).
"""

from __future__ import annotations

SCHEMA_VERSION = 1
