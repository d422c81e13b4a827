"""Two-process ``scan`` cuts the file where the work, not the bytes, is halved.

After warming, the first range's shared tokens are judged and the second range still
holds the tokens first seen there: ``bulkscan.balanced_split`` weighs lines and tokens
(``choose_cut``) and moves the cut. These tests hold the choice by counts, the pass's
findings on a small file, and the scan's output (1, 2 and 3 processes) on a log whose
tokens first appear late.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP
from inspector.logs import bulkscan
from tests.test_scan_shared_tokens import judged, render, run_scan

__all__ = ["judged"]  # a fixture, used by name

WHEN = datetime(2026, 3, 1, 11, 59, 30, tzinfo=UTC)


def test_choose_cut_halves_lines_when_no_token_weighs() -> None:
    # Four blocks of ten lines: the worker also counts the lines before its range.
    assert bulkscan.choose_cut([10] * 4, [0] * 4, [0] * 4) == 2


def test_choose_cut_moves_later_when_tokens_first_appear_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulkscan, "TOKEN_LINES", 2.0)
    # Ten tokens first and last seen in the last block weigh twenty lines there.
    assert bulkscan.choose_cut([10] * 4, [0, 0, 0, 10], [0, 0, 0, 10]) == 3


def test_choose_cut_counts_tokens_both_ranges_carry_on_both_sides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulkscan, "TOKEN_LINES", 2.0)
    # Seen from the first block to the last: both processes meet them, so lines decide.
    assert bulkscan.choose_cut([10] * 4, [10, 0, 0, 0], [0, 0, 0, 10]) == 2
    # Seen in the first block only: the first range is made short.
    assert bulkscan.choose_cut([10] * 4, [10, 0, 0, 0], [10, 0, 0, 0]) == 1


def test_choose_cut_gives_the_worker_less_when_its_work_costs_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulkscan, "WORKER_COST", 2.0)
    assert bulkscan.choose_cut([10] * 4, [0] * 4, [0] * 4) == 3


def test_choose_cut_keeps_both_ranges() -> None:
    assert bulkscan.choose_cut([1, 1000], [0, 0], [0, 0]) == 1
    assert bulkscan.choose_cut([1000, 1], [0, 0], [0, 0]) == 1


def _write(path: Path, lines: list[str]) -> None:
    path.write_bytes("".join(line + "\n" for line in lines).encode())


def test_balanced_split_cuts_at_a_block_and_warms_tokens_both_sides_carry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = ["eyJ" + c * 40 for c in "abcdefgh"]
    # A line per block (each line is longer than the block): 8 lines, the tokens of
    # the last four lines are new there, and t[0] and t[1] run through to the end.
    lines = [f"1 {t[0]}", f"2 {t[1]}", f"3 {t[0]}", f"4 {t[1]}"]
    lines += [f"5 {t[2]} {t[0]}", f"6 {t[3]} {t[1]}", f"7 {t[4]}", f"8 {t[5]}"]
    path = tmp_path / "log"
    _write(path, lines)
    monkeypatch.setattr(bulkscan, "HINT_CHUNK", 16)
    monkeypatch.setattr(bulkscan, "TOKEN_LINES", 1.0)
    fd = os.open(path, os.O_RDONLY)
    try:
        plan = bulkscan.balanced_split(fd)
    finally:
        os.close(fd)
    assert plan is not None
    ranges, warm = plan
    # Parent: 5 lines + t0, t1, t2 = 8; worker: 3 lines + t1, t3, t4, t5 (+ count).
    cut = sum(len(line) + 1 for line in lines[:5])
    assert ranges == [(0, cut), (cut, None)]
    # Only t1 is on both sides (t0 is last seen on line 5, in the first range).
    assert warm == [f"2 {t[1]}\n".encode()]


def test_balanced_split_gives_way_to_the_byte_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = ["eyJ" + c * 40 for c in "abcdef"]
    path = tmp_path / "log"
    _write(path, [f"{i} {token}" for i, token in enumerate(t)])
    fd = os.open(path, os.O_RDONLY)
    try:
        assert bulkscan.balanced_split(fd) is None  # one block: nothing to choose
        monkeypatch.setattr(bulkscan, "HINT_CHUNK", 16)
        assert bulkscan.balanced_split(fd) is not None
        monkeypatch.setattr(bulkscan, "HINT_LIMIT", 5)  # more distinct tokens than that
        assert bulkscan.balanced_split(fd) is None
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def late_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tokens all along, then 24 more first seen in the last third (two expiring
    there, one forged, one with an unknown kid), malformed lines around the cut."""
    root = tmp_path_factory.mktemp("late")
    idp = LocalIdP()
    now = WHEN.timestamp()

    def mint(i: int, **extra: object) -> str:
        return idp.mint(idp.entra_v2_claims(now=now, oid=f"{i:08d}-0000-4000-8000-0", **extra))

    steady = [mint(1), mint(2)]
    late = [mint(10 + i) for i in range(20)]
    late += [mint(40, exp=int(now) + 700), mint(41, exp=int(now) + 760)]
    late.append(idp.mint(idp.entra_v2_claims(now=now, oid="x"), header={"kid": "nope"}))
    late.append("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLWdhcmJhZ2U")
    lines: list[str] = []
    total = 900
    for i in range(total):
        at = WHEN + timedelta(seconds=i)
        if i % 97 == 0:
            lines.append(f"garbage line {i}")
            continue
        pool = steady + (late if i >= 2 * total // 3 else [])
        token = pool[(i * 7 + i // 5) % len(pool)]
        status = 401 if i % 11 == 0 else 200
        lines.append(render(status, f"Bearer {token}" if i % 5 else None, at, i))
    (root / "access.log").write_bytes("".join(line + "\n" for line in lines).encode())
    (root / "jwks.json").write_text(json.dumps(idp.jwks()))
    (root / "config.toml").write_text("")
    return root


@pytest.mark.parametrize(
    "extra",
    [
        ["--json"],
        [],
        ["--json", "--only-failures"],
        ["--json", "--since", (WHEN + timedelta(seconds=640)).isoformat()],
    ],
    ids=lambda e: " ".join(e) or "report",
)
def test_a_balanced_split_writes_what_one_process_writes(
    late_log: Path, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulkscan, "HINT_CHUNK", 4096)
    plans: list[tuple[list[tuple[int, int | None]], list[bytes]] | None] = []
    balanced_split = bulkscan.balanced_split

    def spy(fd: int) -> tuple[list[tuple[int, int | None]], list[bytes]] | None:
        plans.append(balanced_split(fd))
        return plans[-1]

    monkeypatch.setattr(bulkscan, "balanced_split", spy)
    one = run_scan(late_log, extra, 1, monkeypatch)
    two = run_scan(late_log, extra, 2, monkeypatch)
    three = run_scan(late_log, extra, 3, monkeypatch)
    assert two == one
    assert three == one
    assert one[1]
    # Two processes took the balanced cut, later than the middle; three did not ask.
    assert len(plans) == 1 and plans[0] is not None
    size = (late_log / "access.log").stat().st_size
    assert plans[0][0][0][1] is not None and plans[0][0][0][1] > size * 0.6
    assert plans[0][1]  # the steady tokens were warmed


def test_tokens_on_both_sides_of_a_balanced_cut_are_judged_once(
    late_log: Path, judged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulkscan, "HINT_CHUNK", 4096)
    run_scan(late_log, ["--json"], 2, monkeypatch)
    counts = Counter(judged.read_text().split())
    assert len(counts) == 26  # two steady tokens, 24 late ones
    assert [n for n in counts.values() if n != 1] == []
