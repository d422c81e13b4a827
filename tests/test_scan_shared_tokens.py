"""A split ``scan`` judges each token that several byte ranges share once, in the parent.

Before the workers are forked, the parent looks (by a bytes regex over the file) for the
tokens a later range also carries and judges the first line of each: the workers
inherit the judgement. These tests hold the split scan to the one-process output, byte
for byte, over logs whose tokens sit in both halves, in one only, expire around the
range boundary, next to malformed lines, under ``--since`` and ``--only-failures``, in
report mode; and count the token judgements across processes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge import analyzer as analyzer_module
from inspector.logs import bulkscan
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local

WHEN = datetime(2026, 3, 1, 11, 59, 30, tzinfo=UTC)
PARSER = compile_format(parse_log_format_string(EXTENDED_TEMPLATE))
LINES = 900


def render(status: int, authorization: str | None, at: datetime, index: int) -> str:
    return PARSER.render(
        {
            "remote_addr": f"192.0.2.{index % 250}",
            "time_local": format_time_local(at),
            "request": f"POST /ords/demo/mcp/?id={index} HTTP/1.1",
            "status": str(status),
            "body_bytes_sent": "12",
            "http_user_agent": ("Claude-User/1.0", "node", "python-httpx")[index % 3],
            "http_authorization": authorization,
        }
    )


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture(scope="module")
def tokens(idp: LocalIdP) -> dict[str, list[str]]:
    """Tokens by where they go: both halves, first half only, second half only."""
    now = WHEN.timestamp()

    def mint(i: int, **extra: object) -> str:
        return idp.mint(idp.entra_v2_claims(now=now, oid=f"{i:08d}-0000-4000-8000-0", **extra))

    other = generate_rsa_key(kid=idp.keys[0].kid)
    both = [mint(i) for i in range(12)]
    # Expires about when the log reaches its middle (the range boundary): lines on either
    # side of it are judged valid, then expired, in either process.
    both.append(mint(100, exp=int(now) + LINES // 2))
    both.append(mint(101, exp=int(now) + LINES // 2 + 3))
    both.append(idp.mint(idp.entra_v2_claims(now=now, oid="bad-signature"), key=other))
    both.append(idp.mint(idp.entra_v2_claims(now=now), header={"kid": "unknown-kid"}))
    both.append("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLWdhcmJhZ2U")
    first = [mint(200 + i) for i in range(6)]
    second = [mint(300 + i, aud="api://someone-else") for i in range(6)]
    return {"both": both, "first": first, "second": second}


def corpus(tokens: dict[str, list[str]]) -> list[bytes]:
    """Attempts over the tokens (each in its half), non-attempts, malformed lines near
    the middle, one second of log time per line."""
    out: list[bytes] = []
    half = LINES // 2
    for i in range(LINES):
        at = WHEN + timedelta(seconds=i)
        if half - 20 <= i <= half + 20 and i % 4 == 0:
            out.append(b"not an nginx line at all " + str(i).encode())
            continue
        pool = tokens["both"] + (tokens["first"] if i < half else tokens["second"])
        kind = i % 5
        if kind == 0:
            text = render(401, None, at, i)
        elif kind == 1:
            text = render(200, None, at, i)
        else:
            token = pool[(i * 7 + i // 5) % len(pool)]
            text = render(401 if i % 11 == 0 else 200, f"Bearer {token}", at, i)
        out.append(text.encode("ascii"))
    return out


@pytest.fixture
def workdir(tmp_path: Path, idp: LocalIdP, tokens: dict[str, list[str]]) -> Path:
    (tmp_path / "jwks.json").write_text(json.dumps(idp.jwks()))
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "access.log").write_bytes(b"\n".join(corpus(tokens)) + b"\n")
    return tmp_path


def run_scan(
    workdir: Path, extra: list[str], processes: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    argv = [
        "scan", str(workdir / "access.log"), "--log-format", EXTENDED_TEMPLATE,
        "--jwks", str(workdir / "jwks.json"), "--config", str(workdir / "config.toml"), *extra,
    ]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(bulkscan, "PARALLEL_MIN_BYTES", 1)
        patch.setattr(bulkscan, "READ_CHUNK", 8192)
        status = scan_command.scan(build_parser().parse_args(argv), out, err, processes=processes)
    return status, out.getvalue(), err.getvalue()


MODES = [
    ["--json"],
    [],
    ["--json", "--only-failures"],
    ["--only-failures"],
    ["--json", "--since", (WHEN + timedelta(seconds=LINES // 2 - 5)).isoformat()],
    ["--since", (WHEN + timedelta(seconds=LINES // 3)).isoformat()],
    ["--json", "--all"],
]


@pytest.mark.parametrize("extra", MODES, ids=lambda e: " ".join(e) or "report")
@pytest.mark.parametrize("processes", [2, 3])
def test_split_scan_writes_what_one_process_writes(
    workdir: Path, extra: list[str], processes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = run_scan(workdir, extra, 1, monkeypatch)
    many = run_scan(workdir, extra, processes, monkeypatch)
    assert many == one
    assert one[1]  # something was written


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:16]


@pytest.fixture
def judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A file each process appends the token of every judgement it makes to."""
    record = tmp_path / "judged.txt"
    fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    compute = analyzer_module.Analyzer._compute_facts

    def counted(self: analyzer_module.Analyzer, token: str, wait: bool = True) -> object:
        # One write per line (whole lines, from any process); a digest, not the token.
        os.write(fd, _digest(token).encode("ascii") + b"\n")
        return compute(self, token, wait)

    monkeypatch.setattr(analyzer_module.Analyzer, "_compute_facts", counted)
    try:
        yield record
    finally:
        os.close(fd)


@pytest.mark.parametrize("extra", [["--json"], []], ids=["json", "report"])
def test_a_token_both_ranges_carry_is_judged_once(
    workdir: Path,
    judged: Path,
    tokens: dict[str, list[str]],
    extra: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_scan(workdir, extra, 2, monkeypatch)
    counts = Counter(judged.read_text().split())
    seen = {_digest(t) for group in tokens.values() for t in group}
    assert set(counts) == seen  # every token was judged, and only those
    assert [t for t, n in counts.items() if n != 1] == []


def test_shared_lines_are_first_lines_of_tokens_later_ranges_carry(tmp_path: Path) -> None:
    t = ["eyJ" + c * 40 for c in "abcdef"]
    first = [f"1 {t[0]}", f"2 {t[1]}", f"3 {t[0]}", f"4 {t[2]}", "5 none", f"6 {t[3]}"]
    later = [f"7 {t[2]}", f"8 {t[0]}", f"9 {t[4]}", f"10 {t[3]}"]
    path = tmp_path / "log"
    path.write_bytes("".join(line + "\n" for line in first + later).encode())
    cut = sum(len(line) + 1 for line in first)
    fd = os.open(path, os.O_RDONLY)
    try:
        ranges: list[tuple[int, int | None]] = [(0, cut), (cut, None)]
        assert bulkscan.shared_lines(fd, ranges) == [b"1 " + t[0].encode() + b"\n"] + [
            line.encode() + b"\n" for line in (f"4 {t[2]}", f"6 {t[3]}")
        ]
        # Bounded by count: the first ones in file order.
        assert bulkscan.shared_lines(fd, ranges, limit=2) == [
            f"1 {t[0]}\n".encode(),
            f"4 {t[2]}\n".encode(),
        ]
    finally:
        os.close(fd)


def test_tokens_remembered_from_later_ranges_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = ["eyJ" + c * 40 for c in "abcdefgh"]
    path = tmp_path / "log"
    first = "".join(f"{i} {token}\n" for i, token in enumerate(t))
    path.write_bytes((first + "".join(f"x {token}\n" for token in t)).encode())
    monkeypatch.setattr(bulkscan, "HINT_LIMIT", 3)
    monkeypatch.setattr(bulkscan, "HINT_CHUNK", 16)  # a line per block: the limit bites
    fd = os.open(path, os.O_RDONLY)
    try:
        found = bulkscan.shared_lines(fd, [(0, len(first)), (len(first), None)])
    finally:
        os.close(fd)
    assert found == [f"{i} {t[i]}\n".encode() for i in range(3)]


def test_the_first_range_is_searched_until_many_tokens_in_a_row_are_not_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = ["eyJ" + c * 40 for c in "abcdefghij"]
    first = [f"s {t[0]}"] + [f"u {token}" for token in t[2:7]] + [f"s {t[1]}"]
    text = "".join(line + "\n" for line in first)
    path = tmp_path / "log"
    path.write_bytes((text + f"x {t[1]}\nx {t[0]}\n").encode())
    ranges: list[tuple[int, int | None]] = [(0, len(text)), (len(text), None)]
    fd = os.open(path, os.O_RDONLY)
    try:
        monkeypatch.setattr(bulkscan, "HINT_GIVE_UP", 5)  # five unshared in a row: stop
        assert bulkscan.shared_lines(fd, ranges) == [f"s {t[0]}\n".encode()]
        monkeypatch.setattr(bulkscan, "HINT_GIVE_UP", 6)
        assert len(bulkscan.shared_lines(fd, ranges)) == 2
    finally:
        os.close(fd)


class _Starter:
    """A part whose judging starts a thread, as a key fetch does."""

    answer = None

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def take(self, items: bulkscan.Items, lines: int) -> None:
        def work() -> None:
            # A fetch's worth of work: still running when take returns.
            digest = b""
            for _ in range(200_000):
                digest = hashlib.sha256(digest).digest()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        self.threads.append(thread)


def test_threads_the_warming_started_have_ended_before_the_workers_fork(tmp_path: Path) -> None:
    token = "eyJ" + "a" * 40
    path = tmp_path / "log"
    text = f"1 {token}\n"
    path.write_bytes((text + f"2 {token}\n").encode())
    part = _Starter()
    fd = os.open(path, os.O_RDONLY)
    try:
        ranges: list[tuple[int, int | None]] = [(0, len(text)), (len(text), None)]
        bulkscan._warm(fd, str(path), PARSER, part, bulkscan.Selection(None), ranges, 65536)
    finally:
        os.close(fd)
    assert len(part.threads) == 1
    assert not part.threads[0].is_alive()
