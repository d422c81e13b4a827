"""``?``: every key and what it does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from inspector.tui.theme import app_palette

EXTRA_KEYS = (
    ("↑ ↓ PgUp PgDn", "move in the table (scrolling up stops following)"),
    ("Home  End", "oldest attempt / newest attempt (and follow again)"),
    ("Ctrl+P", "command palette: every action by name"),
    ("Escape", "close a dialog"),
)


def key_names(binding: Binding) -> str:
    """``?  F1``: the binding's display name, then its other keys."""
    first, *others = (k.strip() for k in binding.key.split(","))
    # Function keys as printed on the keyboard: f1 -> F1.
    names = [k.upper() if k[:1] == "f" and k[1:].isdigit() else k for k in others]
    return "  ".join([binding.key_display or first, *names])


class HelpScreen(ModalScreen[None]):
    """A table of the app's bindings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark,f1", "dismiss", "Close", show=False),
    ]

    def __init__(self, bindings: Iterable[BindingType]) -> None:
        super().__init__()
        self._key_list = [b for b in bindings if isinstance(b, Binding)]

    def compose(self) -> ComposeResult:
        """The key table."""
        rows = [(key_names(b), b.tooltip or b.description) for b in self._key_list]
        rows += list(EXTRA_KEYS)
        # A grid: a long meaning wraps in its own column, the keys stay a column to scan.
        grid = Table.grid(padding=(0, 3))
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        key_style = app_palette(self.app)("info", bold=True)
        for key, meaning in rows:
            grid.add_row(Text(key, style=key_style), Text(meaning))
        with Vertical(id="help-box", classes="dialog help"):
            yield Static("Keys", classes="dialog-title")
            # Scrolls on a short terminal, so that the closing line stays in view.
            with VerticalScroll():
                yield Static(grid, id="help-keys")
            yield Static("Escape closes this help.", classes="dim")

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(None)
