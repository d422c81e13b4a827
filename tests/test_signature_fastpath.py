"""The verification fast path (pyjwt's algorithm called on segments read once, headers
memoised) gives the very same results as pyjwt's full decode of a header read afresh,
on a varied corpus and on thousands of mutated tokens: every accept, every refusal,
every detail text."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from jwt.algorithms import OKPAlgorithm

from inspector.demo.idp import LocalIdP, SigningKey, generate_ec_key, generate_rsa_key
from inspector.keys import signature
from inspector.keys.signature import SignatureResult, verify_signature, verify_with_candidates

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {
        "rsa": generate_rsa_key("rsa-1"),
        "ec": generate_ec_key("ec-1"),
        "ec384": generate_ec_key("ec-2", curve="P-384"),
    }


@pytest.fixture(scope="module")
def ed_key() -> tuple[ed25519.Ed25519PrivateKey, jwt.PyJWK]:
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": "ed-1", "use": "sig"})
    return private, jwt.PyJWK(jwk)


def slow(token: str, key: jwt.PyJWK, monkeypatch: pytest.MonkeyPatch) -> SignatureResult:
    """The path the fast one replaces: pyjwt's decode_complete reads the whole token."""
    with monkeypatch.context() as patch:
        patch.setattr(signature, "_plain_parts", lambda token: None)
        patch.setattr(signature, "_HEADERS", {})  # the header read afresh, not memoised
        patch.setattr(signature, "_BINDINGS", {})  # the key worked out afresh for the alg
        return verify_signature(token, key, algorithms=ALGORITHMS)


def both(token: str, key: jwt.PyJWK, monkeypatch: pytest.MonkeyPatch) -> SignatureResult:
    fast = verify_signature(token, key, algorithms=ALGORITHMS)
    assert fast == slow(token, key, monkeypatch), token
    return fast


def corpus(
    keys: dict[str, SigningKey], ed: tuple[ed25519.Ed25519PrivateKey, jwt.PyJWK]
) -> Iterator[tuple[str, str]]:
    """(token, name of the key to verify it with): good, forged, refused and odd tokens."""
    idp = LocalIdP(keys=list(keys.values()))
    claims = idp.entra_v2_claims()
    rsa, ec, ec384 = keys["rsa"], keys["ec"], keys["ec384"]
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        yield idp.mint(claims, key=rsa, alg=alg), "rsa"
    yield idp.mint(claims, key=ec), "ec"
    yield idp.mint(claims, key=ec384), "ec384"
    yield idp.mint(claims, key=ec), "rsa"  # ES256 against an RSA key
    yield idp.mint(claims, key=rsa), "ec"  # RS256 against an EC key
    yield idp.mint(claims, key=ec384), "ec"  # wrong curve
    yield idp.mint(claims, key=rsa, alg="none"), "rsa"
    yield jwt.encode(claims, "secret" * 8, algorithm="HS256", headers={"kid": "rsa-1"}), "rsa"
    header = b64(json.dumps({"alg": "EdDSA", "kid": "ed-1"}).encode())
    body = b64(json.dumps(claims).encode())
    signed = ed[0].sign(f"{header}.{body}".encode())
    yield f"{header}.{body}.{b64(signed)}", "ed"
    good = idp.mint(claims, key=rsa)
    head, payload, sig = good.split(".")
    yield f"{head}.{payload}.{sig[:-4]}AAAA", "rsa"  # forged
    yield f"{head}.{payload}.", "rsa"  # no signature
    yield f"{head}.{payload}.{sig}=", "rsa"  # padding pyjwt refuses
    yield f"{head}.{payload}==.{sig}", "rsa"
    yield f"{head}.{payload}.{sig[:-1]}", "rsa"
    yield f"{head}.{payload}.{sig}!", "rsa"
    yield f"{head}.{payload}.{sig.replace('-', '+').replace('_', '/')}", "rsa"
    yield f"{head}.{payload}", "rsa"
    yield f"{head}.{payload}.{sig}.x", "rsa"
    yield "a.b.c", "rsa"
    ec_token = idp.mint(claims, key=ec)
    eh, ep, es = ec_token.split(".")
    yield f"{eh}.{ep}.{es[:-8]}", "ec"  # r||s of the wrong length
    for extra in ({"kid": 7}, {"crit": ["b64"], "b64": False}, {"crit": ["exp"]}, {"b64": True}):
        yield hand_signed({"alg": "RS256", **extra}, body, rsa), "rsa"
    yield idp.mint(claims, key=rsa, header={"kid": None}), "rsa"
    # A payload that is not JSON: signed bytes all the same.
    yield hand_signed({"alg": "RS256", "kid": "rsa-1"}, b64(b"a sentence, signed"), rsa), "rsa"
    # PS256 with a salt longer than the hash: RFC 7518 wants the hash's length, and so
    # does pyjwt, which refuses this one.
    text = f"{b64(json.dumps({'alg': 'PS256', 'kid': 'rsa-1'}).encode())}.{body}"
    long_salt = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    signed = rsa.private_key.sign(text.encode(), long_salt, hashes.SHA256())
    yield f"{text}.{b64(signed)}", "rsa"


def hand_signed(header: dict[str, object], body: str, key: SigningKey) -> str:
    """An RS256 JWS of any header (pyjwt's encoder refuses some), really signed."""
    text = f"{b64(json.dumps(header).encode())}.{body}"
    signed = jwt.get_algorithm_by_name("RS256").sign(text.encode(), key.private_key)
    return f"{text}.{b64(signed)}"


def test_the_fast_path_agrees_with_pyjwt_on_a_varied_corpus(
    keys: dict[str, SigningKey],
    ed_key: tuple[ed25519.Ed25519PrivateKey, jwt.PyJWK],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published = {name: jwt.PyJWK(dict(k.public_jwk)) for name, k in keys.items()}
    published["ed"] = ed_key[1]
    verdicts = set()
    for token, name in corpus(keys, ed_key):
        verdicts.add(both(token, published[name], monkeypatch).verified)
    assert verdicts == {True, False, None}


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ODD = "=+/.!~ é\x00"


def mutated(token: str, rng: random.Random) -> str:
    """``token`` with one or two small changes, most of them near a segment's end."""
    chars = list(token)
    for _ in range(rng.randint(1, 2)):
        dots = [i for i, c in enumerate(chars) if c == "."] + [len(chars)]
        if rng.random() < 0.6 and dots:
            at = max(0, rng.choice(dots) - rng.randint(1, 3))
        else:
            at = rng.randrange(len(chars))
        letter = rng.choice(_LETTERS) if rng.random() < 0.8 else rng.choice(_ODD)
        kind = rng.random()
        if kind < 0.5 and at < len(chars):
            chars[at] = letter
        elif kind < 0.8:
            chars.insert(at, letter)
        elif at < len(chars):
            del chars[at]
    return "".join(chars)


@pytest.mark.parametrize("which", ["rsa", "ec"])
def test_the_fast_path_agrees_with_pyjwt_on_thousands_of_mutated_tokens(
    keys: dict[str, SigningKey], which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp = LocalIdP(keys=[keys[which]])
    key = jwt.PyJWK(dict(keys[which].public_jwk))
    token = idp.mint(idp.entra_v2_claims(), alg="PS256" if which == "rsa" else None)
    rng = random.Random(13)
    seen = set()
    for _ in range(2500):
        result = both(mutated(token, rng), key, monkeypatch)
        seen.add((result.verified, result.detail.split(":")[0]))
    # The mutations reach refusals as well as forgeries.
    assert len(seen) >= 3, seen


def test_candidates_agree_with_pyjwt(
    keys: dict[str, SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    idp = LocalIdP(keys=[keys["rsa"]])
    candidates = [jwt.PyJWK(dict(k.public_jwk)) for k in keys.values()]
    for token in (idp.mint(idp.entra_v2_claims(), header={"kid": None}), "x.y.z"):
        fast = verify_with_candidates(token, candidates, algorithms=ALGORITHMS)
        with monkeypatch.context() as patch:
            patch.setattr(signature, "_plain_parts", lambda token: None)
            assert fast == verify_with_candidates(token, candidates, algorithms=ALGORITHMS)


def test_a_key_bound_once_per_alg_is_the_key_it_was_bound_for(
    keys: dict[str, SigningKey],
) -> None:
    idp = LocalIdP(keys=[keys["rsa"]])
    token = idp.mint(idp.entra_v2_claims(), alg="RS384")
    first = jwt.PyJWK(dict(keys["rsa"].public_jwk))
    assert verify_signature(token, first, algorithms=ALGORITHMS).verified is True
    # Another key object (another key) is never verified by the first one's binding.
    other = jwt.PyJWK(dict(generate_rsa_key("rsa-1").public_jwk))
    assert verify_signature(token, other, algorithms=ALGORITHMS).verified is False


def test_key_limits_are_worked_out_once_per_key_object(
    keys: dict[str, SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspector.keys import jwks

    calls: list[jwt.PyJWK] = []
    real = jwks._limit_problem

    def counted(key: jwt.PyJWK) -> str | None:
        calls.append(key)
        return real(key)

    monkeypatch.setattr(jwks, "_limit_problem", counted)
    idp = LocalIdP(keys=[keys["rsa"]])
    key = jwt.PyJWK(dict(keys["rsa"].public_jwk))
    for i in range(5):
        token = idp.mint(idp.entra_v2_claims(oid=str(i)))
        assert verify_signature(token, key, algorithms=ALGORITHMS).verified is True
    assert calls == [key]
