"""``a`` on a verified token whose issuer nobody anchored: a second, explicit confirmation.

The demo's own session trusts its IdP (one confirmation: test_apply_flow covers it). Here
the same story runs with a key store that may discover the loopback IdP (the lab opt-in)
but anchors nothing, as on a host whose admin named no trusted or expected issuer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from inspector.demo.environment import DemoEnvironment
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.keys.store import KeyStore
from inspector.tui.app import InspectorApp
from inspector.tui.screens.apply import ApplyScreen
from tests.tui.conftest import SIZE, wait_for
from tests.tui.engine_support import demo_session, open_apply, text_of, written_demo


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    yield from written_demo()


def _unanchored(env: DemoEnvironment) -> DemoEnvironment:
    keys = KeyStore(allow_private=True, http=env.keys.http)
    return dataclasses.replace(env, keys=keys, analyzer=Analyzer(keys, Expectations()))


async def test_unanchored_issuer_needs_a_second_confirmation(env: DemoEnvironment) -> None:
    app = InspectorApp(demo_session(_unanchored(env)), tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        last = app.selected
        assert last is not None and last.token is not None and last.token.verified is True
        button = await open_apply(app, pilot)
        plan = text_of(app, "#plan")
        assert "NOT anchored" in plan
        assert "signature matches keys published by its own issuer" in plan
        await pilot.click("#apply-confirm")
        warning = ""

        def warned() -> bool:
            nonlocal warning
            warning = text_of(app, "#confirm-warning")
            return "NOT anchored" in warning

        await wait_for(pilot, warned)
        assert repr(env.idp.issuer_v2) in warning.replace("\n", "")
        assert "can sign tokens ORDS accepts" in warning.replace("\n", " ")
        assert str(button.label) == "Yes, trust this issuer"
        assert env.repository.get_profile() is None
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        assert "applied" in text_of(app, "#confirm-warning")
        profile = env.repository.get_profile()
        assert profile is not None and profile.issuer == env.idp.issuer_v2
        assert "forced despite: unanchored-issuer" in env.audit.read()[-1]["detail"]


async def test_cancel_after_the_trust_warning_writes_nothing(env: DemoEnvironment) -> None:
    app = InspectorApp(demo_session(_unanchored(env)), tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        await open_apply(app, pilot)
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: "NOT anchored" in text_of(app, "#confirm-warning"))
        await pilot.click("#apply-cancel")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))
        assert env.repository.get_profile() is None
