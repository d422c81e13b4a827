"""A hostile key set costs bounded CPU per token, and the verdict says why nothing was checked.

The attack: a JWKS of hundreds of RSA-3072 keys with 3,071-bit public exponents, all
sharing the token's ``kid`` (or a token without ``kid``). Every key used to be tried:
6.7 s of CPU per token. Verifications are counted here (never timed): a stand-in for
the RSA verification counts its calls without doing the arithmetic.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from inspector.cli.main import main
from inspector.demo.idp import LocalIdP, generate_ec_key, generate_rsa_key
from inspector.judge import rules
from inspector.keys import signature
from inspector.keys.jwks import MAX_JWKS_KEYS, KeySet, key_limit_problem, parse_jwks
from inspector.keys.signature import MAX_KEYS_TRIED, verify_with_candidates

ORDS = ("RS256", "RS384", "RS512")


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def junk_rsa(kid: str | None, *, bits: int = 3072, exponent_bits: int = 3071) -> dict[str, Any]:
    """A loadable RSA JWK with a random modulus and a huge odd exponent (no key generation)."""
    n = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    e = secrets.randbits(exponent_bits) | (1 << (exponent_bits - 1)) | 1
    jwk: dict[str, Any] = {"kty": "RSA", "use": "sig", "n": _b64(n), "e": _b64(e)}
    if kid is not None:
        jwk["kid"] = kid
    return jwk


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts RSA signature verifications; a real one only for keys with exponent 65537."""
    calls: list[int] = []
    real = RSAAlgorithm.verify

    def counted(self: RSAAlgorithm, msg: bytes, key: Any, sig: bytes) -> bool:
        calls.append(1)
        if key.public_numbers().e != 65537:
            return False  # what the real arithmetic would say, minus its seconds of CPU
        return bool(real(self, msg, key, sig))

    monkeypatch.setattr(RSAAlgorithm, "verify", counted)
    # The verification fast path calls the key through the verifier bound once per key.
    bound = signature._verifier

    def counting(algorithm: Any, key: Any) -> Callable[[bytes, bytes], bool]:
        inner = bound(algorithm, key)

        def verify(msg: bytes, sig: bytes) -> bool:
            calls.append(1)
            if key.public_numbers().e != 65537:
                return False
            return inner(msg, sig)

        return verify

    monkeypatch.setattr(signature, "_verifier", counting)
    monkeypatch.setattr(signature, "_BINDINGS", {})
    yield calls


def decode_json(token: str, jwks: dict[str, Any], tmp_path: Path, capsys: Any) -> Any:
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    (tmp_path / "empty.toml").write_text("")
    argv = ["decode", token, "--json", "--jwks", str(tmp_path / "jwks.json")]
    main([*argv, "--config", str(tmp_path / "empty.toml")])
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("kid", ["shared-kid", None])
def test_hundreds_of_huge_exponent_keys_cost_no_verification(
    kid: str | None,
    idp: LocalIdP,
    verifications: list[int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 900 keys of about 1 KiB each: as much as a 1 MiB JWKS holds.
    jwks = {"keys": [junk_rsa(kid) for _ in range(900)]}
    token = idp.mint(idp.entra_v2_claims(), header={"kid": kid})
    doc = decode_json(token, jwks, tmp_path, capsys)
    assert verifications == []
    codes = [v["code"] for v in doc["verdicts"]]
    assert "jwks-keys-refused" in codes
    assert "signature-invalid" not in codes and "kid-not-found" not in codes
    refused = next(v for v in doc["verdicts"] if v["code"] == "jwks-keys-refused")
    assert "exponent of 3071 bits" in refused["message"]
    assert refused["fix"] == rules.JWKS_KEYS_REFUSED.fix
    assert doc["token"]["verified"] is None


def test_many_plausible_keys_sharing_a_kid_are_tried_at_most_eight_times(
    idp: LocalIdP, verifications: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jwks = {"keys": [junk_rsa("shared", bits=2048, exponent_bits=17) for _ in range(500)]}
    for key in jwks["keys"]:
        key["e"] = "AQAB"
    token = idp.mint(idp.entra_v2_claims(), header={"kid": "shared"})
    doc = decode_json(token, jwks, tmp_path, capsys)
    assert len(verifications) == MAX_KEYS_TRIED
    refused = next(v for v in doc["verdicts"] if v["code"] == "jwks-keys-refused")
    # The document cap read 100 of the 500 entries; 8 of those were tried.
    assert f"{MAX_JWKS_KEYS} candidate keys" in refused["message"]
    assert f"{MAX_JWKS_KEYS - MAX_KEYS_TRIED} more not tried" in refused["message"]


def test_the_real_key_among_refused_ones_still_verifies(
    idp: LocalIdP, verifications: list[int]
) -> None:
    real = generate_rsa_key("real")
    token = idp.mint(idp.entra_v2_claims(), key=real, header={"kid": None})
    document = {"keys": [*(junk_rsa(None) for _ in range(60)), real.public_jwk]}
    parsed = parse_jwks(document, "test")
    assert isinstance(parsed, KeySet)
    result = verify_with_candidates(token, [k.key for k in parsed.keys], algorithms=ORDS)
    assert result.verified is True
    assert verifications == [1]


def test_a_document_is_read_up_to_the_key_limit() -> None:
    document = {"keys": [junk_rsa(f"k{i}", bits=2048, exponent_bits=17) for i in range(250)]}
    parsed = parse_jwks(document, "test")
    assert isinstance(parsed, KeySet)
    assert len(parsed.keys) == MAX_JWKS_KEYS
    assert parsed.skipped == (f"150 entries after the first {MAX_JWKS_KEYS} not read (limit)",)


@pytest.mark.parametrize(
    ("jwk", "problem"),
    [
        (junk_rsa("e", bits=2048, exponent_bits=33), "RSA public exponent"),
        (junk_rsa("small", bits=1024, exponent_bits=17), "RSA modulus of 1024 bits"),
        (junk_rsa("big", bits=8200, exponent_bits=17), "RSA modulus of 8200 bits"),
    ],
)
def test_absurd_rsa_keys_are_refused(jwk: dict[str, Any], problem: str) -> None:
    message = key_limit_problem(jwt.PyJWK(jwk))
    assert message is not None and problem in message


def test_keys_real_idps_publish_pass_the_limits() -> None:
    for key in (generate_rsa_key("r"), generate_rsa_key("r4", bits=4096)):
        assert key_limit_problem(jwt.PyJWK(key.public_jwk)) is None
    for curve in ("P-256", "P-384", "P-521"):
        assert key_limit_problem(jwt.PyJWK(generate_ec_key(curve=curve).public_jwk)) is None
    limits_ok = junk_rsa("e3", bits=2048, exponent_bits=2)
    limits_ok["e"] = _b64(3)
    assert key_limit_problem(jwt.PyJWK(limits_ok)) is None
