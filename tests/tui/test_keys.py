"""Key bindings driven through Pilot on a fixed set of attempts.

The keys that reach the engine (``r``, ``s``, ``c``, ``d``) are tested against the real one
in ``test_engine_keys.py``; ``a`` in ``test_apply_flow.py``.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Input, Static

from inspector.tui.app import InspectorApp
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.reveal import RevealScreen
from inspector.tui.widgets.attempt_table import AttemptTable
from tests.tui.conftest import SIZE, make_app, plain, wait_for
from tests.tui.fixtures import RAW_TOKEN, sample_attempts


def table(app: InspectorApp) -> AttemptTable:
    return app.query_one(AttemptTable)


def static_text(app: InspectorApp, selector: str) -> str:
    return plain(app.screen.query_one(selector, Static))


async def test_attempts_appear_and_the_newest_is_followed() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        assert table(app).cursor_row == 5
        assert app.selected is not None and app.selected.record.status == 200
        assert app.store.counters.failures == 5


async def test_scrolling_up_stops_following() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("up", "up")
        assert table(app).cursor_row == 3
        app.add_attempts(sample_attempts()[:2])
        await wait_for(pilot, lambda: table(app).row_count == 8)
        await pilot.pause()
        assert table(app).cursor_row == 3
        await pilot.press("end")
        app.add_attempts(sample_attempts()[:1])
        await wait_for(pilot, lambda: table(app).cursor_row == 8)


async def test_mouse_wheel_up_stops_following_and_end_resumes() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        for _ in range(6):
            app.add_attempts(sample_attempts())
        await wait_for(pilot, lambda: table(app).cursor_row == 41)
        table(app).post_message(
            events.MouseScrollUp(table(app), 10, 5, 0, 0, 0, False, False, False)
        )
        await wait_for(pilot, lambda: not table(app).following)
        app.add_attempts(sample_attempts()[:2])
        await wait_for(pilot, lambda: table(app).row_count == 44)
        await pilot.pause()
        assert table(app).cursor_row == 41
        await pilot.press("end")
        app.add_attempts(sample_attempts()[:1])
        await wait_for(pilot, lambda: table(app).cursor_row == 44)


async def test_f_shows_failures_only_and_back() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("f")
        assert table(app).row_count == 5
        assert "failures only" in plain(app.status_bar)
        await pilot.press("f")
        assert table(app).row_count == 6


async def test_slash_filters_by_text_and_empty_text_clears() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        await pilot.press(*"graph", "enter")
        await wait_for(pilot, lambda: table(app).row_count == 1)
        assert app.selected is not None
        assert app.selected.verdicts[0].code == "graph-token"
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        inp = app.screen.query_one(Input)
        inp.value = ""
        await pilot.press("enter")
        await wait_for(pilot, lambda: table(app).row_count == 6)


async def test_escape_cancels_the_filter_prompt() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        await pilot.press(*"zzz", "escape")
        await wait_for(pilot, lambda: not isinstance(app.focused, Input))
        assert table(app).row_count == 6
        assert not app.filter.active


async def test_n_and_shift_n_jump_between_failures() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("home")
        assert table(app).cursor_row == 0
        await pilot.press("n")
        assert table(app).cursor_row == 1
        await pilot.press("n", "n", "n")
        assert table(app).cursor_row == 4  # the good token the server refused
        await pilot.press("n")  # no failure below: stays
        assert table(app).cursor_row == 4
        await pilot.press("N")
        assert table(app).cursor_row == 3


async def test_t_reveals_the_token_only_after_the_warning() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RevealScreen))
        assert RAW_TOKEN not in static_text(app, "#token-text")
        await pilot.click("#reveal")
        await wait_for(pilot, lambda: RAW_TOKEN in static_text(app, "#token-text"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RevealScreen))


async def test_t_on_an_attempt_without_token_only_warns() -> None:
    warnings: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify) and message.notification.severity == "warning":
            warnings.append(message.notification.message)

    app = make_app()
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("home")
        await wait_for(pilot, lambda: table(app).cursor_row == 0)
        assert app.selected is not None and app.selected.token is None
        await pilot.press("t")
        # The key was handled once the warning is out; only then is "no reveal" meaningful.
        await wait_for(pilot, lambda: bool(warnings))
        assert warnings == ["Select an attempt that carries a token first."]
        assert not isinstance(app.screen, RevealScreen)
        assert len(app.screen_stack) == 1


async def test_question_mark_lists_every_key() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = static_text(app, "#help-keys")
        for word in ("apply", "PL/SQL", "failed attempts", "filter", "next", "previous",
                     "refetch", "reveal", "doctor", "quit"):  # fmt: skip
            assert word in shown, word
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_q_quits_cleanly() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_command_palette_offers_every_action() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for title in ("Apply profile", "Save SQL", "Copy SQL", "Failures", "Filter", "Next failure",
                  "Previous failure", "Refetch keys", "Reveal token", "Doctor"):  # fmt: skip
        assert title in titles


async def test_memory_is_bounded_and_everything_is_counted() -> None:
    app = make_app(max_attempts=5)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 5)
        for _ in range(3):
            app.add_attempts(sample_attempts())
        await wait_for(pilot, lambda: app.store.counters.attempts == 24)
        assert len(app.store) == 5
        assert table(app).row_count <= 5
        assert app.store.counters.attempts == 24
        assert app.store.counters.dropped == 19
