"""Redaction of credentials. Every place that shows a log line or a header goes through here.

A bearer token is a credential: we show its scheme, its first ten characters (enough to
tell a JWT's header apart) and a short SHA-256 fingerprint that identifies it across lines
without revealing it.

``redact_text`` is for free text (a path, a user agent, a raw log line, an exception
message). It looks for the shapes credentials take there, not for "anything long": a JWT
(dot-separated base64url segments whose first one decodes to a JSON object), a credential
after an authentication scheme (``Bearer …``, ``Basic …``), the value of a credential-named
query or form parameter (``access_token=…``, ``id_token=…``) or JSON member, a quoted
``authorization:"…"`` value, and long random-looking runs (mixed case and digits). Paths,
user agents, dates, addresses, UUIDs and dotted identifiers are left alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

PREFIX_CHARS = 10
FINGERPRINT_CHARS = 12

# An Authorization "scheme" longer than this, or with a dot, is a credential sent without
# one (``<jwt> extra``): no registered scheme looks like that.
MAX_SCHEME_CHARS = 24

# Query/form parameters and JSON members whose value is a credential.
_CREDENTIAL_KEYS = (
    "access_token|id_token|refresh_token|token|client_secret|client_assertion|assertion"
    "|code|password|passwd|pwd|api_key|apikey|sig|signature|jwt"
)
_B64 = r"[A-Za-z0-9_\-]"
_TEXT = re.compile(
    # authorization:"…" as nginx's extended log_format (or a header dump) writes it.
    r"(?P<auth>(?i:\bauthorization)[\"']?\s*[:=]\s*\")(?P<auth_value>[^\"\r\n]*)(?=\")"
    # "access_token": "…" in a JSON body quoted in an error.
    rf"|(?P<json>\"(?i:{_CREDENTIAL_KEYS})\"\s*:\s*\")(?P<json_value>[^\"\\\r\n…]++)(?!…)"
    # ?access_token=… &id_token=… in a URL, a form body or a log line.
    rf"|(?P<param>(?<![A-Za-z0-9_\-])(?i:{_CREDENTIAL_KEYS})=)(?P<param_value>[^&\s\"'#;,<>…]++)(?!…)"
    # Bearer <credential>; a lowercase word after it is prose ("Bearer realm", "bearer token"),
    # and so is a challenge's parameter named with "_" or "-" (resource_metadata="...").
    r"|(?P<scheme>(?<![A-Za-z0-9_\-])(?i:bearer|basic|dpop|negotiate)[ \t]+)"
    r"(?![a-z]+(?:[^A-Za-z0-9._~+/\-=]|=\"|$)|[a-z][a-z0-9]*+(?:[_\-][a-z0-9]++)++=\")"
    r"(?P<scheme_value>[A-Za-z0-9._~+/\-]++=*+)(?!…)"
    # A JWS/JWE (three or five segments; payload and signature may be empty). A JOSE
    # header's base64url starts with "e" ("{"), or I/C/D when JSON whitespace leads; glued
    # to a word (``GETeyJ…``, ``x_eyJ…``) only the usual ``eyJ`` (``{"``) start is taken.
    rf"|(?P<jwt>(?:(?<![A-Za-z0-9_\-.])[eICD]|(?=eyJ{_B64}{{5}})e){_B64}++={{0,2}}(?:\.{_B64}*+={{0,2}}){{2,4}}+)"
    rf"(?![A-Za-z0-9_\-.])"
    # A long random-looking run: an opaque token (checked for mixed case and digits below).
    r"|(?P<run>(?<![A-Za-z0-9_\-+=~])[A-Za-z0-9_\-+=~]{32,}+)"
)
# What redact_credential leaves behind: never redacted twice.
_REDACTED = "…[sha256:"
_LONG_RUN = re.compile(r"[A-Za-z0-9_\-+=~]{32}")
_HINT_WORDS = ("bearer", "basic", "dpop", "negotiate", "authorization")
_HAS_UPPER = re.compile(r"[A-Z]")
_HAS_LOWER = re.compile(r"[a-z]")
_HAS_DIGIT = re.compile(r"[0-9]")


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
    redacted whole, and so is one whose first word cannot be a scheme (longer than
    ``MAX_SCHEME_CHARS`` or with a dot: ``<jwt> extra`` is a token, not a scheme).
    ``None`` stays ``None``.
    """
    if value is None:
        return None
    stripped = value.strip()
    scheme, sep, rest = stripped.partition(" ")
    if not sep or len(scheme) > MAX_SCHEME_CHARS or "." in scheme:
        return redact_credential(stripped)
    return f"{scheme} {redact_credential(rest.strip())}"


def looks_like_jose(candidate: str) -> bool:
    """True when ``candidate``'s first dot-separated segment decodes to a JSON object start.

    Every JWS and JWE header is a JSON object, so its base64url starts with ``{`` (after
    optional whitespace); ``access.log.1`` or ``1.2.3.4`` do not.
    """
    head = candidate.split(".", 1)[0].rstrip("=")[:16]
    head = head[: len(head) - len(head) % 4] if len(head) % 4 == 1 else head
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    return decoded.lstrip(b" \t\r\n").startswith(b"{")


def _redact_run(run: str) -> str:
    # Mixed case and digits over 32 characters: random, not a word, a UUID or a hex digest.
    if (
        len(run) >= 32
        and _HAS_UPPER.search(run)
        and _HAS_LOWER.search(run)
        and _HAS_DIGIT.search(run)
    ):
        return redact_credential(run)
    return run


def _replace_all(match: re.Match[str]) -> str:
    return _replace(match, opaque=True)


def _replace_shaped(match: re.Match[str]) -> str:
    return _replace(match, opaque=False)


def _replace(match: re.Match[str], *, opaque: bool) -> str:
    kind = match.lastgroup
    if kind == "auth_value":
        value = match.group("auth_value")
        done = value in ("", "-") or _REDACTED in value
        shown = value if done else redact_authorization(value)
        return match.group("auth") + (shown or "")
    if kind in ("json_value", "param_value", "scheme_value"):
        prefix = match.group(kind.removesuffix("_value"))
        return prefix + redact_credential(match.group(kind))
    if kind == "jwt":
        token = match.group("jwt")
        if looks_like_jose(token):
            return redact_credential(token)
        return ".".join(_redact_run(segment) for segment in token.split("."))
    if kind == "run" and opaque:
        return _redact_run(match.group("run"))
    return match.group()


def _may_hold_credential(text: str) -> bool:
    # Most paths and user agents hold none of the shapes: skip the full pattern for them
    # (scan redacts the path of every attempt).
    if "=" in text or text.count(".") >= 2 or _LONG_RUN.search(text):
        return True
    lowered = text.lower()
    return any(word in lowered for word in _HINT_WORDS)


def redact_text(text: str, *, opaque: bool = True) -> str:
    """Replace every credential in free text (a path, a user agent, a raw line, an error).

    ``opaque=False`` leaves long random-looking runs alone and redacts only what has a
    credential's shape or place (JWTs, ``access_token=``, ``Bearer …``): for claim values,
    where such runs are identifiers (Entra's pairwise ``sub``, ``aio``, ``uti``).
    Idempotent: redacted output has nothing left to redact.
    """
    if not _may_hold_credential(text):
        return text
    return _TEXT.sub(_replace_all if opaque else _replace_shaped, text)
