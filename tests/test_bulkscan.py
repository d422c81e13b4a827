"""The bulk read path of ``scan`` gives what the generic path gives, byte for byte.

Each test scans the same real file twice: once the generic way (``iter_records``, one
``RawLine`` and one parse per line) and once through ``inspector.logs.bulkscan`` (block parsing,
and forked workers over byte ranges when asked), then compares stdout, stderr and the
exit status. The log mixes attempts, failures and lines built to land on the edges:
over-long lines, CRLF, raw UTF-8 and invalid bytes, empty lines, a last line without
its newline; small read chunks put block and range boundaries everywhere.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge import fastpath
from inspector.judge import scan as scan_engine
from inspector.judge.engine import build_analyzer
from inspector.logs import bulkscan
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local
from parsers.records import LogRecord, ParseFailure, Source

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARSER = compile_format(parse_log_format_string(EXTENDED_TEMPLATE))


def render(
    status: int | str,
    authorization: str | None,
    *,
    at: datetime = WHEN,
    ua: str = "ChatGPT-User/1.0; +https://openai.com/bot",
    path: str = "/ords/demo/mcp/",
    addr: str = "192.0.2.7",
) -> str:
    return PARSER.render(
        {
            "remote_addr": addr,
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
def log_lines(idp: LocalIdP) -> list[bytes]:
    """About 600 lines: every kind of attempt, many non-attempts, and odd lines."""
    now = WHEN.timestamp()
    tokens = [
        idp.mint(idp.entra_v2_claims(now=now)),
        idp.mint(idp.entra_v2_claims(now=now - 7200)),  # expired
        idp.mint(idp.entra_v2_claims(now=now), key=generate_rsa_key(kid=idp.keys[0].kid)),
        idp.mint(idp.entra_v2_claims(now=now, aud="api://someone-else")),
    ]
    agents = ["Claude-User/1.0", "node", "エージェント/1.0", 'curl/8.5.0 "quoted"', "python-httpx"]
    out: list[bytes] = []
    for i in range(560):
        at = WHEN + timedelta(seconds=i // 3)
        ua = agents[i % len(agents)]
        kind = i % 7
        if kind == 0:
            text = render(401, None, at=at, ua=ua)
        elif kind == 1:
            text = render(200, None, at=at, ua=ua, path="/.well-known/oauth-protected-resource")
        elif kind == 2:
            text = render(403, "Basic dXNlcjpwYXNz", at=at, ua=ua)
        elif kind == 3:
            text = render(200 if i % 2 else 401, f"Bearer {tokens[i % 4]}", at=at, ua=ua)
        elif kind == 4:
            text = render(200, None, at=at, addr=f"198.51.100.{i % 200}")
        elif kind == 5:
            text = render(200, f"Bearer {tokens[(i // 7) % 4]}", at=at, path=f"/ords/x/{i}")
        else:
            text = render(404, None, at=at, ua=ua)
        out.append(text.encode("ascii"))
    token_line = render(200, f"Bearer {tokens[0]}").encode("ascii")
    odd = [
        b"this is not an nginx line",
        b"",
        token_line + b"\r",  # CRLF: the \r stays in the line, as nginx never writes it
        render(401, None, ua="raw").replace("raw", "r\u00e4w \u30a8").encode("utf-8"),
        token_line.replace(b"ChatGPT", b"Chat\xffGPT\xc3"),  # invalid UTF-8
        render(200, "Bearer " + "A" * 70_000).encode("ascii"),  # over 64 KiB: cut, fails
        b"x" * 200_000,  # a long failure, longer than a read chunk
        render(200, "Bearer not.a.jwt", ua="x" * 65_000).encode("ascii"),  # cut, fails
        b'1.2.3.4 - - [01/Mar/2026:12:00:00 +0000] "GET / HTTP/1.1" 200',  # short
        render(401, "Bearer   ").encode("ascii"),
        render("401", "Bearer eyJhbGciOiJub25lIn0.e30.").encode("ascii"),
    ]
    for index, line in enumerate(odd):
        out.insert(37 + index * 47, line)
    return out


def write_log(path: Path, lines: list[bytes], *, final_newline: bool = True) -> None:
    path.write_bytes(b"\n".join(lines) + (b"\n" if final_newline else b""))


@pytest.fixture
def workdir(tmp_path: Path, idp: LocalIdP) -> Path:
    (tmp_path / "jwks.json").write_text(json.dumps(idp.jwks()))
    (tmp_path / "config.toml").write_text("")
    return tmp_path


def run_scan(
    workdir: Path,
    logs: list[str],
    extra: list[str],
    *,
    bulk: bool,
    processes: int = 1,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[int, str, str]:
    argv = [
        "scan", *logs, "--log-format", EXTENDED_TEMPLATE, "--jwks", str(workdir / "jwks.json"),
        "--config", str(workdir / "config.toml"), *extra,
    ]  # fmt: skip
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patch:
        if not bulk:
            patch.setattr(bulkscan, "readable_once", lambda path: False)
        else:
            # Small reads and ranges: boundaries fall everywhere, workers fork even here.
            patch.setattr(bulkscan, "READ_CHUNK", 4096)
            patch.setattr(bulkscan, "PARALLEL_MIN_BYTES", 1)
        status = scan_command.scan(args, out, err, processes=processes)
    return status, out.getvalue(), err.getvalue()


MODES = [
    ["--json"],
    [],
    ["--all", "--json"],
    ["--all"],
    ["--only-failures"],
    ["--only-failures", "--json", "--show-token"],
    ["--json", "--since", "2026-03-01T12:01:00+00:00"],
    ["--json", "--expect-aud", "api://someone-else", "--expect-iss", "https://x.example/v2.0"],
]


@pytest.mark.parametrize("extra", MODES, ids=lambda e: " ".join(e) or "report")
@pytest.mark.parametrize("processes", [1, 2, 3])
def test_bulk_path_gives_the_generic_output(
    workdir: Path,
    log_lines: list[bytes],
    extra: list[str],
    processes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = workdir / "extended.log"
    write_log(log, log_lines, final_newline=processes != 2)
    generic = run_scan(workdir, [str(log)], extra, bulk=False, monkeypatch=monkeypatch)
    fast = run_scan(
        workdir, [str(log)], extra, bulk=True, processes=processes, monkeypatch=monkeypatch
    )
    assert fast == generic
    status, out, err = fast
    assert status == 1
    if "--json" in extra and "--only-failures" not in extra:
        rows = [json.loads(row) for row in out.splitlines()]
        assert rows and all(row["file"] == str(log) for row in rows)
        assert len({row["line"] for row in rows}) == len(rows)
    if not extra:
        assert f"Scanned 1 file, {len(log_lines)} lines" in out
        assert "Lines not parsed:" in out
    assert "lines did not match" in err or "--json" not in extra


def test_several_files_keep_their_order_and_numbers(
    workdir: Path, log_lines: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = workdir / "a.log", workdir / "b.log"
    write_log(first, log_lines[:300])
    write_log(second, log_lines[300:], final_newline=False)
    missing = str(workdir / "missing.log")
    logs = [str(first), missing, str(second)]
    for extra in (["--json"], []):
        generic = run_scan(workdir, logs, extra, bulk=False, monkeypatch=monkeypatch)
        fast = run_scan(workdir, logs, extra, bulk=True, processes=2, monkeypatch=monkeypatch)
        assert fast == generic
        assert fast[0] == 2 and "missing.log" in fast[2]


def test_a_worker_that_dies_has_its_range_read_by_the_parent(
    workdir: Path, log_lines: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = workdir / "extended.log"
    write_log(log, log_lines)
    generic = run_scan(workdir, [str(log)], ["--json"], bulk=False, monkeypatch=monkeypatch)

    def broken(self: object, output: object) -> object:
        raise RuntimeError("worker failed")

    monkeypatch.setattr(scan_engine._Workers, "part", broken)
    fast = run_scan(
        workdir, [str(log)], ["--json"], bulk=True, processes=3, monkeypatch=monkeypatch
    )
    assert fast == generic


def test_ranges_start_at_line_starts(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"".join(b"%d %s\n" % (i, b"y" * (i % 50)) for i in range(2000)))
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        ranges = bulkscan.split_ranges(fd, size, 4)
        assert len(ranges) == 4 and ranges[0][0] == 0 and ranges[-1][1] is None
        data = path.read_bytes()
        for (start, stop), (following, _) in itertools.pairwise(ranges):
            assert stop == following and data[start - 1 : start] in (b"", b"\n")
        # Later ranges are shorter: their worker counts the lines before them first.
        lengths = [(stop or size) - start for start, stop in ranges]
        assert lengths == sorted(lengths, reverse=True)
        assert bulkscan.count_newlines(fd, 0, ranges[2][0]) == data[: ranges[2][0]].count(b"\n")
    finally:
        os.close(fd)


FRAGMENTS = st.sampled_from(
    [
        render(200, None),
        render(401, None, ua="a\\x22b"),
        render(200, "Bearer abc.def.ghi"),
        render(403, "Basic Zm9vOmJhcg=="),
        render(500, None, path="/x y"),
        'garbage "with quotes',
        "",
        "\r",
        render(200, None) + " trailing",
    ]
)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(FRAGMENTS, max_size=30), final_newline=st.booleans())
def test_parse_block_keeps_what_parse_gives(lines: list[str], final_newline: bool) -> None:
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    got: list[LogRecord | ParseFailure] = []
    count = PARSER.parse_block(
        text, "f", 10, 100, got, present=("http_authorization",), statuses=("401", "403")
    )
    expected = []
    offset = 100
    pieces = text.split("\n")
    if text.endswith("\n") or not text:
        pieces.pop()
    for number, piece in enumerate(pieces, start=10):
        item = PARSER.parse(piece.encode(), Source("f", number, offset))
        offset += len(piece) + 1
        if isinstance(item, ParseFailure) or (
            item.authorization is not None or item.status in (401, 403)
        ):
            expected.append(item)
    assert count == len(pieces)
    assert got == expected


def test_json_lines_encoder_writes_what_json_dumps_writes(
    workdir: Path, log_lines: list[bytes]
) -> None:
    argv = [
        "scan", "--jwks", str(workdir / "jwks.json"), "--config", str(workdir / "config.toml"),
    ]  # fmt: skip
    args = build_parser().parse_args(argv)
    analyzer = build_analyzer(settings_from_args(args))
    attempts = []
    for number, raw in enumerate(log_lines, start=1):
        item = PARSER.parse(raw, Source('log \u00e4"x', number, 0))
        if isinstance(item, LogRecord):
            attempts.append(analyzer.analyze(item))
    encoder = fastpath.JsonLines()
    assert len({a.verdicts for a in attempts}) > 5
    for _ in range(2):  # the second pass answers from the caches
        for attempt in attempts:
            assert encoder.encode(attempt) == json.dumps(attempt.as_dict(), default=str)


def test_parse_block_defers_to_a_parser_that_replaced_parse() -> None:
    from inspector.logs.selection import _EitherParser  # extended, else combined, per line

    either = _EitherParser()
    original = either.parse

    def marked(
        data: bytes | str, source: Source, truncated: bool = False
    ) -> LogRecord | ParseFailure:
        item = original(data, source, truncated)
        return replace(item, best_effort=True) if isinstance(item, LogRecord) else item

    either.parse = marked
    combined = '203.0.113.9 - - [01/Mar/2026:12:00:00 +0000] "GET / HTTP/1.1" 401 5 "-" "curl"'
    lines = [render(200, None), combined, "junk", render(401, "Bearer a.b.c")]
    got: list[LogRecord | ParseFailure] = []
    assert either.parse_block("\n".join(lines), "f", 1, 0, got) == 4
    expected = []
    offset = 0
    for number, text in enumerate(lines, start=1):
        expected.append(marked(text, Source("f", number, offset)))
        offset += len(text) + 1
    assert got == expected
    assert isinstance(got[1], LogRecord) and got[1].status == 401
    assert isinstance(got[0], LogRecord) and got[0].best_effort


@pytest.fixture(scope="module")
def window_lines(idp: LocalIdP) -> list[bytes]:
    """Lines every second for 10 minutes whose tokens change verdicts on the way.

    One token expires at 2 minutes in, one becomes valid (nbf) at 3 minutes in, one
    passes a 4-minute allowed age at 5 minutes in; each is sent with two statuses and
    three user agents (one escaped), so the same token meets different answers.
    """
    now = WHEN.timestamp()
    tokens = [
        idp.mint(idp.entra_v2_claims(now=now - 3000, exp=int(now) + 120)),
        idp.mint(idp.entra_v2_claims(now=now, nbf=int(now) + 180)),
        idp.mint(idp.entra_v2_claims(now=now + 60)),
        idp.mint(idp.entra_v2_claims(now=now - 30, aud="api://someone-else")),
    ]
    agents = ["Claude-User/1.0", 'curl/8.5.0 "quoted"', "python-httpx"]
    out = []
    for i in range(1800):
        at = WHEN + timedelta(seconds=i // 3)
        status = 401 if i % 5 == 0 else 200
        path = "/ords/demo/mcp/" if i % 11 else f"/ords/mcp?access_token={tokens[i % 4]}"
        auth = None if i % 13 == 0 else f"Bearer {tokens[i % 4]}"
        out.append(render(status, auth, at=at, ua=agents[i % 3], path=path).encode())
    return out


@pytest.mark.parametrize(
    "extra",
    [
        ["--json"],
        ["--json", "--allowed-age", "240"],
        ["--json", "--allowed-skew", "30", "--only-failures"],
        ["--json", "--since", "2026-03-01T12:02:30+00:00"],
        ["--json", "--all", "--allowed-age", "240", "--allowed-skew", "90"],
    ],
    ids=lambda e: " ".join(e),
)
@pytest.mark.parametrize("processes", [1, 2])
def test_answers_from_the_cache_cross_time_windows_as_the_generic_path_does(
    workdir: Path,
    window_lines: list[bytes],
    extra: list[str],
    processes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = workdir / "window.log"
    write_log(log, window_lines)
    answered: list[int] = []
    original = fastpath.Answers.bind

    def counting(self: fastpath.Answers) -> bulkscan.Answer:
        answer = original(self)

        def counted(*args: Any) -> bytes | None:
            said = answer(*args)
            if said is not None:
                answered.append(1)
            return said

        return counted

    generic = run_scan(workdir, [str(log)], extra, bulk=False, monkeypatch=monkeypatch)
    monkeypatch.setattr(fastpath.Answers, "bind", counting)
    fast = run_scan(
        workdir, [str(log)], extra, bulk=True, processes=processes, monkeypatch=monkeypatch
    )
    assert fast == generic
    if processes == 1 and "90" not in extra:  # a skew over 60 s is a verdict on every line
        assert len(answered) > len(window_lines) // 10  # the cache did part of the work
    rows = [json.loads(row) for row in fast[1].splitlines()]
    codes = {code for row in rows for code in (v["code"] for v in row["verdicts"])}
    if "--since" not in extra and "--only-failures" not in extra:
        assert {"expired", "not-yet-valid"} <= codes
    if "--allowed-age" in extra:
        assert "too-old" in codes
    # A token in the path is redacted on answered lines as on the others.
    paths = {row["path"] for row in rows}
    assert any("access_token=eyJhbGciOi…[sha256:" in path for path in paths)
    assert not any(
        line.split(b"Bearer ")[-1].split(b'"')[0] in fast[1].encode()
        for line in window_lines
        if b"Bearer " in line
    )


@pytest.mark.parametrize("extra", [["--json"], ["--json", "--all"]], ids=" ".join)
def test_answers_tell_apart_short_empty_and_absent_authorization(
    workdir: Path, idp: LocalIdP, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = idp.mint(idp.entra_v2_claims(now=WHEN.timestamp()))
    values = [None, "", "Bearer x", "Bearer y", "Basic x", f"Bearer {token}", "Bearer  x"]
    lines = [
        render(status, values[i % len(values)], at=WHEN + timedelta(seconds=i // 4)).encode()
        for i in range(300)
        for status in (200, 401)
    ]
    assert b'authorization:""' in b"\n".join(lines)
    log = workdir / "short.log"
    write_log(log, lines)
    generic = run_scan(workdir, [str(log)], extra, bulk=False, monkeypatch=monkeypatch)
    fast = run_scan(workdir, [str(log)], extra, bulk=True, monkeypatch=monkeypatch)
    assert fast == generic
    rows = [json.loads(row) for row in fast[1].splitlines()]
    codes = {verdict["code"] for row in rows for verdict in row["verdicts"]}
    assert {"no-token", "not-bearer"} <= codes
    assert any(row["verdicts"] == [] for row in rows)  # the good token on a 200


def test_output_to_a_real_file_goes_through_its_descriptor_unchanged(
    workdir: Path, window_lines: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = workdir / "window.log"
    write_log(log, window_lines)
    _, expected, _ = run_scan(workdir, [str(log)], ["--json"], bulk=False, monkeypatch=monkeypatch)
    argv = [
        "scan", str(log), "--log-format", EXTENDED_TEMPLATE, "--jwks", str(workdir / "jwks.json"),
        "--config", str(workdir / "config.toml"), "--json",
    ]  # fmt: skip
    written: list[int] = []
    original = bulkscan.write_all

    def recorded(fd: int, pieces: list[bytes]) -> None:
        written.append(len(pieces))
        original(fd, pieces)

    monkeypatch.setattr(bulkscan, "write_all", recorded)
    monkeypatch.setattr(bulkscan, "READ_CHUNK", 4096)
    monkeypatch.setattr(bulkscan, "PARALLEL_MIN_BYTES", 1)
    target = workdir / "out.jsonl"
    with target.open("w", encoding="utf-8") as out:
        out.write("first\n")  # text written before must stay first
        scan_command.scan(build_parser().parse_args(argv), out, io.StringIO(), processes=2)
    assert written  # the descriptor path was taken
    assert target.read_text(encoding="utf-8") == "first\n" + expected
