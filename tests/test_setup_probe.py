"""setup's probe: doctor's challenge, metadata and nginx steps as a ProbeOutcome, under
doctor's address policy, and what it saw as the facts' observations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from inspector.doctor import DoctorOptions
from inspector.doctor.model import Finding, Status
from inspector.setup.probe import UNPROTECTED, ProbeRun, doctor_probe, probe_server
from tests.support.scripted_http import Reply, ScriptedServer

MCP = "/ords/hr/mcp/server"
PRM = "/.well-known/oauth-protected-resource"
ISSUER = "https://idp.example.com/oauth2/default"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


def options(url: str, **more: object) -> DoctorOptions:
    values: dict[str, object] = {"allow_http": True, "check_nginx": False, "timeout": 2.0}
    values.update(more)
    return DoctorOptions(url, **values)  # type: ignore[arg-type]


def serve_working(server: ScriptedServer, scope: str = "mcp.connect") -> None:
    challenge = f'Bearer resource_metadata="{server.origin}{PRM}{MCP}", scope="{scope}"'
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", challenge)], b"{}")
    server.routes[PRM + MCP] = Reply.json(
        {
            "resource": server.origin + MCP,
            "authorization_servers": [ISSUER],
            "scopes_supported": [scope],
            "bearer_methods_supported": ["header"],
        }
    )


def test_a_working_server_passes_and_is_observed(server: ScriptedServer) -> None:
    serve_working(server)
    run = probe_server(options(server.origin + MCP))
    outcome = run.outcome()
    assert outcome.ok, outcome.failures
    assert "challenge-401" in outcome.passed and "prm-reachable" in outcome.passed
    seen = run.observed()
    assert seen.challenge_scopes == ("mcp.connect",)
    assert seen.metadata_servers == (ISSUER,) and seen.metadata_scopes == ("mcp.connect",)
    assert doctor_probe(options(server.origin + MCP))().ok


def test_a_bare_server_fails_with_one_line_per_failure(server: ScriptedServer) -> None:
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", 'Bearer realm="ORDS"')], b"{}")
    outcome = doctor_probe(options(server.origin + MCP))()
    assert not outcome.ok
    assert any(line.startswith("resource-metadata: prm-unreachable") for line in outcome.failures)
    assert all("\n" not in line for line in outcome.failures)


def test_an_endpoint_that_does_not_answer_fails(server: ScriptedServer) -> None:
    outcome = doctor_probe(options(server.origin + MCP))()  # 404 everywhere
    assert not outcome.ok and outcome.failures[0].startswith("challenge: challenge-not-401")
    assert not any(s.path.startswith(PRM) for s in server.seen)


def test_an_endpoint_answering_without_a_token_says_ords_does_not_protect_it(
    server: ScriptedServer,
) -> None:
    server.routes[MCP] = Reply.json({"jsonrpc": "2.0", "id": 1, "result": {}})
    run = probe_server(options(server.origin + MCP))
    assert run.unprotected
    outcome = run.outcome()
    assert not outcome.ok and outcome.failures[0] == UNPROTECTED
    assert "ORDS does not protect the MCP module" in UNPROTECTED and "--only ords" in UNPROTECTED
    assert any(line.startswith("challenge: challenge-not-401") for line in outcome.failures)


def test_the_address_policy_holds(server: ScriptedServer) -> None:
    with ScriptedServer() as decoy:
        decoy.routes[PRM] = Reply.json({"resource": "decoy"})
        port = decoy.origin.rsplit(":", 1)[1]
        field = f'Bearer resource_metadata="http://localhost:{port}{PRM}"'
        server.routes[MCP] = Reply(401, [("WWW-Authenticate", field)], b"{}")
        outcome = doctor_probe(options(server.origin + MCP))()
        assert decoy.seen == []
        assert any("address-refused" in line for line in outcome.failures)


def test_plain_http_fails_without_allow_http(server: ScriptedServer) -> None:
    serve_working(server)
    outcome = doctor_probe(options(server.origin + MCP, allow_http=False))()
    assert not outcome.ok
    assert any("mcp-url-not-https" in line for line in outcome.failures)


def _run(*findings: Finding) -> ProbeRun:
    return ProbeRun(findings, None, None)


def test_the_baseline_excuses_only_nginx_failures_it_had_with_the_same_subject() -> None:
    old_log = Finding(
        "nginx-log-world-readable", Status.FAIL, "m", "/a.log -rw-r--r--", None, "nginx"
    )
    new_log = replace(old_log, observed="/b.log -rw-r--r--")
    leak = Finding("challenge-ords-realm-leak", Status.FAIL, "m", None, None, "challenge")
    baseline = _run(old_log, leak)
    outcome = _run(old_log, new_log).outcome(baseline)
    assert not outcome.ok
    assert outcome.failures == ("nginx: nginx-log-world-readable: m (/b.log -rw-r--r--)",)
    assert outcome.preexisting == (
        "pre-existing, not caused by setup: nginx: nginx-log-world-readable: m (/a.log -rw-r--r--)",
    )
    assert _run(old_log).outcome(baseline).ok
    # What setup is there to fix counts even when it failed before.
    assert not _run(leak).outcome(baseline).ok
    assert not _run(old_log).outcome().ok
