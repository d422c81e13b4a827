"""Helpers for driving the app with Pilot: bounded waits on conditions, never sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC

import pytest
from textual.pilot import Pilot

from inspector.tui.app import InspectorApp
from inspector.tui.session import Session
from tests.tui.fixtures import ListSession, fixed_clock

SIZE = (160, 48)


async def wait_for(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


def make_app(session: Session | None = None, **kwargs: object) -> InspectorApp:
    """The app on a fixed clock, in UTC, ticking slowly (tests drive time themselves)."""
    return InspectorApp(
        session or ListSession(),
        clock=fixed_clock,
        tz=UTC,
        tick_seconds=3600,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def list_session() -> ListSession:
    return ListSession()


def plain(widget: object) -> str:
    """What a ``Static`` shows, as plain text (Rich renderables rendered 200 columns wide)."""
    import io

    from rich.console import Console

    content = widget.content  # type: ignore[attr-defined]
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), color_system=None, record=True)
    console.print(content)
    return console.export_text()
