"""Steps 1 and 2 against scripted loopback servers: every shape a broken 401 can take."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from inspector.doctor import DoctorOptions, DoctorReport, Status, run_doctor
from tests.support.faulty_idp import FaultyIdP
from tests.support.nginx import closed_port
from tests.support.scripted_http import Reply, ScriptedServer

MCP = "/ords/hr/mcp/server"
ORDS = 'Bearer realm="Oracle REST Data Services", error="invalid_token"'


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


def challenge(server: ScriptedServer, *fields: str, status: int = 401) -> None:
    server.routes[MCP] = Reply(status, [("WWW-Authenticate", f) for f in fields], b"{}")


def metadata(server: ScriptedServer, idp: FaultyIdP, path: str, **overrides: object) -> None:
    document: dict[str, object] = {
        "resource": server.origin + MCP,
        "authorization_servers": [idp.issuer],
        "scopes_supported": [f"api://{idp.api_app_id}/mcp:connect"],
    }
    document.update(overrides)
    server.routes[path] = Reply.json(document)


def good_challenge(server: ScriptedServer, idp: FaultyIdP) -> str:
    return (
        f'Bearer resource_metadata="{server.origin}/.well-known/oauth-protected-resource", '
        f'scope="api://{idp.api_app_id}/mcp:connect"'
    )


def doctor(server: ScriptedServer, **options: object) -> DoctorReport:
    settings: dict[str, object] = {"allow_http": True, "check_nginx": False}
    settings.update(options)
    return run_doctor(DoctorOptions(server.origin + MCP, **settings))  # type: ignore[arg-type]


def status_of(report: DoctorReport, code: str) -> Status | None:
    finding = report.finding(code)
    return finding.status if finding else None


def test_probe_is_an_mcp_initialize_post(server: ScriptedServer) -> None:
    challenge(server)
    doctor(server)
    post = server.seen[0]
    assert post.method == "POST" and post.path == MCP
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["Accept"] == "application/json, text/event-stream"
    assert post.headers["MCP-Protocol-Version"]
    assert "Authorization" not in post.headers
    assert json.loads(post.body)["method"] == "initialize"


def test_answer_without_token_is_not_a_challenge(server: ScriptedServer) -> None:
    server.routes[MCP] = Reply.json({"jsonrpc": "2.0", "id": 1, "result": {}})
    report = doctor(server)
    assert status_of(report, "challenge-not-401") is Status.FAIL
    assert report.finding("challenge-not-401").observed == "200"  # type: ignore[union-attr]
    assert status_of(report, "resource-metadata-skipped") is Status.SKIP


def test_401_without_www_authenticate(server: ScriptedServer) -> None:
    challenge(server)
    assert status_of(doctor(server), "challenge-missing") is Status.FAIL


def test_basic_only_is_not_bearer(server: ScriptedServer) -> None:
    challenge(server, 'Basic realm="ords"')
    assert status_of(doctor(server), "challenge-not-bearer") is Status.FAIL


def test_unparseable_challenge(server: ScriptedServer) -> None:
    challenge(server, 'Bearer resource_metadata="https://h/x')
    report = doctor(server)
    finding = report.finding("challenge-unparseable")
    assert finding is not None and "unterminated" in finding.message


def test_ords_challenge_alone_fails_twice(server: ScriptedServer) -> None:
    challenge(server, ORDS)
    report = doctor(server, mcp_revision="2025-06-18")
    assert status_of(report, "challenge-ords-realm-leak") is Status.FAIL
    assert status_of(report, "challenge-no-resource-metadata") is Status.FAIL


def test_ords_challenge_next_to_the_rewrite_warns(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, ORDS, good_challenge(server, idp))
    metadata(server, idp, "/.well-known/oauth-protected-resource")
    report = doctor(server)
    assert status_of(report, "challenge-ords-realm-leak") is Status.WARN
    assert status_of(report, "prm-resource") is Status.PASS


def test_duplicate_parameter(server: ScriptedServer) -> None:
    challenge(server, 'Bearer scope="a/b", scope="c/d"')
    assert status_of(doctor(server), "challenge-duplicate-param") is Status.WARN


def test_metadata_on_another_origin(server: ScriptedServer) -> None:
    with closed_port() as port:
        other = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource"
        challenge(server, f'Bearer resource_metadata="{other}", scope="x/y"')
        report = doctor(server)
        assert status_of(report, "challenge-resource-metadata-cross-origin") is Status.WARN
        assert status_of(report, "prm-unreachable") is Status.FAIL


def test_unreachable_endpoint() -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}{MCP}"
        report = run_doctor(DoctorOptions(url, allow_http=True, check_nginx=False))
        finding = report.finding("challenge-unreachable")
        assert finding is not None and "refused" in (finding.observed or "")
        assert report.failed


def test_cors_present_but_challenge_not_exposed(server: ScriptedServer) -> None:
    server.routes[MCP] = Reply(
        401,
        [("WWW-Authenticate", 'Bearer scope="x/y"'), ("Access-Control-Allow-Origin", "*")],
    )
    report = doctor(server)
    assert status_of(report, "cors-present") is Status.PASS
    assert status_of(report, "cors-challenge-not-exposed") is Status.WARN


def test_metadata_not_json(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, good_challenge(server, idp))
    server.routes["/.well-known/oauth-protected-resource"] = Reply(
        200, [("Content-Type", "text/html")], b"<html>welcome to nginx</html>"
    )
    report = doctor(server)
    assert status_of(report, "prm-not-json") is Status.FAIL


def test_metadata_with_wrong_content_type(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, good_challenge(server, idp))
    metadata(server, idp, "/.well-known/oauth-protected-resource")
    reply = server.routes["/.well-known/oauth-protected-resource"]
    reply.fields = [("Content-Type", "application/octet-stream")]
    report = doctor(server)
    assert status_of(report, "prm-content-type") is Status.WARN
    assert status_of(report, "prm-resource") is Status.PASS


def test_probing_tries_the_path_suffixed_location_first(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    challenge(server, 'Bearer scope="x/y"')
    metadata(server, idp, "/.well-known/oauth-protected-resource" + MCP)
    metadata(server, idp, "/.well-known/oauth-protected-resource", resource="http://wrong/")
    report = doctor(server)
    # MCP 2025-11-25 allows the well-known URI alone: advice, not a failure.
    assert status_of(report, "challenge-no-resource-metadata") is Status.WARN
    assert report.finding("prm-reachable").observed.endswith(MCP)  # type: ignore[union-attr]
    assert status_of(report, "prm-resource") is Status.PASS
    gets = [s.path for s in server.seen if s.method == "GET"]
    assert gets == ["/.well-known/oauth-protected-resource" + MCP]


def test_challenge_url_broken_but_well_known_works(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, f'Bearer resource_metadata="{server.origin}/prm.json", scope="x/y"')
    metadata(server, idp, "/.well-known/oauth-protected-resource")
    report = doctor(server)
    assert status_of(report, "prm-unreachable") is Status.FAIL
    assert status_of(report, "prm-found-by-probing") is Status.WARN
    # The chain continues with the copy found, so later steps are still checked.
    assert status_of(report, "as-metadata-found") is Status.PASS


def test_resource_mismatch_other_path(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, good_challenge(server, idp))
    metadata(
        server,
        idp,
        "/.well-known/oauth-protected-resource",
        resource=server.origin + "/ords/hr/other",
    )
    finding = doctor(server).finding("prm-resource-mismatch")
    assert finding is not None and finding.status is Status.FAIL
    assert "trailing slash" not in finding.message


def test_resource_missing(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, good_challenge(server, idp))
    metadata(server, idp, "/.well-known/oauth-protected-resource", resource=None)
    assert status_of(doctor(server), "prm-resource-missing") is Status.FAIL


def test_entra_without_any_scope_fails(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(
        server, f'Bearer resource_metadata="{server.origin}/.well-known/oauth-protected-resource"'
    )
    metadata(server, idp, "/.well-known/oauth-protected-resource", scopes_supported=None)
    report = doctor(server, idp="entra")
    assert status_of(report, "challenge-no-scope") is Status.WARN
    assert status_of(report, "prm-no-scopes-supported") is Status.FAIL


def test_bearer_methods_without_header(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, good_challenge(server, idp))
    metadata(
        server, idp, "/.well-known/oauth-protected-resource", bearer_methods_supported=["body"]
    )
    assert status_of(doctor(server), "prm-bearer-methods") is Status.WARN


def test_several_authorization_servers(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, good_challenge(server, idp))
    metadata(
        server,
        idp,
        "/.well-known/oauth-protected-resource",
        authorization_servers=[idp.issuer, "https://other.example/"],
    )
    report = doctor(server)
    assert status_of(report, "as-several") is Status.WARN
    assert status_of(report, "as-issuer") is Status.PASS


def test_registration_endpoint_and_missing_pkce(server: ScriptedServer, idp: FaultyIdP) -> None:
    challenge(server, good_challenge(server, idp))
    metadata(server, idp, "/.well-known/oauth-protected-resource")
    document = idp.metadata()
    document["registration_endpoint"] = idp.base_url + "/register"
    del document["code_challenge_methods_supported"]
    idp.set_metadata_override(document)
    report = doctor(server)
    # The IdP has no /register: the advertised endpoint is probed (GET) and found missing.
    assert status_of(report, "as-registration-endpoint-broken") is Status.WARN
    idp.set_metadata_override(path="/register", status=405, body=b"")
    assert status_of(doctor(server), "as-registration-endpoint") is Status.PASS
    # Entra ID's metadata omits the field although Entra supports S256: said exactly.
    assert status_of(report, "as-pkce-not-advertised-entra") is Status.WARN
