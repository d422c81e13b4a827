"""``s`` on the doctor screen: the setup plan, a two-press confirmation, progress, and
failures shown in the dialog (the app never crashes)."""

from __future__ import annotations

import pytest
from textual.widgets import Button

from inspector.tui.screens.doctor import DoctorScreen
from inspector.tui.screens.setup import SetupScreen
from tests.tui.conftest import SIZE, make_app, plain, wait_for
from tests.tui.fixtures import ListSession


async def open_setup(app: object, pilot: object) -> SetupScreen:
    await pilot.press("d")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, DoctorScreen))  # type: ignore[arg-type, attr-defined]
    await pilot.press("s")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))  # type: ignore[arg-type, attr-defined]
    screen: SetupScreen = app.screen  # type: ignore[attr-defined]
    return screen


async def test_plan_then_two_presses_apply_with_progress() -> None:
    session = ListSession()
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_setup(app, pilot)
        button = screen.query_one("#setup-apply", Button)
        await wait_for(pilot, lambda: not button.disabled)
        assert "setup plan for https://mcp.example.com" in plain(screen.query_one("#setup-plan"))
        await pilot.click("#setup-apply")
        assert session.setup_applied == 0  # the first press only asks
        assert "Press Apply again" in plain(screen.query_one("#setup-confirm"))
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.click("#setup-apply")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        assert session.setup_applied == 1
        progress = plain(screen.query_one("#setup-progress"))
        assert "nginx -t" in progress and "reload" in progress
        assert "nginx and ORDS set up" in plain(screen.query_one("#setup-confirm"))


@pytest.mark.parametrize("where", ["plan", "apply"])
async def test_a_failing_setup_is_shown_not_raised(where: str) -> None:
    session = ListSession(fail_setup=where)
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_setup(app, pilot)
        button = screen.query_one("#setup-apply", Button)
        if where == "plan":
            await wait_for(
                pilot, lambda: "Cannot apply" in plain(screen.query_one("#setup-confirm"))
            )
            assert "MCP URL unreachable" in plain(screen.query_one("#setup-plan"))
            assert button.disabled
        else:
            await wait_for(pilot, lambda: not button.disabled)
            await pilot.click("#setup-apply")
            await wait_for(pilot, lambda: not button.has_class("-active"))
            await pilot.click("#setup-apply")
            await wait_for(pilot, lambda: str(button.label) == "Close")
            assert "reload failed" in plain(screen.query_one("#setup-confirm"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert app.is_running


def test_watch_session_without_url_explains_how_to_get_setup() -> None:
    from pathlib import Path

    from inspector.cli.configure import settings_from_args
    from inspector.cli.main import build_parser
    from inspector.cli.watch import build_session
    from inspector.settings import Settings

    root = Path(__file__).resolve().parents[2]
    args = build_parser().parse_args(
        ["watch", "--no-db", "--jwks", "samples/jwks.json", str(root / "samples/extended.log")]
    )
    session = build_session(args, settings_from_args(args, base=Settings()))
    view = session.setup_plan()
    assert view.refusal == "no MCP URL" and "--mcp-url" in view.text
    outcome = session.setup_apply(view, lambda *_: None)
    assert not outcome.ok and outcome.summary == "no MCP URL"
