"""``token-inspector scan``: JSON Lines, the grouped report, filters and the exit status.

Logs are real files in the reference ``extended`` format, tokens are minted with keys
generated here and verified against an offline JWKS file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli.main import main
from inspector.cli.scan import parse_since
from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.schema_version import SCHEMA_VERSION
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local
from parsers.records import Source

ROOT = Path(__file__).resolve().parent.parent
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARSER = compile_format(parse_log_format_string(EXTENDED_TEMPLATE))


def line(
    status: int,
    authorization: str | None,
    *,
    at: datetime = WHEN,
    ua: str = "ChatGPT-User/1.0; +https://openai.com/bot",
    path: str = "/ords/demo/mcp/",
) -> str:
    return PARSER.render(
        {
            "remote_addr": "192.0.2.7",
            "time_local": format_time_local(at),
            "request": f"POST {path} HTTP/1.1",
            "status": str(status),
            "body_bytes_sent": "12",
            "http_user_agent": ua,
            "http_authorization": authorization,
        }
    )


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture(scope="module")
def tokens(idp: LocalIdP) -> dict[str, str]:
    now = WHEN.timestamp()
    return {
        "good": idp.mint(idp.entra_v2_claims(now=now)),
        "expired": idp.mint(idp.entra_v2_claims(now=now - 7200)),
        "forged": idp.mint(idp.entra_v2_claims(now=now), key=generate_rsa_key(kid=idp.keys[0].kid)),
    }


@pytest.fixture
def workdir(tmp_path: Path, idp: LocalIdP, tokens: dict[str, str]) -> Path:
    (tmp_path / "jwks.json").write_text(json.dumps(idp.jwks()))
    lines = [
        line(401, None, ua="Claude-User/1.0"),  # 1: discovery start, no token
        line(200, None, path="/.well-known/oauth-protected-resource"),  # 2: not an attempt
        line(200, f"Bearer {tokens['good']}", at=WHEN + timedelta(seconds=5)),  # 3
        line(200, f"Bearer {tokens['good']}", at=WHEN + timedelta(seconds=6)),  # 4
        line(401, f"Bearer {tokens['expired']}", at=WHEN + timedelta(seconds=7)),  # 5
        line(401, f"Bearer {tokens['forged']}", at=WHEN + timedelta(seconds=8)),  # 6
        "this is not an nginx line",  # 7: parse failure
    ]
    (tmp_path / "extended.log").write_text("\n".join(lines) + "\n")
    (tmp_path / "config.toml").write_text("")
    return tmp_path


def scan_args(workdir: Path, *extra: str, expect: bool = True) -> list[str]:
    args = [
        "scan",
        str(workdir / "extended.log"),
        "--log-format",
        EXTENDED_TEMPLATE,
        "--jwks",
        str(workdir / "jwks.json"),
        "--config",
        str(workdir / "config.toml"),
        *extra,
    ]
    return args


def run_json(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> tuple[int, list[dict[str, object]]]:
    status = main(args)
    out = capsys.readouterr().out
    return status, [json.loads(x) for x in out.splitlines()]


def verdict_codes(row: dict[str, Any]) -> list[str]:
    return [v["code"] for v in row["verdicts"]]


def test_json_lines_one_object_per_attempt(
    workdir: Path, idp: LocalIdP, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, rows = run_json(
        capsys,
        scan_args(workdir, "--json", "--expect-iss", idp.issuer_v2, "--expect-aud", idp.api_app_id),
    )
    assert status == 1
    assert [r["line"] for r in rows] == [1, 3, 4, 5, 6]
    by_line = {r["line"]: r for r in rows}
    assert by_line[1]["client"] == "Claude"
    assert verdict_codes(by_line[1]) == ["no-token"]
    assert by_line[3]["outcome"] == "ok" and by_line[3]["verdicts"] == []
    token3 = by_line[3]["token"]
    assert isinstance(token3, dict) and token3["verified"] is True and token3["idp"] == "entra-v2"
    assert token3["claims"]["aud"] == idp.api_app_id
    assert verdict_codes(by_line[5]) == ["expired"]
    assert "signature-invalid" in verdict_codes(by_line[6])
    assert by_line[6]["token"]["verified"] is False  # type: ignore[index]
    assert {r["schema_version"] for r in rows} == {SCHEMA_VERSION}
    assert set(rows[0]) >= {
        "schema_version", "file", "line", "time", "remote_addr", "method", "path", "status",
        "client", "token", "verdicts", "outcome",
    }  # fmt: skip


def test_tokens_never_printed_unless_asked(
    workdir: Path, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(scan_args(workdir, "--json"))
    out = capsys.readouterr().out
    for token in tokens.values():
        assert token not in out
        assert token.split(".")[2] not in out
    main(scan_args(workdir))
    assert all(t not in capsys.readouterr().out for t in tokens.values())
    _, rows = run_json(capsys, scan_args(workdir, "--json", "--show-token"))
    raws = {r["token"]["raw"] for r in rows if r["token"]}  # type: ignore[index]
    assert raws == set(tokens.values())
    # The record path (--show-token) writes the version as the fast path does.
    assert {r["schema_version"] for r in rows} == {SCHEMA_VERSION}


def test_all_and_only_failures(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, rows = run_json(capsys, scan_args(workdir, "--json", "--all"))
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5, 6]
    status, rows = run_json(capsys, scan_args(workdir, "--json", "--only-failures"))
    assert status == 1
    assert {r["outcome"] for r in rows} == {"fail"}
    assert [r["line"] for r in rows] == [5, 6]


def test_since_skips_older_lines(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    since = (WHEN + timedelta(seconds=6)).isoformat()
    _, rows = run_json(capsys, scan_args(workdir, "--json", "--since", since))
    assert [r["line"] for r in rows] == [4, 5, 6]


def test_parse_since_relative_and_iso() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_since("10m", now=now) == now - timedelta(minutes=10)
    assert parse_since("2h", now=now) == now - timedelta(hours=2)
    assert parse_since("1d", now=now) == now - timedelta(days=1)
    assert parse_since("2026-03-01T11:00:00+00:00") == now - timedelta(hours=1)
    assert parse_since("2026-03-01T11:00").tzinfo is not None
    with pytest.raises(ValueError, match="relative time"):
        parse_since("yesterday")


def test_human_report_groups_by_cause(
    workdir: Path, idp: LocalIdP, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(scan_args(workdir, "--expect-iss", idp.issuer_v2))
    out = capsys.readouterr().out
    assert status == 1
    assert "7 lines: 5 attempts (2 ok, 1 warn, 2 fail)" in out
    assert "1 lines not parsed" in out
    assert "ERROR expired: Token expired (1 attempt, 1 distinct tokens)" in out
    assert "ERROR signature-invalid" in out
    assert "WARN  no-token" in out
    assert "e.g. " in out and "extended.log:5" in out
    assert "fix: " in out
    assert out.index("ERROR") < out.index("WARN")
    assert f'p_audience  "{idp.api_app_id}"' in out


def test_exit_zero_when_no_attempt_fails(
    tmp_path: Path, idp: LocalIdP, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ok.log"
    log.write_text(line(200, f"Bearer {tokens['good']}") + "\n" + line(401, None) + "\n")
    (tmp_path / "jwks.json").write_text(json.dumps(idp.jwks()))
    (tmp_path / "c.toml").write_text(
        f'[expect]\nissuer = "{idp.issuer_v2}"\n[keys]\njwks = "{tmp_path / "jwks.json"}"\n'
    )
    args = [
        "scan",
        str(log),
        "--log-format",
        EXTENDED_TEMPLATE,
        "--config",
        str(tmp_path / "c.toml"),
    ]
    assert main(args) == 0
    assert "1 warn" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--since", "someday"], "--since"),
        (["--config", "/nonexistent/config.toml"], "config file not found"),
    ],
)
def test_usage_errors_exit_two(
    workdir: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*scan_args(workdir)[:-2], *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_config_value_exits_two(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "config.toml").write_text("[expect]\nallowed_skew = 'ten'\n")
    assert main(scan_args(workdir)) == 2
    assert "allowed_skew" in capsys.readouterr().err


def test_missing_log_file_exits_two(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = scan_args(workdir)
    args[1] = str(workdir / "missing.log")
    assert main(args) == 2
    assert "missing.log" in capsys.readouterr().err


def test_subprocess_exit_codes(workdir: Path) -> None:
    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inspector", *scan_args(workdir, *extra)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    failing = run("--json")
    assert failing.returncode == 1 and failing.stdout.count("\n") == 5
    usage = run("--since", "nonsense")
    assert usage.returncode == 2 and usage.stdout == ""
    assert usage.stderr.startswith("token-inspector scan: --since")


def test_cached_json_encoding_matches_as_dict(
    workdir: Path, idp: LocalIdP, tokens: dict[str, str]
) -> None:
    from inspector.judge.analyzer import Analyzer
    from inspector.judge.expectations import Expectations
    from inspector.judge.fastpath import JsonLines
    from parsers.records import LogRecord

    analyzer = Analyzer(None, Expectations(issuer=idp.issuer_v2))
    encoder = JsonLines()
    text = (workdir / "extended.log").read_text().splitlines()
    for number, raw in enumerate(text * 2, start=1):
        record = PARSER.parse(raw, Source("x.log", number, 0), False)
        if not isinstance(record, LogRecord):
            continue
        attempt = analyzer.analyze(record)
        assert encoder.encode(attempt) == json.dumps(attempt.as_dict(), default=str)


@settings(max_examples=200, deadline=None)
@given(
    path=st.one_of(st.none(), st.text(max_size=30)),
    ua=st.one_of(st.none(), st.text(max_size=30)),
    auth=st.one_of(st.none(), st.text(max_size=60)),
    status=st.one_of(st.none(), st.integers(100, 599)),
)
def test_cached_json_encoding_matches_for_any_text(
    path: str | None, ua: str | None, auth: str | None, status: int | None
) -> None:
    from inspector.judge.analyzer import Analyzer
    from inspector.judge.expectations import Expectations
    from inspector.judge.fastpath import JsonLines
    from parsers.records import LogRecord

    record = LogRecord(
        Source("ü\x00.log", 3, 0), WHEN, "::1", "GET", path, "HTTP/1.1", status, ua, auth
    )
    attempt = Analyzer(None, Expectations()).analyze(record)
    assert JsonLines().encode(attempt) == json.dumps(attempt.as_dict(), default=str)


def test_hostile_text_cannot_reach_the_terminal(
    tmp_path: Path, idp: LocalIdP, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "\x1b]0;owned\x07\x1b[2J\u202e"
    token = idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), upn=f"eve{evil}@x", iss=f"i{evil}"))
    log = tmp_path / "evil.log"
    log.write_text(line(401, f"Bearer {token}", ua=f"ChatGPT-User {evil}") + "\n")
    (tmp_path / "c.toml").write_text("")
    args = [
        "scan",
        str(log),
        "--log-format",
        EXTENDED_TEMPLATE,
        "--config",
        str(tmp_path / "c.toml"),
    ]
    main([*args, "--expect-iss", "https://i/"])
    out = capsys.readouterr().out
    assert "eve" in out
    assert not any(c in out for c in "\x1b\x07\u202e")
    main([*args, "--json"])
    assert not any(c in capsys.readouterr().out for c in "\x1b\x07\u202e")
