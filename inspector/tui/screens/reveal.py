"""``t``: the selected token unredacted, behind a warning (tokens are credentials)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from inspector.judge.attempt import Attempt
from inspector.tui.theme import app_palette
from parsers.printable import printable

WARNING = (
    "This token is a credential: anyone who reads it can call the MCP server as this "
    "user until it expires. Make sure nobody is looking over your shoulder or recording "
    "the terminal, and do not paste it into websites."
)


class RevealScreen(ModalScreen[None]):
    """Shows the warning first; the token only after the user presses Reveal."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, attempt: Attempt) -> None:
        super().__init__()
        self._attempt = attempt

    def compose(self) -> ComposeResult:
        """Warning, hidden token, buttons."""
        with Vertical(classes="dialog reveal"):
            yield Static("Reveal token", classes="dialog-title")
            yield Static(Text(WARNING, style=app_palette(self.app)("warn", bold=True)))
            yield Static("", id="token-text")
            with Horizontal(classes="buttons"):
                yield Button("Reveal", id="reveal", variant="warning")
                yield Button("Close", id="close")

    @on(Button.Pressed, "#reveal")
    def _reveal(self) -> None:
        # Unredacted on purpose, but still escaped: the header is attacker-controlled and a
        # real token has nothing printable() changes.
        raw = printable(self._attempt.record.authorization or "")
        self.query_one("#token-text", Static).update(Text(raw, overflow="fold"))
        self.query_one("#reveal", Button).disabled = True

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close (the token is gone from the screen)."""
        self.dismiss(None)
