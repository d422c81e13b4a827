"""``watch`` and ``demo`` as commands: clear errors before the screen, ``demo --no-tui``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from inspector.demo.scenario import EXTENDED_TEMPLATE
from parsers.log_format import compile_format, parse_log_format_string
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
