"""What the apply dialog (``a``) and the setup dialog (``s``) share: a plan to read in a
scroll, a line for confirmations and results, the progress, Apply and Cancel, and the
outcome shown in the dialog when the engine is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from inspector.tui.present import Role, shown
from inspector.tui.session import ApplyOutcome, Session
from inspector.tui.theme import app_palette


@dataclass(frozen=True, slots=True)
class DialogParts:
    """The dialog's title, CSS class and widget ids (tests and the stylesheet use them)."""

    title: str
    kind: str
    loading: str
    scroll: str
    plan: str
    confirm: str
    progress: str
    apply: str
    cancel: str


class PlanDialog(ModalScreen[ApplyOutcome | None]):
    """Dismisses with the outcome after an apply, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    PARTS: ClassVar[DialogParts]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._session = session
        self._busy = False
        self._outcome: ApplyOutcome | None = None

    def compose(self) -> ComposeResult:
        """Plan (filled by a worker), confirmation, progress, buttons."""
        parts = self.PARTS
        with Vertical(classes=f"dialog {parts.kind}"):
            yield Static(parts.title, classes="dialog-title")
            with VerticalScroll(id=parts.scroll):
                yield Static(parts.loading, id=parts.plan)
            yield Static("", id=parts.confirm)
            yield Static("", id=parts.progress)
            with Horizontal(classes="buttons"):
                yield Button("Apply", id=parts.apply, variant="error", disabled=True)
                yield Button("Cancel", id=parts.cancel)

    def _style(self, role: Role) -> str:
        return app_palette(self.app)(role, bold=True)

    def _show_outcome(self, outcome: ApplyOutcome) -> Button:
        """Record ``outcome`` and show it; returns the Apply button, to become Close."""
        self._busy = False
        self._outcome = outcome
        style = self._style("ok" if outcome.ok else "error")
        lines = [Text(("✔ " if outcome.ok else "✘ ") + shown(outcome.summary), style=style)]
        lines += [Text(f"  {shown(d)}") for d in outcome.details]
        self.query_one(f"#{self.PARTS.confirm}", Static).update(Group(*lines))
        button = self.query_one(f"#{self.PARTS.apply}", Button)
        button.label = "Close"
        button.disabled = False
        return button
