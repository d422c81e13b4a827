"""Signature verification: policy-chosen algorithms, key families, forgeries, no claim checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator

import jwt
import pytest

from inspector.demo.idp import LocalIdP, SigningKey, generate_ec_key, generate_rsa_key
from inspector.judge.expectations import ORDS_ALGORITHMS
from inspector.keys.signature import (
    RECOGNISED_ALGORITHMS,
    check_signature,
    verify_signature,
    verify_with_candidates,
)
from inspector.keys.store import KeyLookup, KeyStore


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return generate_rsa_key("rsa-1")


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return generate_ec_key("ec-1")


@pytest.fixture
def idp(rsa_key: SigningKey, ec_key: SigningKey) -> Iterator[LocalIdP]:
    with LocalIdP(keys=[rsa_key, ec_key]) as server:
        yield server


def public(key: SigningKey) -> jwt.PyJWK:
    """The key as a verifier gets it: from the published JWK."""
    return jwt.PyJWK(dict(key.public_jwk))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_rs256_token_verifies_with_the_published_key(idp: LocalIdP, rsa_key: SigningKey) -> None:
    token = idp.mint(idp.entra_v2_claims())
    result = verify_signature(token, public(rsa_key), algorithms=ORDS_ALGORITHMS)
    assert result.verified is True
    assert (result.kid, result.alg) == ("rsa-1", "RS256")


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256"])
def test_other_rsa_algorithms_use_the_same_alg_less_jwk(
    idp: LocalIdP, rsa_key: SigningKey, alg: str
) -> None:
    # Entra's JWKs state no alg; pyjwt would bind them to RS256 by default.
    assert "alg" not in rsa_key.public_jwk
    token = idp.mint({"sub": "x"}, alg=alg)
    result = verify_signature(token, public(rsa_key), algorithms=RECOGNISED_ALGORITHMS)
    assert result.verified is True, result.detail
    assert result.alg == alg


def test_es256_is_valid_but_not_accepted_by_ords(idp: LocalIdP, ec_key: SigningKey) -> None:
    token = idp.mint({"sub": "x"}, key=ec_key)
    wide = verify_signature(token, public(ec_key), algorithms=RECOGNISED_ALGORITHMS)
    assert wide.verified is True
    ords = verify_signature(token, public(ec_key), algorithms=ORDS_ALGORITHMS)
    assert ords.verified is None
    assert ords.detail == (
        "alg 'ES256' is not accepted (RS256, RS384, RS512): signature not checked"
    )


def test_forged_token_reusing_a_real_kid_is_rejected(idp: LocalIdP, rsa_key: SigningKey) -> None:
    impostor = generate_rsa_key(rsa_key.kid)
    token = idp.mint(idp.entra_v2_claims(), key=impostor)
    assert jwt.get_unverified_header(token)["kid"] == rsa_key.kid
    result = verify_signature(token, public(rsa_key), algorithms=ORDS_ALGORITHMS)
    assert result.verified is False
    assert "forged or altered" in result.detail
    assert "'rsa-1'" in result.detail


def test_altered_claims_break_the_signature(idp: LocalIdP, rsa_key: SigningKey) -> None:
    header, _payload, signature = idp.mint({"roles": ["Reader"]}).split(".")
    altered = b64(json.dumps({"roles": ["ORDSAdmin"]}).encode())
    token = f"{header}.{altered}.{signature}"
    assert verify_signature(token, public(rsa_key), algorithms=ORDS_ALGORITHMS).verified is False


def hs256_with_public_pem(key: SigningKey) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = b64(json.dumps({"sub": "attacker"}).encode())
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(key.public_pem(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def test_hmac_with_the_public_key_is_refused(rsa_key: SigningKey) -> None:
    token = hs256_with_public_pem(rsa_key)
    result = verify_signature(token, public(rsa_key), algorithms=("HS256", *ORDS_ALGORITHMS))
    assert result.verified is False
    assert "HMAC" in result.detail and "algorithm-confusion" in result.detail


def test_pyjwt_itself_refuses_a_pem_public_key_as_hmac_secret(rsa_key: SigningKey) -> None:
    token = hs256_with_public_pem(rsa_key)
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(token, rsa_key.public_pem(), algorithms=["HS256"])
    # And a PyJWK bound to RS256 will not run HS256 either.
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, public(rsa_key), algorithms=["HS256"])


def test_hs256_outside_the_policy_is_not_even_tried(rsa_key: SigningKey) -> None:
    token = hs256_with_public_pem(rsa_key)
    result = verify_signature(token, public(rsa_key), algorithms=ORDS_ALGORITHMS)
    assert result.verified is None
    assert "not accepted" in result.detail


def test_key_type_must_match_the_algorithm_family(
    idp: LocalIdP, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    rsa_token = idp.mint({"sub": "x"}, key=rsa_key)
    result = verify_signature(rsa_token, public(ec_key), algorithms=ORDS_ALGORITHMS)
    assert result.verified is False
    assert result.detail == "refused: RS256 needs an RSA key, but the EC key 'ec-1' is not one"


def test_ec_curve_must_match_the_algorithm(idp: LocalIdP, ec_key: SigningKey) -> None:
    p384 = generate_ec_key("ec-384", curve="P-384")
    token = idp.mint({"sub": "x"}, key=p384)
    result = verify_signature(token, public(ec_key), algorithms=RECOGNISED_ALGORITHMS)
    assert result.verified is False
    assert "needs curve P-384" in result.detail


def test_jwk_stating_another_alg_is_refused(idp: LocalIdP, rsa_key: SigningKey) -> None:
    stated = jwt.PyJWK({**rsa_key.public_jwk, "alg": "RS256"})
    token = idp.mint({"sub": "x"}, alg="RS512")
    result = verify_signature(token, stated, algorithms=ORDS_ALGORITHMS)
    assert result.verified is False
    assert "published for RS256, the token uses RS512" in result.detail


def test_unsigned_token_is_not_verified(idp: LocalIdP, rsa_key: SigningKey) -> None:
    token = idp.mint({"sub": "x"}, alg="none")
    result = verify_signature(token, public(rsa_key), algorithms=ORDS_ALGORITHMS)
    assert result.verified is False
    assert result.detail == "token is unsigned (alg none)"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "....."])
def test_malformed_tokens_are_not_checked(rsa_key: SigningKey, token: str) -> None:
    result = verify_signature(token, public(rsa_key), algorithms=ORDS_ALGORITHMS)
    assert result.verified is None
    assert "\n" not in result.detail


def test_claims_are_not_checked_here(idp: LocalIdP, rsa_key: SigningKey) -> None:
    # Expired, not yet valid, aud array, non-string sub: the rules engine's business.
    claims = {"exp": 1, "nbf": 4_000_000_000, "iat": "soon", "aud": ["a", "b"], "sub": 42}
    token = idp.mint(claims)
    assert verify_signature(token, public(rsa_key), algorithms=ORDS_ALGORITHMS).verified is True


def test_candidates_are_tried_and_the_match_is_named(idp: LocalIdP) -> None:
    keys = [generate_rsa_key(f"k{i}") for i in range(3)]
    token = idp.mint({"sub": "x"}, key=keys[1], header={"kid": None})
    result = verify_with_candidates(token, [public(k) for k in keys], algorithms=ORDS_ALGORITHMS)
    assert result.verified is True
    assert "'k1'" in result.detail and "tried 2 of 3 keys" in result.detail
    stranger = idp.mint({"sub": "x"}, key=generate_rsa_key("x"), header={"kid": None})
    none = verify_with_candidates(stranger, [public(k) for k in keys], algorithms=ORDS_ALGORITHMS)
    assert none.verified is False
    assert "none of the 3 keys" in none.detail


def test_check_signature_follows_the_lookup(idp: LocalIdP, rsa_key: SigningKey) -> None:
    idp.keys.append(generate_rsa_key("k-extra"))
    store = KeyStore(trusted_issuers=[idp.issuer_v2])
    token = idp.mint(idp.entra_v2_claims(), header={"kid": None})
    lookup = store.lookup(idp.issuer_v2, None)
    assert lookup.status == "no-kid-match"
    result = check_signature(token, lookup, algorithms=ORDS_ALGORITHMS)
    assert result.verified is True
    assert "'rsa-1'" in result.detail
    with_kid = idp.mint(idp.entra_v2_claims())
    found = store.lookup(idp.issuer_v2, rsa_key.kid)
    assert check_signature(with_kid, found, algorithms=ORDS_ALGORITHMS).verified is True


def test_check_signature_without_a_key_says_why(rsa_key: SigningKey) -> None:
    lookup = KeyLookup("unavailable", None, "k", None, None, "connection refused", None)
    result = check_signature("a.b.c", lookup, algorithms=ORDS_ALGORITHMS)
    assert result.verified is None
    assert result.detail == "signature not checked: connection refused"


def test_entra_v1_token_verifies_through_the_store(idp: LocalIdP) -> None:
    token = idp.mint_entra_v1()
    header = jwt.get_unverified_header(token)
    lookup = KeyStore(trusted_issuers=[idp.issuer_v1]).lookup(
        idp.issuer_v1, header["kid"], x5t=header["x5t"]
    )
    assert check_signature(token, lookup, algorithms=ORDS_ALGORITHMS).verified is True
