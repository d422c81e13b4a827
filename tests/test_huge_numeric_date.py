"""A NumericDate too large for a float (hostile token) is judged, never a crash."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP
from inspector.judge.checks import numeric_date
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**1024])
def test_numeric_date_past_float_range_is_not_a_time(value: int) -> None:
    assert numeric_date(value) is None


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_scan_judges_a_token_with_a_huge_time_claim(tmp_path: Path, claim: str) -> None:
    parser = compile_format(parse_log_format_string(EXTENDED_TEMPLATE))
    idp = LocalIdP()
    now = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    claims = idp.entra_v2_claims(now=now, exp=int(now) + 3600)
    claims[claim] = 10**400
    token = idp.mint(claims)
    line = parser.render(
        {
            "remote_addr": "192.0.2.4",
            "time_local": format_time_local(datetime.fromtimestamp(now, UTC)),
            "request": "GET / HTTP/1.1",
            "status": "401",
            "body_bytes_sent": "1",
            "http_user_agent": "x",
            "http_authorization": "Bearer " + token,
        }
    )
    log, jwks, config = tmp_path / "a.log", tmp_path / "jwks.json", tmp_path / "c.toml"
    log.write_text(line + "\n")
    jwks.write_text(json.dumps(idp.jwks()))
    config.write_text("")
    out, err = io.StringIO(), io.StringIO()
    argv = ["scan", str(log), "--log-format", EXTENDED_TEMPLATE, "--jwks", str(jwks)]
    args = build_parser().parse_args([*argv, "--config", str(config), "--json"])
    status = scan_command.scan(args, out, err, processes=1)
    assert status in (0, 1), err.getvalue()
    record = json.loads(out.getvalue())
    assert record["token"]["verified"] is True
    assert record["verdicts"]
