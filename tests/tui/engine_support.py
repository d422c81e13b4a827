"""The real engine behind the app: loopback IdP, key store, analyzer, ORDS stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from unittest import mock

from textual.pilot import Pilot
from textual.widgets import Button, Static

from inspector.cli.configure import settings_from_args
from inspector.cli.demo import demo_session as command_demo_session
from inspector.cli.main import build_parser
from inspector.cli.watch import build_session
from inspector.demo.environment import DemoEnvironment, start_demo
from inspector.demo.replay import time_local
from inspector.settings import Settings
from inspector.tui.app import InspectorApp
from inspector.tui.engine_session import EngineSession
from inspector.tui.screens.apply import ApplyScreen
from parsers.nginx.conf import EXTENDED_TEMPLATE
from parsers.nginx.log_format import compile_format, parse_log_format_string
from tests.support.faulty_idp import FaultyIdP
from tests.support.faulty_ords import FaultyOrds
from tests.tui.conftest import plain, wait_for


def written_demo() -> Iterator[DemoEnvironment]:
    """A started demo with its first connection in the log, closed when the test ends.

    Its IdP and stand-in are the tests' subclasses, whose failures tests switch on.
    """
    with (
        mock.patch("inspector.demo.environment.LocalIdP", FaultyIdP),
        mock.patch("inspector.demo.environment.InMemoryOrds", FaultyOrds),
    ):
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


# ---- a ``watch`` session over a log the test writes -----------------------------------------

EXTENDED_PARSER = compile_format(parse_log_format_string(EXTENDED_TEMPLATE, name="extended"))


def log_line(
    *,
    path: str = "/ords/demo/mcp/",
    status: int = 401,
    authorization: str | None = None,
    ua: str = "ChatGPT-User/1.0",
    method: str = "POST",
    when: datetime | None = None,
) -> str:
    """One line as nginx writes it in the reference ``extended`` format (escapes included)."""
    moment = when or datetime.now().astimezone()
    return EXTENDED_PARSER.render(
        {
            "remote_addr": "20.171.207.1",
            "time_local": time_local(moment),
            "request": f"{method} {path} HTTP/1.1",
            "status": str(status),
            "body_bytes_sent": "0",
            "http_user_agent": ua,
            "http_content_type": "application/json",
            "http_authorization": authorization,
            "http_mcp_protocol_version": "2025-06-18",
        }
    )


def watch_session(log: Path, *flags: str) -> EngineSession:
    """The session ``token-inspector watch --dsn memory: --from-start ... LOG`` builds.

    The real log pipeline, key store, analyzer, proposal, in-memory ORDS stand-in and (with
    ``--mcp-url``) doctor; no configuration file is read.
    """
    args = build_parser().parse_args(
        ["watch", "--dsn", "memory:", "--from-start", "--log-format", EXTENDED_TEMPLATE,
         "--http-timeout", "5", *flags, str(log)]
    )  # fmt: skip
    session: EngineSession = build_session(args, settings_from_args(args, base=Settings()))
    return session
