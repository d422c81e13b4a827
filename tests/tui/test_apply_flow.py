"""The apply flow (``a``): confirm, cancel, failure with restore, unverified tokens.

Driven against the real engine: tokens minted by the loopback IdP, keys fetched from it,
the configurator's proposal and apply, and the in-memory ORDS stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Button

from inspector.demo.environment import DemoEnvironment
from inspector.demo.scenario import afterwards
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.verdicts import Outcome
from inspector.tui.app import InspectorApp
from inspector.tui.screens.apply import ApplyScreen
from tests.tui.conftest import SIZE, wait_for
from tests.tui.engine_support import demo_session, open_apply, text_of, written_demo
from tests.tui.fixtures import ListSession


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    yield from written_demo()


async def test_confirm_applies_and_following_attempts_turn_green(env: DemoEnvironment) -> None:
    app = InspectorApp(demo_session(env), tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        last = app.selected
        assert last is not None and last.outcome is Outcome.FAIL
        assert last.token is not None and last.token.verified is True
        button = await open_apply(app, pilot)
        plan = text_of(app, "#plan")
        assert "create_jwt_profile" in plan.lower()
        assert env.idp.issuer_v2 in plan
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        assert "applied" in text_of(app, "#confirm-warning")
        assert app.focused is button
        # A button ignores presses while its press animation runs (double-click guard).
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))
        profile = env.repository.get_profile()
        assert profile is not None and profile.issuer == env.idp.issuer_v2
        assert profile.role_claim_name == "/roles"
        await wait_for(pilot, lambda: app.profile == profile)
        # The connector retries: ORDS (the stand-in) now accepts it, and so does the screen.
        env.replayer.write(next(r for r in afterwards(env.tokens) if r.token == env.tokens.good))
        await wait_for(pilot, lambda: app.store.counters.attempts == 8 and not app.store.pending)
        newest = app.selected
        assert newest is not None
        assert newest.record.status == 200
        assert newest.outcome is Outcome.OK, [v.code for v in newest.verdicts]
        assert env.audit.read()[-1]["result"] == "applied"


async def test_cancel_writes_nothing(env: DemoEnvironment) -> None:
    app = InspectorApp(demo_session(env), tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        await open_apply(app, pilot)
        await pilot.click("#apply-cancel")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))
        assert env.repository.get_profile() is None
        assert env.audit.read() == []


async def test_failure_restores_the_previous_profile(env: DemoEnvironment) -> None:
    # What an admin typed by hand from a v1 token: the v1 issuer and App ID URI.
    previous = JwtProfile(
        issuer=env.idp.issuer_v1,
        audience=f"api://{env.idp.api_app_id}",
        jwk_url=env.idp.jwks_uri_v1,
    )
    env.repository.set_profile(previous)
    env.repository.fail("create_profile")
    app = InspectorApp(demo_session(env), tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        await wait_for(pilot, lambda: app.profile == previous)
        button = await open_apply(app, pilot)
        assert env.idp.issuer_v1 in text_of(app, "#plan")  # the diff shows what is there now
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        result = text_of(app, "#confirm-warning")
        assert "not applied" in result
        assert "restore" in result
        progress = text_of(app, "#progress")
        assert "create" in progress and "failed" in progress
        assert env.repository.get_profile() == previous
        assert app.is_running


async def test_unverified_token_needs_a_second_confirmation() -> None:
    session = ListSession()
    app = InspectorApp(session, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 6)
        await pilot.press("home", "n", "n")  # the Graph token: signature not checked
        assert app.selected is not None and app.selected.token is not None
        assert app.selected.token.verified is None
        button = await open_apply(app, pilot)
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: "NOT verified" in text_of(app, "#confirm-warning"))
        assert session.applied == []
        assert "unverified" in str(button.label)
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: len(session.applied) == 1)


async def test_no_database_refuses_apply_but_offers_sql(env: DemoEnvironment) -> None:
    session = demo_session(env)
    session._repo = None  # as with --no-db
    app = InspectorApp(session, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ApplyScreen))
        await wait_for(pilot, lambda: "Cannot apply" in text_of(app, "#confirm-warning"))
        assert app.screen.query_one("#apply-confirm", Button).disabled
