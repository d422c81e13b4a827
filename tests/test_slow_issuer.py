"""A slow issuer never holds ``scan`` or ``decode`` (issue 9, item 1).

One token in the log names an issuer whose server trickles its answer a byte at a time
(``tests/support/trickle.py``), the others come from a working loopback IdP. ``scan`` must
end in bounded time, judge the good lines normally and before it comes back to the slow
issuer's lines (it moves on instead of waiting), report the slow issuer in one line naming
its deadline, and give the slow lines ``jwks-unavailable`` saying why. Before the fix the
trickle held the first line for ever: these tests ran out their bound.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.main import build_parser, main
from inspector.demo.idp import LocalIdP
from inspector.judge import scan as scan_engine
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.tally import ScanReport
from inspector.keys.http import CheckedAdapter
from inspector.keys.store import KeyStore
from inspector.logs import bulkscan
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local
from tests.support.bounded import bounded as wait_bounded
from tests.support.trickle import TrickleServer

T = TypeVar("T")
WHEN = datetime.now(UTC).replace(microsecond=0)
PARSER = compile_format(parse_log_format_string(EXTENDED_TEMPLATE))
# Each fetch gets 1 s (the issuer 2 s): everything must be over long before this.
BOUND = 30.0


def bounded(call: Callable[[], T], limit: float = BOUND) -> T:
    """``call()`` within ``limit`` seconds, or the test fails."""
    return wait_bounded(call, limit, "the slow issuer held it")


def line(authorization: str, at: datetime) -> str:
    return PARSER.render(
        {
            "remote_addr": "192.0.2.7",
            "time_local": format_time_local(at),
            "request": "POST /ords/hr/mcp/ HTTP/1.1",
            "status": "200",
            "body_bytes_sent": "12",
            "http_user_agent": "Claude-User/1.0",
            "http_authorization": authorization,
        }
    )


@pytest.fixture
def slow() -> Iterator[TrickleServer]:
    with TrickleServer("headers") as server:
        yield server


def slow_issuer(server: TrickleServer) -> str:
    return server.url + "/tenant/v2.0"


@pytest.fixture
def workdir(tmp_path: Path, idp: LocalIdP, slow: TrickleServer) -> Path:
    stalled = idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), iss=slow_issuer(slow)))
    good = idp.mint(idp.entra_v2_claims(now=WHEN.timestamp()))
    lines = [line(f"Bearer {stalled}", WHEN)]  # 1: the slow issuer comes first
    lines += [line(f"Bearer {good}", WHEN + timedelta(seconds=n)) for n in range(1, 6)]  # 2-6
    lines.append(line(f"Bearer {stalled}", WHEN + timedelta(seconds=9)))  # 7
    (tmp_path / "extended.log").write_text("\n".join(lines) + "\n")
    (tmp_path / "config.toml").write_text("")
    return tmp_path


def scan_argv(workdir: Path, *extra: str) -> list[str]:
    return [
        "scan", str(workdir / "extended.log"), "--log-format", EXTENDED_TEMPLATE,
        "--config", str(workdir / "config.toml"), "--allow-private-idp",
        "--http-timeout", "1", *extra,
    ]  # fmt: skip


def run_scan(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, *, path: str, processes: int = 1
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(argv)
    if path == "generic":
        monkeypatch.setattr(bulkscan, "readable_once", lambda _: False)
    if processes > 1:
        # Forked workers even for this small file: each fetches (and gives up) on its own.
        monkeypatch.setattr(bulkscan, "PARALLEL_MIN_BYTES", 1)
        monkeypatch.setattr(bulkscan, "READ_CHUNK", 4096)
        # Forking from a helper thread would copy a half-run test: the per-test timeout
        # bounds this one instead.
        status = scan_command.scan(args, out, err, processes=processes)
    else:
        status = bounded(lambda: scan_command.scan(args, out, err, processes=1))
    return status, out.getvalue(), err.getvalue()


def codes(row: dict[str, Any]) -> list[str]:
    return [v["code"] for v in row["verdicts"]]


@pytest.mark.parametrize(("path", "processes"), [("bulk", 1), ("generic", 1), ("bulk", 2)], ids=str)
def test_scan_moves_on_and_reports_the_stalled_issuer(
    workdir: Path,
    slow: TrickleServer,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    processes: int,
) -> None:
    status, out, err = run_scan(
        scan_argv(workdir, "--json"), monkeypatch, path=path, processes=processes
    )
    rows = [json.loads(text) for text in out.splitlines()]
    assert sorted(r["line"] for r in rows) == [1, 2, 3, 4, 5, 6, 7]
    by_line = {r["line"]: r for r in rows}
    for number in range(2, 7):
        good = by_line[number]
        assert good["token"]["verified"] is True, codes(good)
        assert "jwks-unavailable" not in codes(good)
    for number in (1, 7):
        stalled = by_line[number]
        assert stalled["token"]["verified"] is None
        verdict = next(v for v in stalled["verdicts"] if v["code"] == "jwks-unavailable")
        assert slow_issuer(slow) in verdict["message"]
        assert "within 1 s" in verdict["message"]
    if processes == 1:
        # It moved on: the good lines were judged (and written) before it came back.
        order = [r["line"] for r in rows]
        assert order.index(2) < order.index(1)
        stalled_lines = [t for t in err.splitlines() if "gave up fetching the keys" in t]
        assert len(stalled_lines) == 1, err
        assert slow_issuer(slow) in stalled_lines[0] and "within 1 s" in stalled_lines[0]
    assert status == 0
    assert slow.connections >= 1


def test_scan_report_names_the_stalled_issuer(
    workdir: Path, slow: TrickleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_scan(scan_argv(workdir), monkeypatch, path="bulk")
    assert "jwks-unavailable" in out
    assert "gave up fetching the keys" in err and slow_issuer(slow) in err
    assert status == 0


def test_decode_gives_up_on_a_slow_issuer(
    tmp_path: Path,
    idp: LocalIdP,
    slow: TrickleServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "config.toml").write_text("")
    token = idp.mint(idp.entra_v2_claims(iss=slow_issuer(slow)))
    argv = [
        "decode", token, "--allow-private-idp", "--http-timeout", "1",
        "--config", str(tmp_path / "config.toml"),
    ]  # fmt: skip
    status = bounded(lambda: main(argv))
    out = capsys.readouterr().out
    signature = next(text for text in out.splitlines() if text.startswith("signature"))
    assert "not checked" in signature and slow_issuer(slow) in signature
    assert "within 1 s" in signature
    assert "jwks-unavailable" in out
    assert status == 0


def test_a_forked_worker_fetches_through_the_guarded_client(workdir: Path) -> None:
    # What each forked scan worker does first. It used to give the key store a plain
    # requests.Session: without the adapter, fetches of anchored issuers and p_jwk_url
    # had neither the connect-time address check nor the deadline (a trickling issuer
    # held the worker for ever: test_scan_moves_on_and_reports_the_stalled_issuer[bulk-2]).
    options = scan_engine.ScanOptions(as_json=True)
    keys = KeyStore(allow_private=True)
    judge = scan_engine._Judge(
        Analyzer(keys, Expectations()), options, ScanReport(files=set()), lambda _: None
    )
    before = keys.http.session
    scan_engine._Workers(judge, options, set(), io.StringIO()).part(io.StringIO())
    assert keys.http.session is not before  # never the parent's kept-alive connections
    for url in ("https://idp.example/", "http://idp.example/"):
        assert isinstance(keys.http.session.get_adapter(url), CheckedAdapter)
