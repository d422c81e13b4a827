"""The selected attempt: request, verdicts with explanation and fix, signature, claims."""

from __future__ import annotations

from datetime import tzinfo

from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
from rich.segment import Segment
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from inspector.judge.attempt import Attempt
from inspector.tui.present import Clock, detail
from inspector.tui.theme import app_palette


class RenderedOnce:
    """``renderable`` rendered once per width and reused.

    Textual renders a ``Static``'s content to learn its height, then again to draw it; the
    detail's Rich tables are the costliest part of a frame on a busy log. The height Textual
    passes the second time is left out of the key: neither ``Text`` nor ``Table`` (what
    ``detail`` is made of) reads it.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._key: tuple[object, ...] | None = None  # the console's id is in it: kept alive
        self._console: Console | None = None
        self._segments: list[Segment] = []

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> list[Segment]:
        key = (
            id(console), options.max_width, options.min_width, options.justify, options.overflow,
            options.no_wrap, options.highlight, options.markup, options.is_terminal,
            options.encoding,
        )  # fmt: skip
        if key != self._key:
            self._segments = list(console.render(self.renderable, options))
            self._key = key
            self._console = console
        return self._segments

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


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
        shown = detail(self._attempt, self._clock(), self._tz, app_palette(self.app))
        body.update(RenderedOnce(shown))
