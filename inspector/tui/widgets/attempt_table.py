"""The live table of attempts: newest at the bottom, followed unless the user moved away.

Rows arrive by the thousand on a busy log, so what ``DataTable`` does per row and per change
is kept to the rows on screen. Its generic paths cost a pass over every row, or a Rich
render of every cell, for each row added: measuring each new cell for column widths (ours
are fixed), listing all rows and their line offsets again after any change (ours are all
one line, appended, never sorted), and re-rendering every visible cell after any change
(its cell cache is keyed by a change counter). The overrides below keep its behaviour and
drop that work; they lean on ``DataTable``'s internals, which the table's tests and the
screen's snapshots pin.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo
from typing import ClassVar

from rich.cells import cell_len
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual._two_way_dict import TwoWayDict
from textual._types import SegmentLines
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.renderables.styled import Styled
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, CellType, ColumnKey, DuplicateKey, Row, RowKey

from inspector.tui.model import Entry
from inspector.tui.present import COLUMNS, PLAIN, Column, Palette, row_cells, table_columns

# Columns are laid out for this width until the table knows its own.
FIRST_WIDTH = 156
# A table with this many rows waits for the width to settle before laying them out again.
SETTLE_ROWS = 500
SETTLE_SECONDS = 0.2
# Rendered cells kept across changes: a screenful of rows is a few hundred.
CELL_CACHE = 4096
# Rendered cell contents, whatever their row: outcome, cause, status, client, IdP (and the
# time, within a second) repeat from row to row on a busy log.
CONTENT_CACHE = 4096
# Drawn lines kept across changes, by row: a few screenfuls.
LINE_CACHE = 1024


class _RowCells:
    """A row's cells, made when the row is first drawn or read: on a busy log most rows
    scroll past unseen, and making the cells (redaction, escaping, styles) is most of
    what a row costs."""

    __slots__ = ("_cells", "_entry", "_make")

    def __init__(self, make: Callable[[Entry], list[Text]], entry: Entry) -> None:
        self._make: Callable[[Entry], list[Text]] | None = make
        self._entry: Entry | None = entry
        self._cells: list[Text] = []

    def cells(self) -> list[Text]:
        """The row's cells, made on the first call."""
        if self._make is not None and self._entry is not None:
            self._cells = self._make(self._entry)
            self._make = self._entry = None
        return self._cells


class _LazyCell:
    """One cell of a ``_RowCells``; ``AttemptTable.get_row`` hands out the real ``Text``."""

    __slots__ = ("index", "row")

    def __init__(self, row: _RowCells, index: int) -> None:
        self.row = row
        self.index = index

    def text(self) -> Text:
        """The cell's ``Text``."""
        return self.row.cells()[self.index]

    def __rich__(self) -> Text:
        return self.text()

    def __str__(self) -> str:
        return str(self.text())


def _real(cell: object) -> object:
    return cell.text() if isinstance(cell, _LazyCell) else cell


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
        # Set before DataTable's own set-up, which may already list the rows.
        self._ordered: list[Row] = []
        self._cell_cache: LRUCache[tuple[object, ...], SegmentLines] = LRUCache(CELL_CACHE)
        self._content_cache: LRUCache[tuple[object, ...], SegmentLines] = LRUCache(CONTENT_CACHE)
        self._row_line_cache: LRUCache[tuple[object, ...], Strip] = LRUCache(LINE_CACHE)
        self._cells_version = 0
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

    # ---- DataTable's per-row costs, kept to the rows on screen ------------------------------

    @property
    def ordered_rows(self) -> list[Row]:
        """The rows top to bottom, kept up to date as rows come and go (never sorted)."""
        return self._ordered

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: Text | str | None = None,
    ) -> RowKey:
        """``DataTable.add_row`` for one-line rows without label (what the overrides assume)."""
        if height != 1 or label is not None:
            raise ValueError("an AttemptTable row is one line, without label")
        row_key = super().add_row(*cells, height=1, key=key)
        self._ordered.append(self.rows[row_key])
        return row_key

    def clear(self, columns: bool = False) -> AttemptTable:
        """``DataTable.clear``, and the row list with it."""
        self._ordered = []
        super().clear(columns)
        return self

    def get_row(self, row_key: RowKey | str) -> list[object]:
        """``DataTable.get_row``: the row's cells as ``Text`` (what the table draws)."""
        return [_real(cell) for cell in super().get_row(row_key)]

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> object:
        """``DataTable.get_cell``, as ``Text``."""
        return _real(super().get_cell(row_key, column_key))

    def _add_rows(self, entries: Sequence[Entry]) -> None:
        """``add_row`` for each entry, with the cells made when first drawn, and the
        cursor bookkeeping ``add_row`` does per row done once."""
        columns = self.ordered_columns
        start = self.row_count
        make = self._cells
        for offset, entry in enumerate(entries):
            row_key = RowKey(entry.key)
            if row_key in self._row_locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            cells = _RowCells(make, entry)
            self._row_locations[row_key] = start + offset
            self._data[row_key] = {
                column.key: _LazyCell(cells, index) for index, column in enumerate(columns)
            }
            row = Row(row_key, 1)
            self.rows[row_key] = row
            self._new_rows.add(row_key)
            self._ordered.append(row)
            self._seqs.append(entry.seq)
            self._entries.append(entry)
        if not entries:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if start == 0 and columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    @property
    def _total_row_height(self) -> int:
        return self.row_count  # every row is one line

    def _get_offsets(self, y: int) -> tuple[RowKey, int]:
        if self.show_header:
            if y < self.header_height:
                return self._header_row_key, y
            y -= self.header_height
        if not 0 <= y < len(self._ordered):
            raise LookupError(f"Y coord {y!r} is greater than total height")
        return self._ordered[y].key, 0

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
            return
        # Fixed widths: the new cells need no measuring, only the scrollable size changes.
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        size = Size(width + self._row_label_column_width, self.row_count + header)
        old = self.virtual_size
        visible = self.container_size.height
        if (
            size.width == old.width
            and min(size.height, old.height) > visible > 0
            and self.show_vertical_scrollbar
        ):
            # More (or fewer) rows than fit before and after: only the scrollbar's thumb
            # changes. ``virtual_size`` set as usual lays the whole screen out again (and
            # draws every widget) on every frame that adds rows; the table's own size does
            # not depend on its rows (height 1fr).
            self.set_reactive(AttemptTable.virtual_size, size)
            self._scroll_update(size)
            self.refresh()
            return
        self.virtual_size = size

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        if any(column.auto_width for column in self.columns.values()):
            super()._update_column_widths(updated_cells)
            return
        self._require_update_dimensions = True

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        # DataTable's own cache is keyed by its change counter, which every added row moves:
        # here a cell is rendered again only when it, its place or its look changed.
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        key = (
            row_key, row_index, column_index, base_style, width, cursor, hover,
            self._show_hover_cursor, self.show_cursor, self.cursor_type,
            self._pseudo_class_state, self._cells_version,
        )  # fmt: skip
        lines = self._cell_cache.get(key)
        if lines is None:
            lines = self._render_data_cell(
                row_index, column_index, base_style, width, cursor, hover
            )
            if lines is None:
                lines = super()._render_cell(
                    row_index, column_index, base_style, width, cursor=cursor, hover=hover
                )
            self._cell_cache[key] = lines
        return lines

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        # DataTable's line cache is keyed by its change counter and the cursor's place, both
        # of which move with every frame that adds rows: every visible line was drawn again
        # although only the new rows changed. Here a row's line is drawn again only when
        # the row, its place, whether the cursor or the mouse is on it, or its look changed.
        header = self.header_height if self.show_header else 0
        if self.cursor_type != "row" or y < header or not 0 <= y - header < len(self._ordered):
            return super()._render_line(y, x1, x2, base_style)
        row_index = y - header
        row_key = self._ordered[row_index].key
        key = (
            row_key, row_index, x1, x2, self.size.width, base_style,
            self.cursor_coordinate.row == row_index, self.hover_coordinate.row == row_index,
            self.show_cursor, self._show_hover_cursor, self.zebra_stripes, self.fixed_rows,
            self.fixed_columns, self.show_row_labels, self._pseudo_class_state,
            self._cells_version,
        )  # fmt: skip
        strip = self._row_line_cache.get(key)
        if strip is None:
            strip = super()._render_line(y, x1, x2, base_style)
            self._row_line_cache[key] = strip
        return strip

    def _render_data_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> SegmentLines | None:
        """A one-line ``Text`` cell as ``DataTable._render_cell`` renders it, its content
        rendered once for every row showing the same text; None for any other cell.

        ``DataTable`` adds the cell's coordinates to the style as metadata (for the mouse)
        before rendering; here they are added to the rendered segments, which gives the
        same segments: the metadata holds no colour or attribute to combine.
        """
        if row_index < 0 or column_index < 0 or row_index < self.fixed_rows:
            return None
        if column_index < self.fixed_columns:
            return None
        cell = self._get_row_renderables(row_index).cells[column_index]
        if not isinstance(cell, Text) or "\n" in cell.plain:
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
        )  # fmt: skip
        pre_style = base_style + component_style
        key = (
            cell.plain, tuple(cell.spans), cell.style, cell.justify, cell.overflow, cell.no_wrap,
            cell.end, cell.tab_size, width, pre_style, post_style, self.cell_padding,
        )  # fmt: skip
        content = self._content_cache.get(key)
        if content is None:
            content = self._from_probe(cell, width, pre_style, post_style)
        if content is None:
            content = self._render_text(cell, width, pre_style, post_style)
            self._content_cache[key] = content
        meta = Style.from_meta({"row": row_index, "column": column_index})
        return [
            [
                Segment(text, style + meta if style else meta, control)
                for text, style, control in line
            ]
            for line in content
        ]

    def _render_text(
        self, cell: Text, width: int, pre_style: Style, post_style: Style
    ) -> SegmentLines:
        """``cell`` as ``DataTable._render_cell`` renders a one-line cell (without metadata)."""
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        padded = Padding(cell, (0, self.cell_padding))
        styled = Styled(padded, pre_style=pre_style, post_style=post_style)
        return self.app.console.render_lines(styled, options)

    def _from_probe(
        self, cell: Text, width: int, pre_style: Style, post_style: Style
    ) -> SegmentLines | None:
        """A short plain cell (one style over all its text) as its probe renders: the same
        cell with the text ``x`` gives the styles of the padding, the text and the filling;
        only the text and the filling's length differ. None for any other cell."""
        plain = cell.plain
        text_width = width - 2 * self.cell_padding
        used = cell_len(plain)
        if not plain or used > text_width - 1 or not plain.isprintable():
            return None
        spans = cell.spans
        if spans and (len(spans) > 1 or spans[0].start != 0 or spans[0].end != len(plain)):
            return None
        probe_spans = tuple((0, 1, span.style) for span in spans)
        key = ("probe", probe_spans, cell.style, cell.justify, cell.overflow, cell.no_wrap,
               cell.end, width, pre_style, post_style, self.cell_padding)  # fmt: skip
        probe = self._content_cache.get(key)
        if probe is None:
            text = Text("x", style=cell.style, justify=cell.justify, overflow=cell.overflow,
                        no_wrap=cell.no_wrap, end=cell.end)  # fmt: skip
            for start, end, style in probe_spans:
                text.stylize(style, start, end)
            probe = self._render_text(text, width, pre_style, post_style)
            self._content_cache[key] = probe
        if len(probe) != 1:
            return None
        line = probe[0]
        pad = self.cell_padding
        expected = [" " * pad, "x", " " * (text_width - 1), " " * pad] if pad else []
        if [segment.text for segment in line] != expected:
            return None
        left, shown, fill, right = line
        out = [left, Segment(plain, shown.style, shown.control)]
        if used < text_width:
            out.append(Segment(" " * (text_width - used), fill.style, fill.control))
        out.append(right)
        return [out]

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_cache.clear()
        self._content_cache.clear()
        self._row_line_cache.clear()

    def notify_style_update(self) -> None:
        """The styles changed: every cell is rendered again."""
        self._cell_cache.clear()
        self._content_cache.clear()
        self._row_line_cache.clear()
        super().notify_style_update()

    def _drop_first(self, count: int) -> None:
        """Remove the top ``count`` rows in one pass (``remove_row`` is a pass per row)."""
        gone, self._ordered = self._ordered[:count], self._ordered[count:]
        for row in gone:
            del self.rows[row.key]
            for column_key in self._data.pop(row.key):
                self._updated_cells.discard(CellKey(row.key, column_key))
        self._row_locations = TwoWayDict({row.key: i for i, row in enumerate(self._ordered)})
        self._update_count += 1
        self._require_update_dimensions = True
        self.check_idle()
        self.refresh()

    # ---- attempts ---------------------------------------------------------------------------

    @property
    def column_keys(self) -> tuple[str, ...]:
        """Keys of the columns shown, left to right (a subset of ``COLUMNS``)."""
        return tuple(c.key for c in self._layout)

    def _cells(self, entry: Entry) -> list[Text]:
        """The row of ``entry`` in the columns shown, as laid out and coloured now."""
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

    def _row_of(self, seq: int) -> int | None:
        """The row showing ``seq``, if any (rows are in ``seq`` order)."""
        row = bisect_left(self._seqs, seq)
        return row if row < len(self._seqs) and self._seqs[row] == seq else None

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
        self._add_rows(entries)
        if follow:
            self._settle_dimensions()
            self.move_cursor(row=self.row_count - 1, animate=False)

    def _settle_dimensions(self) -> None:
        """The scrollable size for the rows just added, now rather than when idle.

        ``move_cursor`` scrolls at once when the size is settled, else after the next
        refresh: the newest rows were then painted a frame later than they were added.
        """
        if not self._require_update_dimensions or self._updated_cells:
            return
        self._require_update_dimensions = False
        new_rows = self._new_rows.copy()
        self._new_rows.clear()
        self._update_dimensions(new_rows)

    def rebuild(self, entries: Sequence[Entry], keep: int | None) -> None:
        """Replace every row (filter changed, or dropping old rows); keep the selection."""
        self.clear()
        self._seqs = []
        self._entries = []
        self._add_rows(entries)
        if not self._seqs:
            return
        kept = None if keep is None else self._row_of(keep)
        self.move_cursor(row=len(self._seqs) - 1 if kept is None else kept, animate=False)

    def trim(self, oldest: int, entries: Sequence[Entry], keep: int | None) -> None:
        """Drop the rows of attempts older than ``oldest``, then append ``entries`` (those
        still kept): the same rows and selection as ``rebuild`` with what is kept, without
        laying out every row again."""
        follow = self.following
        count = bisect_left(self._seqs, oldest)
        if count:
            self._drop_first(count)
            del self._seqs[:count]
            del self._entries[:count]
        self.append([e for e in entries if e.seq >= oldest])
        if follow or not self._seqs:
            self.move_cursor(row=len(self._seqs) - 1, animate=False)
            return
        kept = None if keep is None else self._row_of(keep)
        self.move_cursor(row=len(self._seqs) - 1 if kept is None else kept, animate=False)

    def update(self, entry: Entry) -> None:
        """Show ``entry`` in the row of its ``seq`` (an attempt judged again); no-op if hidden."""
        row = self._row_of(entry.seq)
        if row is None:
            return
        self._entries[row] = entry
        self._cells_version += 1
        for column, value in zip(self._layout, self._cells(entry), strict=True):
            self.update_cell(entry.key, column.key, value)

    def select_seq(self, seq: int) -> None:
        """Move the cursor to the row of ``seq`` (no-op when it is hidden)."""
        row = self._row_of(seq)
        if row is not None:
            self.move_cursor(row=row, animate=False)

    def action_follow(self) -> None:
        """End: jump to the newest attempt and follow again."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def action_first(self) -> None:
        """Home: the oldest attempt kept."""
        if self.row_count:
            self.move_cursor(row=0, animate=False)
