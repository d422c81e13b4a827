"""``Analyzer.analyze_window``: the result it returns holds at every time of its window.

Tokens are minted with exp/nbf/iat placed around the request time, under several skew and
age settings; the analysis at a random time is compared with the analysis at other times
inside the window it claims, its edges included: same client, subject, token report and
verdicts (messages included), judged by a fresh analyzer so no memo answers.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.demo.idp import LocalIdP
from inspector.judge.analyzer import Analyzer
from inspector.judge.attempt import Attempt
from inspector.judge.expectations import Expectations
from inspector.keys.store import KeyStore
from parsers.records import LogRecord, Source

BASE = 1_772_366_400  # 2026-03-01T12:00:00Z


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture(scope="module")
def keys(idp: LocalIdP, tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    path = tmp_path_factory.mktemp("keys") / "jwks.json"
    path.write_text(json.dumps(idp.jwks()))
    return KeyStore(offline_jwks=path)


def record(authorization: str | None, stamp: float, status: int = 200) -> LogRecord:
    return LogRecord(
        source=Source("extended.log", 1, 0),
        time=datetime.fromtimestamp(stamp, UTC),
        remote_addr="192.0.2.7",
        method="POST",
        path="/ords/app/mcp/",
        protocol="HTTP/1.1",
        status=status,
        user_agent="Claude-User/1.0",
        authorization=authorization,
    )


def judged(attempt: Attempt) -> tuple[object, ...]:
    return (
        attempt.client,
        attempt.subject,
        attempt.token,
        [v.as_dict() for v in attempt.verdicts],
        attempt.outcome,
    )


# Offsets from BASE, in seconds: around a minute, an hour, a day, two days.
OFFSETS = st.one_of(
    st.integers(-200, 200), st.integers(-8000, 8000), st.integers(-200_000, 200_000)
)


@settings(max_examples=150, deadline=None)
@given(
    exp=st.one_of(st.none(), OFFSETS),
    nbf=st.one_of(st.none(), OFFSETS),
    iat=st.one_of(st.none(), OFFSETS),
    skew=st.sampled_from([None, 0, 30, 60, 90]),
    age=st.sampled_from([None, 0, 300, 4000]),
    status=st.sampled_from([200, 401]),
    at=st.floats(-250_000, 250_000),
    probes=st.lists(st.floats(0, 1), min_size=1, max_size=4),
)
def test_the_result_holds_over_the_whole_window(
    idp: LocalIdP,
    keys: KeyStore,
    exp: int | None,
    nbf: int | None,
    iat: int | None,
    skew: int | None,
    age: int | None,
    status: int,
    at: float,
    probes: list[float],
) -> None:
    claims = idp.entra_v2_claims(now=BASE)
    for name, value in (("exp", exp), ("nbf", nbf), ("iat", iat)):
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = BASE + value
    token = f"Bearer {idp.mint(claims)}"
    analyzer = Analyzer(keys, Expectations(allowed_skew=skew, allowed_age=age))
    stamp = BASE + round(at, 3)
    attempt, start, end = analyzer.analyze_window(record(token, stamp, status))
    assert judged(attempt) == judged(analyzer.analyze(record(token, stamp, status)))
    if start >= end:
        return
    assert start <= stamp < end
    fresh = Analyzer(keys, Expectations(allowed_skew=skew, allowed_age=age))
    inside = [start, math.nextafter(end, -math.inf)] if math.isfinite(end - start) else []
    inside += [stamp + (p - 0.5) * min(end - start, 1e6) for p in probes]
    for when in inside:
        # A record's time is a datetime (microseconds): what counts is its timestamp.
        rec = record(token, when, status)
        assert rec.time is not None
        if start <= rec.time.timestamp() < end:
            assert judged(fresh.analyze(rec)) == judged(attempt), rec.time


def test_a_token_valid_for_hours_gets_its_lifetime_as_window(idp: LocalIdP, keys: KeyStore) -> None:
    token = f"Bearer {idp.mint(idp.entra_v2_claims(now=BASE, exp=BASE + 3600))}"
    analyzer = Analyzer(keys, Expectations(allowed_skew=30))
    attempt, start, end = analyzer.analyze_window(record(token, BASE + 10))
    assert attempt.verdicts == () or all(v.severity.value != "error" for v in attempt.verdicts)
    assert (start, end) == (BASE - 30, BASE + 3600 + 30)
    # Expired: one window per text of "expired … before the request".
    late, start, end = analyzer.analyze_window(record(token, BASE + 3600 + 30 + 125.5))
    assert "expired" in [v.code for v in late.verdicts]
    assert (start, end) == (BASE + 3600 + 155, BASE + 3600 + 156)
    later, start, end = analyzer.analyze_window(record(token, BASE + 3600 + 2 * 3600 + 61))
    assert (start, end) == (BASE + 3 * 3600 + 60, BASE + 3 * 3600 + 120)
    assert "2h 1m" in next(v for v in later.verdicts if v.code == "expired").message


def test_no_window_without_a_time_or_outside_2004_to_2038(idp: LocalIdP, keys: KeyStore) -> None:
    token = f"Bearer {idp.mint(idp.entra_v2_claims(now=BASE))}"
    analyzer = Analyzer(keys, Expectations())
    timeless = replace(record(token, BASE), time=None)
    _, start, end = analyzer.analyze_window(timeless)
    assert start >= end
    _, start, end = analyzer.analyze_window(record(token, 2.0**31))
    assert start >= end
    # No token: nothing depends on the time.
    _, start, end = analyzer.analyze_window(record(None, BASE, 401))
    assert (start, end) == (-math.inf, math.inf)
