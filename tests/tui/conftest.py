"""Helpers for driving the app with Pilot: bounded waits on conditions, never sleeps."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path

import pytest
import trustme
from textual.pilot import Pilot

from inspector.tui.app import InspectorApp
from inspector.tui.session import Session
from tests.support.faulty_idp import FaultyIdP
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


@pytest.fixture
def https_idp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyIdP]:
    """A loopback IdP over https, its test CA trusted for this test.

    Its ``jwks_uri`` is one ORDS would take (https), so the real proposal, PL/SQL script
    and apply can be made from its tokens.
    """
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with FaultyIdP(scheme="https", ssl_context=context) as idp:
        yield idp


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
