"""``watch`` and ``demo`` as commands: clear errors before the screen, ``demo --no-tui``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.nginx.conf import EXTENDED_TEMPLATE
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.records import LogRecord, Source

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_watch_without_a_log_says_what_it_looked_at(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp { access_log off; }\n")
    config = tmp_path / "config.toml"
    config.write_text("")
    out = run_cli("watch", "--no-db", "--nginx-conf", str(conf), "--config", str(config))
    assert out.returncode == 2
    assert out.stdout == ""
    message = out.stderr.strip()
    assert message.startswith("token-inspector watch: ")
    assert "\n" not in message
    assert str(conf) in message


def test_watch_rejects_a_zero_bound() -> None:
    out = run_cli("watch", "--no-db", "--max-attempts", "0", "samples/extended.log")
    assert out.returncode == 2
    assert "--max-attempts" in out.stderr


def test_watch_refuses_standard_input() -> None:
    out = run_cli("watch", "--no-db", "-")
    assert out.returncode == 2
    assert "standard input" in out.stderr


def test_demo_no_tui_writes_the_first_connection(tmp_path: Path) -> None:
    out = run_cli("demo", "--no-tui")
    assert out.returncode == 0, out.stderr
    log = Path(out.stdout.strip())
    try:
        lines = log.read_text().splitlines()
        parser = compile_format(parse_log_format_string(EXTENDED_TEMPLATE, name="extended"))
        records = [parser.parse(line, Source(str(log), i + 1, 0)) for i, line in enumerate(lines)]
        assert all(isinstance(r, LogRecord) for r in records)
        statuses = [r.status for r in records if isinstance(r, LogRecord)]
        # Metadata fetches answer 200/404; every MCP call is refused: no profile yet.
        assert statuses == [401, 404, 200, 401, 401, 200, 401, 401, 401, 401]
        bearer = [r for r in records if isinstance(r, LogRecord) and r.authorization]
        assert len(bearer) == 5  # v1, Graph, wrong role, the right token twice
        assert all(r.time is not None for r in records if isinstance(r, LogRecord))
    finally:
        shutil.rmtree(log.parent, ignore_errors=True)


def test_watch_session_runs_the_doctor_for_the_d_screen(tmp_path: Path) -> None:
    import socket

    from inspector.cli.configure import settings_from_args
    from inspector.cli.main import build_parser
    from inspector.cli.watch import build_session
    from inspector.settings import Settings

    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = build_parser().parse_args(
        ["watch", "--no-db", "--jwks", "samples/jwks.json", "--nginx-conf", "samples/nginx.conf",
         "--http-timeout", "2", "--mcp-url", f"http://127.0.0.1:{port}/ords/demo/mcp/",
         str(ROOT / "samples/extended.log")]
    )  # fmt: skip
    session = build_session(args, settings_from_args(args, base=Settings()))
    findings: list[tuple[str, str, str]] = []
    session.doctor(lambda status, code, message: findings.append((status, code, message)))
    codes = {code for _, code, _ in findings}
    assert findings and findings[0][0] == "fail"  # the endpoint does not answer
    assert any(code.startswith("challenge") for code in codes)
    assert {status for status, _, _ in findings} <= {"pass", "warn", "fail", "skip"}


def test_watch_session_without_url_explains_how_to_get_the_doctor() -> None:
    from inspector.cli.configure import settings_from_args
    from inspector.cli.main import build_parser
    from inspector.cli.watch import build_session
    from inspector.settings import Settings

    args = build_parser().parse_args(
        ["watch", "--no-db", "--jwks", "samples/jwks.json", str(ROOT / "samples/extended.log")]
    )
    session = build_session(args, settings_from_args(args, base=Settings()))
    findings: list[tuple[str, str, str]] = []
    session.doctor(lambda status, code, message: findings.append((status, code, message)))
    assert findings == [("skip", "doctor-needs-url", findings[0][2])]
    assert "--mcp-url" in findings[0][2]


def test_demo_help_tells_which_attempts_turn_green() -> None:
    out = run_cli("demo", "--help")
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    # After the apply only the right token gets in (see test_demo_story): the help says so.
    assert "the following attempts turn green" not in text
    assert "that token's following attempts turn green" in text
    assert "role-missing" in text and "issuer-mismatch" in text


def test_watch_session_gives_the_doctor_the_schema_roles(tmp_path: Path) -> None:
    from inspector.cli.configure import settings_from_args
    from inspector.cli.main import build_parser
    from inspector.cli.watch import build_session
    from inspector.settings import Settings

    args = build_parser().parse_args(
        ["watch", "--dsn", "memory:", "--jwks", "samples/jwks.json",
         str(ROOT / "samples/extended.log")]
    )  # fmt: skip
    session = build_session(args, settings_from_args(args, base=Settings()))
    try:
        with pytest.raises(LookupError):
            session.schema_authorization()  # nothing read yet: the doctor loses role checks
        session.current_profile()
        roles = session.schema_authorization().ords_roles
        assert roles is not None and "ORDSUsers" in roles
    finally:
        session.close()


def test_watch_output_dir_comes_from_the_flag_the_config_or_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspector.cli.configure import settings_from_args
    from inspector.cli.main import build_parser
    from inspector.cli.watch import output_directory
    from inspector.settings import Config, ConfigError, Settings

    chosen, configured = tmp_path / "flag", tmp_path / "config"
    chosen.mkdir()
    configured.mkdir()
    config = Settings.from_config(Config(sections={"output": {"dir": str(configured)}}))

    def settings(*flags: str, base: Settings = config) -> Settings:
        args = build_parser().parse_args(["watch", *flags, "samples/extended.log"])
        return settings_from_args(args, base=base)

    monkeypatch.chdir(tmp_path)
    assert output_directory(settings("--output-dir", str(chosen))) == chosen
    assert output_directory(settings()) == configured
    assert output_directory(settings(base=Settings())) == tmp_path
    with pytest.raises(ConfigError, match="not an existing directory"):
        output_directory(settings("--output-dir", str(tmp_path / "absent")))


def test_watch_refuses_an_output_dir_that_does_not_exist(tmp_path: Path) -> None:
    out = run_cli("watch", "--no-db", "--output-dir", str(tmp_path / "absent"),
                  "samples/extended.log")  # fmt: skip
    assert out.returncode == 2
    assert "--output-dir" in out.stderr and "not an existing directory" in out.stderr
