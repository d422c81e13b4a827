"""Checks on the credential and the token itself: shape, algorithm, keys, signature, Graph.

Tokens are minted with keys generated in the test (FaultyIdP) and verified for real by the
production ``KeyStore``: from an offline JWKS file, or discovered from a loopback IdP.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
import pytest

from inspector.demo.idp import generate_ec_key, generate_rsa_key
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.verdicts import Verdict
from inspector.keys.store import KeyStore
from tests.support.faulty_idp import FaultyIdP


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def codes(verdicts: Iterable[Verdict]) -> list[str]:
    return [v.code for v in verdicts]


@pytest.fixture(scope="module")
def idp() -> FaultyIdP:
    return FaultyIdP()


def offline_keys(directory: Path, idp: FaultyIdP) -> KeyStore:
    path = directory / "jwks.json"
    path.write_text(json.dumps(idp.jwks()))
    return KeyStore(offline_jwks=path)


@pytest.fixture(scope="module")
def analyzer(idp: FaultyIdP, tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    return Analyzer(offline_keys(tmp_path_factory.mktemp("keys"), idp), Expectations())


def judge(analyzer: Analyzer, token: str, **kw: Any) -> tuple[Any, list[str]]:
    report, verdicts = analyzer.analyze_token(token, **kw)
    return report, codes(verdicts)


def test_genuine_v2_token_verifies_and_only_informs(analyzer: Analyzer, idp: FaultyIdP) -> None:
    report, found = judge(analyzer, idp.mint(idp.entra_v2_claims()))
    assert report.verified is True
    assert report.idp == "entra-v2"
    assert found == ["profile-issuer", "profile-audience"]


def test_discovered_keys_verify_and_name_the_jwk_url() -> None:
    with FaultyIdP() as live:
        analyzer = Analyzer(KeyStore(trusted_issuers=[live.issuer]), Expectations())
        report, found = judge(analyzer, live.mint(live.entra_v2_claims()))
    assert report.verified is True
    assert report.jwks_uri == live.jwks_uri
    assert found == ["profile-issuer", "profile-audience", "profile-jwk-url"]


def test_v1_token_with_x5t_verifies(analyzer: Analyzer, idp: FaultyIdP) -> None:
    report, found = judge(analyzer, idp.mint_entra_v1())
    assert report.verified is True and report.idp == "entra-v1"
    assert "entra-v1-token" in found


def test_opaque_token(analyzer: Analyzer) -> None:
    report, found = judge(analyzer, "Zm9vYmFyYmF6cXV4")
    assert report.kind == "opaque" and found == ["opaque-token"]


def test_jwe(analyzer: Analyzer) -> None:
    header = b64(json.dumps({"alg": "RSA-OAEP", "enc": "A256GCM"}).encode())
    report, found = judge(analyzer, f"{header}.a.b.c.d")
    assert report.kind == "jwe" and found == ["encrypted-token"]


def test_malformed_token(analyzer: Analyzer) -> None:
    _, found = judge(analyzer, "eyJhbGciOiJSUzI1NiJ9.!!!.x")
    assert found == ["malformed-token"]


def test_alg_none(analyzer: Analyzer, idp: FaultyIdP) -> None:
    report, found = judge(analyzer, idp.mint(idp.entra_v2_claims(), alg="none"))
    assert "alg-none" in found
    assert report.verified is None


def test_hs256_is_unsupported_and_never_verified(analyzer: Analyzer, idp: FaultyIdP) -> None:
    # The classic confusion attack: HMAC keyed with the IdP's *public* key.
    pem = idp.keys[0].public_pem()
    token = jwt.encode(
        idp.entra_v2_claims(),
        pem.decode()[:32],
        algorithm="HS256",
        headers={"kid": idp.keys[0].kid},
    )
    report, found = judge(analyzer, token)
    assert "alg-unsupported" in found
    assert report.verified is None
    assert "signature-invalid" not in found


def test_es256_is_unsupported_but_verified_as_genuine(tmp_path: Path) -> None:
    ec_idp = FaultyIdP(keys=[generate_ec_key()])
    analyzer = Analyzer(offline_keys(tmp_path, ec_idp), Expectations())
    report, found = judge(analyzer, ec_idp.mint(ec_idp.entra_v2_claims()))
    assert "alg-unsupported" in found
    assert report.verified is True


def test_kid_missing_is_a_warning(analyzer: Analyzer, idp: FaultyIdP) -> None:
    _, found = judge(analyzer, idp.mint(idp.entra_v2_claims(), header={"kid": None}))
    assert "kid-missing" in found


def test_kid_not_found(analyzer: Analyzer, idp: FaultyIdP) -> None:
    stranger = generate_rsa_key(kid="rolled-over-key")
    report, found = judge(analyzer, idp.mint(idp.entra_v2_claims(), key=stranger))
    assert "kid-not-found" in found
    assert report.verified is None


def test_forged_token_reusing_a_real_kid_is_signature_invalid(
    analyzer: Analyzer, idp: FaultyIdP
) -> None:
    forger = generate_rsa_key(kid=idp.keys[0].kid)
    report, found = judge(analyzer, idp.mint(idp.entra_v2_claims(roles=["Admin"]), key=forger))
    assert "signature-invalid" in found
    assert report.verified is False


def test_tampered_payload_is_signature_invalid(analyzer: Analyzer, idp: FaultyIdP) -> None:
    header, _, sig = idp.mint(idp.entra_v2_claims()).split(".")
    evil = b64(json.dumps(idp.entra_v2_claims(roles=["Admin"])).encode())
    _, found = judge(analyzer, f"{header}.{evil}.{sig}")
    assert "signature-invalid" in found


def test_untrusted_issuer_is_left_unchecked(idp: FaultyIdP) -> None:
    analyzer = Analyzer(KeyStore(trusted_issuers=["https://only.example/"]), Expectations())
    report, found = judge(analyzer, idp.mint(idp.entra_v2_claims(iss="https://elsewhere/")))
    assert "signature-unchecked" in found
    assert report.verified is None


class _DownKeys:
    def lookup(self, issuer: str | None, kid: str | None, *, claims: Any = None) -> Any:
        raise OSError("connection refused")


def test_key_source_crash_is_jwks_unavailable_not_a_crash(idp: FaultyIdP) -> None:
    analyzer = Analyzer(_DownKeys(), Expectations())  # type: ignore[arg-type]
    report, found = judge(analyzer, idp.mint(idp.entra_v2_claims()))
    assert "jwks-unavailable" in found
    assert report.verified is None


def test_unreachable_idp_is_jwks_unavailable() -> None:
    with FaultyIdP() as live:
        token = live.mint(live.entra_v2_claims())
        live.down()
        analyzer = Analyzer(KeyStore(trusted_issuers=[live.issuer], timeout=2), Expectations())
        report, found = judge(analyzer, token)
    assert "jwks-unavailable" in found
    assert report.verified is None


def test_graph_token_with_nonce_header(analyzer: Analyzer, idp: FaultyIdP) -> None:
    claims = idp.entra_v2_claims(aud="00000003-0000-0000-c000-000000000000", ver="1.0")
    token = idp.mint(claims, header={"nonce": "hXbq2kT0RvS8lwP0tGkTQk0Xb1cR9gOe"})
    report, found = judge(analyzer, token)
    assert "graph-token" in found
    # Graph signs over a hashed nonce: its signature failing elsewhere is not forgery.
    assert "signature-invalid" not in found
    assert report.verified is None


def test_graph_audience_uri_alone_is_enough(analyzer: Analyzer, idp: FaultyIdP) -> None:
    _, found = judge(analyzer, idp.mint(idp.entra_v2_claims(aud="https://graph.microsoft.com")))
    assert "graph-token" in found
