"""``d``: the doctor's checks of the discovery chain, streamed as they complete."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from inspector.tui.feed import problem_text
from inspector.tui.present import Role, shown
from inspector.tui.screens.setup import SetupScreen
from inspector.tui.session import Session
from inspector.tui.theme import app_palette

STATUS_STYLE: dict[str, tuple[str, Role | None]] = {
    "pass": ("✔", "ok"),
    "warn": ("▲", "warn"),
    "fail": ("✘", "error"),
    "skip": ("·", None),
}


class DoctorScreen(ModalScreen[None]):
    """Runs ``Session.doctor`` in a worker and appends each finding as it arrives."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("s", "setup", "Set up"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._session = session
        self._lines: list[Text] = []

    def compose(self) -> ComposeResult:
        """Findings list."""
        with Vertical(classes="dialog doctor"):
            yield Static("Doctor: the discovery chain a connector walks", classes="dialog-title")
            with VerticalScroll():
                yield Static("Running checks…", id="findings")
            yield Static("s plans the server-side setup. Escape closes.", classes="dim")

    def on_mount(self) -> None:
        """Start the checks."""
        self._run()

    @work(thread=True, exit_on_error=False, name="doctor")
    def _run(self) -> None:
        try:
            self._session.doctor(
                lambda status, code, message: self.app.call_from_thread(
                    self._add, status, code, message
                )
            )
        except Exception as exc:  # shown in the dialog; the app goes on
            self.app.call_from_thread(self._add, "fail", "doctor-error", problem_text(exc))
        self.app.call_from_thread(self._add, "skip", "done", "all checks finished")

    def _add(self, status: str, code: str, message: str) -> None:
        symbol, role = STATUS_STYLE.get(status, ("?", None))
        style = app_palette(self.app)(role) if role else "dim"
        # Findings quote what the IdP's and the server's documents say.
        self._lines.append(Text.assemble((f"{symbol} {shown(code)}", style), "  ", shown(message)))
        self.query_one("#findings", Static).update(Text("\n").join(self._lines))

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

    def action_setup(self) -> None:
        """Plan (and on confirmation apply) the server side for the session's MCP URL."""
        self.app.push_screen(SetupScreen(self._session))
