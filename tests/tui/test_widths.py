"""The live screen at any width: outcome and cause always in view, the request's end shown,
five keys in the footer, the rest in help (? or F1) and in the palette."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.cells import cell_len
from textual.widgets._footer import FooterKey

from inspector.tui.present import request_cell, table_columns, tail_fit
from inspector.tui.screens.help import HelpScreen
from tests.tui.conftest import make_app, plain, wait_for
from tests.tui.fixtures import ListSession, record, sample_attempts

ESSENTIAL = {"apply", "toggle_failures", "filter", "help", "quit"}


@pytest.mark.parametrize("available", [60, 76, 116, 156, 196, 300])
def test_outcome_and_cause_beside_the_time_at_every_width(available: int) -> None:
    keys = [c.key for c in table_columns(available)]
    assert keys[:3] == ["time", "outcome", "cause"]
    assert keys[-1] == "request"


@pytest.mark.parametrize("available", [76, 116, 156, 196])
def test_the_columns_fill_the_width_without_overflow(available: int) -> None:
    columns = table_columns(available)
    assert sum(c.width + 2 for c in columns) == available


def test_the_request_keeps_its_method_and_the_end_of_its_path() -> None:
    assert request_cell("POST", "/ords/finance_reporting/mcp/server", 17) == "POST …/mcp/server"
    assert request_cell("GET", "/ords/hr/mcp/", 40) == "GET /ords/hr/mcp/"
    assert tail_fit("/a/bcdef", 4) == "…def"
    # Wide characters count as two cells: the cut never overflows the column.
    assert cell_len(tail_fit("/ä/" + "日本語" * 5, 9)) <= 9


def test_the_cut_comes_after_redaction() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    cell = request_cell("GET", f"/ords/x?access_token={jwt}&a=1", 30)
    assert "c2lnbmF0dXJl" not in cell and "eyJzdWIi" not in cell


@pytest.mark.parametrize("width", [80, 120, 200])
async def test_the_live_table_at_width(width: int) -> None:
    app = make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        table = app.table
        await wait_for(pilot, lambda: table.row_count == 6)
        keys = table.column_keys
        assert keys[:3] == ("time", "outcome", "cause")
        row = dict(zip(keys, (str(c) for c in table.get_row_at(4)), strict=True))
        assert row["outcome"] == "✘ fail" and row["cause"] == "rejected-by-server"
        assert row["request"].startswith("POST ") and row["request"].endswith("/mcp/server")
        # Nothing hides behind a horizontal scroll.
        assert table.virtual_size.width <= table.size.width


async def test_the_table_lays_itself_out_again_when_the_terminal_narrows() -> None:
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 6)
        assert "idp" in app.table.column_keys
        await pilot.resize_terminal(80, 30)
        await wait_for(pilot, lambda: "idp" not in app.table.column_keys)
        assert app.table.row_count == 6
        assert app.table.cursor_row == 5  # still following the newest
        assert str(app.table.get_row_at(5)[1]) == "✔ ok"


async def test_a_long_path_shows_its_end_on_screen() -> None:
    path = "/ords/hr/_/a/very/long/module/path/that/goes/on/mcp/server"
    attempts = sample_attempts()
    last = attempts[-1]
    assert last.record.time is not None
    attempts[-1] = replace(last, record=record(30, at=last.record.time, status=200, path=path))
    app = make_app(ListSession(attempts=attempts))
    async with app.run_test(size=(80, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 6)
        request = str(app.table.get_row_at(5)[-1])
        assert request.endswith("mcp/server") and "…" in request


async def test_the_footer_shows_the_essential_keys_only() -> None:
    app = make_app()
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        shown = {key.action for key in app.screen.query(FooterKey)}
        assert shown >= ESSENTIAL
        assert not shown & {"save_sql", "copy_sql", "next_failure", "reveal", "doctor"}


async def test_f1_opens_help_and_help_lists_every_key_with_its_long_description() -> None:
    app = make_app()
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = plain(app.screen.query_one("#help-keys"))
        for meaning in ("reveal the selected token unredacted", "save the PL/SQL script"):
            assert meaning in text
        await pilot.press("f1")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_palette_entries_carry_the_long_description_and_the_key() -> None:
    app = make_app()
    async with app.run_test(size=(80, 30)):
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
    assert "reveal the selected token unredacted" in commands["Reveal token"]
    assert "(key t)" in commands["Reveal token"]
    assert "(key N)" in commands["Previous failure"]


async def test_a_long_table_is_laid_out_again_once_the_width_settles() -> None:
    app = make_app(ListSession(attempts=sample_attempts() * 100))
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 600)
        app.table.move_cursor(row=10, animate=False)  # reading an old row: not following
        await pilot.pause()
        for width in (160, 120, 100, 80):
            await pilot.resize_terminal(width, 30)
        await wait_for(pilot, lambda: "subject" not in app.table.column_keys)
        assert app.table.row_count == 600
        assert app.table.cursor_row == 10  # the row the user was reading
        request = str(app.table.get_row_at(10)[-1])
        assert request.startswith("POST …") and request.endswith("/mcp/server")
