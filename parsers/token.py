"""Splitting and classifying a compact token without trusting it.

A bearer credential from a log line is attacker-controlled: it may be a JWS, a JWE, an
opaque string, or garbage built to crash a parser. ``decode_token`` never raises; a token
it cannot read comes back with ``kind`` ``malformed`` and a ``problem`` that says why.
Nothing here verifies a signature: claims are what the token *says*, not what is true.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from parsers import json_limits
from parsers.redaction import fingerprint

# nginx's default large_client_header_buffers is 8k; anything far above that did not come
# from a real header and is refused before any decoding work is spent on it.
MAX_TOKEN_CHARS = 64 * 1024

# UTF-8 input cannot hold a surrogate; only a JSON escape can produce one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_B64URL_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# base64url to the standard alphabet, and the padding a length needs (by length % 4).
_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = ("", "===", "==", "=")
# RFC 6750 b64token: what an opaque bearer credential may contain.
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")

# What the safe token log (parsers/nginx/safe_log.py) writes in place of what it drops: the
# signature of a JWS, or a whole credential that is not a JWS. Brackets are not base64url,
# so neither can be a real signature or token, nor be completed into one.
SIGNATURE_NOT_LOGGED = "[signature-not-logged]"
NOT_JWS_LOGGED = "[not-a-jws]"
UNKNOWN_SCHEME_LOGGED = "[unknown-scheme]"


class TokenKind(StrEnum):
    """What a credential looks like from its shape alone."""

    JWS = "jws"
    JWE = "jwe"
    OPAQUE = "opaque"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class DecodedToken:
    """A credential split into its parts; ``header``/``claims`` are unverified.

    ``problem`` is None for a readable token and a one-line reason otherwise. For a JWE only
    the (unencrypted) header is readable, ``claims`` stays empty. ``raw_*_b64`` keep the
    segments exactly as sent so a signature can be checked over the original bytes.
    """

    kind: TokenKind
    fingerprint: str
    length: int
    header: Mapping[str, Any] = field(default_factory=dict)
    claims: Mapping[str, Any] = field(default_factory=dict)
    raw_header_b64: str = ""
    raw_payload_b64: str = ""
    raw_signature_b64: str = ""
    segments: int = 1
    problem: str | None = None
    # False for a JWS read from the safe token log: header and claims, no signature.
    signature_logged: bool = True

    @property
    def readable(self) -> bool:
        """True when the header (and for a JWS the claims) could be read."""
        return self.kind in (TokenKind.JWS, TokenKind.JWE)

    @property
    def signed_non_jwt(self) -> bool:
        """True for a JWS whose payload is not a JSON object: a signature, but no claims."""
        return self.kind is TokenKind.MALFORMED and self.segments == 3 and bool(self.header)

    @property
    def alg(self) -> str | None:
        """The ``alg`` header as a string, None when missing or not a string."""
        value = self.header.get("alg")
        return value if isinstance(value, str) else None

    @property
    def kid(self) -> str | None:
        """The ``kid`` header as a string, None when missing or not a string."""
        value = self.header.get("kid")
        return value if isinstance(value, str) else None


class _Unreadable(Exception):
    """Internal: why a segment could not be read (becomes ``DecodedToken.problem``)."""


class _TooDeep(_Unreadable):
    """Internal: JSON nested beyond our limit (a refusal of ours, not a verdict on the JWT)."""


def b64url_check(segment: str, *, name: str) -> str:
    """``segment`` without its padding, when it is strict base64url (padding tolerated,
    nothing else); raises the reason otherwise.

    What passes always decodes: only the alphabet, "=" at the end only, and a length
    that leaves no lone letter.
    """
    # _B64URL.fullmatch(segment), in C: the letters deleted from the bytes leave nothing.
    stripped = segment.rstrip("=")
    if (
        len(segment) - len(stripped) > 2
        or not stripped.isascii()
        or stripped.encode("ascii").translate(None, _B64URL_LETTERS)
    ):
        raise _Unreadable(f"{name} is not base64url (unexpected characters)")
    if len(stripped) % 4 == 1:
        raise _Unreadable(f"{name} is not base64url (impossible length)")
    return stripped


def b64url_decode(segment: str, *, name: str) -> bytes:
    """Decode one base64url segment strictly (padding tolerated, nothing else)."""
    stripped = b64url_check(segment, name=name)
    try:
        # The alphabet was checked: straight to the C decoder, padding added.
        data = (stripped + _PADDING[len(stripped) % 4]).encode("ascii")
        return binascii.a2b_base64(data.translate(_STANDARD))
    except (binascii.Error, ValueError) as exc:
        raise _Unreadable(f"{name} is not base64url ({exc})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate names are ambiguous (RFC 7519 says reject or take the last); two parsers
    # reading the same token differently is how forgeries slip through, so we refuse it.
    result: dict[str, Any] = dict(pairs)  # in C: the usual case, no name twice
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate member {key!r}")
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


def json_object(data: bytes, *, name: str) -> dict[str, Any]:
    """Parse ``data`` as a UTF-8 JSON object, or explain why it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable(f"{name} is not UTF-8") from None
    try:
        # One fixed depth limit, whatever the caller's stack: decode and scan agree.
        # json_limits.loads, with the decoder built once rather than per call.
        json_limits.check_depth(text)
        if text.startswith("\ufeff"):
            # What json.loads says before decoding (JSONDecoder.decode does not check).
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        try:
            value = _DECODER.decode(text)
        except RecursionError:
            raise json_limits.JsonTooDeep("JSON nested too deeply for the stack left") from None
    except json_limits.JsonTooDeep:
        limit = json_limits.MAX_DEPTH
        raise _TooDeep(f"{name} JSON is nested more than {limit} levels deep") from None
    except ValueError as exc:
        # json.JSONDecodeError is a ValueError; so are huge integers and our own refusals.
        raise _Unreadable(f"{name} is not valid JSON ({_short(str(exc))})") from None
    if not isinstance(value, dict):
        raise _Unreadable(f"{name} is JSON but not an object ({type(value).__name__})")
    if _SURROGATE_ESCAPE.search(text):
        # The depth was checked: this recursion is bounded by json_limits.MAX_DEPTH.
        cleaned: dict[str, Any] = _without_surrogates(value)
        return cleaned
    return value


def _without_surrogates(value: Any) -> Any:
    # JSON may spell a lone surrogate (\ud800) that no encoder can write: printing the
    # claim would crash. It becomes the six characters of its escape, so the value keeps
    # its meaning (and its difference from any other value) and is safe everywhere.
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        cleaned = {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
        if len(cleaned) != len(value):
            # "\ud800" and a literal backslash-u-d800 name would now be one member.
            raise _Unreadable("JSON has duplicate members once surrogates are escaped")
        return cleaned
    return value


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Header segment -> its object: an IdP signs thousands of tokens under a handful of
# headers. Only readable headers are kept; each caller gets its own copy.
_HEADERS: dict[str, dict[str, Any]] = {}
_HEADERS_MAX = 1024
_HEADER_MAX_CHARS = 512


def _header(segment: str) -> dict[str, Any]:
    """The header segment decoded (``_Unreadable`` when it cannot be), memoised."""
    found = _HEADERS.get(segment)
    if found is None:
        found = json_object(b64url_decode(segment, name="header"), name="header")
        if len(segment) <= _HEADER_MAX_CHARS:
            if len(_HEADERS) >= _HEADERS_MAX:
                _HEADERS.clear()
            _HEADERS[segment] = found
    return dict(found)


def decode_token(token: str) -> DecodedToken:
    """Classify and split ``token``; never raises.

    Three segments make a JWS (header and claims decoded), five a JWE (header decoded), a
    credential without dots is opaque, anything else is malformed with the reason.
    """
    fp = fingerprint(token)
    length = len(token)
    if length > MAX_TOKEN_CHARS:
        return DecodedToken(
            TokenKind.MALFORMED,
            fp,
            length,
            problem=f"token is {length} characters, over the {MAX_TOKEN_CHARS} limit",
        )
    if not token:
        return DecodedToken(TokenKind.MALFORMED, fp, 0, problem="empty token")
    if token == NOT_JWS_LOGGED:
        return DecodedToken(
            TokenKind.MALFORMED,
            fp,
            length,
            problem=(
                "the safe token log kept only the scheme: the client sent a credential "
                "that is not a signed JWT (a JWE, an opaque token or something else)"
            ),
        )
    parts = token.split(".")
    count = len(parts)
    if count == 1:
        if not _TOKEN68.fullmatch(token):
            return DecodedToken(
                TokenKind.MALFORMED,
                fp,
                length,
                problem="credential contains characters a bearer token cannot have",
            )
        return DecodedToken(TokenKind.OPAQUE, fp, length)
    if count not in (3, 5):
        return DecodedToken(
            TokenKind.MALFORMED,
            fp,
            length,
            segments=count,
            problem=f"{count} dot-separated segments (a JWS has 3, a JWE 5)",
        )
    try:
        header = _header(parts[0])
        if count == 5:
            return DecodedToken(
                TokenKind.JWE,
                fp,
                length,
                header=header,
                raw_header_b64=parts[0],
                segments=5,
            )
        payload = b64url_decode(parts[1], name="payload")
        unsigned = parts[2] == SIGNATURE_NOT_LOGGED
        if not unsigned:
            # Checked, not decoded: verification reads the signature itself.
            b64url_check(parts[2], name="signature")
    except _Unreadable as exc:
        return DecodedToken(TokenKind.MALFORMED, fp, length, segments=count, problem=str(exc))
    try:
        claims = json_object(payload, name="payload")
    except _TooDeep as exc:
        return DecodedToken(TokenKind.MALFORMED, fp, length, segments=count, problem=str(exc))
    except _Unreadable as exc:
        # A JWS may sign any bytes (RFC 7520 section 4.1 signs a sentence): its signature
        # can still be checked, so the segments are kept; only the claims are missing.
        return DecodedToken(
            TokenKind.MALFORMED,
            fp,
            length,
            header=header,
            raw_header_b64=parts[0],
            raw_payload_b64=parts[1],
            raw_signature_b64="" if unsigned else parts[2],
            segments=3,
            problem=f"payload is not a JWT: a JWS whose {exc}",
            signature_logged=not unsigned,
        )
    return DecodedToken(
        TokenKind.JWS,
        fp,
        length,
        header=header,
        claims=claims,
        raw_header_b64=parts[0],
        raw_payload_b64=parts[1],
        raw_signature_b64="" if unsigned else parts[2],
        segments=3,
        signature_logged=not unsigned,
    )
