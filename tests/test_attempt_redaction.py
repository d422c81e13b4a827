"""``scan --json`` (``Attempt.as_dict``) carries no full token from the log line's free text."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from parsers.records import LogRecord, Source
from parsers.redaction import fingerprint

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONF = ROOT / "samples" / "nginx.conf"
WHEN = datetime(2026, 11, 21, 9, 30, 1, tzinfo=UTC)
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImF1ZCI6Im9yZHMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
SIGNATURE = JWT.rsplit(".", 1)[1]


def test_as_dict_redacts_path_method_address_and_subject() -> None:
    record = LogRecord(
        Source("x.log", 1, 0), WHEN, f"1.2.3.4 {JWT}", f"GET{JWT}",
        f"/ords/mcp?access_token={JWT}&a=1", "HTTP/1.1", 401, "ua", None,
    )  # fmt: skip
    doc = Analyzer(None, Expectations()).analyze(record).as_dict()
    text = json.dumps(doc)
    assert SIGNATURE not in text
    assert doc["path"] == f"/ords/mcp?access_token=eyJhbGciOi…[sha256:{fingerprint(JWT)}]&a=1"
    assert doc["remote_addr"].startswith("1.2.3.4 eyJhbGciOi…[sha256:")


def test_as_dict_keeps_ordinary_values() -> None:
    record = LogRecord(
        Source("x.log", 1, 0), WHEN, "2001:db8::1", "POST", "/ords/hr/employees/?offset=25",
        "HTTP/1.1", 200, "Mozilla/5.0", None,
    )  # fmt: skip
    doc = Analyzer(None, Expectations()).analyze(record).as_dict()
    assert (doc["remote_addr"], doc["method"], doc["path"]) == (
        "2001:db8::1", "POST", "/ords/hr/employees/?offset=25",
    )  # fmt: skip


def _line(request: str, auth: str) -> str:
    return (
        f'203.0.113.10 - - [21/Nov/2026:09:30:01 +0000] "{request}" 401 0 referer:"-" '
        f'ua:"x" content-type:"-" authorization:"{auth}" mcp-protocol-version:"-"\n'
    )


@pytest.mark.parametrize("as_json", [True, False])
def test_scan_prints_no_token_from_the_path(tmp_path: Path, as_json: bool) -> None:
    log = tmp_path / "extended.log"
    log.write_text(_line(f"GET /ords/mcp?access_token={JWT} HTTP/1.1", "-") * 3)
    run = subprocess.run(
        [sys.executable, "-m", "inspector", "scan", "--nginx-conf", str(SAMPLE_CONF),
         *(["--json"] if as_json else []), "-"],
        cwd=ROOT, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        input=log.read_text(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # A 401 without a token is a warning (the client's first, expected call): exit 0.
    assert run.returncode == 0, run.stderr
    assert "no-token" in run.stdout
    assert SIGNATURE not in run.stdout + run.stderr


def test_scan_encoder_writes_what_as_dict_holds_for_hostile_text() -> None:
    from inspector.judge.fastpath import JsonLines

    sub = "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ"  # a pairwise Entra sub: kept
    record = LogRecord(
        Source("x.log", 1, 0), WHEN, "::1", "GET", f"/ords/mcp?id_token={JWT}",
        "HTTP/1.1", 401, "ua", None,
    )  # fmt: skip
    attempt = dataclasses.replace(Analyzer(None, Expectations()).analyze(record), subject=sub)
    doc = attempt.as_dict()
    assert doc["subject"] == sub and SIGNATURE not in doc["path"]
    assert JsonLines().encode(attempt) == json.dumps(doc, default=str)


# checks.check_credentials quotes the "scheme" in not-bearer's message; for "<jwt> extra"
# that is the token (patch sent to the checks owner). strict: the marker goes with it.
@pytest.mark.parametrize("as_json", [False, True])
def test_scan_quotes_no_token_sent_in_the_scheme_place(tmp_path: Path, as_json: bool) -> None:
    log = _line("POST /ords/mcp HTTP/1.1", f"{JWT} extra")
    run = subprocess.run(
        [sys.executable, "-m", "inspector", "scan", "--nginx-conf", str(SAMPLE_CONF),
         *(["--json"] if as_json else []), "-"],
        cwd=ROOT, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        input=log, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "not-bearer" in run.stdout
    assert SIGNATURE not in run.stdout + run.stderr
    assert JWT[:40] not in run.stdout + run.stderr
