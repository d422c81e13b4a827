"""The real engine behind the app: loopback IdP, key store, analyzer, ORDS stand-in."""

from __future__ import annotations

from collections.abc import Iterator

from textual.pilot import Pilot
from textual.widgets import Button, Static

from inspector.commands.demo import demo_session as command_demo_session
from inspector.demo.environment import DemoEnvironment, start_demo
from inspector.tui.app import InspectorApp
from inspector.tui.engine_session import EngineSession
from inspector.tui.screens.apply import ApplyScreen
from tests.tui.conftest import plain, wait_for


def written_demo() -> Iterator[DemoEnvironment]:
    """A started demo with its first connection in the log, closed when the test ends."""
    environment = start_demo()
    environment.replayer.write_first_connection()
    try:
        yield environment
    finally:
        environment.close()


def demo_session(env: DemoEnvironment) -> EngineSession:
    """The session ``token-inspector demo`` builds, over the test's environment."""
    session: EngineSession = command_demo_session(env)
    return session


def text_of(app: InspectorApp, selector: str) -> str:
    """What the ``Static`` at ``selector`` on the current screen shows."""
    return plain(app.screen.query_one(selector, Static))


async def open_apply(app: InspectorApp, pilot: Pilot[int]) -> Button:
    """Press a on the selected attempt; the apply modal's confirm button once it is ready."""
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, ApplyScreen))
    button = app.screen.query_one("#apply-confirm", Button)
    await wait_for(pilot, lambda: not button.disabled)
    return button
