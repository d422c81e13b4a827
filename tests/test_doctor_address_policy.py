"""doctor contacts the URLs servers hand it under the key-discovery address policy.

The attack: a challenge (or metadata) naming ``http://169.254.169.254/`` in one of its
spellings, or a private address that is not the host the user named. The doctor used
plain ``requests`` and fetched it. Now nothing is sent (the suite's loopback guard fails
any test whose code even tries a non-loopback address, and a decoy server on loopback
counts requests) and the report says so in one ``address-refused`` finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.doctor import DoctorOptions, DoctorReport, Finding, Status, run_doctor
from tests.support.scripted_http import Reply, ScriptedServer

MCP = "/ords/hr/mcp/server"
PRM = "/.well-known/oauth-protected-resource"

METADATA_SPELLINGS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://0251.0376.0251.0376/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/latest/meta-data/",
]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture
def decoy() -> Iterator[ScriptedServer]:
    """A loopback server the doctor must never reach: it stands in for a private host."""
    with ScriptedServer() as scripted:
        scripted.routes[PRM] = Reply.json({"resource": "decoy"})
        yield scripted


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def challenge_pointing_at(server: ScriptedServer, url: str) -> None:
    field = f'Bearer resource_metadata="{url}", scope="api://app/mcp:connect"'
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", field)], b"{}")


def doctor(url: str, **options: object) -> DoctorReport:
    settings: dict[str, object] = {"allow_http": True, "check_nginx": False, "timeout": 2.0}
    settings.update(options)
    return run_doctor(DoctorOptions(url, **settings))  # type: ignore[arg-type]


def refusals(report: DoctorReport) -> list[Finding]:
    return [f for f in report.findings if f.code == "address-refused"]


@pytest.mark.parametrize("target", METADATA_SPELLINGS)
def test_challenge_pointing_at_a_metadata_service_is_never_fetched(
    server: ScriptedServer, target: str
) -> None:
    challenge_pointing_at(server, target)
    report = doctor(server.origin + MCP)
    (finding,) = refusals(report)
    assert finding.status is Status.FAIL and finding.step == "resource-metadata"
    assert finding.observed is not None and finding.observed.startswith(target + ": refusing")
    assert "\n" not in finding.observed and "\n" not in finding.message
    # The chain goes on where a connector would look next: the MCP host's well-known URLs.
    assert [s.path for s in server.seen] == [MCP, PRM + MCP, PRM]


def test_private_address_of_another_host_is_refused(
    server: ScriptedServer, decoy: ScriptedServer
) -> None:
    # The user named 127.0.0.1; "localhost" is another host name, on loopback.
    port = decoy.origin.rsplit(":", 1)[1]
    challenge_pointing_at(server, f"http://localhost:{port}{PRM}")
    report = doctor(server.origin + MCP)
    (finding,) = refusals(report)
    assert "refusing plain http" in (finding.observed or "")
    assert "--allow-private-idp" in (finding.observed or "")
    # Over https too: the name is judged by the addresses it resolves to.
    challenge_pointing_at(server, f"https://localhost:{port}{PRM}")
    (finding,) = refusals(doctor(server.origin + MCP))
    assert "localhost: refusing to contact 127.0.0.1 (loopback)" in (finding.observed or "")
    assert decoy.seen == []


def test_the_users_own_host_and_allow_private_idp_are_reached(
    server: ScriptedServer, decoy: ScriptedServer
) -> None:
    port = decoy.origin.rsplit(":", 1)[1]
    challenge_pointing_at(server, f"http://localhost:{port}{PRM}")
    # The MCP URL named as localhost: the decoy is on the host the user named.
    report = doctor(f"http://localhost:{server.origin.rsplit(':', 1)[1]}{MCP}")
    assert refusals(report) == []
    assert [s.path for s in decoy.seen] == [PRM]
    decoy.seen.clear()
    report = doctor(server.origin + MCP, allow_private=True)
    assert refusals(report) == [] and [s.path for s in decoy.seen] == [PRM]


def test_private_address_is_reached_for_an_anchored_issuers_host(
    server: ScriptedServer, decoy: ScriptedServer
) -> None:
    port = decoy.origin.rsplit(":", 1)[1]
    challenge_pointing_at(server, f"http://localhost:{port}{PRM}")
    report = doctor(server.origin + MCP, anchored_issuers=(f"http://localhost:{port}/tenant",))
    assert refusals(report) == [] and [s.path for s in decoy.seen] == [PRM]


def _metadata(server: ScriptedServer, authorization_server: str) -> None:
    challenge_pointing_at(server, server.origin + PRM)
    server.routes[PRM] = Reply.json(
        {
            "resource": server.origin + MCP,
            "authorization_servers": [authorization_server],
            "scopes_supported": ["api://app/mcp:connect"],
        }
    )


@pytest.mark.parametrize("target", ["http://169.254.169.254/tenant", "http://10.1.2.3/tenant"])
def test_authorization_server_at_a_refused_address(server: ScriptedServer, target: str) -> None:
    _metadata(server, target)
    report = doctor(server.origin + MCP)
    (finding,) = refusals(report)
    assert finding.step == "authorization-server"
    assert (finding.observed or "").startswith(f"{target}: refusing to contact")
    assert "as-metadata-unreachable" not in report.codes()
    assert report.finding("jwks-skipped") is not None


@pytest.mark.parametrize("jwks_uri", ["http://0xa9fea9fe/keys", "http://[::ffff:a9fe:a9fe]/"])
def test_jwks_uri_at_a_metadata_service(server: ScriptedServer, jwks_uri: str) -> None:
    # Published by an authorization server on the user's own host, and still refused.
    issuer = server.origin + "/tenant"
    _metadata(server, issuer)
    server.routes["/.well-known/oauth-authorization-server/tenant"] = Reply.json(
        {"issuer": issuer, "jwks_uri": jwks_uri}
    )
    report = doctor(server.origin + MCP)
    assert report.finding("as-metadata-found") is not None
    (finding,) = refusals(report)
    assert finding.step == "jwks" and (finding.observed or "").startswith(jwks_uri)


def test_cli_reports_the_refusal_in_one_line(
    server: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    challenge_pointing_at(server, "http://0xa9fea9fe/")
    status = main(["doctor", server.origin + MCP, "--allow-http", "--no-nginx", "--ascii"])
    out = capsys.readouterr().out
    assert status == 1
    (line,) = [line for line in out.splitlines() if "refusing" in line]
    assert line.strip().startswith("seen: http://0xa9fea9fe/: refusing to contact 0xa9fea9fe")
    (headline,) = [line for line in out.splitlines() if "[address-refused]" in line]
    assert headline.strip().startswith("XX the challenge's resource_metadata was not contacted")
    status = main(["doctor", server.origin + MCP, "--allow-http", "--no-nginx", "--json"])
    document = json.loads(capsys.readouterr().out)
    found = [f for s in document["steps"] for f in s["findings"] if f["code"] == "address-refused"]
    assert len(found) == 1 and found[0]["status"] == "fail"
