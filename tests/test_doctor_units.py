"""doctor building blocks without servers: URLs, scopes, statuses, rendering, the runner."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import pytest

import inspector.doctor.runner as runner
from inspector.doctor import DoctorOptions, DoctorReport, Finding, Status, StepReport, run_doctor
from inspector.doctor.model import worst
from inspector.doctor.report import render_json, render_text
from inspector.doctor.scopes import bare_scopes, is_entra_url, is_qualified
from inspector.doctor.urls import origin_of, prm_locations, same_resource
from tests.support.doctor_cli import run_doctor_cli
from tests.support.nginx import closed_port
from tests.support.scripted_http import Reply, ScriptedServer


def test_prm_locations_path_suffixed_then_root() -> None:
    assert prm_locations("https://h/ords/hr/mcp/server") == [
        "https://h/.well-known/oauth-protected-resource/ords/hr/mcp/server",
        "https://h/.well-known/oauth-protected-resource",
    ]
    assert prm_locations("https://h:8443/") == [
        "https://h:8443/.well-known/oauth-protected-resource"
    ]


def test_origin_drops_default_ports_only() -> None:
    assert origin_of("HTTPS://Host:443/x") == "https://host"
    assert origin_of("https://host:8443/x") == "https://host:8443"
    assert origin_of("http://[::1]:80/") == "http://[::1]"


def test_same_resource_is_exact_but_for_url_syntax() -> None:
    assert same_resource("https://H:443/ords/x", "https://h/ords/x")
    assert not same_resource("https://h/ords/x/", "https://h/ords/x")
    assert not same_resource("http://h/ords/x", "https://h/ords/x")


@pytest.mark.parametrize(
    ("scope", "qualified"),
    [
        ("api://0f6c3a8d/mcp:connect", True),
        ("https://contoso.com/api/mcp.read", True),
        ("0f6c3a8d-2b9e-4f71-8d5c-4a1e9b7c3d20/mcp:connect", True),
        ("mcp:connect", False),
        ("api://0f6c3a8d/", False),
    ],
)
def test_scope_qualification(scope: str, qualified: bool) -> None:
    assert is_qualified(scope) is qualified


def test_oidc_scopes_are_never_bare() -> None:
    assert bare_scopes(["openid", "offline_access", "mcp:connect", "api://a/b"]) == ["mcp:connect"]


def test_entra_hosts() -> None:
    assert is_entra_url("https://login.microsoftonline.com/tid/v2.0")
    assert is_entra_url("https://sts.windows.net/tid/")
    assert is_entra_url("https://contoso.ciamlogin.com/tid/v2.0")
    assert not is_entra_url("https://dev-123.okta.com/oauth2/default")


def test_worst_status() -> None:
    assert worst([Status.PASS, Status.SKIP, Status.WARN]) is Status.WARN
    assert worst([Status.PASS, Status.FAIL, Status.WARN]) is Status.FAIL
    assert worst([Status.SKIP, Status.SKIP]) is Status.SKIP
    assert worst([Status.SKIP, Status.PASS]) is Status.PASS
    assert worst([]) is Status.SKIP


def _report() -> DoctorReport:
    findings = (
        Finding("challenge-401", Status.PASS, "unauthenticated POST gets 401", "401"),
        Finding("challenge-no-scope", Status.WARN, "no scope", "Bearer", "add scope"),
    )
    other = (Finding("jwks-no-usable-keys", Status.FAIL, "no RSA key", "kty=oct", "use RS256"),)
    return DoctorReport(
        "https://h/mcp",
        (
            StepReport("challenge", 1, "401 challenge", findings),
            StepReport("jwks", 4, "JWKS", other),
        ),
    )


def test_text_rendering_shows_fixes_for_problems_only() -> None:
    text = render_text(_report())
    assert "✗ no RSA key [jwks-no-usable-keys]" in text
    assert "fix:  use RS256" in text
    assert "1 failed, 1 warning(s), 1 passed, 0 skipped" in text
    ascii_text = render_text(_report(), ascii_only=True)
    assert "XX no RSA key" in ascii_text and "✗" not in ascii_text


def test_json_rendering_shape() -> None:
    document = json.loads(render_json(_report()))
    assert document["schema_version"] == 1
    assert document["status"] == "fail"
    assert document["steps"][0]["status"] == "warn"
    # Status in the verdicts' words: fail is error, warn warn, pass and skip info.
    severities = {f["status"]: f["severity"] for s in document["steps"] for f in s["findings"]}
    assert severities == {"fail": "error", "warn": "warn", "pass": "info"}
    assert document["steps"][1]["findings"][0] == {
        "code": "jwks-no-usable-keys",
        "status": "fail",
        "severity": "error",
        "message": "no RSA key",
        "observed": "kty=oct",
        "fix": "use RS256",
    }


def test_a_crashing_step_becomes_a_finding_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(options: DoctorOptions, origin: str) -> Generator[Finding]:
        yield Finding("nginx-conf-read", Status.PASS, "read")
        raise KeyError("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ")

    monkeypatch.setattr(runner, "check_nginx", explode)
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/mcp"
        report = run_doctor(DoctorOptions(url, allow_http=True))
        finding = report.finding("doctor-internal-error")
        assert finding is not None and finding.step == "nginx"
        assert "eyJhbGciOiJSUzI1NiJ9.eyJzdWIi" not in (finding.observed or "")
        assert [s.id for s in report.steps][-1] == "nginx"
        assert report.finding("nginx-conf-read") is not None


def test_hostile_header_values_are_escaped() -> None:
    with ScriptedServer() as server:
        server.routes["/mcp"] = Reply(401, [("WWW-Authenticate", 'Basic realm="\x1b[31mx"')])
        report = run_doctor(DoctorOptions(server.origin + "/mcp", check_nginx=False))
    finding = report.finding("challenge-not-bearer")
    assert finding is not None and "\x1b" not in (finding.observed or "")
    assert "\\x1b" in (finding.observed or "")


def test_stream_yields_findings_then_steps_then_returns_the_report() -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/mcp"
        events = runner.stream_doctor(DoctorOptions(url, allow_http=True, check_nginx=False))
        kinds = []
        while True:
            try:
                kinds.append(type(next(events)).__name__)
            except StopIteration as stop:
                report = stop.value
                break
        assert isinstance(report, DoctorReport)
        assert kinds[:3] == ["Finding", "Finding", "StepReport"]
        assert kinds.count("StepReport") == 6


def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_doctor_cli(["not-a-url"]) == 2
    assert "absolute http(s) URL" in capsys.readouterr().err
    assert run_doctor_cli(["https://h/mcp", "--http-timeout", "0"]) == 2
    assert run_doctor_cli(["https://h/mcp", "--idp", "nope"]) == 2
    missing = tmp_path / "nope.toml"
    assert run_doctor_cli(["https://h/mcp", "--config", str(missing)]) == 2


def test_cli_failure_exits_1_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/mcp"
        assert run_doctor_cli([url, "--json", "--no-nginx"]) == 1
        document = json.loads(capsys.readouterr().out)
        assert document["url"] == url
        assert document["mcp_revision"] == "2025-11-25"  # what the findings were judged by
        assert run_doctor_cli([url, "--json", "--no-nginx", "--mcp-revision", "2025-06-18"]) == 1
        assert json.loads(capsys.readouterr().out)["mcp_revision"] == "2025-06-18"
        assert document["steps"][0]["findings"][0]["code"] == "mcp-url-not-https"


def test_cli_text_warns_loudly_about_allow_http(capsys: pytest.CaptureFixture[str]) -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/mcp"
        assert run_doctor_cli([url, "--allow-http", "--no-nginx", "--ascii"]) == 1
        captured = capsys.readouterr()
        assert "--allow-http" in captured.err and "Lab and test setups only" in captured.err
        assert "XX the MCP endpoint did not answer [challenge-unreachable]" in captured.out


def test_config_section_supplies_url_and_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/mcp"
        config = tmp_path / "config.toml"
        config.write_text(f'[doctor]\nurl = "{url}"\nallow_http = true\nhttp_timeout = 2\n')
        assert run_doctor_cli(["--config", str(config), "--json", "--no-nginx"]) == 1
        document = json.loads(capsys.readouterr().out)
        assert document["url"] == url and document["allow_http"] is True


def test_config_section_errors_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[doctor]\nurl = "ftp://x"\n')
    assert run_doctor_cli(["--config", str(config)]) == 2
    assert "[doctor] url" in capsys.readouterr().err
    config.write_text("[doctor]\nidp = 3\n")
    assert run_doctor_cli(["https://h/mcp", "--config", str(config)]) == 2


def test_options_from_settings_for_the_tui() -> None:
    from inspector.doctor import options_from_settings
    from inspector.settings import Config, ConfigError, DoctorSettings, Settings

    config = Config(sections={"doctor": {"url": "https://h/mcp", "idp": "entra"}})
    options = options_from_settings(Settings.from_config(config).doctor, timeout=1.5)
    assert (options.url, options.idp, options.timeout) == ("https://h/mcp", "entra", 1.5)
    with pytest.raises(ConfigError, match="no MCP endpoint URL"):
        options_from_settings(DoctorSettings())


def test_no_url_anywhere_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    assert run_doctor_cli(["--config", str(config)]) == 2
    assert "[doctor] url" in capsys.readouterr().err
