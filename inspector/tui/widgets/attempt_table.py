"""The live table of attempts: newest at the bottom, followed unless the user moved away."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from inspector.tui.model import Entry
from inspector.tui.present import COLUMNS, row_cells


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
        # Set when the user scrolls the view up with the mouse wheel: the cursor may still
        # sit on the newest row, but the user is reading older ones.
        self.scrolled_away = False

    def on_mount(self) -> None:
        """Columns are fixed; widths chosen for a 160-column terminal, the request shrinks."""
        widths = (8, 12, 34, 6, 24, 9, 8, None)
        for name, width in zip(COLUMNS, widths, strict=True):
            self.add_column(name, key=name.lower(), width=width)

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
            self.add_row(*row_cells(entry.attempt, self._tz), key=entry.key)
            self._seqs.append(entry.seq)
        if follow:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def rebuild(self, entries: Sequence[Entry], keep: int | None) -> None:
        """Replace every row (filter changed, or dropping old rows); keep the selection."""
        self.clear()
        self._seqs = []
        for entry in entries:
            self.add_row(*row_cells(entry.attempt, self._tz), key=entry.key)
            self._seqs.append(entry.seq)
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
        for name, value in zip(COLUMNS, row_cells(entry.attempt, self._tz), strict=True):
            self.update_cell(entry.key, name.lower(), value)

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
