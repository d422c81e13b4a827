"""doctor when the MCP URL answers anything but a usable 401, and when the JWKS is unreachable.

Scripted loopback servers give each answer exactly (status, header fields, body); the IdP
is the loopback one with its metadata pointing ``jwks_uri`` at a port that refuses, a path
that is not there, a page that is not JSON, or a listener that never answers. Every case
asserts the exact finding (code, status, message, observed, fix), what the later steps did
with it (skipped, or carried on as a connector would) and the command's exit status.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.doctor import DoctorOptions, DoctorReport, Finding, Status, run_doctor
from inspector.doctor.challenge import REWRITE_FIX
from tests.support.doctor_cli import run_doctor_cli
from tests.support.faulty_idp import FaultyIdP
from tests.support.nginx import closed_port
from tests.support.scripted_http import Reply, ScriptedServer

MCP = "/ords/hr/mcp/server"
PRM = "/.well-known/oauth-protected-resource"
TIMEOUT = 0.5


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command reads ~/.config/token-inspector/config.toml: never the developer's own.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def doctor(server: ScriptedServer) -> DoctorReport:
    options = DoctorOptions(
        server.origin + MCP, allow_http=True, check_nginx=False, timeout=TIMEOUT
    )
    return run_doctor(options)


def step(report: DoctorReport, step_id: str) -> list[Finding]:
    (found,) = [s for s in report.steps if s.id == step_id]
    return list(found.findings)


def codes(report: DoctorReport, step_id: str) -> list[tuple[str, Status]]:
    return [(f.code, f.status) for f in step(report, step_id)]


def not_https(server: ScriptedServer) -> Finding:
    return Finding(
        "mcp-url-not-https",
        Status.WARN,
        "MCP endpoint is not https: ChatGPT and Claude connectors only accept https "
        "(allowed by --allow-http)",
        server.origin + MCP,
        "terminate TLS in nginx and give connectors the https:// URL",
        "challenge",
    )


def skipped(step_id: str, reason: str) -> Finding:
    return Finding(f"{step_id}-skipped", Status.SKIP, reason, None, None, step_id)


# -- the MCP URL answers, but not with 401 -----------------------------------------------------

NOT_401 = [
    pytest.param(
        Reply.json({"jsonrpc": "2.0", "id": 1, "result": {}}),
        "the MCP endpoint answered without a token: connectors never start OAuth",
        "200",
        "protect the ORDS module with a privilege so ORDS answers 401 without a token",
        id="200",
    ),
    pytest.param(
        Reply(302, [("Location", "/ords/hr/mcp/server/")]),
        "the MCP endpoint redirects: connectors expect 401 at this exact URL",
        "302 Location: /ords/hr/mcp/server/",
        "give connectors the final URL (scheme, host and trailing slash exactly)",
        id="302",
    ),
    pytest.param(
        Reply(308, [("Location", "https://elsewhere.example/mcp")]),
        "the MCP endpoint redirects: connectors expect 401 at this exact URL",
        "308 Location: https://elsewhere.example/mcp",
        "give connectors the final URL (scheme, host and trailing slash exactly)",
        id="308-to-another-host",
    ),
    pytest.param(
        Reply(403, [("Content-Type", "text/html")], b"<h1>Forbidden</h1>"),
        "expected 401 for a request without a token, got 403",
        "403",
        "make the unauthenticated request reach ORDS, which answers 401",
        id="403",
    ),
    pytest.param(
        Reply(404, [], b"not found"),
        "no MCP endpoint at this URL",
        "404",
        "check the ORDS module and template path (…/ords/<schema>/<module>/<template>)",
        id="404",
    ),
    pytest.param(
        Reply(500, [("WWW-Authenticate", 'Bearer resource_metadata="x"')], b"oops"),
        "expected 401 for a request without a token, got 500",
        "500",
        "make the unauthenticated request reach ORDS, which answers 401",
        id="500-even-with-a-challenge",
    ),
]


@pytest.mark.parametrize(("reply", "message", "observed", "fix"), NOT_401)
def test_an_answer_other_than_401_fails_and_ends_the_chain(
    server: ScriptedServer, reply: Reply, message: str, observed: str, fix: str
) -> None:
    server.routes[MCP] = reply
    report = doctor(server)
    assert step(report, "challenge") == [
        not_https(server),
        Finding("challenge-not-401", Status.FAIL, message, observed, fix, "challenge"),
    ]
    reason = "the endpoint does not challenge, so connectors never get here"
    assert step(report, "resource-metadata") == [skipped("resource-metadata", reason)]
    assert step(report, "authorization-server") == [
        skipped(
            "authorization-server",
            "no usable protected-resource metadata names an authorization server",
        )
    ]
    assert step(report, "jwks") == [
        skipped("jwks", "no authorization-server metadata with a jwks_uri")
    ]
    assert report.failed
    # One POST and nothing else: no redirect followed, no metadata looked for.
    assert [(s.method, s.path) for s in server.seen] == [("POST", MCP)]


def test_cli_exits_1_on_an_answer_other_than_401(
    server: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.routes[MCP] = Reply(403)
    status = run_doctor_cli([server.origin + MCP, "--allow-http", "--no-nginx", "--json"])
    assert status == 1
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "fail"
    assert document["steps"][0]["findings"][1] == {
        "code": "challenge-not-401",
        "status": "fail",
        "severity": "error",
        "message": "expected 401 for a request without a token, got 403",
        "observed": "403",
        "fix": "make the unauthenticated request reach ORDS, which answers 401",
    }


# -- 401, but no Bearer challenge -----------------------------------------------------------


def test_401_without_www_authenticate_fails_and_the_chain_goes_on_at_the_well_known_root(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    server.routes[MCP] = Reply(401, [], b"")
    server.routes[PRM] = Reply.json(
        {"resource": server.origin + MCP, "authorization_servers": [idp.issuer]}
    )
    report = doctor(server)
    assert step(report, "challenge")[1:3] == [
        Finding(
            "challenge-401", Status.PASS, "unauthenticated POST gets 401", "401", None, "challenge"
        ),
        Finding(
            "challenge-missing",
            Status.FAIL,
            "401 without WWW-Authenticate: a connector cannot find the authorization server",
            None,
            REWRITE_FIX,
            "challenge",
        ),
    ]
    assert [c for c, _ in codes(report, "challenge")] == [
        "mcp-url-not-https",
        "challenge-401",
        "challenge-missing",
        "cors-missing",
    ]
    # A connector falls back to the well-known locations: path-suffixed first, then the root.
    assert [s.path for s in server.seen if s.method == "GET"] == [PRM + MCP, PRM]
    assert codes(report, "resource-metadata")[0] == ("prm-reachable", Status.PASS)
    assert ("as-metadata-found", Status.PASS) in codes(report, "authorization-server")


@pytest.mark.parametrize(
    "fields",
    [
        ['Basic realm="ords"'],
        ["Negotiate"],
        ['DPoP algs="ES256 PS256"'],
        ['Basic realm="ords"', 'Digest realm="ords", nonce="abc", qop="auth"'],
    ],
    ids=["basic", "negotiate", "dpop", "basic-and-digest"],
)
def test_401_with_only_other_schemes_is_not_a_bearer_challenge(
    server: ScriptedServer, fields: list[str]
) -> None:
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", f) for f in fields])
    report = doctor(server)
    assert step(report, "challenge")[2] == Finding(
        "challenge-not-bearer",
        Status.FAIL,
        "no Bearer challenge: connectors only do OAuth on a Bearer challenge",
        " | ".join(fields),
        REWRITE_FIX,
        "challenge",
    )
    # Nothing about resource_metadata or scope is judged from a challenge that is not one.
    assert [c for c, _ in codes(report, "challenge")] == [
        "mcp-url-not-https",
        "challenge-401",
        "challenge-not-bearer",
        "cors-missing",
    ]
    # Nothing is served at the well-known locations either: both are named as tried.
    (prm,) = step(report, "resource-metadata")
    assert (prm.code, prm.status) == ("prm-unreachable", Status.FAIL)
    assert prm.message == "no protected-resource metadata at the well-known locations"
    assert prm.observed == (f"{server.origin}{PRM}{MCP}: HTTP 404; {server.origin}{PRM}: HTTP 404")


def test_scheme_names_are_case_insensitive(server: ScriptedServer) -> None:
    # RFC 9110: "bearer" is the Bearer scheme; refusing it would be a false alarm.
    metadata = f"{server.origin}{PRM}"
    server.routes[MCP] = Reply(
        401, [("WWW-Authenticate", f'bearer resource_metadata="{metadata}", scope="x/y"')]
    )
    report = doctor(server)
    assert ("challenge-not-bearer", Status.FAIL) not in codes(report, "challenge")
    assert ("challenge-resource-metadata", Status.PASS) in codes(report, "challenge")


def test_cli_exits_1_on_a_basic_only_challenge(
    server: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", 'Basic realm="ords"')])
    status = run_doctor_cli([server.origin + MCP, "--allow-http", "--no-nginx", "--ascii"])
    assert status == 1
    out = capsys.readouterr().out
    assert (
        "XX no Bearer challenge: connectors only do OAuth on a Bearer challenge "
        "[challenge-not-bearer]"
    ) in out


# -- the JWKS cannot be fetched -------------------------------------------------------------


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def _chain_to_jwks(server: ScriptedServer, idp: FaultyIdP, jwks_uri: str) -> None:
    """A correct 401 and metadata, with the IdP's metadata naming ``jwks_uri``."""
    server.routes[MCP] = Reply(
        401,
        [
            (
                "WWW-Authenticate",
                f'Bearer resource_metadata="{server.origin}{PRM}", '
                f'scope="api://{idp.api_app_id}/mcp:connect"',
            )
        ],
    )
    server.routes[PRM] = Reply.json(
        {
            "resource": server.origin + MCP,
            "authorization_servers": [idp.issuer],
            "scopes_supported": [f"api://{idp.api_app_id}/mcp:connect"],
        }
    )
    idp.set_metadata_override(idp.metadata(jwks_uri=jwks_uri))


def _assert_unreachable(report: DoctorReport, jwks_uri: str, why: str) -> None:
    assert step(report, "jwks") == [
        Finding(
            "jwks-unreachable",
            Status.FAIL,
            "the JWKS could not be fetched (ORDS will not verify any token)",
            f"{jwks_uri}: {why}",
            "make jwks_uri reachable over https from the ORDS host (proxy, firewall, CA)",
            "jwks",
        )
    ]
    # The steps before found what they needed; the one after still runs.
    assert ("as-metadata-found", Status.PASS) in codes(report, "authorization-server")
    assert codes(report, "profile") == [("profile-not-configured", Status.SKIP)]
    assert report.failed


def test_jwks_port_refusing_connections(server: ScriptedServer, idp: FaultyIdP) -> None:
    with closed_port() as port:
        jwks_uri = f"http://127.0.0.1:{port}/keys"
        _chain_to_jwks(server, idp, jwks_uri)
        report = doctor(server)
    _assert_unreachable(report, jwks_uri, "connection refused")


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (404, None, "404: HTTP 404 Not Found"),
        (500, b"<h1>boom</h1>", "500: HTTP 500 Internal Server Error"),
        (200, b"<html>welcome to nginx</html>", None),
        (200, b'[{"kty": "RSA"}]', "200: JSON is a list, not an object"),
        (200, b"", None),
    ],
    ids=["404", "500", "html", "json-list", "empty"],
)
def test_jwks_answering_without_a_key_set(
    server: ScriptedServer, idp: FaultyIdP, status: int, body: bytes | None, why: str | None
) -> None:
    path = "/keys-elsewhere"
    jwks_uri = idp.base_url + path
    if body is not None:
        idp.set_metadata_override(path=path, status=status, body=body, content_type="text/html")
    _chain_to_jwks(server, idp, jwks_uri)
    report = doctor(server)
    if why is None:
        # The parser's own words after "not JSON" are not ours to pin down.
        (finding,) = step(report, "jwks")
        assert finding.code == "jwks-unreachable"
        assert (finding.observed or "").startswith(f"{jwks_uri}: 200: not JSON (")
        why = (finding.observed or "")[len(jwks_uri) + 2 :]
    _assert_unreachable(report, jwks_uri, why)
    assert idp.count(path) == 1


def test_jwks_that_never_answers_is_given_up_after_the_timeout(
    server: ScriptedServer, idp: FaultyIdP
) -> None:
    with silent_port() as port:
        jwks_uri = f"http://127.0.0.1:{port}/keys"
        _chain_to_jwks(server, idp, jwks_uri)
        began = time.monotonic()
        report = doctor(server)
        took = time.monotonic() - began
    _assert_unreachable(report, jwks_uri, f"no response within {TIMEOUT:g} s")
    # Every other request is answered on loopback at once; the silent one costs its timeout.
    assert TIMEOUT <= took < TIMEOUT + 5.0


def test_cli_exits_1_when_the_jwks_is_unreachable(
    server: ScriptedServer, idp: FaultyIdP, capsys: pytest.CaptureFixture[str]
) -> None:
    with closed_port() as port:
        jwks_uri = f"http://127.0.0.1:{port}/keys"
        _chain_to_jwks(server, idp, jwks_uri)
        status = run_doctor_cli([server.origin + MCP, "--allow-http", "--no-nginx", "--json"])
    assert status == 1
    document = json.loads(capsys.readouterr().out)
    (jwks,) = [s for s in document["steps"] if s["id"] == "jwks"]
    assert jwks["status"] == "fail"
    assert [f["code"] for f in jwks["findings"]] == ["jwks-unreachable"]
    assert jwks["findings"][0]["observed"] == f"{jwks_uri}: connection refused"
