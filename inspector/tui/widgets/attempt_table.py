"""The live table of attempts: newest at the bottom, followed unless the user moved away."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.timer import Timer
from textual.widgets import DataTable

from inspector.tui.model import Entry
from inspector.tui.present import COLUMNS, PLAIN, Column, Palette, row_cells, table_columns

# Columns are laid out for this width until the table knows its own.
FIRST_WIDTH = 156
# A table with this many rows waits for the width to settle before laying them out again.
SETTLE_ROWS = 500
SETTLE_SECONDS = 0.2


class AttemptTable(DataTable[object]):
    """One row per attempt, keyed by the entry's sequence number."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end", "follow", "Follow newest", show=False),
        Binding("home", "first", "Oldest", show=False),
    ]

    DEFAULT_CSS = """
    AttemptTable { height: 1fr; }
    """

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._tz = tz
        self._seqs: list[int] = []
        # The rows' entries, kept to lay the rows out again when the width changes.
        self._entries: list[Entry] = []
        self._layout: tuple[Column, ...] = ()
        self._request_width: int | None = None
        self._palette = PLAIN
        self._relayout: Timer | None = None
        # Set when the user scrolls the view up with the mouse wheel: the cursor may still
        # sit on the newest row, but the user is reading older ones.
        self.scrolled_away = False

    def on_mount(self) -> None:
        """Columns for a wide table; ``on_resize`` fits them to the real width."""
        self._lay_out(FIRST_WIDTH)

    def set_palette(self, palette: Palette) -> None:
        """Colour the rows with ``palette`` (the theme changed): every row is redrawn."""
        if palette == self._palette:
            return
        self._palette = palette
        entries, keep, follow = self._entries, self.selected_seq, self.following
        self.rebuild(entries, None if follow else keep)

    def on_resize(self, _: events.Resize) -> None:
        """Fit the columns to the new width (the request column absorbs the change)."""
        # The event's size includes the border: the content's is what the columns share.
        # The vertical scrollbar's room is always reserved: a row more or less must not
        # change the layout (and rebuild every row).
        if self._relayout is not None:
            self._relayout.stop()
            self._relayout = None
        if len(self._entries) < SETTLE_ROWS:
            self._fit_width()
        else:
            # Dragging a window edge sends a resize per column: rebuild many rows once,
            # when the width has settled.
            self._relayout = self.set_timer(SETTLE_SECONDS, self._fit_width)

    def _fit_width(self) -> None:
        self._relayout = None
        self._lay_out(self.size.width - self.styles.scrollbar_size_vertical)

    def _lay_out(self, available: int) -> None:
        layout = table_columns(available, self.cell_padding)
        if layout == self._layout:
            return
        keep = self.selected_seq
        follow = self.following
        self.clear(columns=True)
        self._layout = layout
        self._request_width = next(c.width for c in layout if c.key == "request")
        for column in layout:
            self.add_column(column.label, key=column.key, width=column.width)
        entries, self._entries, self._seqs = self._entries, [], []
        self.rebuild(entries, None if follow else keep)

    @property
    def column_keys(self) -> tuple[str, ...]:
        """Keys of the columns shown, left to right (a subset of ``COLUMNS``)."""
        return tuple(c.key for c in self._layout)

    def _cells(self, entry: Entry) -> list[Text]:
        shown = row_cells(entry.attempt, self._tz, self._request_width, self._palette)
        cells = dict(zip(COLUMNS, shown, strict=True))
        return [cells[c.key] for c in self._layout]

    @property
    def following(self) -> bool:
        """True when new rows should pull the view down: cursor on the newest row, and the
        user has not scrolled up with the mouse (or the table is empty)."""
        if self.row_count == 0:
            return True
        return self.cursor_row >= self.row_count - 1 and not self.scrolled_away

    def on_mouse_scroll_up(self, _: events.MouseScrollUp) -> None:
        """Wheel up: stop following until the user comes back to the bottom."""
        if self.max_scroll_y > 0:
            self.scrolled_away = True

    def on_mouse_scroll_down(self, _: events.MouseScrollDown) -> None:
        """Wheel down to the bottom: follow again."""
        if self.scroll_y >= self.max_scroll_y - 1:
            self.scrolled_away = False

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        """Keyboard or click navigation: the cursor says where the user is."""
        super().watch_cursor_coordinate(old, new)
        self.scrolled_away = False

    @property
    def selected_seq(self) -> int | None:
        """Sequence number of the highlighted attempt, if any."""
        if self.row_count == 0 or not 0 <= self.cursor_row < len(self._seqs):
            return None
        return self._seqs[self.cursor_row]

    @property
    def seqs(self) -> Sequence[int]:
        """Sequence numbers of the rows, top to bottom."""
        return self._seqs

    def append(self, entries: Sequence[Entry]) -> None:
        """Add rows at the bottom; keep following the newest when we were following."""
        if not entries:
            return
        follow = self.following
        for entry in entries:
            self.add_row(*self._cells(entry), key=entry.key)
            self._seqs.append(entry.seq)
            self._entries.append(entry)
        if follow:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def rebuild(self, entries: Sequence[Entry], keep: int | None) -> None:
        """Replace every row (filter changed, or dropping old rows); keep the selection."""
        self.clear()
        self._seqs = []
        self._entries = []
        for entry in entries:
            self.add_row(*self._cells(entry), key=entry.key)
            self._seqs.append(entry.seq)
            self._entries.append(entry)
        if not self._seqs:
            return
        target = len(self._seqs) - 1
        if keep is not None and keep in self._seqs:
            target = self._seqs.index(keep)
        self.move_cursor(row=target, animate=False)

    def update(self, entry: Entry) -> None:
        """Show ``entry`` in the row of its ``seq`` (an attempt judged again); no-op if hidden."""
        if entry.seq not in self._seqs:
            return
        self._entries[self._seqs.index(entry.seq)] = entry
        for column, value in zip(self._layout, self._cells(entry), strict=True):
            self.update_cell(entry.key, column.key, value)

    def select_seq(self, seq: int) -> None:
        """Move the cursor to the row of ``seq`` (no-op when it is hidden)."""
        if seq in self._seqs:
            self.move_cursor(row=self._seqs.index(seq), animate=False)

    def action_follow(self) -> None:
        """End: jump to the newest attempt and follow again."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def action_first(self) -> None:
        """Home: the oldest attempt kept."""
        if self.row_count:
            self.move_cursor(row=0, animate=False)
