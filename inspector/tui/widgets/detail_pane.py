"""The selected attempt: request, verdicts with explanation and fix, signature, claims."""

from __future__ import annotations

from datetime import tzinfo

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from inspector.judge.attempt import Attempt
from inspector.tui.present import Clock, detail
from inspector.tui.theme import app_palette


class DetailPane(VerticalScroll):
    """Re-rendered on selection and every second, so countdowns stay live."""

    DEFAULT_CSS = """
    DetailPane { border: round $primary; border-title-align: left; padding: 0 1; }
    DetailPane > Static { width: 1fr; }
    """

    def __init__(self, *, clock: Clock, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._tz = tz
        self._attempt: Attempt | None = None
        self.border_title = "Attempt"

    def compose(self) -> ComposeResult:
        """A single Static holding the rendered attempt."""
        yield Static("No attempt yet: waiting for connector requests…", id="detail-body")

    @property
    def attempt(self) -> Attempt | None:
        """The attempt shown."""
        return self._attempt

    def show(self, attempt: Attempt | None) -> None:
        """Show ``attempt`` (None: the placeholder)."""
        changed = attempt is not self._attempt
        self._attempt = attempt
        self.tick()
        if changed:
            self.scroll_home(animate=False)

    def tick(self) -> None:
        """Re-render with the current time (live relative countdowns)."""
        found = self.query("#detail-body").results(Static)
        body = next(found, None)
        if body is None:  # the app's timer can fire while the screen is torn down
            return
        if self._attempt is None:
            body.update("No attempt selected.")
            return
        body.update(detail(self._attempt, self._clock(), self._tz, app_palette(self.app)))
