"""JSON Web Key Sets: reading a JWKS document (fetched or from a file) into usable keys.

Key sets come from attacker-chosen issuers, so reading one is bounded: a limited number of
keys per document, RSA and EC keys of sane sizes only (see :func:`key_limit_problem`), and
every failure a :class:`KeysUnavailable` value, never an exception. Caching and lookup by
``kid`` are :mod:`inspector.keys.store`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from inspector.keys.http import (
    HttpClient,
    one_line,
)
from parsers import json_limits

MAX_FILE_BYTES = 1024 * 1024
_SHOWN_KIDS = 5


@dataclass(frozen=True, slots=True)
class JsonWebKey:
    """One usable public key from a JWKS, with the names a token header may use for it."""

    kid: str | None
    x5t: str | None
    key: jwt.PyJWK


@dataclass(frozen=True, slots=True)
class KeySet:
    """The usable keys of one JWKS document, and one line per entry that was skipped."""

    source: str
    keys: tuple[JsonWebKey, ...]
    skipped: tuple[str, ...] = ()
    # Bytes of the fetched document and seconds its fetch took (None for a file).
    size: int | None = None
    elapsed: float | None = None

    def with_kid(self, kid: str) -> list[JsonWebKey]:
        """Keys whose ``kid`` is ``kid`` (normally one)."""
        return [k for k in self.keys if k.kid == kid]

    def with_x5t(self, x5t: str) -> list[JsonWebKey]:
        """Keys whose certificate thumbprint is ``x5t`` (Entra v1 headers carry it)."""
        return [k for k in self.keys if k.x5t == x5t]

    def kids(self) -> str:
        """The published ``kid`` values, abbreviated, for a one-line detail."""
        names = [repr(k.kid) if k.kid is not None else "(no kid)" for k in self.keys]
        more = len(names) - _SHOWN_KIDS
        shown = ", ".join(names[:_SHOWN_KIDS])
        return shown + (f" and {more} more" if more > 0 else "") if names else "none"


# Keys read from one JWKS document. IdPs publish a handful (Entra about ten); each key
# costs a parse, and a token without kid is checked against several: a document of
# thousands is an attack on the inspector's CPU, and what lies past the limit is not read.
MAX_JWKS_KEYS = 100
# RSA keys worth verifying with: RFC 7518 section 3.3 requires 2048 bits or more, IdPs use
# 2048 to 4096, and a verification costs the square of the size times the exponent's
# bits. Every IdP uses the exponent 65537 (17 bits); a 3,071-bit exponent makes one check
# 180 times dearer, so exponents are capped (and must be odd and at least 3: RFC 8017).
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 8192
RSA_MAX_EXPONENT_BITS = 32
# The standard curves (RFC 7518, RFC 8812, RFC 8037), as the cryptography library names them.
_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1", "secp256k1"})


# id(PyJWK) -> (the PyJWK, its key_limit_problem): checked before every verification,
# answered once per key object (kept, so its id stays its own). Key sets are small.
_LIMITS: dict[int, tuple[jwt.PyJWK, str | None]] = {}
_MAX_LIMITS = 1024


def key_limit_problem(key: jwt.PyJWK) -> str | None:
    """Why the inspector refuses to verify with ``key`` (absurd size, exponent or curve).

    Cheap (no cryptographic operation, and worked out once per key object): checked
    before every verification, so a hostile key set costs a comparison per key, not
    seconds of CPU per token.
    """
    found = _LIMITS.get(id(key))
    if found is not None and found[0] is key:
        return found[1]
    problem = _limit_problem(key)
    if len(_LIMITS) >= _MAX_LIMITS:
        _LIMITS.clear()
    _LIMITS[id(key)] = (key, problem)
    return problem


def _limit_problem(key: jwt.PyJWK) -> str | None:
    material = key.key
    if isinstance(material, rsa.RSAPublicKey):
        bits = material.key_size
        if bits < RSA_MIN_BITS or bits > RSA_MAX_BITS:
            return f"RSA modulus of {bits} bits (accepted: {RSA_MIN_BITS} to {RSA_MAX_BITS})"
        exponent = material.public_numbers().e
        if exponent.bit_length() > RSA_MAX_EXPONENT_BITS or exponent < 3 or exponent % 2 == 0:
            size = exponent.bit_length()
            shown = str(exponent) if size <= 64 else f"of {size} bits"
            return f"RSA public exponent {shown} (IdPs use 65537; at most 32 bits, odd, >= 3)"
        return None
    if isinstance(material, ec.EllipticCurvePublicKey):
        if material.curve.name not in _CURVES:
            return f"EC curve {material.curve.name} is not a JOSE curve"
        return None
    if isinstance(material, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return None
    return f"{type(material).__name__} is not a public signature key"


@dataclass(frozen=True, slots=True)
class KeysUnavailable:
    """Why no key set was loaded: ``reason`` is one line for the user; ``refused`` says
    the address policy refused the URL (nothing was sent), so lifting it may help."""

    reason: str
    refused: bool = False

    def __str__(self) -> str:
        return self.reason


def parse_jwks(document: Mapping[str, Any], source: str) -> KeySet | KeysUnavailable:
    """The usable signature keys of a JWKS document, or why there are none.

    Encryption keys (``use: enc``) and symmetric keys (a published ``oct`` key would be
    a shared secret made public) are skipped, as are keys pyjwt cannot load. Only the
    first :data:`MAX_JWKS_KEYS` entries are read. Keys beyond the size limits are kept
    (so a token naming one is told why it was not checked, not that its key is missing)
    and refused at verification (:func:`key_limit_problem`).
    """
    entries = document.get("keys")
    if not isinstance(entries, list):
        return KeysUnavailable("JWKS has no 'keys' list")
    keys: list[JsonWebKey] = []
    skipped: list[str] = []
    if len(entries) > MAX_JWKS_KEYS:
        unread = len(entries) - MAX_JWKS_KEYS
        skipped.append(f"{unread} entries after the first {MAX_JWKS_KEYS} not read (limit)")
        entries = entries[:MAX_JWKS_KEYS]
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            skipped.append(f"entry {index} is not an object")
            continue
        kid = entry.get("kid") if isinstance(entry.get("kid"), str) else None
        name = f"key {kid!r}" if kid is not None else f"entry {index}"
        if entry.get("use", "sig") != "sig":
            skipped.append(f"{name}: use {entry.get('use')!r}")
            continue
        if entry.get("kty") == "oct":
            skipped.append(f"{name}: symmetric key refused")
            continue
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
            skipped.append(f"{name}: {one_line(str(exc), 80)}")
            continue
        x5t = entry.get("x5t") if isinstance(entry.get("x5t"), str) else None
        keys.append(JsonWebKey(kid, x5t, key))
    if not keys:
        reason = "; ".join(skipped[:3]) if skipped else "the key list is empty"
        return KeysUnavailable(f"JWKS has no usable signing key ({one_line(reason, 160)})")
    return KeySet(source, tuple(keys), tuple(skipped))


def fetch_jwks(url: str, http: HttpClient | None = None) -> KeySet | KeysUnavailable:
    """Fetch and parse the JWKS at ``url``, or why no keys came of it."""
    fetch = (http or HttpClient()).get_json(url)
    if fetch.error is not None or fetch.document is None:
        return KeysUnavailable(f"{fetch.error} ({one_line(url)})", refused=fetch.refused)
    parsed = parse_jwks(fetch.document, url)
    if isinstance(parsed, KeySet):
        return replace(parsed, size=fetch.size, elapsed=fetch.elapsed)
    return KeysUnavailable(f"{parsed} ({one_line(url)})")


def load_jwks(path: Path) -> KeySet | KeysUnavailable:
    """Read a JWKS document from a file (``--jwks``), or why no keys came of it."""
    source = str(path)
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        return KeysUnavailable(f"cannot read {source}: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        return KeysUnavailable(f"{source} is larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        document = json_limits.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return KeysUnavailable(f"{source} is not JSON ({one_line(str(exc), 80)})")
    if not isinstance(document, dict):
        kind = type(document).__name__
        return KeysUnavailable(f"{source} holds a JSON {kind}, not a JWKS object")
    parsed = parse_jwks(document, source)
    return parsed if isinstance(parsed, KeySet) else KeysUnavailable(f"{parsed} ({source})")
