"""Which IdP issued a token: Entra's version from ver, issuer form and claims together."""

from __future__ import annotations

from typing import Any

import pytest

from inspector.judge.idp import ISSUER_FAMILIES, idp_family, issuer_family

TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
V1_ISS = f"https://sts.windows.net/{TID}/"
V2_ISS = f"https://login.microsoftonline.com/{TID}/v2.0"
OTHER = f"https://login.microsoftonline.com/{TID}/"


@pytest.mark.parametrize(
    ("claims", "family"),
    [
        ({"iss": V1_ISS, "ver": "1.0", "appid": "x"}, "entra-v1"),
        ({"iss": V2_ISS, "ver": "2.0", "azp": "x"}, "entra-v2"),
        # No ver: the issuer form decides, never a default of v2.
        ({"iss": V1_ISS, "tid": TID}, "entra-v1"),
        ({"iss": V2_ISS, "tid": TID}, "entra-v2"),
        # A Microsoft host in another form, no ver: the claim set decides.
        ({"iss": OTHER, "tid": TID, "appid": "a"}, "entra-v1"),
        ({"iss": OTHER, "tid": TID, "azp": "a"}, "entra-v2"),
        # Nothing says which version: not assumed to be v2.
        ({"iss": OTHER, "tid": TID}, "entra"),
        ({"iss": "https://idp.example/", "tid": TID}, "generic"),
        # ver disagreeing with the issuer form: the form and claims outvote it.
        ({"iss": V1_ISS, "ver": "2.0", "appid": "x", "upn": "u"}, "entra-v1"),
    ],
)
def test_entra_version_uses_ver_issuer_form_and_claims(claims: dict[str, Any], family: str) -> None:
    assert idp_family(claims) == family


@pytest.mark.parametrize(
    ("issuer", "family"),
    [
        (V1_ISS, "entra"),
        (V2_ISS, "entra"),
        ("https://login.microsoftonline.com/common/v2.0", "entra"),
        ("https://tenant.eu.auth0.com/", "auth0"),
        ("https://acme.okta.com/oauth2/default", "okta"),
        ("https://acme.okta.com", "okta"),
        ("https://identity.oraclecloud.com/", "oci-iam"),
        ("https://idcs-0a1b2c.identity.oraclecloud.com", "oci-iam"),
        ("https://sso.example.com/realms/mcp", "keycloak"),
        ("https://idp.example.com/", "generic"),
        ("", "generic"),
        ("http://[::1", "generic"),
    ],
)
def test_issuer_family_reads_the_issuer_url_alone(issuer: str, family: str) -> None:
    assert issuer_family(issuer) == family
    assert family in ISSUER_FAMILIES
