"""``watch`` judging the log in a child process: rows, keys, refresh, apply, crash, quit.

The screen's process keeps the table, the database and the actions; the child runs the log
pipeline, the analyzer and its key store (``EngineSession.start_judge_process``). Each test
drives the real app with Pilot over the real engine (loopback IdP, in-memory ORDS).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.cli.watch import build_session
from inspector.demo.environment import DemoEnvironment
from inspector.demo.idp import generate_rsa_key
from inspector.demo.scenario import afterwards
from inspector.judge.analyzer import keys_pending
from inspector.judge.verdicts import Outcome
from inspector.settings import Settings
from inspector.tui.app import InspectorApp
from inspector.tui.engine_session import EngineSession
from inspector.tui.feed import Batch, FeedProblem
from inspector.tui.judge_process import JudgeProcess, _by_fields, dumps
from inspector.tui.screens.apply import ApplyScreen
from parsers.nginx.conf import EXTENDED_TEMPLATE
from parsers.records import ParseFailure
from tests.tui.conftest import SIZE, plain, wait_for
from tests.tui.engine_support import demo_session, log_line, open_apply, text_of, written_demo
from tests.tui.fixtures import sample_attempts
from tests.tui.test_engine_keys import Watched, toasted
from tests.tui.test_engine_keys import watched as watched  # the fixture
from tests.tui.test_hostile_display import hostile_attempt


def judged_elsewhere(session: EngineSession) -> JudgeProcess:
    """Start the session's judging child (the test's IdP thread runs: fork anyway)."""
    assert session.start_judge_process(while_threads_run=True)
    judge = session.judge_process
    assert judge is not None and judge.pid not in (None, os.getpid())
    return judge


async def test_rows_judged_in_the_child_appear_and_the_detail_shows_the_selected_one(
    watched: Watched,
) -> None:
    judge = judged_elsewhere(watched.session)
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 1)
        # Shown while its issuer's keys were fetched, then judged again: the update names
        # the attempt by number across the pipe and replaces it in its row.
        await wait_for(pilot, lambda: not app.store.pending, timeout=20)
        selected = app.selected
        assert selected is not None and not keys_pending(selected)
        assert selected.token is not None and selected.token.verified is True
        assert app.detail.attempt is selected
        await wait_for(pilot, lambda: "ok (1 keys" in plain(app.status_bar))
        # The keys were fetched by the child's key store, not by this process's.
        keys = watched.session.analyzer.keys
        assert keys is not None and not dict(keys.state())
        assert judge.alive()


async def test_r_refetches_the_keys_of_the_child(watched: Watched) -> None:
    judged_elsewhere(watched.session)
    idp = watched.idp
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: "ok (1 keys" in plain(app.status_bar), timeout=20)
        idp.rotate(generate_rsa_key())  # the IdP now publishes two keys
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(toasted(app, "keys refetched for 1 issuer(s)")))
        await wait_for(pilot, lambda: "ok (2 keys" in plain(app.status_bar))


async def test_a_crashed_child_is_reported_in_one_line_and_the_app_goes_on(
    watched: Watched,
) -> None:
    judge = judged_elsewhere(watched.session)
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 1)
        assert judge.pid is not None
        os.kill(judge.pid, signal.SIGKILL)
        await wait_for(pilot, lambda: app.store.counters.worker_errors == 1)
        problem = app.status_info.problem or ""
        assert "\n" not in problem
        assert "the process judging the log ended (exit code -9)" in problem
        assert app.is_running
        await pilot.press("f")  # the screen still answers
        await wait_for(pilot, lambda: app.filter.failures_only)
        assert app.store.counters.attempts == 1
        assert app.store.counters.worker_errors == 1


async def test_quitting_leaves_no_process_behind(watched: Watched) -> None:
    judge = judged_elsewhere(watched.session)
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 1)
        assert judge.alive()
        await pilot.press("q")
    assert not judge.alive()
    assert judge.pid is not None
    with pytest.raises(ChildProcessError):  # reaped: nothing left, not even a zombie
        os.waitpid(judge.pid, os.WNOHANG)


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    yield from written_demo()


async def test_a_profile_applied_on_screen_judges_the_childs_next_attempts(
    env: DemoEnvironment,
) -> None:
    session = demo_session(env)
    judged_elsewhere(session)
    app = InspectorApp(session, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending, timeout=20
        )
        last = app.selected
        assert last is not None and last.outcome is Outcome.FAIL
        button = await open_apply(app, pilot)
        assert env.idp.issuer_v2 in text_of(app, "#plan")
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))
        profile = env.repository.get_profile()
        await wait_for(pilot, lambda: profile is not None and app.profile == profile)
        env.replayer.write(next(r for r in afterwards(env.tokens) if r.token == env.tokens.good))
        await wait_for(pilot, lambda: app.store.counters.attempts == 8 and not app.store.pending)
        newest = app.selected
        assert newest is not None and newest.record.status == 200
        assert newest.outcome is Outcome.OK, [v.code for v in newest.verdicts]


def test_no_fork_while_another_thread_runs(watched: Watched) -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert watched.session.start_judge_process() is False
        assert watched.session.judge_process is None
    finally:
        release.set()
        other.join()


def test_a_batch_crosses_the_pipe_whole() -> None:
    # Attempts are pickled by field (the dataclasses' own __getstate__ was most of the
    # cost): what the screen's process gets equals what plain pickling gives.
    attempts = [*sample_attempts(), hostile_attempt()]
    batch = Batch()
    for attempt in attempts:
        batch.add(attempt)
    where = attempts[0].record.source
    batch.add(ParseFailure(where, "no match", "GET /x?token=[redacted]"))
    batch.add(FeedProblem("x"))
    loaded = pickle.loads(dumps(batch))
    plain_loaded = pickle.loads(pickle.dumps(batch))
    assert loaded.attempts == plain_loaded.attempts == attempts
    assert [type(a.token) for a in loaded.attempts] == [type(a.token) for a in attempts]
    assert loaded.last_failure == batch.last_failure
    assert (loaded.lines, loaded.parse_failures, loaded.problems) == (len(attempts) + 1, 1, ["x"])
    assert len(dumps(batch)) <= len(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))


def test_only_records_with_every_field_in_init_are_pickled_by_field() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    with pytest.raises(TypeError, match="__init__"):
        _by_fields(Derived)


def test_a_stalled_screen_holds_back_lines_not_batches_of_them() -> None:
    # Batches from the judging child queue up while the screen is busy: the queue is
    # bounded by the lines they hold, so the child (and the log's reading) waits.
    from inspector.tui.feed import QUEUE_SIZE, Pump

    lines_each = QUEUE_SIZE // 4 + 1
    yielded: list[int] = []

    def batches(stop: threading.Event) -> Iterator[object]:
        for n in range(50):
            yielded.append(n)
            yield Batch(lines=lines_each)

    pump = Pump(batches)
    shown = threading.Event()
    release = threading.Event()

    def emit(batch: Batch) -> None:
        shown.set()
        release.wait(10)

    runner = threading.Thread(target=pump.run, args=(emit,), daemon=True)
    runner.start()
    try:
        assert shown.wait(10)
        # One batch shown; four fill the queue; the fifth waits for room in the reader.
        deadline = time.monotonic() + 10
        while len(yielded) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pump.batched <= QUEUE_SIZE + lines_each
        assert len(yielded) == 6
    finally:
        pump.stop()
        release.set()
        runner.join(10)


def test_without_a_database_the_child_judges_while_the_screen_starts(tmp_path: Path) -> None:
    # No profile to wait for: the backfill is judged before the screen asks for it.
    log = tmp_path / "extended.log"
    log.write_text(log_line() + "\n")
    args = build_parser().parse_args(
        ["watch", "--no-db", "--from-start", "--log-format", EXTENDED_TEMPLATE, str(log)]
    )
    session = build_session(args, settings_from_args(args, base=Settings()))
    assert not session.has_database
    judge = judged_elsewhere(session)
    try:
        assert judge._items.poll(10)  # a batch is waiting, though nobody asked yet
        stop = threading.Event()
        batch = next(b for b in session.items(stop) if isinstance(b, Batch) and b.attempts)
        assert batch.attempts[0].record.status == 401
        stop.set()
    finally:
        session.close()
    assert not judge.alive()


async def test_r_also_refetches_the_keys_the_proposals_are_checked_with(watched: Watched) -> None:
    judged_elsewhere(watched.session)
    idp = watched.idp
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: not app.store.pending and app.selected is not None)
        await open_apply(app, pilot)  # the plan is checked here, with this process's keys
        keys = watched.session.analyzer.keys
        assert keys is not None
        await wait_for(pilot, lambda: bool(dict(keys.state())))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))
        fetched = idp.count(idp.jwks_uri)
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(toasted(app, "keys refetched for 1 issuer(s)")))
        assert idp.count(idp.jwks_uri) == fetched + 2  # the child's store and this one
