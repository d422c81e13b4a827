"""doctor judges against the MCP revision the user names, and as the specification and the
official SDK clients do: resource_metadata, root metadata, challenge scopes, PKCE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.doctor import DoctorOptions, DoctorReport, Status, run_doctor
from inspector.doctor.urls import is_parent_resource
from inspector.settings import ConfigError, load_settings
from tests.support.doctor_cli import run_doctor_cli
from tests.support.faulty_idp import FaultyIdP
from tests.support.scripted_http import Reply, ScriptedServer

MCP = "/ords/hr/mcp/server"
PRM = "/.well-known/oauth-protected-resource"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def doctor(server: ScriptedServer, **options: object) -> DoctorReport:
    settings: dict[str, object] = {"allow_http": True, "check_nginx": False, "timeout": 2.0}
    settings.update(options)
    return run_doctor(DoctorOptions(server.origin + MCP, **settings))  # type: ignore[arg-type]


def status_of(report: DoctorReport, code: str) -> Status | None:
    finding = report.finding(code)
    return finding.status if finding else None


def serve(
    server: ScriptedServer,
    idp: FaultyIdP,
    challenge: str,
    path: str = PRM,
    **overrides: object,
) -> None:
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", challenge)], b"{}")
    document: dict[str, object] = {
        "resource": server.origin + MCP,
        "authorization_servers": [idp.issuer],
        "scopes_supported": [f"api://{idp.api_app_id}/mcp:connect"],
    }
    document.update(overrides)
    server.routes[path] = Reply.json(document)


# -- the MCP revision --------------------------------------------------------------------------


def test_newest_revision_is_the_default_and_the_probe_speaks_it(server: ScriptedServer) -> None:
    server.routes[MCP] = Reply(401, [], b"")
    report = doctor(server)
    assert DoctorOptions("https://h/").mcp_revision == "2025-11-25"
    assert server.seen[0].headers["MCP-Protocol-Version"] == "2025-11-25"
    assert report.url


def test_well_known_only_passes_under_2025_11_25(server: ScriptedServer, idp: FaultyIdP) -> None:
    # No resource_metadata in the challenge; the metadata sits at the well-known URI.
    serve(server, idp, 'Bearer scope="api://x/mcp:connect"', path=PRM + MCP)
    report = doctor(server)
    finding = report.finding("challenge-no-resource-metadata")
    assert finding is not None and finding.status is Status.WARN
    assert "well-known" in finding.message and "SHOULD" in finding.message
    assert status_of(report, "prm-reachable") is Status.PASS
    assert status_of(report, "prm-resource") is Status.PASS


def test_well_known_only_fails_under_2025_06_18(server: ScriptedServer, idp: FaultyIdP) -> None:
    serve(server, idp, 'Bearer scope="api://x/mcp:connect"', path=PRM + MCP)
    report = doctor(server, mcp_revision="2025-06-18")
    assert status_of(report, "challenge-no-resource-metadata") is Status.FAIL
    assert server.seen[0].headers["MCP-Protocol-Version"] == "2025-06-18"


def test_no_header_and_nothing_at_the_well_known_uri_still_fails(server: ScriptedServer) -> None:
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", 'Bearer scope="a/b"')], b"")
    report = doctor(server)
    assert status_of(report, "challenge-no-resource-metadata") is Status.WARN
    assert status_of(report, "prm-unreachable") is Status.FAIL
    assert report.failed


def test_revision_flag_and_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[doctor]\nmcp_revision = "2025-06-18"\n')
    assert load_settings(config).doctor.mcp_revision == "2025-06-18"
    config.write_text('[doctor]\nmcp_revision = "2024-11-05"\n')
    with pytest.raises(ConfigError, match="mcp_revision"):
        load_settings(config)
    assert run_doctor_cli(["https://h/mcp", "--mcp-revision", "2024-11-05"]) == 2


# -- root metadata whose resource is the origin ------------------------------------------------


def test_root_metadata_with_the_origin_as_resource_warns(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    serve(server, idp, f'Bearer resource_metadata="{server.origin}{PRM}"', resource=server.origin)
    report = doctor(server)
    assert status_of(report, "prm-resource-mismatch") is None
    finding = report.finding("prm-resource-parent")
    assert finding is not None and finding.status is Status.WARN
    assert "RFC 9728" in finding.message and "Python SDK" in finding.message
    assert "check_resource_allowed" in finding.message


def test_a_trailing_slash_or_another_path_is_still_a_mismatch(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    serve(
        server,
        idp,
        f'Bearer resource_metadata="{server.origin}{PRM}"',
        resource=server.origin + "/ords/h",
    )
    assert status_of(doctor(server), "prm-resource-mismatch") is Status.FAIL
    assert not is_parent_resource("https://h/ords/x/", "https://h/ords/x")
    assert is_parent_resource("https://h/", "https://h/ords/x")
    assert is_parent_resource("https://h/ords", "https://h/ords/x")
    assert not is_parent_resource("https://h/or", "https://h/ords/x")
    assert not is_parent_resource("https://h:8443/", "https://h/ords/x")


# -- challenge scopes against scopes_supported -------------------------------------------------


def test_challenge_scopes_other_than_scopes_supported_are_information(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    serve(
        server,
        idp,
        f'Bearer resource_metadata="{server.origin}{PRM}", scope="api://{idp.api_app_id}/mcp:admin"',
    )
    report = doctor(server)
    finding = report.finding("prm-scope-mismatch")
    assert finding is not None and finding.status is Status.PASS
    assert "subset" in finding.message


# -- PKCE -------------------------------------------------------------------------------------


def _pkce(server: ScriptedServer, idp: FaultyIdP, methods: object) -> DoctorReport:
    serve(server, idp, f'Bearer resource_metadata="{server.origin}{PRM}", scope="a/b"')
    document = idp.metadata()
    if methods is None:
        del document["code_challenge_methods_supported"]
    else:
        document["code_challenge_methods_supported"] = methods
    idp.set_metadata_override(document)
    return doctor(server)


def test_plain_only_pkce_fails(server: ScriptedServer, idp: FaultyIdP) -> None:
    report = _pkce(server, idp, ["plain"])
    finding = report.finding("as-no-pkce-s256")
    assert finding is not None and finding.status is Status.FAIL
    assert "MUST refuse" in finding.message


def test_no_pkce_field_fails_for_a_generic_idp(server: ScriptedServer) -> None:
    with FaultyIdP(flavour="generic") as generic:
        report = _pkce(server, generic, None)
    assert status_of(report, "as-no-pkce-s256") is Status.FAIL


def test_entra_without_the_field_is_said_exactly(server: ScriptedServer, idp: FaultyIdP) -> None:
    report = _pkce(server, idp, None)
    assert status_of(report, "as-no-pkce-s256") is None
    finding = report.finding("as-pkce-not-advertised-entra")
    assert finding is not None and finding.status is Status.WARN
    assert "supports PKCE S256" in finding.message and "refuse" in finding.message
    assert finding.fix is not None and "another IdP" not in finding.fix


def test_s256_passes(server: ScriptedServer, idp: FaultyIdP) -> None:
    assert status_of(_pkce(server, idp, ["plain", "S256"]), "as-pkce-s256") is Status.PASS


# -- client registration: three ways ---------------------------------------------------------


def _registration(server: ScriptedServer, idp: FaultyIdP, **fields: object) -> DoctorReport:
    serve(server, idp, f'Bearer resource_metadata="{server.origin}{PRM}", scope="a/b"')
    document = idp.metadata()
    document.update(fields)
    idp.set_metadata_override(document)
    return doctor(server)


def test_an_advertised_registration_endpoint_that_is_404_is_caught(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    # The scripted server answers 404 for any path it was not given.
    report = _registration(server, idp, registration_endpoint=server.origin + "/register")
    finding = report.finding("as-registration-endpoint-broken")
    assert finding is not None and finding.status is Status.WARN
    assert finding.observed is not None and "404" in finding.observed
    assert status_of(report, "as-registration-endpoint") is None
    # Pre-registration is still possible: a warning naming it, never "cannot register".
    missing = report.finding("as-no-registration-endpoint")
    assert missing is not None and missing.status is Status.WARN
    assert "pre-registered" in missing.message
    assert missing.fix is not None and "https://claude.com/api/mcp/auth_callback" in missing.fix


def test_the_registration_probe_can_never_register_a_client(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    server.routes["/register"] = Reply(405, [("Allow", "POST")], b"")
    report = _registration(server, idp, registration_endpoint=server.origin + "/register")
    assert status_of(report, "as-registration-endpoint") is Status.PASS
    assert "as-no-registration-endpoint" not in report.codes()
    probes = [s for s in server.seen if s.path == "/register"]
    assert probes and all(s.method in ("GET", "OPTIONS") and not s.body for s in probes)


def test_client_id_metadata_documents_are_a_way_to_register(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    report = _registration(server, idp, client_id_metadata_document_supported=True)
    assert status_of(report, "as-client-id-metadata-document") is Status.PASS
    assert "as-no-registration-endpoint" not in report.codes()


# -- Entra ID: the resource rule and the tenant ------------------------------------------------


def _entra(server: ScriptedServer, idp: FaultyIdP, scope: str, **overrides: object) -> DoctorReport:
    serve(
        server,
        idp,
        f'Bearer resource_metadata="{server.origin}{PRM}", scope="{scope}"',
        **overrides,
    )
    return doctor(server, idp="entra")


def test_entra_resource_rule_passes_the_working_pattern(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    url = server.origin + MCP
    report = _entra(server, idp, f"{url}/mcp:connect", scopes_supported=[f"{url}/mcp:connect"])
    assert status_of(report, "entra-resource-consistent") is Status.PASS
    assert not report.failed, report.codes(Status.FAIL)


@pytest.mark.parametrize(
    ("scope", "supported", "resource"),
    [
        pytest.param("{url}/mcp:connect", "api://app/mcp:connect", "{url}", id="scopes-supported"),
        pytest.param("api://app/mcp:connect", "{url}/mcp:connect", "{url}", id="challenge"),
        pytest.param("{url}//mcp:connect", "{url}//mcp:connect", "{url}", id="trailing-slash"),
        pytest.param("{url}/mcp:connect", "{url}/mcp:connect", "{url}/", id="prm-resource"),
    ],
)
def test_entra_resource_rule_is_exact(
    server: ScriptedServer, idp: FaultyIdP, scope: str, supported: str, resource: str
) -> None:
    url = server.origin + MCP
    report = _entra(
        server,
        idp,
        scope.format(url=url),
        scopes_supported=[supported.format(url=url)],
        resource=resource.format(url=url),
    )
    finding = report.finding("entra-resource-mismatch")
    assert finding is not None and finding.status is Status.FAIL
    assert finding.fix is not None and f"{url}/mcp:connect" in finding.fix


def test_the_rule_is_for_entra_only(server: ScriptedServer) -> None:
    with FaultyIdP(flavour="generic") as generic:
        serve(server, generic, f'Bearer resource_metadata="{server.origin}{PRM}", scope="a/b"')
        report = doctor(server)
    assert "entra-resource-mismatch" not in report.codes()


@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_entra_multi_tenant_endpoint_fails_with_the_tenant_fix(
    server: ScriptedServer, idp: FaultyIdP, tenant: str
) -> None:
    serve(
        server,
        idp,
        f'Bearer resource_metadata="{server.origin}{PRM}", scope="a/b"',
        authorization_servers=[f"{idp.base_url}/{tenant}/v2.0"],
    )
    report = doctor(server, idp="entra")
    finding = report.finding("as-entra-multi-tenant")
    assert finding is not None and finding.status is Status.FAIL
    assert finding.fix is not None and f"{idp.base_url}/<tenant-id>/v2.0" in finding.fix


def test_doctor_fix_texts_no_longer_recommend_the_app_id_scope(server: ScriptedServer) -> None:
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", "Bearer")], b"")
    report = doctor(server, idp="entra")
    fixes = " ".join(f.fix or "" for s in report.steps for f in s.findings)
    assert "api://<app-id>" not in fixes
    assert f"{server.origin}{MCP}/mcp:connect" in fixes
