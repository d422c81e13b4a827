"""Metadata discovery: MCP candidate order, issuer checks, and hostile or broken servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from inspector.keys.discovery import (
    ENTRA_V1_HOSTS,
    candidate_metadata_urls,
    discover,
    fetch_metadata,
    issuer_mismatch,
    issuer_problem,
    load_metadata,
    resolve_issuer_template,
)
from inspector.keys.http import HttpClient, url_problem
from tests.support.faulty_idp import FaultyIdP


@pytest.fixture
def generic() -> Iterator[FaultyIdP]:
    with FaultyIdP(flavour="generic") as server:
        yield server


# -- candidate URLs -------------------------------------------------------------------


def test_issuer_with_a_path_follows_the_mcp_order() -> None:
    assert candidate_metadata_urls("https://idp.example/tenant1") == [
        "https://idp.example/.well-known/oauth-authorization-server/tenant1",
        "https://idp.example/.well-known/openid-configuration/tenant1",
        "https://idp.example/tenant1/.well-known/openid-configuration",
    ]


def test_issuer_without_a_path_tries_rfc8414_then_oidc() -> None:
    expected = [
        "https://idp.example/.well-known/oauth-authorization-server",
        "https://idp.example/.well-known/openid-configuration",
    ]
    assert candidate_metadata_urls("https://idp.example") == expected
    # Auth0 issuers end with a slash: the slash is not a path.
    assert candidate_metadata_urls("https://idp.example/") == expected


def test_trailing_slash_of_a_path_issuer_is_dropped_when_building_urls() -> None:
    urls = candidate_metadata_urls("https://idp.example/oauth2/default/")
    assert urls[0] == "https://idp.example/.well-known/oauth-authorization-server/oauth2/default"
    assert urls[2] == "https://idp.example/oauth2/default/.well-known/openid-configuration"


def test_entra_v2_issuer_asks_the_oidc_form_first() -> None:
    tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    urls = candidate_metadata_urls(f"https://login.microsoftonline.com/{tid}/v2.0")
    assert urls[0] == (
        f"https://login.microsoftonline.com/{tid}/v2.0/.well-known/openid-configuration"
    )
    assert len(urls) == 3


def test_entra_v1_issuer_maps_to_the_login_host_v1_document() -> None:
    tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert candidate_metadata_urls(f"https://sts.windows.net/{tid}/") == [
        f"https://login.microsoftonline.com/{tid}/.well-known/openid-configuration"
    ]


def test_sovereign_entra_hosts_get_the_same_treatment() -> None:
    assert candidate_metadata_urls("https://sts.chinacloudapi.cn/t1/") == [
        "https://login.chinacloudapi.cn/t1/.well-known/openid-configuration"
    ]
    us = candidate_metadata_urls("https://login.microsoftonline.us/t1/v2.0")
    assert us[0] == "https://login.microsoftonline.us/t1/v2.0/.well-known/openid-configuration"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x",
        "http://[fd00:ec2::254]/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
    ],
)
def test_instance_metadata_and_odd_addresses_are_never_contacted(url: str) -> None:
    fetch = HttpClient().get_json(url)
    assert fetch.status is None
    assert fetch.error is not None and fetch.error.startswith("refusing to contact")
    assert discover(url).tried == ()


@pytest.mark.parametrize(
    "issuer",
    ["file:///etc/passwd", "ftp://idp.example/", "idp.example", "https://idp.example/?a=b", ""],
)
def test_unusable_issuers_give_a_problem_and_no_request(issuer: str) -> None:
    assert candidate_metadata_urls(issuer) == []
    result = discover(issuer)
    assert not result.ok
    assert result.tried == ()
    assert result.problem and result.problem.startswith("issuer is not usable")


URLISH = st.one_of(
    st.text(max_size=60),
    st.builds(
        "{}://{}/{}".format,
        st.sampled_from(["https", "http", "HTTPS", "ftp", "javascript"]),
        st.text(max_size=30),
        st.text(max_size=30),
    ),
)


@given(URLISH)
def test_candidates_never_raise_and_stay_on_the_issuer_host(issuer: str) -> None:
    urls = candidate_metadata_urls(issuer)
    assert bool(urls) == (issuer_problem(issuer) is None)
    for url in urls:
        assert url_problem(url) is None
        if (urlsplit(issuer).hostname or "").lower() not in ENTRA_V1_HOSTS:
            assert urlsplit(url).netloc == urlsplit(issuer).netloc


@given(st.text(max_size=40), st.text(max_size=40), st.dictionaries(st.text(max_size=5), st.text()))
def test_issuer_comparison_is_exact(meta: str, token: str, claims: dict[str, str]) -> None:
    problem = issuer_mismatch(meta, token, claims)
    if "{tenantid}" not in meta:
        assert (problem is None) == (meta == token)
    if problem is not None:
        assert "\n" not in problem


# -- discovery against the loopback IdP -----------------------------------------------


def test_entra_discovery_requests_urls_in_mcp_order(idp: FaultyIdP) -> None:
    result = discover(idp.issuer_v2)
    path = f"/{idp.tenant_id}/v2.0"
    assert idp.request_log == [
        f"/.well-known/oauth-authorization-server{path}",
        f"/.well-known/openid-configuration{path}",
        f"{path}/.well-known/openid-configuration",
    ]
    assert result.ok, result.problem
    assert result.metadata_url == idp.metadata_url
    assert [t.status for t in result.tried] == [404, 404, 200]
    assert result.jwks_uri == idp.jwks_uri
    assert result.summary().startswith("metadata from ")


def test_entra_v1_issuer_on_the_local_host(idp: FaultyIdP) -> None:
    result = discover(idp.issuer_v1)
    assert result.ok, result.problem
    assert idp.request_log[-1] == f"/{idp.tenant_id}/.well-known/openid-configuration"
    assert result.jwks_uri == idp.jwks_uri_v1


def test_generic_rfc8414_document_answers_first(generic: FaultyIdP) -> None:
    result = discover(generic.issuer)
    assert result.ok, result.problem
    assert generic.request_log == ["/.well-known/oauth-authorization-server/oauth2/default"]
    assert len(result.tried) == 1


def test_generic_issuer_without_path() -> None:
    with FaultyIdP(flavour="generic", path_issuer=False) as server:
        result = discover(server.issuer)
        assert result.ok, result.problem
        assert server.request_log == ["/.well-known/oauth-authorization-server"]


def test_templated_common_document_resolves_with_tid(idp: FaultyIdP) -> None:
    claims = idp.entra_v2_claims()
    result = fetch_metadata(idp.common_metadata_url, issuer=idp.issuer_v2, claims=claims)
    assert result.ok, result.problem
    assert result.metadata_issuer == f"{idp.base_url}/{{tenantid}}/v2.0"


def test_templated_document_without_tid_is_rejected(idp: FaultyIdP) -> None:
    result = fetch_metadata(idp.common_metadata_url, issuer=idp.issuer_v2, claims={})
    assert not result.ok
    assert result.problem and "{tenantid} template" in result.problem


def test_templated_document_with_another_tenant_does_not_match(idp: FaultyIdP) -> None:
    claims = {"tid": "00000000-0000-0000-0000-000000000000"}
    result = fetch_metadata(idp.common_metadata_url, issuer=idp.issuer_v2, claims=claims)
    assert result.problem and "does not match" in result.problem


def test_template_is_left_alone_without_a_string_tid() -> None:
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert resolve_issuer_template(template, {"tid": 7}) == template
    assert resolve_issuer_template(template, {"tid": "t1"}).endswith("/t1/v2.0")


def test_issuer_mismatch_is_reported_with_both_values(idp: FaultyIdP) -> None:
    idp.set_metadata_override({"issuer": "https://evil.example/", "jwks_uri": idp.jwks_uri})
    result = discover(idp.issuer_v2)
    assert not result.ok
    assert result.problem is not None
    assert "'https://evil.example/' does not match the token's iss" in result.problem
    assert result.metadata_issuer == "https://evil.example/"
    assert [t.status for t in result.tried] == [404, 404, 200]
    assert result.tried[-1].error is not None


def test_trailing_slash_difference_is_named() -> None:
    problem = issuer_mismatch("https://idp.example/", "https://idp.example")
    assert problem is not None and "only by a trailing slash" in problem
    assert issuer_mismatch("https://idp.example/", "https://idp.example/") is None


def test_metadata_without_jwks_uri_is_rejected(idp: FaultyIdP) -> None:
    idp.set_metadata_override({"issuer": idp.issuer_v2})
    result = discover(idp.issuer_v2)
    assert result.problem and "no jwks_uri" in result.problem


def test_metadata_with_a_non_http_jwks_uri_is_rejected(idp: FaultyIdP) -> None:
    idp.set_metadata_override({"issuer": idp.issuer_v2, "jwks_uri": "file:///etc/passwd"})
    result = discover(idp.issuer_v2)
    assert result.problem and "only http(s)" in result.problem


def test_invalid_json_and_non_object_json_are_rejected(idp: FaultyIdP) -> None:
    idp.set_metadata_override(body=b"<html>hello</html>", content_type="text/html")
    result = discover(idp.issuer_v2)
    assert result.problem and "not JSON" in result.problem
    idp.set_metadata_override(body=b"[1, 2]")
    assert "not an object" in (discover(idp.issuer_v2).problem or "")


def test_server_down_is_a_one_line_connection_refused(idp: FaultyIdP) -> None:
    issuer = idp.issuer_v2
    idp.down()
    result = discover(issuer)
    assert not result.ok
    assert result.problem is not None and "connection refused" in result.problem
    assert "\n" not in result.problem
    # Same host for every candidate: no point asking the others.
    assert len(result.tried) == 1


def test_hanging_server_is_bounded_by_the_timeout(idp: FaultyIdP) -> None:
    idp.hang(30)
    result = discover(idp.issuer_v2, http=HttpClient(timeout=0.5))
    assert not result.ok
    assert result.problem is not None and "no response within 0.5 s" in result.problem
    assert len(result.tried) == 1


def test_server_errors_are_recorded_per_url(idp: FaultyIdP) -> None:
    idp.fail_next(3, status=503)
    result = discover(idp.issuer_v2)
    assert [t.status for t in result.tried] == [503, 503, 503]
    assert result.problem and "3 URLs tried (503, 503, 503)" in result.problem


def test_oversized_document_is_refused_by_declared_length(idp: FaultyIdP) -> None:
    idp.set_metadata_override(body=b" " * (2 * 1024 * 1024))
    result = discover(idp.issuer_v2)
    assert result.problem and "larger than 1024 KiB refused" in result.problem


def test_oversized_document_is_refused_while_reading(idp: FaultyIdP) -> None:
    body = json.dumps({"issuer": idp.issuer_v2, "pad": "x" * 50_000}).encode()
    idp.set_metadata_override(body=body, send_length=False)
    result = discover(idp.issuer_v2, http=HttpClient(max_bytes=10_000))
    assert result.problem and "larger than 9 KiB refused" in result.problem


def test_redirect_within_http_is_followed(idp: FaultyIdP) -> None:
    idp.set_metadata_override(
        path="/moved", status=302, body=b"", headers={"Location": idp.metadata_url}
    )
    result = fetch_metadata(idp.base_url + "/moved", issuer=idp.issuer_v2)
    assert result.ok, result.problem
    assert idp.request_log == ["/moved", f"/{idp.tenant_id}/v2.0/.well-known/openid-configuration"]


def test_redirect_to_another_scheme_is_refused(idp: FaultyIdP) -> None:
    idp.set_metadata_override(
        path="/moved", status=302, body=b"", headers={"Location": "file:///etc/passwd"}
    )
    result = fetch_metadata(idp.base_url + "/moved", issuer=idp.issuer_v2)
    assert result.problem and "redirect refused" in result.problem
    assert idp.request_log == ["/moved"]


def test_redirect_loop_ends(idp: FaultyIdP) -> None:
    idp.set_metadata_override(path="/loop", status=302, body=b"", headers={"Location": "/loop"})
    result = fetch_metadata(idp.base_url + "/loop")
    assert result.problem and "more than 5 redirects" in result.problem
    assert idp.count("/loop") == 6


def test_redirect_from_https_to_http_is_refused() -> None:
    client = HttpClient()
    assert client.get_json("gopher://idp.example/x").error == (
        "only http(s) URLs are fetched, not 'gopher'"
    )
    # The downgrade rule itself, without needing two servers.
    response = requests.Response()
    response.headers["Location"] = "http://idp.example/meta"
    target, problem, _ = HttpClient()._redirect_target("https://idp.example/a", response)
    assert target is None
    assert problem == "redirect refused: https downgraded to http"


# -- offline metadata -----------------------------------------------------------------


def test_offline_metadata_file_is_checked_like_a_fetch(tmp_path: Path, idp: FaultyIdP) -> None:
    path = tmp_path / "openid-configuration.json"
    path.write_text(json.dumps(idp.metadata()))
    good = load_metadata(path, issuer=idp.issuer_v2)
    assert good.ok and good.source == "file"
    assert good.jwks_uri == idp.jwks_uri
    bad = load_metadata(path, issuer=idp.issuer_v1)
    assert bad.problem and "does not match" in bad.problem
    assert idp.request_log == []


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("{", "is not JSON"), ("[]", "not an object")],
)
def test_broken_offline_metadata_files(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "meta.json"
    if content is not None:
        path.write_text(content)
    result = load_metadata(path, issuer="https://idp.example")
    assert result.problem and message in result.problem
