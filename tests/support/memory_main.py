"""``python -m tests.support.memory_main ARGS...``: ``token-inspector ARGS...`` in a child
process, with ``--dsn memory:`` naming the stand-in (``tests.support.memory_db``)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from inspector.cli.main import main
from tests.support.memory_db import install


def _set(name: str, value: Any) -> None:
    module, attribute = name.rsplit(".", 1)
    setattr(importlib.import_module(module), attribute, value)


if __name__ == "__main__":
    install(_set)
    sys.exit(main())
