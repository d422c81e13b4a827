"""Snapshots of the main screen (80, 120 and 200 columns), the detail pane, the apply modal
and help (also at 80 columns).

Deterministic: fixed attempts (judged by the analyzer's status step), a fixed clock
(countdowns), UTC, a fixed terminal size.
Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button

from inspector.tui.screens.apply import ApplyScreen
from inspector.tui.screens.help import HelpScreen
from tests.tui.conftest import SIZE, make_app, wait_for
from tests.tui.fixtures import ListSession

SnapCompare = Callable[..., bool]


async def rows_loaded(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: pilot.app.table.row_count == 6)  # type: ignore[attr-defined]


# A laptop's split pane, a common default window, a wide monitor.
WIDTHS = {80: 30, 120: 36, 200: 50}


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_main_screen(snap_compare: SnapCompare, width: int) -> None:
    """Outcome and cause next to the time at every width; the request's end shown."""
    size = (width, WIDTHS[width])
    assert snap_compare(make_app(), terminal_size=size, run_before=rows_loaded)


def test_detail_pane_of_a_failure(snap_compare: SnapCompare) -> None:
    async def select_wrong_role(pilot: Pilot[Any]) -> None:
        await rows_loaded(pilot)
        await pilot.press("home", "n", "n", "n")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=select_wrong_role)


def test_demo_banner_and_failures_only(snap_compare: SnapCompare) -> None:
    async def failures(pilot: Pilot[Any]) -> None:
        await rows_loaded(pilot)
        await pilot.press("f")
        await pilot.pause()

    app = make_app(ListSession(demo=True))
    assert snap_compare(app, terminal_size=SIZE, run_before=failures)


def test_apply_modal(snap_compare: SnapCompare) -> None:
    async def open_apply(pilot: Pilot[Any]) -> None:
        await rows_loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApplyScreen))
        button = pilot.app.screen.query_one("#apply-confirm", Button)
        await wait_for(pilot, lambda: not button.disabled)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_apply)


async def open_help(pilot: Pilot[Any]) -> None:
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    await pilot.pause()


def test_help(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_help)


def test_help_at_80_columns(snap_compare: SnapCompare) -> None:
    """Every key with its long description, in a terminal that fits only five in the footer."""
    assert snap_compare(make_app(), terminal_size=(80, 30), run_before=open_help)
