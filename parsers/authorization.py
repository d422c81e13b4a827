"""Parsing an ``Authorization`` header value as logged by nginx.

Schemes are case-insensitive (RFC 9110); nginx logs the value as sent, with whatever
spacing the client used, and ``-`` when there was none (the log parser turns that into
``None``). The known schemes come back in their canonical spelling so callers compare
with ``==``.
"""

from __future__ import annotations

from typing import NamedTuple

_CANONICAL = {"bearer": "Bearer", "basic": "Basic", "dpop": "DPoP", "negotiate": "Negotiate"}


class Authorization(NamedTuple):
    """``(scheme, credentials)``; either is None when absent."""

    scheme: str | None
    credentials: str | None

    @property
    def is_bearer(self) -> bool:
        """True for ``Bearer`` (any case) with a credential."""
        return self.scheme == "Bearer" and bool(self.credentials)


def parse_authorization(value: str | None) -> Authorization:
    """Split a header value into its scheme and credentials.

    ``None``, empty and ``-`` give ``(None, None)``. A value whose single word looks like a
    token rather than a scheme (it contains a dot or is long) is returned as credentials
    with no scheme, so a client that forgot ``Bearer`` is diagnosed as such.
    """
    if value is None:
        return Authorization(None, None)
    text = value.strip()
    if not text or text == "-":
        return Authorization(None, None)
    parts = text.split(None, 1)
    head = parts[0]
    rest = parts[1].strip() if len(parts) > 1 else ""
    if not rest:
        if "." in head or len(head) > 24:
            return Authorization(None, head)
        return Authorization(_CANONICAL.get(head.lower(), head), None)
    # Tabs and repeated spaces between scheme and token are tolerated by most servers.
    return Authorization(_CANONICAL.get(head.lower(), head), rest)
