"""``token-inspector tail`` run as a real process on the sample log and on live files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from inspector.schema_version import SCHEMA_VERSION
from parsers.redaction import fingerprint
from tests.follow_support import WAIT

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "extended.log"
SAMPLE_CONF = ROOT / "samples" / "nginx.conf"
TOKENS = sorted(set(re.findall(r'authorization:"(?:Bearer|Basic) ([^"]+)"', SAMPLE.read_text())))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # No user config file may leak into the run.
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def tail(
    env: dict[str, str], *argv: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", "tail", *argv],
        cwd=ROOT,
        env=env,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sample_json_has_every_record_with_tokens_redacted(env: dict[str, str]) -> None:
    assert len(TOKENS) >= 8
    run = tail(
        env, "--no-follow", "--from-start", "samples/extended.log", "--json",
        "--nginx-conf", str(SAMPLE_CONF),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == 15
    assert {r["schema_version"] for r in rows} == {SCHEMA_VERSION}
    assert [r["line"] for r in rows] == [*range(1, 15), 16]
    first_auth = next(r for r in rows if r["authorization"])
    assert set(first_auth) >= {
        "file", "line", "offset", "time", "remote_addr", "method", "path", "protocol",
        "status", "user_agent", "authorization", "fields",
    }  # fmt: skip
    assert first_auth["time"] == "2026-11-21T09:33:00+00:00"
    assert first_auth["authorization"].startswith("Bearer eyJhbGciOi…[sha256:")
    assert first_auth["fields"]["http_authorization"] == first_auth["authorization"]
    for token in TOKENS:
        assert token not in run.stdout and token not in run.stderr
        assert fingerprint(token) in run.stdout
    assert rows[-1]["user_agent"] == 'Mozilla/5.0 "quoted" テスト\x1b[31m'
    # The junk line is one failure on stderr with file:line, then a summary.
    failures = [x for x in run.stderr.splitlines() if "cannot parse" in x]
    assert len(failures) == 1 and failures[0].startswith("samples/extended.log:15: cannot parse")
    assert run.stderr.splitlines()[-1] == "# 15 records, 1 parse failures"


def test_show_token_prints_the_full_credentials(env: dict[str, str]) -> None:
    run = tail(env, "--no-follow", "samples/extended.log", "--json", "--show-token")
    assert run.returncode == 0, run.stderr
    for token in TOKENS:
        assert token in run.stdout


def test_human_lines_escape_terminal_control_characters(env: dict[str, str]) -> None:
    run = tail(env, "--no-follow", "--last", "1", "samples/extended.log")
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    assert line.startswith("samples/extended.log:16 2026-11-21T09:49:00+00:00 192.0.2.99 ")
    assert "\x1b" not in run.stdout and "\\x1b[31m" in line
    assert 'auth="Bearer eyJhbGciOi…[sha256:' in line


def test_standard_input_with_a_format_string(env: dict[str, str]) -> None:
    data = b'10.0.0.1 "Bearer abc.def.ghijklmnopqrstuvwxyz0123456789"\n'
    run = tail(
        env, "-", "--no-follow", "--json",
        "--log-format", '$remote_addr "$http_authorization"', stdin=data,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (row,) = [json.loads(x) for x in run.stdout.splitlines()]
    assert (row["file"], row["line"], row["remote_addr"]) == ("-", 1, "10.0.0.1")
    assert "abc.def.ghijklmnopqrstuvwxyz0123456789" not in run.stdout


def test_errors_are_one_line_and_a_nonzero_status(env: dict[str, str], tmp_path: Path) -> None:
    run = tail(env, "--no-follow", str(tmp_path / "missing.log"), "--log-format", "$remote_addr")
    assert run.returncode == 1
    assert f"# {tmp_path / 'missing.log'}: no such file" in run.stderr
    bad = tail(env, "--nginx-conf", str(tmp_path / "nope.conf"))
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert bad.stderr.startswith("token-inspector tail: ") and "nope.conf" in bad.stderr


def _ctrl_c_as_in_a_terminal() -> None:
    # A suite started in the background by a non-interactive shell (`cmd &`, some CI
    # runners) inherits SIGINT ignored, and Python keeps an ignored SIGINT ignored: the
    # child would never see the Ctrl-C this test sends. A user's terminal has the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_following_prints_new_lines_and_ctrl_c_exits_130_after_the_summary(
    env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "extended.log"
    log.write_bytes(SAMPLE.read_bytes())
    proc = subprocess.Popen(
        # -X faulthandler: if it ever hangs after Ctrl-C, SIGABRT below dumps every thread.
        [
            sys.executable,
            "-X",
            "faulthandler",
            "-m",
            "inspector",
            "tail",
            str(log),
            "--json",
            "--poll",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        opened = threading.Event()

        def watch_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                if "following at its end" in line:
                    opened.set()
                    return

        threading.Thread(target=watch_stderr, daemon=True).start()
        assert opened.wait(WAIT), "tail never reported the file opened"
        lines = SAMPLE.read_text().splitlines()
        with log.open("a") as handle:
            handle.write(lines[3] + "\n")
        got: list[str] = []
        stdout = proc.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: got.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(WAIT)
        assert got, "tail printed no row for the appended line"
        row = json.loads(got[0])
        assert row["line"] == 17 and row["status"] == 200  # the sample has 16 lines already
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=3 * WAIT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=WAIT)
            raise AssertionError(f"tail did not exit after Ctrl-C; its threads:\n{err}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # 130 like every command interrupted by Ctrl-C, so a script can tell it from the end.
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "# 1 records, 0 parse failures"
