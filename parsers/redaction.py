"""Redaction of credentials. Every place that shows a log line or a header goes through here.

A bearer token is a credential: we show its scheme, its first ten characters (enough to
tell a JWT's header apart) and a short SHA-256 fingerprint that identifies it across lines
without revealing it.
"""

from __future__ import annotations

import hashlib
import re

PREFIX_CHARS = 10
FINGERPRINT_CHARS = 12

# Long base64url-ish runs (JWTs, opaque tokens) anywhere in free text.
_CREDENTIAL_RUN = re.compile(r"(?i)(bearer\s+|basic\s+|dpop\s+)?([A-Za-z0-9_\-+/=.~]{24,})")


def fingerprint(credential: str) -> str:
    """Short SHA-256 of the credential: stable, safe to print, used as the token's key."""
    return hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()[
        :FINGERPRINT_CHARS
    ]


def redact_credential(credential: str) -> str:
    """``eyJ0eXAiOi…[sha256:0123abcd4567]`` for a credential of any length."""
    if not credential:
        return ""
    shown = credential[:PREFIX_CHARS] if len(credential) > PREFIX_CHARS * 2 else ""
    return f"{shown}…[sha256:{fingerprint(credential)}]"


def redact_authorization(value: str | None) -> str | None:
    """Redact an ``Authorization`` header value, keeping its scheme.

    ``Bearer eyJ...`` becomes ``Bearer eyJ0eXAiOi…[sha256:…]``; a value with no scheme is
    redacted whole. ``None`` stays ``None``.
    """
    if value is None:
        return None
    scheme, sep, rest = value.strip().partition(" ")
    if not sep:
        return redact_credential(scheme)
    return f"{scheme} {redact_credential(rest.strip())}"


def redact_text(text: str) -> str:
    """Replace every long credential-like run in free text (a raw log line, an error)."""

    def _sub(match: re.Match[str]) -> str:
        return (match.group(1) or "") + redact_credential(match.group(2))

    return _CREDENTIAL_RUN.sub(_sub, text)
