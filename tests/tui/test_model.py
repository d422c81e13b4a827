"""The screen's state and wording without a terminal: store bounds, filters, countdowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inspector.tui.model import AttemptStore, Filter
from inspector.tui.present import human_span, relative, row_cells
from inspector.tui.profile_view import needed_by
from inspector.tui.widgets.status_bar import StatusInfo, short_issuer, status_text
from tests.tui.fixtures import ISS_V2, sample_attempts

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_store_keeps_the_newest_and_counts_what_it_drops() -> None:
    store = AttemptStore(max_attempts=4)
    first = store.add(sample_attempts())
    assert [e.seq for e in first] == [0, 1, 2, 3, 4, 5]
    assert len(store) == 4
    assert store.oldest_seq == 2
    assert store.get(1) is None
    assert store.get(5) is not None and store.get(5) == first[-1]
    assert store.counters.dropped == 2
    assert store.counters.attempts == 6
    assert store.counters.failures == 5  # the good token refused by the server counts


def test_store_refuses_a_zero_bound() -> None:
    with pytest.raises(ValueError):
        AttemptStore(max_attempts=0)


def test_filters_match_verdict_codes_subjects_and_failures() -> None:
    store = AttemptStore()
    store.add(sample_attempts())
    assert len(store.visible(Filter())) == 6
    assert len(store.visible(Filter(failures_only=True))) == 5
    assert [e.attempt.client for e in store.visible(Filter(text="GRAPH"))] == ["Claude"]
    assert len(store.visible(Filter(text="abeli@contoso"))) == 5
    assert len(store.visible(Filter(failures_only=True, text="claude"))) == 2


@pytest.mark.parametrize(
    ("claim", "delta", "expected"),
    [
        ("exp", timedelta(minutes=41), "expires in 41 min"),
        ("exp", -timedelta(seconds=30), "expired 30 s ago"),
        ("iat", -timedelta(hours=2, minutes=5), "issued 2 h 5 min ago"),
        ("nbf", timedelta(days=3), "valid in 3 d"),
        ("nbf", -timedelta(minutes=1), "valid since 1 min"),
    ],
)
def test_relative_countdowns(claim: str, delta: timedelta, expected: str) -> None:
    assert relative(claim, NOW + delta, NOW) == expected


def test_human_span_rounds_down_to_the_unit() -> None:
    assert human_span(59) == "59 s"
    assert human_span(3600) == "1 h"
    assert human_span(86400 * 2 + 5) == "2 d"


def test_row_shows_local_time_outcome_and_first_cause() -> None:
    cells = row_cells(sample_attempts()[2], UTC)
    assert str(cells[0]) == "09:55:40"
    assert str(cells[1]) == "✘ fail"
    assert str(cells[2]) == "graph-token"


def test_profile_needed_by_a_token() -> None:
    needed = needed_by(sample_attempts()[-1])
    assert needed is not None
    assert needed["issuer"] == ISS_V2
    assert needed["role_claim_name"] == "/roles"
    assert needed_by(sample_attempts()[0]) is None


def test_status_text_names_files_counts_keys_and_database() -> None:
    info = StatusInfo(files=("/var/log/nginx/extended.log",), keys={ISS_V2: "ok (2 keys)"})
    info.counters.lines = 1234
    info.database = "error: DPY-6005: cannot connect"
    text = status_text(info).plain
    assert "extended.log" in text and "1,234" in text
    assert "ok (2 keys)" in text and "DPY-6005" in text
    assert short_issuer("https://" + "x" * 50).startswith("…")
