"""Checking a token's signature against one public key, and nothing else.

The claim checks (iss, aud, exp, ...) belong to the rules engine, so this module verifies
the JWS signature only. The accepted algorithms come from the caller's policy (ORDS's
RS256/384/512, or a wider list to tell "valid signature, but ES256 is not accepted by
ORDS"), never from the token; a key is only used with an algorithm of its own family,
so an HS256 token cannot be "verified" with a public RSA key as its HMAC secret.

Keys come from attacker-chosen key sets, so verification is bounded: keys beyond the
size limits (``jwks.key_limit_problem``) are never used, and a token that does not name
its key (no ``kid``, or a ``kid`` many keys share) is checked against at most
:data:`MAX_KEYS_TRIED` of them. Either way the result says so (``limited``): the
signature was not checked, rather than found invalid.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jwt.algorithms import Algorithm, ECAlgorithm, RSAAlgorithm, RSAPSSAlgorithm
from jwt.utils import raw_to_der_signature
from jwt.warnings import InsecureKeyLengthWarning

from inspector.keys.http import one_line
from inspector.keys.jwks import key_limit_problem
from inspector.keys.store import KeyLookup
from parsers import json_limits

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
# Verifications one token may cost. IdPs rotate two or three keys; a token without kid is
# checked against the candidates up to this many, so CPU per token stays bounded.
MAX_KEYS_TRIED = 8

# Segments pyjwt reads as they are hold base64url letters only, no padding: deleting
# those letters and the dots from such a token's bytes leaves nothing (one pass in C over
# the whole token, quicker than a pattern on each segment).
_PLAIN_TOKEN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
# The last letter of a segment whose length leaves 2 or 3 letters in its last quantum
# must carry no bits beyond the bytes (pyjwt refuses a non-canonical encoding).
_CANONICAL_LAST = {
    2: frozenset("AQgw"),
    3: frozenset("AEIMQUYcgkosw048"),
}
# (message, signature) -> whether the key signed it.
_Verify = Callable[[bytes, bytes], bool]
# The key bound to an alg as pyjwt binds it: (the PyJWK, the verifier, its prepared key,
# key-length warning).
_Binding = tuple[jwt.PyJWK, _Verify | None, Any, str | None]
# What verify_signature decides from the key and the alg alone: (the key's name, then
# either the result's verified/detail/limited when the key is not used, or its binding).
_Prepared = tuple[str, bool | None, str, bool, _Binding | None]
# (id of the PyJWK, alg) -> (the PyJWK, _Prepared). The PyJWK is kept so its id stays its
# own; a key set holds a handful of keys, so the map stays small.
_BINDINGS: dict[tuple[int, str], tuple[jwt.PyJWK, _Prepared]] = {}
_MAX_BINDINGS = 1024


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """``verified``: True (good signature), False (bad, or refused), None (not checked).

    ``limited``: not checked because of the key limits (a key too large or with an absurd
    exponent, or more candidate keys than are tried for one token).
    """

    verified: bool | None
    kid: str | None
    alg: str | None
    detail: str
    limited: bool = False


def jwk_data(key: jwt.PyJWK) -> dict[str, Any]:
    """The JWK members ``key`` was built from (a copy; empty when pyjwt kept none)."""
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


# Header segment -> what _header makes of it: tokens of one IdP share a few headers.
_HEADERS: dict[str, dict[str, Any] | str] = {}
_HEADERS_MAX = 1024


def _header(token: str) -> dict[str, Any] | str:
    # pyjwt parses the whole token again in decode_complete (and slowly: a per-character
    # check in Python), so only the header is read here, strictly.
    parts = token.split(".")
    if len(parts) != 3:
        return f"{len(parts)} segments, a JWS has 3"
    segment = parts[0]
    found = _HEADERS.get(segment)
    if found is None:
        found = _read_header(segment)
        if len(segment) <= 512:
            if len(_HEADERS) >= _HEADERS_MAX:
                _HEADERS.clear()
            _HEADERS[segment] = found
    # Callers only read it; a copy all the same, so no caller can change another's.
    return dict(found) if isinstance(found, dict) else found


def _read_header(segment: str) -> dict[str, Any] | str:
    try:
        raw = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
        header = json_limits.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"header is not base64url JSON ({one_line(str(exc), 80)})"
    if not isinstance(header, dict):
        return "header is not a JSON object"
    return header


def _prepared(key: jwt.PyJWK, alg: str) -> _Prepared:
    """What ``key`` means for a token signed with ``alg``, worked out once per key and alg:
    its name, and why it is not used (family, stated alg, limits, binding) or its binding."""
    cache_key = (id(key), alg)
    found = _BINDINGS.get(cache_key)
    if found is not None and found[0] is key:
        return found[1]
    data = jwk_data(key)
    name = _key_name(key, data)
    prepared: _Prepared
    problem = _family_problem(alg, data, name)
    stated = data.get("alg")
    if problem is not None:
        prepared = (name, False, problem, False, None)
    elif isinstance(stated, str) and stated != alg:
        detail = f"refused: {name} is published for {stated}, the token uses {alg}"
        prepared = (name, False, detail, False, None)
    elif (limit := key_limit_problem(key)) is not None:
        prepared = (name, None, f"{name} not used: {limit}", True, None)
    else:
        binding = _binding(key, data, alg)
        if isinstance(binding, str):
            prepared = (name, False, f"refused: {binding}", False, None)
        else:
            prepared = (name, None, "", False, binding)
    if len(_BINDINGS) >= _MAX_BINDINGS:
        _BINDINGS.clear()
    _BINDINGS[cache_key] = (key, prepared)
    return prepared


def _binding(key: jwt.PyJWK, data: dict[str, Any], alg: str) -> _Binding | str:
    """``key`` bound to ``alg`` as pyjwt binds it, or why not."""
    verifier = key
    bound: _Binding | str
    try:
        if key.algorithm_name != alg:
            # The JWK states no alg (Entra's do not), so pyjwt guessed RS256/ES256 for
            # it: bind the same key material to the token's algorithm of that family.
            verifier = jwt.PyJWK(data, algorithm=alg)
    except (jwt.PyJWKError, jwt.InvalidKeyError) as exc:
        bound = one_line(str(exc), 120)
    else:
        algorithm = verifier.Algorithm
        try:
            prepared = algorithm.prepare_key(verifier.key)
            short = algorithm.check_key_length(prepared)
            bound = (verifier, _verifier(algorithm, prepared), prepared, short)
        except Exception:  # pyjwt's own path raises it again, as it always did
            bound = (verifier, None, None, None)
    return bound


def _verifier(algorithm: Algorithm, key: Any) -> _Verify:
    """What ``algorithm.verify(message, key, signature)`` does, with the padding and hash
    objects built once: the cryptography key object, the algorithm fixed by the binding."""
    kind = type(algorithm)
    if kind in (RSAAlgorithm, RSAPSSAlgorithm) and isinstance(key, rsa.RSAPublicKey):
        digest = algorithm.hash_alg()  # type: ignore[attr-defined]
        scheme: padding.AsymmetricPadding = (
            padding.PKCS1v15()
            if kind is RSAAlgorithm
            else padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        )
        verify_rsa = key.verify

        def rsa_verify(message: bytes, signature: bytes) -> bool:
            try:
                verify_rsa(signature, message, scheme, digest)
            except InvalidSignature:
                return False
            return True

        return rsa_verify
    if kind is ECAlgorithm and isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve
        ecdsa = ec.ECDSA(algorithm.hash_alg())  # type: ignore[attr-defined]
        verify_ec = key.verify

        def ec_verify(message: bytes, signature: bytes) -> bool:
            try:
                # JOSE sends r || s; cryptography takes DER (a wrong length is no match).
                der = raw_to_der_signature(signature, curve)
            except ValueError:
                return False
            try:
                verify_ec(der, message, ecdsa)
            except InvalidSignature:
                return False
            return True

        return ec_verify

    def other(message: bytes, signature: bytes) -> bool:
        return bool(algorithm.verify(message, key, signature))

    return other


def _plain_parts(token: str) -> tuple[bytes, bytes] | None:
    """(signing input, signature) when every segment is plain canonical base64url.

    Such a token is read by pyjwt without an error: None sends anything else (padding,
    other characters, a non-canonical last letter) through pyjwt itself.
    """
    if not token.isascii() or token.encode("ascii").translate(None, _PLAIN_TOKEN_BYTES):
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    for part in parts:
        last = len(part) % 4
        if last == 1 or (last and part[-1] not in _CANONICAL_LAST[last]):
            return None
    signature = parts[2]
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    return token[: len(token) - len(signature) - 1].encode("ascii"), raw


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
    name, refused, refusal, limited, binding = _prepared(key, alg)
    if binding is None:
        return SignatureResult(refused, kid, alg, refusal, limited=limited)
    signed = _plain_parts(token)
    _, verify, _, short_key = binding
    try:
        if (
            signed is None
            or verify is None
            or "crit" in header
            or "b64" in header
            or not isinstance(header.get("kid", ""), str)
        ):
            # Anything unusual (padding, a header pyjwt has rules for) goes through
            # pyjwt's own reading, which decides every refusal.
            jwt.PyJWS().decode_complete(token, key=binding[0], algorithms=[alg])
        else:
            # The segments are what pyjwt reads without complaint and the header holds
            # nothing it checks beyond kid: its verification, minus the re-parsing.
            if short_key is not None:
                warnings.warn(short_key, InsecureKeyLengthWarning, stacklevel=2)
            if not verify(signed[0], signed[1]):
                raise jwt.InvalidSignatureError("Signature verification failed")
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
    """Try the keys (a token without ``kid``, or sharing one) and say which one verified it.

    Keys beyond the size limits are skipped and at most :data:`MAX_KEYS_TRIED` are tried,
    stopping at the first that verifies. When none did and some were skipped or left
    untried, the signature is not checked (``limited``), not declared invalid.
    """
    if not keys:
        return SignatureResult(None, None, None, "no candidate keys to try")
    refusals = [(key, key_limit_problem(key)) for key in keys]
    usable = [key for key, problem in refusals if problem is None]
    refused = [problem for _, problem in refusals if problem is not None]
    tried = usable[:MAX_KEYS_TRIED]
    results: list[SignatureResult] = []
    for key in tried:
        result = verify_signature(token, key, algorithms=algorithms)
        if result.verified:
            name = _key_name(key, jwk_data(key))
            detail = f"signature verified with {name} ({result.alg}), tried {len(results) + 1}"
            detail += f" of {len(keys)} keys"
            return SignatureResult(True, result.kid, result.alg, detail)
        if result.verified is None:
            # Not checked for a reason of the token's own (alg): the same for every key.
            return result
        results.append(result)
    untried = len(usable) - len(tried)
    if refused or untried:
        header = _header(token)
        kid = header.get("kid") if isinstance(header, dict) else None
        alg = header.get("alg") if isinstance(header, dict) else None
        parts = [f"none of the {len(tried)} keys tried verifies it"] if tried else []
        if untried:
            parts.append(f"{untried} more not tried (at most {MAX_KEYS_TRIED} per token)")
        if refused:
            parts.append(f"{len(refused)} refused ({refused[0]})")
        return SignatureResult(
            None,
            kid if isinstance(kid, str) else None,
            alg if isinstance(alg, str) else None,
            f"{len(keys)} candidate keys: " + "; ".join(parts),
            limited=True,
        )
    first = results[0]
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
