"""``?``: every key and what it does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA_KEYS = (
    ("↑ ↓ PgUp PgDn Home End", "move in the table (scrolling up stops following)"),
    ("Ctrl+P", "command palette: every action by name"),
    ("Escape", "close a dialog"),
)

LONG_HELP: dict[str, str] = {
    "apply": "apply the ORDS profile the selected token needs (diff, PL/SQL, checks first)",
    "save_sql": "save the PL/SQL script for the selected token to a file",
    "copy_sql": "copy that PL/SQL script to the clipboard",
    "toggle_failures": "show failed attempts only / everything",
    "filter": "filter the table by text (client, subject, path, verdict code…)",
    "next_failure": "next failed attempt",
    "previous_failure": "previous failed attempt",
    "refetch_keys": "refetch every issuer's metadata and signing keys",
    "reveal": "reveal the selected token unredacted (it is a credential)",
    "doctor": "doctor: check the whole discovery chain (challenge, metadata, JWKS, profile)",
    "help": "this help",
    "quit": "quit",
}


class HelpScreen(ModalScreen[None]):
    """A table of the app's bindings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def __init__(self, bindings: Iterable[BindingType]) -> None:
        super().__init__()
        self._key_list = [b for b in bindings if isinstance(b, Binding)]

    def compose(self) -> ComposeResult:
        """The key table."""
        rows = [
            (b.key_display or b.key, LONG_HELP.get(b.action, b.description)) for b in self._key_list
        ]
        rows += list(EXTRA_KEYS)
        width = max(len(key) for key, _ in rows) + 3
        text = Text()
        for key, meaning in rows:
            text.append(key.ljust(width), style="bold cyan")
            text.append(meaning + "\n")
        with Vertical(id="help-box", classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(text, id="help-keys")
            yield Static("Escape closes this help.", classes="dim")

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(None)
