"""OCI IAM, Okta's org authorization server and Auth0: each IdP's own trap."""

from __future__ import annotations

from typing import Any

from inspector.judge import checks, rules
from inspector.judge.idp import idp_family
from parsers.token import DecodedToken, TokenKind

OKTA_ORG = {"iss": "https://acme.okta.com", "aud": "https://acme.okta.com", "sub": "00u1"}
OKTA_CUSTOM = {"iss": "https://acme.okta.com/oauth2/aus1a2b3", "aud": "api://mcp", "sub": "00u1"}
OCI = {"iss": "https://identity.oraclecloud.com/", "aud": "https://mcp.example.com/", "sub": "u"}


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
