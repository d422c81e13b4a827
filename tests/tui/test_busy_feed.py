"""A busy log on the live screen: work per frame and per row stays bounded, what is shown
stays the same as one row at a time would show it.

Nothing here is timed: the tests count work (rows laid out, detail renders, batches shown)
and compare what is drawn. Speed is measured by ``bench/tui_bench.py``.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable, Static

from inspector.tui.app import BUSY_ROWS_PER_SECOND, DETAIL_SECONDS, InspectorApp
from inspector.tui.feed import Batch
from inspector.tui.messages import AttemptsAdded
from inspector.tui.present import detail
from inspector.tui.widgets.attempt_table import AttemptTable
from inspector.tui.widgets.detail_pane import RenderedOnce
from tests.tui.conftest import SIZE, make_app, wait_for
from tests.tui.fixtures import ListSession, fixed_clock, sample_attempts


def quiet_app(**kwargs: Any) -> InspectorApp:
    """The app with a feed that brings nothing: the test adds the attempts."""
    return make_app(ListSession(attempts=[]), **kwargs)


def batch_of(count: int) -> Batch:
    batch = Batch()
    while len(batch.attempts) < count:
        for attempt in sample_attempts()[: count - len(batch.attempts)]:
            batch.add(attempt)
    return batch


def table_lines(table: AttemptTable) -> list[str]:
    """The table as drawn: every visible line's text and styles."""
    return [
        "".join(f"{seg.text}|{seg.style}" for seg in table.render_line(y))
        for y in range(table.size.height)
    ]


def count_layouts(monkeypatch: pytest.MonkeyPatch, which: Callable[[Widget], bool]) -> list[Widget]:
    """The widgets ``which`` picks, once per refresh that asks for a layout, from now on."""
    layouts: list[Widget] = []
    real = Widget.refresh

    def counting(self: Widget, *args: Any, **kwargs: Any) -> Widget:
        if kwargs.get("layout") and which(self):
            layouts.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Widget, "refresh", counting)
    return layouts


async def test_rows_are_laid_out_only_when_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    real = AttemptTable._cells

    def counting(self: AttemptTable, entry: Any) -> Any:
        made.append(entry.seq)
        return real(self, entry)

    monkeypatch.setattr(AttemptTable, "_cells", counting)
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            app.add_attempts(sample_attempts() * 10)
        await wait_for(pilot, lambda: app.table.row_count == 3000)
        await pilot.pause()
        # A few screenfuls, not 3,000: the rows that scrolled past were never laid out.
        assert 0 < len(made) <= 3 * app.table.size.height < 100
        assert max(made) == 2999
        # Read through the table's API, a row's cells are its Text as ever.
        assert str(app.table.get_row_at(0)[1]) == "✘ fail"
        assert str(app.table.get_cell("0", "outcome")) == "✘ fail"


async def test_feed_batches_within_a_frame_are_shown_together() -> None:
    app = quiet_app()
    added: list[int] = []

    async with app.run_test(size=SIZE, message_hook=lambda m: _count(m, added)) as pilot:
        await pilot.pause()
        for _ in range(10):
            app._receive(batch_of(3))  # what the feed's worker does, ten times in a row
        await wait_for(pilot, lambda: app.table.row_count == 30)
        await pilot.pause()
        # At most the first batch at once (unless a frame was just drawn), then the ones
        # that came before the next frame together: not ten screen updates.
        assert len(added) <= 2 and sum(added) == 30
        assert app.store.counters.attempts == 30
        assert app.table.selected_seq == 29


def _count(message: object, added: list[int]) -> None:
    if isinstance(message, AttemptsAdded):
        added.append(message.count)


async def test_a_busy_feed_renders_the_detail_a_few_times_a_second_and_ends_on_the_newest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shows: list[object] = []
    app = quiet_app()
    real = app.detail.show

    def counting(attempt: Any) -> None:
        shows.append(attempt)
        real(attempt)

    monkeypatch.setattr(app.detail, "show", counting)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        started = time.monotonic()
        for _ in range(40):
            app.ingest(batch_of(6))  # 240 rows: far over BUSY_ROWS_PER_SECOND
        elapsed = time.monotonic() - started
        newest = app.store.get(239)
        assert newest is not None
        await wait_for(pilot, lambda: app.detail.attempt is newest.attempt)
        # Every batch until the feed is busy, then once per DETAIL_SECONDS at most, and
        # the last: not 40 times.
        before_busy = BUSY_ROWS_PER_SECOND / 6 + 1
        assert len(shows) <= before_busy + 1 + elapsed / DETAIL_SECONDS < 40
        assert app.profile_panel._attempt is newest.attempt
        # The user moving away is shown at once, busy feed or not.
        await pilot.press("home")
        await pilot.pause()
        first = app.store.get(0)
        assert first is not None and app.detail.attempt is first.attempt


async def test_the_seconds_tick_leaves_the_detail_to_a_busy_feed() -> None:
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        body = app.detail.query_one("#detail-body", Static)
        app.ingest(batch_of(1))
        await pilot.pause()
        quiet = body.visual
        app._tick()  # a quiet feed: the countdowns are drawn again every second
        assert body.visual is not quiet
        for _ in range(20):
            app.ingest(batch_of(6))  # 120 rows: over BUSY_ROWS_PER_SECOND
        newest = app.store.get(120)
        assert newest is not None
        await wait_for(pilot, lambda: app.detail.attempt is newest.attempt)
        busy = body.visual
        # As if the detail were drawn and the rows came just now, whatever this machine's
        # speed: the feed draws the detail (with the time) DETAIL_SECONDS at most apart.
        now = time.monotonic()
        app._recent_rows.append((now, 120))
        app._last_detail = now
        app._tick()
        assert body.visual is busy


async def test_a_quiet_feed_shows_every_selection_at_once() -> None:
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for n in range(6):
            app.ingest(batch_of(1))
            entry = app.store.get(n)
            assert entry is not None and app.detail.attempt is entry.attempt


async def test_trimming_old_rows_draws_what_a_rebuild_draws() -> None:
    app = quiet_app(max_attempts=40)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(20):
            app.ingest(batch_of(5))
        await pilot.pause()
        table = app.table
        assert [e.seq for e in app.store] == list(range(60, 100))
        assert table.seqs == list(range(60, 100))
        assert table.selected_seq == 99
        trimmed = table_lines(table)
        table.rebuild(list(app.store), None)
        await pilot.pause()
        assert table_lines(table) == trimmed


async def test_a_frame_draws_again_only_the_rows_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[object] = []
    real = DataTable._render_line_in_row

    def counting(self: DataTable[Any], row_key: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(row_key)
        return real(self, row_key, *args, **kwargs)

    monkeypatch.setattr(DataTable, "_render_line_in_row", counting)
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(20):
            app.ingest(batch_of(5))
        await pilot.pause()
        table = app.table
        assert table.selected_seq == 99
        table_lines(table)
        drawn.clear()
        app.ingest(batch_of(3))  # the view scrolls by three rows, the cursor follows
        await pilot.pause()
        lines = table_lines(table)
        # The three new rows and the row the cursor left (and the header), not every row
        # on screen again.
        assert {key.value for key in drawn} - {None} == {"99", "100", "101", "102"}
        # What a table drawing every line from scratch shows.
        table._clear_caches()
        assert table_lines(table) == lines
        # The mouse over a row, a theme: drawn again.
        table._set_hover_cursor(True)
        table.hover_coordinate = table.cursor_coordinate._replace(row=table.cursor_row - 1)
        hovered = table_lines(table)
        assert hovered != lines
        table._clear_caches()
        assert table_lines(table) == hovered
        app.theme = "textual-light"
        await pilot.pause()
        light = table_lines(table)
        table._clear_caches()
        assert table_lines(table) == light != hovered


async def test_rows_added_to_a_scrolling_table_ask_for_no_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A layout arranges (and draws) the whole screen; rows added to a table that scrolls
    # already change only its scrollbar's thumb.
    layouts = count_layouts(monkeypatch, lambda widget: isinstance(widget, AttemptTable))
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(20):
            app.ingest(batch_of(5))
        await pilot.pause()
        table = app.table
        assert table.show_vertical_scrollbar
        layouts.clear()
        for _ in range(5):
            app.ingest(batch_of(3))
            await pilot.pause()
        assert not layouts
        # Scrolled to the newest row, the scrollbar's thumb sized for every row.
        assert table.virtual_size.height == 115 + table.header_height
        assert table.vertical_scrollbar.window_virtual_size == table.virtual_size.height
        assert table.scroll_y == table.max_scroll_y > 0
        assert table.selected_seq == 114
        bar = table.vertical_scrollbar
        drawn = table_lines(table)
        thumb = bar.render_lines(bar.region.reset_offset)
        # What a layout of the same rows draws.
        table.refresh(layout=True)
        await pilot.pause()
        assert table_lines(table) == drawn
        assert bar.render_lines(bar.region.reset_offset) == thumb


async def test_trimming_keeps_the_row_the_user_is_reading() -> None:
    app = quiet_app(max_attempts=40)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(8):
            app.ingest(batch_of(5))
        await pilot.pause()
        table = app.table
        table.select_seq(30)
        await pilot.pause()
        assert not table.following
        for _ in range(3):
            app.ingest(batch_of(5))
            await pilot.pause()
            assert table.selected_seq == 30
        assert table.seqs == list(range(app.store.oldest_seq, 55))
        assert app.store.oldest_seq == 15
        visible = table.size.height - 1  # below the header
        assert table.scroll_y <= table.cursor_row < table.scroll_y + visible
        first = app.store.get(30)
        assert first is not None and app.detail.attempt is first.attempt


async def test_the_profile_panel_is_drawn_again_only_when_what_it_shows_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.profile_panel
        updates: list[object] = []
        real = panel.update

        def counting(*args: Any, **kwargs: Any) -> None:
            updates.append(args)
            real(*args, **kwargs)

        monkeypatch.setattr(panel, "update", counting)
        attempts = sample_attempts()
        panel.set_attempt(attempts[4])
        panel.set_attempt(attempts[5])  # another token needing the same profile values
        assert len(updates) == 1
        panel.set_attempt(attempts[1])  # a v1 token: another issuer
        assert len(updates) == 2


def test_rendered_once_draws_what_the_renderable_draws() -> None:
    shown = detail(sample_attempts()[3], fixed_clock(), None)
    console = Console(width=120, file=io.StringIO(), color_system="truecolor", record=True)
    once = RenderedOnce(shown)
    direct = list(console.render(shown, console.options))
    assert list(console.render(once, console.options)) == direct
    # Textual draws with the height it measured; the detail does not read it.
    assert list(console.render(shown, console.options.update(height=5))) == direct
    assert list(console.render(once, console.options.update(height=5))) == direct
    narrow = console.options.update_width(60)
    assert list(console.render(once, narrow)) == list(console.render(shown, narrow)) != direct


class CountingText:
    """A renderable that counts how often Rich renders it."""

    def __init__(self) -> None:
        self.renders = 0

    def __rich_console__(self, console: Console, options: Any) -> Any:
        self.renders += 1
        yield from console.render(Text("line one\nline two"), options)


async def test_the_detail_body_is_rendered_once_to_measure_and_draw_it() -> None:
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        body = app.detail.query_one("#detail-body", Static)
        bare = CountingText()
        body.update(bare)
        await pilot.pause()
        assert bare.renders >= 2  # Textual: for the height, then to draw
        once = CountingText()
        body.update(RenderedOnce(once))
        await pilot.pause()
        assert once.renders == 1
        app.ingest(batch_of(4))
        await pilot.pause()
        assert isinstance(body.content, RenderedOnce)


async def test_cells_rendered_once_per_content_equal_the_data_tables_own() -> None:
    from tests.tui.test_hostile_display import hostile_attempt

    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.ingest(batch_of(12))
        batch = Batch()
        batch.add(hostile_attempt())
        app.ingest(batch)
        await pilot.pause()
        table = app.table
        base = table.rich_style
        compared = 0
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            for row in range(table.row_count):
                row_style = table._get_row_style(row, base)
                for column, spec in enumerate(table.ordered_columns):
                    width = spec.get_render_width(table)
                    for cursor, hover in ((False, False), (True, False), (False, True)):
                        ours = table._render_cell(row, column, row_style, width, cursor, hover)
                        table._cell_render_cache.clear()
                        theirs = DataTable._render_cell(
                            table, row, column, row_style, width, cursor, hover
                        )
                        assert ours == theirs, (theme, row, column, cursor, hover)
                        compared += 1
        assert compared == 2 * 13 * len(table.ordered_columns) * 3
        # Rows with the same cell text share one render of it; most short cells are
        # made from a probe's render (the same cell with the text "x").
        keys = list(table._content_cache.keys())
        assert len(keys) < compared
        assert sum(1 for k in keys if k[0] == "probe") >= 2 * len(table.ordered_columns)


def test_frames_come_less_often_when_drawing_them_costs_more() -> None:
    from inspector.tui.app import FRAME_SECONDS, MAX_FRAME_SECONDS, UI_SHARE, frame_interval

    assert frame_interval(0.0) == FRAME_SECONDS
    assert frame_interval(0.005) == FRAME_SECONDS
    # A frame that cost 60 ms of the UI thread: the next one after 60 / UI_SHARE ms.
    assert frame_interval(0.06) == pytest.approx(0.06 / UI_SHARE)
    assert frame_interval(5.0) == MAX_FRAME_SECONDS


async def test_the_detail_is_laid_out_again_only_when_its_height_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A layout reflows the whole screen; the next attempt's detail is nearly always as
    # tall as the last one's, and is then drawn in the size it has.
    layouts = count_layouts(monkeypatch, lambda widget: widget.id == "detail-body")
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        body = app.detail.query_one("#detail-body", Static)
        tall = sample_attempts()[4]
        app.detail.show(tall)
        await pilot.pause()
        await wait_for(pilot, lambda: body.size.height == _drawn_height(body) > 0)
        layouts.clear()
        app.detail.show(dataclasses.replace(tall, client="another client"))
        await pilot.pause()
        await pilot.pause()
        assert not layouts
        assert body.size.height == _drawn_height(body)
        drawn = body.render_lines(body.region.reset_offset)
        body.refresh(layout=True)
        await pilot.pause()
        assert body.render_lines(body.region.reset_offset) == drawn
        layouts.clear()
        short = sample_attempts()[0]  # no token: a shorter detail
        app.detail.show(short)
        await wait_for(pilot, lambda: body.size.height == _drawn_height(body))
        assert layouts
        assert body.size.height < len(drawn)


def _drawn_height(body: Static) -> int | None:
    content = body.content
    return content.height if isinstance(content, RenderedOnce) else None


async def test_rows_added_while_following_are_scrolled_to_in_the_same_frame() -> None:
    # The scroll to the newest row waited for a refresh (the table's size was settled when
    # idle): the rows were painted one frame after they were added.
    app = quiet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.table
        for _ in range(20):
            app.ingest(batch_of(5))
            await pilot.pause()
        assert table.scroll_y == table.max_scroll_y > 0
        app.ingest(batch_of(3))
        # Before any refresh: already scrolled to the newest row.
        assert table.virtual_size.height == 103 + table.header_height
        assert table.scroll_y == table.max_scroll_y
        assert table.selected_seq == 102
        drawn = table_lines(table)
        assert "|" in drawn[-1]
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y
        assert table_lines(table) == drawn


def test_frames_take_more_of_the_ui_thread_when_the_log_is_judged_elsewhere() -> None:
    from inspector.tui.app import UI_SHARE, UI_SHARE_ALONE, frame_interval

    class JudgedElsewhere(ListSession):
        judge_process = object()  # what EngineSession has after start_judge_process

    assert UI_SHARE_ALONE > UI_SHARE
    assert make_app(ListSession()).frame_share == UI_SHARE
    assert make_app(JudgedElsewhere()).frame_share == UI_SHARE_ALONE
    assert frame_interval(0.06, UI_SHARE_ALONE) == pytest.approx(0.06 / UI_SHARE_ALONE)
