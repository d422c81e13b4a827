"""The scan report keeps one (iss, aud) pair per pair, not one per token: a million
tokens of one issuer cost a fingerprint each. Counting (alone and merged) is unchanged."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from inspector.judge.attempt import Attempt, TokenReport
from inspector.judge.tally import ScanReport
from inspector.judge.verdicts import Outcome
from parsers.records import LogRecord, Source


def attempt(i: int, iss: str, aud: str) -> Attempt:
    record = LogRecord(
        Source("a.log", i, 0), datetime(2026, 1, 1, tzinfo=UTC), None, None, None, None,
        200, None, "Bearer x",
    )  # fmt: skip
    claims = {"iss": "".join(iss), "aud": "".join(aud)}  # new string objects, as parsed
    token = TokenReport(f"{i:012x}", "jws", None, {}, claims, True)
    return Attempt(record, "client", None, token, (), Outcome.OK)


def test_tokens_of_one_issuer_share_one_pair_and_are_counted_once() -> None:
    report = ScanReport()
    for i in range(300):
        report.add(attempt(i % 200, "https://idp/" + "", "api://x" + ""))
    assert len(report.tokens) == 200
    assert report.issuers == {"https://idp/": 200}
    assert report.audiences == {"api://x": 200}
    pairs = {id(pair) for pair in report.token_values.values()}
    assert len(pairs) == 1


def test_merged_reports_count_what_one_pass_counts() -> None:
    whole, first, second = ScanReport(), ScanReport(), ScanReport()
    for i in range(400):
        issuer = f"https://idp{i % 3}/"
        item = attempt(i % 250, issuer, "api://x")
        whole.add(item)
        (first if i < 200 else second).add(item)
    # Workers hand their reports over pickled.
    first.merge(pickle.loads(pickle.dumps(second)))
    assert set(first.tokens) == set(whole.tokens)
    assert first.issuers == whole.issuers
    assert first.audiences == whole.audiences
    assert len({id(pair) for pair in first.token_values.values()}) == 3


def test_a_merge_counts_issuers_and_audiences_in_one_pass_order() -> None:
    """Counted per (iss, aud) pair when merged: the counters' order (ties in the report
    keep it) and counts are those of one pass, tokens both halves saw counted once."""
    whole, first, second = ScanReport(), ScanReport(), ScanReport()
    issuers = ["https://b/", "https://a/", None, "https://c/", "https://a/"]
    audiences = ["api://1", None, "api://0", "api://2"]
    for i in range(240):
        number = i % 150 if i >= 100 else i  # tokens 0-89 come back in the second half
        claims = {"iss": issuers[(number // 7) % 5], "aud": audiences[(number // 3) % 4]}
        token = TokenReport(f"{number:012x}", "jws", None, {}, claims, True)
        record = LogRecord(
            Source("a.log", i, 0), datetime(2026, 1, 1, tzinfo=UTC), None, None, None, None,
            200, None, "Bearer x",
        )  # fmt: skip
        item = Attempt(record, "client", None, token, (), Outcome.OK)
        whole.add(item)
        (first if i < 120 else second).add(item)
    first.merge(pickle.loads(pickle.dumps(second)))
    assert list(first.issuers.items()) == list(whole.issuers.items())
    assert list(first.audiences.items()) == list(whole.audiences.items())
    assert list(first.token_values.items()) == list(whole.token_values.items())
    assert len({id(pair) for pair in first.token_values.values()}) == len(whole._pairs)
