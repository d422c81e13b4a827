"""A full per-token memo of ``scan --json`` forgets its oldest entries in batches.

With a million distinct tokens every new token evicts from three memos; one entry at a
time, each eviction walked over every slot deleted before it (``iter`` on a dict skips
them one by one). The memos stay bounded by count, keep their newest entries in order,
and ``tests/test_scan_diversity.py`` holds scans with tiny memos to the usual output.
"""

from __future__ import annotations

from datetime import UTC, datetime

from inspector.judge import fastpath
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from parsers.records import LogRecord, Source


def test_a_full_memo_forgets_its_oldest_sixteenth_in_order() -> None:
    memo = {i: str(i) for i in range(1600)}
    fastpath._drop_oldest(memo)
    assert list(memo) == list(range(100, 1600))
    small = {"a": 1, "b": 2}
    fastpath._drop_oldest(small)  # at least one entry goes
    assert small == {"b": 2}


def test_a_memo_filled_as_the_scan_fills_it_stays_within_its_limit() -> None:
    limit = 64
    memo: dict[int, int] = {}
    sizes = []
    for key in range(10_000):
        if len(memo) >= limit:
            fastpath._drop_oldest(memo)
        memo[key] = key
        sizes.append(len(memo))
    assert max(sizes) == limit
    assert list(memo) == list(range(10_000 - len(memo), 10_000))  # the newest, in order


def test_the_analyzers_authorization_memo_stays_bounded_and_keeps_the_newest() -> None:
    analyzer = Analyzer(None, Expectations(), cache_size=32)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    sizes = []
    for i in range(200):
        record = LogRecord(
            Source("log", i + 1, 0), when, None, None, None, None, 200, "node", f"Bearer t{i}"
        )
        analyzer.analyze(record)
        sizes.append(len(analyzer._headers))
    assert max(sizes) == 32
    # Two went at once when it was full (32 // 16): the newest stay, in order.
    assert list(analyzer._headers) == [f"Bearer t{i}" for i in range(200 - sizes[-1], 200)]
    assert sizes[32] == 31
