"""A one-line question (filter text, file name): Enter answers, Escape cancels."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    """Dismisses with the text entered, or None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", *, title: str = "") -> None:
        super().__init__()
        self._question = question
        self._value = value
        self._title = title

    def compose(self) -> ComposeResult:
        """Question and input."""
        with Vertical(classes="dialog prompt"):
            # Text, not markup: a question may quote a path or an error message.
            if self._title:
                yield Static(Text(self._title), classes="dialog-title")
            yield Static(Text(self._question), id="prompt-question")
            yield Input(value=self._value, id="prompt-input")
            yield Static("Enter to confirm, Escape to cancel.", classes="dim")

    def on_mount(self) -> None:
        """Focus the input."""
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Escape: no answer."""
        self.dismiss(None)
