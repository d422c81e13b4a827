"""``s`` on the doctor screen: the setup plan, a question before each step (the reload
on its own, the command's texts), progress, and failures shown in the dialog (the app
never crashes)."""

from __future__ import annotations

import pytest
from textual.widgets import Button

from inspector.cli.setup_parts import NGINX_QUESTION, ords_question
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


QUESTIONS = (
    ords_question(with_profile=False),
    NGINX_QUESTION,
    "Reload nginx now?",
)


async def answer(
    pilot: object, screen: SetupScreen, question: str, *, yes: bool, timeout: float = 10.0
) -> None:
    """Wait until ``question`` is asked in the dialog, then answer it."""
    button = screen.query_one("#setup-apply", Button)
    cancel = screen.query_one("#setup-cancel", Button)
    # A button ignores presses while it shows the previous one (its "-active" flash).
    await wait_for(
        pilot,
        lambda: (
            question in plain(screen.query_one("#setup-confirm"))
            and not button.disabled
            and not button.has_class("-active")
            and not cancel.has_class("-active")
        ),
        timeout=timeout,
    )
    assert str(button.label) == "Yes"
    assert str(cancel.label) == "No"
    await pilot.click("#setup-apply" if yes else "#setup-cancel")  # type: ignore[attr-defined]


async def test_each_step_is_confirmed_on_its_own_reload_included() -> None:
    session = ListSession()
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_setup(app, pilot)
        button = screen.query_one("#setup-apply", Button)
        await wait_for(pilot, lambda: not button.disabled)
        assert "setup plan for https://mcp.example.com" in plain(screen.query_one("#setup-plan"))
        assert "asks before each step" in plain(screen.query_one("#setup-confirm"))
        await pilot.click("#setup-apply")
        for n, question in enumerate(QUESTIONS):
            await answer(pilot, screen, question, yes=True)
            # Nothing of a step is done before its own question was answered.
            await wait_for(pilot, lambda n=n: len(session.setup_done) == n + 1)  # type: ignore[misc]
        await wait_for(pilot, lambda: str(button.label) == "Close")
        assert session.setup_answers == [(q, True) for q in QUESTIONS]
        assert session.setup_applied == 1
        progress = plain(screen.query_one("#setup-progress"))
        assert "nginx -t" in progress and "reload" in progress
        assert "nginx and ORDS set up" in plain(screen.query_one("#setup-confirm"))


@pytest.mark.parametrize("declined", range(3))
async def test_a_no_stops_there(declined: int) -> None:
    session = ListSession()
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_setup(app, pilot)
        button = screen.query_one("#setup-apply", Button)
        await wait_for(pilot, lambda: not button.disabled)
        await pilot.click("#setup-apply")
        for question in QUESTIONS[:declined]:
            await answer(pilot, screen, question, yes=True)
        await answer(pilot, screen, QUESTIONS[declined], yes=False)
        await wait_for(pilot, lambda: str(button.label) == "Close")
        assert session.setup_answers[-1] == (QUESTIONS[declined], False)
        assert len(session.setup_done) == declined and session.setup_applied == 0
        assert "declined" in plain(screen.query_one("#setup-confirm"))
        assert isinstance(app.screen, SetupScreen)


async def test_escape_at_a_question_is_no_and_keeps_the_dialog() -> None:
    session = ListSession()
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_setup(app, pilot)
        button = screen.query_one("#setup-apply", Button)
        await wait_for(pilot, lambda: not button.disabled)
        await pilot.click("#setup-apply")
        await wait_for(pilot, lambda: QUESTIONS[0] in plain(screen.query_one("#setup-confirm")))
        await pilot.press("escape")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        assert session.setup_answers == [(QUESTIONS[0], False)] and session.setup_done == []
        assert isinstance(app.screen, SetupScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))


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
            for question in QUESTIONS:
                await answer(pilot, screen, question, yes=True)
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
    outcome = session.setup_apply(view, lambda *_: None, lambda _: True)
    assert not outcome.ok and outcome.summary == "no MCP URL"
