"""Nothing that goes wrong in a worker kills the app: the error is shown, the app goes on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.message import Message

from inspector.demo.environment import DemoEnvironment
from inspector.judge.analyzer import Analyzer
from inspector.ords.database import OrdsRepository, database_error
from inspector.tui.app import InspectorApp
from inspector.tui.messages import WorkerProblem
from tests.tui.conftest import SIZE, make_app, plain, wait_for
from tests.tui.engine_support import demo_session, written_demo
from tests.tui.fixtures import ListSession


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    yield from written_demo()


async def test_a_failing_log_reader_is_reported_and_the_app_keeps_running() -> None:
    problems: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, WorkerProblem):
            problems.append(message.message)

    app = make_app(ListSession(fail_items=True))
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await wait_for(pilot, lambda: bool(problems))
        assert "disk on fire" in problems[0]
        assert "disk on fire" in plain(app.status_bar)
        await pilot.press("f")  # still responsive
        await wait_for(pilot, lambda: app.filter.failures_only)
        assert app.is_running


async def test_a_failing_key_refetch_is_reported_and_the_app_keeps_running() -> None:
    problems: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, WorkerProblem):
            problems.append(message.message)

    app = make_app(ListSession(fail_refresh=True))
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 6)
        await pilot.press("r")
        await wait_for(pilot, lambda: any("IdP unreachable" in p for p in problems))
        assert "IdP unreachable" in plain(app.status_bar)
        await pilot.press("n")
        assert app.is_running
        assert app.store.counters.worker_errors == 1


async def test_an_unreachable_database_is_shown_in_the_status_bar(env: DemoEnvironment) -> None:
    session = demo_session(env)

    def connect() -> OrdsRepository:
        raise database_error("DPY-6005: cannot connect to database (CONNECTION_ID=x).")

    session._repo = None
    session._connect = connect
    app = InspectorApp(session, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        # The attempts still arrive: the database is not needed to judge them.
        await wait_for(pilot, lambda: app.store.counters.attempts == 7)
        await wait_for(pilot, lambda: "DPY-6005" in plain(app.status_bar))
        assert app.is_running


async def test_a_record_the_analyzer_chokes_on_is_skipped_with_a_message(
    env: DemoEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = demo_session(env)
    real = Analyzer.analyze

    def flaky(self, record, **kwargs):  # type: ignore[no-untyped-def]
        if record.source.line == 4:
            raise RuntimeError("boom on Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.secret")
        return real(self, record, **kwargs)

    # On the class: the session judges with an analyzer derived for the schema's profile.
    monkeypatch.setattr(Analyzer, "analyze", flaky)
    problems: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, WorkerProblem):
            problems.append(message.message)

    app = InspectorApp(session, tick_seconds=3600)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 6)
        await wait_for(pilot, lambda: bool(problems))
        assert ":4: analysis failed: RuntimeError" in problems[0]
        # The problem text is redacted like everything else the screen shows.
        assert "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9" not in problems[0]
        assert app.store.counters.lines == 10


async def test_a_hanging_idp_never_freezes_the_screen(env: DemoEnvironment) -> None:
    env.idp.hang(30)  # far beyond the key store's 2 s timeout
    app = InspectorApp(demo_session(env), tick_seconds=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "fetching" in plain(app.status_bar))
        # The key fetch is stuck in a worker: keys still work, and the bar says why.
        await pilot.press("f")
        await wait_for(pilot, lambda: app.filter.failures_only)
        await pilot.press("question_mark", "escape")
        await wait_for(pilot, lambda: "error" in plain(app.status_bar), timeout=15)
        env.idp.hang(0)
        # Attempts still arrive, judged without a signature check (keys unavailable).
        await wait_for(pilot, lambda: app.store.counters.attempts == 7, timeout=30)
        assert app.is_running
