"""The loopback IdP serves real discovery documents and keys, and misbehaves on request."""

from __future__ import annotations

import socket
import ssl

import jwt
import pytest
import requests

from inspector.demo.idp import DEFAULT_GENERIC_PATH, generate_ec_key, generate_rsa_key
from tests.support.faulty_idp import FaultyIdP


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=5)


def test_binds_only_loopback_on_an_ephemeral_port(idp: FaultyIdP) -> None:
    assert idp.base_url.startswith("http://127.0.0.1:")
    assert idp.port > 0


def test_entra_v2_document_points_at_the_tenant_keys(idp: FaultyIdP) -> None:
    doc = get(idp.metadata_url).json()
    assert doc["issuer"] == f"{idp.base_url}/{idp.tenant_id}/v2.0" == idp.issuer_v2
    assert doc["jwks_uri"] == f"{idp.base_url}/{idp.tenant_id}/discovery/v2.0/keys"
    assert get(doc["jwks_uri"]).json()["keys"][0]["kid"] == idp.keys[0].kid


def test_entra_v1_document_has_the_trailing_slash_issuer(idp: FaultyIdP) -> None:
    doc = get(idp.metadata_url_v1).json()
    assert doc["issuer"] == idp.issuer_v1 == f"{idp.base_url}/{idp.tenant_id}/"
    assert doc["jwks_uri"].endswith("/discovery/keys")


def test_common_document_carries_the_tenantid_template(idp: FaultyIdP) -> None:
    doc = get(idp.common_metadata_url).json()
    assert doc["issuer"] == f"{idp.base_url}/{{tenantid}}/v2.0"


def test_entra_answers_only_the_appended_oidc_form(idp: FaultyIdP) -> None:
    path = f"/{idp.tenant_id}/v2.0"
    assert get(f"{idp.base_url}/.well-known/oauth-authorization-server{path}").status_code == 404
    assert get(f"{idp.base_url}/.well-known/openid-configuration{path}").status_code == 404
    assert get(f"{idp.base_url}{path}/.well-known/openid-configuration").status_code == 200


def test_generic_flavour_serves_rfc8414_for_a_path_issuer() -> None:
    with FaultyIdP(flavour="generic") as server:
        assert server.issuer == server.base_url + DEFAULT_GENERIC_PATH
        doc = get(server.metadata_url).json()
        assert "/.well-known/oauth-authorization-server/" in server.metadata_url
        assert doc["issuer"] == server.issuer
        assert get(f"{server.issuer}/.well-known/openid-configuration").json() == doc


def test_generic_flavour_without_a_path() -> None:
    with FaultyIdP(flavour="generic", path_issuer=False) as server:
        assert server.issuer == server.base_url
        assert get(f"{server.base_url}/.well-known/oauth-authorization-server").status_code == 200
        assert get(f"{server.base_url}/.well-known/openid-configuration").status_code == 200


def test_minted_token_verifies_with_the_published_key(idp: FaultyIdP) -> None:
    token = idp.mint(idp.entra_v2_claims())
    jwk = jwt.PyJWKSet.from_dict(get(idp.jwks_uri).json())[idp.keys[0].kid]
    claims = jwt.decode(token, jwk, algorithms=["RS256"], audience=idp.api_app_id)
    assert claims["iss"] == idp.issuer_v2
    assert claims["ver"] == "2.0"
    assert claims["tid"] == idp.tenant_id


def test_v1_token_header_carries_kid_and_x5t(idp: FaultyIdP) -> None:
    token = idp.mint_entra_v1()
    header = jwt.get_unverified_header(token)
    assert header["kid"] == idp.keys[0].kid
    assert header["x5t"] == idp.keys[0].x5t
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == idp.issuer_v1
    assert claims["upn"] == claims["unique_name"]
    assert "appid" in claims and "azp" not in claims


def test_claim_times_follow_the_given_now(idp: FaultyIdP) -> None:
    claims = idp.entra_v2_claims(now=1_700_000_000, roles=["Other"])
    assert claims["iat"] == claims["nbf"] == 1_700_000_000
    assert claims["exp"] > claims["iat"]
    assert claims["roles"] == ["Other"]


def test_header_none_removes_kid_and_alg_none_is_unsigned(idp: FaultyIdP) -> None:
    no_kid = idp.mint({"sub": "x"}, header={"kid": None})
    assert "kid" not in jwt.get_unverified_header(no_kid)
    unsigned = idp.mint({"sub": "x"}, alg="none")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    assert unsigned.endswith(".")


def test_ec_key_mints_es256(idp: FaultyIdP) -> None:
    key = generate_ec_key("ec-1")
    idp.keys.append(key)
    token = idp.mint({"sub": "x"}, key=key)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "ec-1", "typ": "JWT"}
    kids = [k["kid"] for k in get(idp.jwks_uri).json()["keys"]]
    assert "ec-1" in kids


def test_rotation_changes_the_served_keys(idp: FaultyIdP) -> None:
    old = idp.keys[0]
    new = idp.rotate(generate_rsa_key("new"), keep_old=False)
    kids = [k["kid"] for k in get(idp.jwks_uri).json()["keys"]]
    assert kids == [new.kid]
    assert old.kid not in kids


def test_fail_next_then_recovers(idp: FaultyIdP) -> None:
    idp.fail_next(2, status=503)
    assert get(idp.jwks_uri).status_code == 503
    assert get(idp.jwks_uri).status_code == 503
    assert get(idp.jwks_uri).status_code == 200
    assert idp.count(idp.jwks_uri) == 3


def test_override_serves_the_given_document(idp: FaultyIdP) -> None:
    idp.set_metadata_override({"issuer": "https://elsewhere.example/"})
    assert get(idp.metadata_url).json() == {"issuer": "https://elsewhere.example/"}
    idp.set_metadata_override(path="/big", body=b"x" * 10, content_type="text/plain")
    assert get(idp.base_url + "/big").text == "x" * 10
    idp.set_metadata_override()
    assert get(idp.metadata_url).json()["issuer"] == idp.issuer_v2


def test_hang_holds_the_request_past_a_client_timeout(idp: FaultyIdP) -> None:
    idp.hang(30)
    with pytest.raises(requests.Timeout):
        requests.get(idp.jwks_uri, timeout=0.3)
    idp.hang(0)


def test_down_refuses_connections_and_up_serves_again(idp: FaultyIdP) -> None:
    idp.down()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", idp.port), timeout=2),
    ):
        pass
    idp.up()
    assert get(idp.metadata_url).status_code == 200


def test_https_with_a_test_ca() -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    with FaultyIdP(scheme="https", ssl_context=server_ctx) as server, ca.cert_pem.tempfile() as pem:
        assert server.base_url.startswith("https://127.0.0.1:")
        doc = requests.get(server.metadata_url, timeout=5, verify=pem).json()
        assert doc["issuer"] == server.issuer_v2
