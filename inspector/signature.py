"""Checking a token's signature against one public key, and nothing else.

The claim checks (iss, aud, exp, ...) belong to the rules engine, so this module verifies
the JWS signature only. The accepted algorithms come from the caller's policy (ORDS's
RS256/384/512, or a wider list to tell "valid signature, but ES256 is not accepted by
ORDS"), never from the token; a key is only used with an algorithm of its own family,
so an HS256 token cannot be "verified" with a public RSA key as its HMAC secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from inspector.fetch import one_line
from inspector.jwks import KeyLookup

# The key type (and curve) each JWS algorithm needs (RFC 7518 section 3, RFC 8037).
_FAMILIES: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "ES256K": ("EC", "secp256k1"),
    "EdDSA": ("OKP", "Ed25519"),
    "HS256": ("oct", None),
    "HS384": ("oct", None),
    "HS512": ("oct", None),
}
# Algorithms this module knows how to verify, for callers that want the widest net.
RECOGNISED_ALGORITHMS = tuple(alg for alg, (kty, _) in _FAMILIES.items() if kty != "oct")


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """``verified``: True (good signature), False (bad, or refused), None (not checked)."""

    verified: bool | None
    kid: str | None
    alg: str | None
    detail: str


def _jwk_data(key: jwt.PyJWK) -> dict[str, Any]:
    # PyJWK keeps the JWK it was built from; it is needed to rebuild the key for another
    # algorithm of the same family when the JWK does not state one.
    data = getattr(key, "_jwk_data", None)
    return dict(data) if isinstance(data, dict) else {}


def _key_name(key: jwt.PyJWK, data: dict[str, Any]) -> str:
    kid = data.get("kid")
    kty = data.get("kty", "?")
    return f"the {kty} key {kid!r}" if isinstance(kid, str) else f"the {kty} key (no kid)"


def _family_problem(alg: str, data: dict[str, Any], name: str) -> str | None:
    family = _FAMILIES.get(alg)
    if family is None:
        return f"alg {alg!r} is not a known signature algorithm"
    kty, crv = family
    if kty == "oct":
        return (
            f"refused: {alg} is an HMAC algorithm and {name} is public; using it as a "
            "shared secret is the algorithm-confusion forgery"
        )
    if data.get("kty") != kty:
        return f"refused: {alg} needs an {kty} key, but {name} is not one"
    if crv is not None and data.get("crv") not in (None, crv):
        return f"refused: {alg} needs curve {crv}, but {name} is on {data.get('crv')!r}"
    return None


def _header(token: str) -> dict[str, Any] | str:
    # pyjwt parses the whole token again in decode_complete (and slowly: a per-character
    # check in Python), so only the header is read here, strictly.
    parts = token.split(".")
    if len(parts) != 3:
        return f"{len(parts)} segments, a JWS has 3"
    segment = parts[0]
    try:
        raw = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"header is not base64url JSON ({one_line(str(exc), 80)})"
    if not isinstance(header, dict):
        return "header is not a JSON object"
    return header


def verify_signature(token: str, key: jwt.PyJWK, *, algorithms: Sequence[str]) -> SignatureResult:
    """Verify ``token``'s signature with ``key`` if its ``alg`` is in ``algorithms``.

    Never raises: a malformed token gives ``verified=None``, a bad or refused signature
    ``verified=False``, each with a one-line ``detail``.
    """
    header = _header(token)
    if isinstance(header, str):
        return SignatureResult(None, None, None, f"not a signed JWT: {header}")
    raw_kid, raw_alg = header.get("kid"), header.get("alg")
    kid = raw_kid if isinstance(raw_kid, str) else None
    if not isinstance(raw_alg, str) or not raw_alg:
        return SignatureResult(None, kid, None, "header has no alg: signature not checked")
    alg = raw_alg
    if alg.lower() == "none":
        return SignatureResult(False, kid, alg, "token is unsigned (alg none)")
    if alg not in algorithms:
        accepted = ", ".join(algorithms) or "none"
        return SignatureResult(
            None, kid, alg, f"alg {alg!r} is not accepted ({accepted}): signature not checked"
        )
    data = _jwk_data(key)
    name = _key_name(key, data)
    problem = _family_problem(alg, data, name)
    if problem is not None:
        return SignatureResult(False, kid, alg, problem)
    stated = data.get("alg")
    if isinstance(stated, str) and stated != alg:
        return SignatureResult(
            False, kid, alg, f"refused: {name} is published for {stated}, the token uses {alg}"
        )
    verifier = key
    if key.algorithm_name != alg:
        # The JWK states no alg (Entra's do not), so pyjwt guessed RS256/ES256 for it:
        # bind the same key material to the token's algorithm of that family.
        try:
            verifier = jwt.PyJWK(data, algorithm=alg)
        except (jwt.PyJWKError, jwt.InvalidKeyError) as exc:
            return SignatureResult(False, kid, alg, f"refused: {one_line(str(exc), 120)}")
    try:
        # PyJWS checks the signature only: the payload is not even parsed as claims, so
        # no claim check (exp, aud, sub type...) can leak in here.
        jwt.PyJWS().decode_complete(token, key=verifier, algorithms=[alg])
    except jwt.InvalidSignatureError:
        return SignatureResult(
            False,
            kid,
            alg,
            f"signature does not match {name}: the token was forged or altered, "
            "never trust its claims",
        )
    except jwt.InvalidTokenError as exc:
        return SignatureResult(False, kid, alg, f"refused: {one_line(str(exc), 160)}")
    except (ValueError, TypeError) as exc:
        return SignatureResult(False, kid, alg, f"cannot verify: {one_line(str(exc), 160)}")
    return SignatureResult(True, kid, alg, f"signature verified with {name} ({alg})")


def verify_with_candidates(
    token: str, keys: Sequence[jwt.PyJWK], *, algorithms: Sequence[str]
) -> SignatureResult:
    """Try each key (a token without ``kid``) and say which one, if any, verified it."""
    if not keys:
        return SignatureResult(None, None, None, "no candidate keys to try")
    results = [verify_signature(token, key, algorithms=algorithms) for key in keys]
    for key, result in zip(keys, results, strict=True):
        if result.verified:
            name = _key_name(key, _jwk_data(key))
            detail = f"signature verified with {name} ({result.alg}), tried {len(keys)} keys"
            return SignatureResult(True, result.kid, result.alg, detail)
    first = results[0]
    if first.verified is None:
        return first
    return SignatureResult(
        False,
        first.kid,
        first.alg,
        f"none of the {len(keys)} keys verifies the signature (first: {first.detail})",
    )


def check_signature(token: str, lookup: KeyLookup, *, algorithms: Sequence[str]) -> SignatureResult:
    """Verify ``token`` with the outcome of :meth:`KeyStore.lookup`, whatever it was.

    ``found``: verify with the key (or each key sharing the kid); ``no-kid-match``: try
    every candidate; any other status: ``verified=None`` with the lookup's detail.
    """
    if lookup.status == "found" and lookup.key is not None:
        if len(lookup.candidates) > 1:
            return verify_with_candidates(token, lookup.candidates, algorithms=algorithms)
        return verify_signature(token, lookup.key, algorithms=algorithms)
    if lookup.status == "no-kid-match" and lookup.candidates:
        return verify_with_candidates(token, lookup.candidates, algorithms=algorithms)
    return SignatureResult(None, lookup.kid, None, f"signature not checked: {lookup.detail}")
