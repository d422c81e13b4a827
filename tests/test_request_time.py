"""With ``$request_time`` in the format, time checks use the request's start: nginx writes
the log line when the request ends, ORDS checked the token when it began."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inspector.cli.main import main
from inspector.demo.idp import LocalIdP
from inspector.judge.analyzer import Analyzer, request_start
from inspector.judge.expectations import Expectations
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local
from parsers.records import LogRecord, Source

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    'rt=$request_time ua:"$http_user_agent" authorization:"$http_authorization"'
)
PARSER = compile_format(parse_log_format_string(FORMAT))


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


def _record(token: str, request_time: str | None) -> LogRecord:
    fields = {} if request_time is None else {"request_time": request_time}
    return LogRecord(
        source=Source("extended.log", 1, 0),
        time=WHEN,
        remote_addr="192.0.2.7",
        method="POST",
        path="/ords/hr/mcp/",
        protocol="HTTP/1.1",
        status=200,
        user_agent="openai-mcp/1.0.0",
        authorization=f"Bearer {token}",
        fields=fields,
    )


def _expiring(idp: LocalIdP) -> str:
    # Expired 10 s before the line was written, valid when the 30 s request began.
    claims = idp.entra_v2_claims(now=WHEN.timestamp() - 600)
    claims["exp"] = int(WHEN.timestamp()) - 10
    return idp.mint(claims)


def test_request_start_is_log_time_less_request_time() -> None:
    assert request_start(_record("t", "30.000")) == WHEN - timedelta(seconds=30)
    assert request_start(_record("t", None)) == WHEN
    for odd in ("-", "", "nan", "-5.0", "1e9", "inf"):
        assert request_start(_record("t", odd)) == WHEN


def test_a_token_valid_when_the_request_began_is_not_expired(idp: LocalIdP) -> None:
    analyzer = Analyzer(None, Expectations())
    token = _expiring(idp)
    assert "expired" not in [v.code for v in analyzer.analyze(_record(token, "30.000")).verdicts]
    assert "expired" in [v.code for v in analyzer.analyze(_record(token, "2.000")).verdicts]
    assert "expired" in [v.code for v in analyzer.analyze(_record(token, None)).verdicts]


def _line(row: dict[str, Any]) -> int:
    return int(row["line"])


def test_scan_judges_each_line_at_its_request_start(
    idp: LocalIdP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = _expiring(idp)
    lines = [
        PARSER.render(
            {
                "remote_addr": "192.0.2.7",
                "time_local": format_time_local(WHEN),
                "request": "POST /ords/hr/mcp/ HTTP/1.1",
                "status": "200",
                "body_bytes_sent": "12",
                "request_time": rt,
                "http_user_agent": "openai-mcp/1.0.0",
                "http_authorization": f"Bearer {token}",
            }
        )
        for rt in ("30.000", "2.000", "30.000", "2.000")
    ]
    log = tmp_path / "extended.log"
    log.write_text("\n".join(lines) + "\n")
    (tmp_path / "c.toml").write_text("")
    argv = ["scan", str(log), "--log-format", FORMAT, "--json", "--all"]
    main([*argv, "--config", str(tmp_path / "c.toml")])
    rows = sorted((json.loads(x) for x in capsys.readouterr().out.splitlines()), key=_line)
    expired = ["expired" in [v["code"] for v in row["verdicts"]] for row in rows]
    assert expired == [False, True, False, True]
