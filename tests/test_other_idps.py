"""OCI IAM, Okta's org authorization server and Auth0: each IdP's own trap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from inspector.cli.main import main
from inspector.demo.idp import SigningKey, generate_rsa_key, keys_from
from inspector.judge import checks, rules
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.idp import idp_family
from inspector.keys.store import KeyStore
from parsers.token import DecodedToken, TokenKind
from tests.support.scripted_http import Reply, ScriptedServer

OKTA_ORG = {"iss": "https://acme.okta.com", "aud": "https://acme.okta.com", "sub": "00u1"}
OKTA_CUSTOM = {"iss": "https://acme.okta.com/oauth2/aus1a2b3", "aud": "api://mcp", "sub": "00u1"}
OCI_ISSUER = "https://identity.oraclecloud.com/"
OCI = {"iss": OCI_ISSUER, "aud": "https://mcp.example.com/", "sub": "u"}


def _jws(claims: dict[str, Any], alg: str = "RS256") -> DecodedToken:
    return DecodedToken(
        TokenKind.JWS, "f" * 12, 100, header={"alg": alg, "kid": "k"}, claims=claims, segments=3
    )


def test_oci_iam_default_issuer_is_oci_iam() -> None:
    assert idp_family(OCI) == "oci-iam"
    assert idp_family({"iss": "https://idcs-0a1b.identity.oraclecloud.com"}) == "oci-iam"


def test_okta_org_authorization_server_token_gets_its_own_verdict() -> None:
    [verdict] = checks.check_idp(OKTA_ORG, "okta")
    assert verdict.code == "okta-org-token"
    assert "custom authorization server" in verdict.fix
    assert checks.check_idp(OKTA_CUSTOM, "okta") == []
    assert checks.check_idp(OKTA_ORG, "generic") == []


def test_auth0_signing_algorithm_fix_names_the_api_setting() -> None:
    claims = {"iss": "https://tenant.eu.auth0.com/", "aud": "https://mcp.example.com/"}
    [verdict] = checks.check_header(_jws(claims, "HS256"), "auth0")
    assert verdict.code == "alg-unsupported"
    assert verdict.fix.startswith("Auth0: the signing algorithm is the API's setting")
    assert "APIs > Settings > Signing Algorithm" in rules.get_rule("alg-unsupported").fix


# --- OCI IAM: keys under the domain URL, not under iss --------------------------------------


def _oci_domain(server: ScriptedServer, key: SigningKey) -> None:
    jwks = f"{server.origin}/admin/v1/SigningCert/jwk"
    server.routes["/.well-known/openid-configuration"] = Reply.json(
        {"issuer": OCI_ISSUER, "jwks_uri": jwks}
    )
    server.routes["/admin/v1/SigningCert/jwk"] = Reply.json(keys_from([key]))


def _oci_token(key: SigningKey) -> str:
    claims = {**OCI, "iat": 1_700_000_000, "exp": 4_000_000_000}
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def test_oci_iam_keys_are_discovered_from_the_configured_domain() -> None:
    key = generate_rsa_key(kid="SIGNING_KEY")
    with ScriptedServer() as server:
        _oci_domain(server, key)
        analyzer = Analyzer(KeyStore(oci_domain=server.origin), Expectations())
        report, verdicts = analyzer.analyze_token(_oci_token(key))
        assert report.idp == "oci-iam"
        assert report.verified is True
        assert report.jwks_uri == f"{server.origin}/admin/v1/SigningCert/jwk"
        assert "signature-unchecked" not in [v.code for v in verdicts]
        # Nothing was asked of identity.oraclecloud.com: the domain answered.
        assert all(s.path.startswith(("/.well-known/", "/admin/")) for s in server.seen)


def test_oci_iam_without_a_domain_says_how_to_name_it() -> None:
    key = generate_rsa_key(kid="SIGNING_KEY")
    analyzer = Analyzer(KeyStore(), Expectations())
    report, verdicts = analyzer.analyze_token(_oci_token(key))
    [verdict] = [v for v in verdicts if v.code == "jwks-unavailable"]
    assert "--oci-domain" in verdict.message and "[keys] oci_domain" in verdict.message
    assert report.verified is None


def test_decode_takes_oci_domain_from_the_flag_and_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = generate_rsa_key(kid="SIGNING_KEY")
    with ScriptedServer() as server:
        _oci_domain(server, key)
        config = tmp_path / "c.toml"
        config.write_text(f'[keys]\noci_domain = "{server.origin}"\n')
        assert main(["decode", _oci_token(key), "--json", "--config", str(config)]) == 0
        assert json.loads(capsys.readouterr().out)["token"]["verified"] is True
        (tmp_path / "empty.toml").write_text("")
        argv = ["decode", _oci_token(key), "--json", "--config", str(tmp_path / "empty.toml")]
        assert main([*argv, "--oci-domain", server.origin]) == 0
        assert json.loads(capsys.readouterr().out)["token"]["verified"] is True
