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
        self._options: ConsoleOptions | None = None
        self._segments: list[Segment] = []
        # Lines of the last rendering; None until rendered.
        self.height: int | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> list[Segment]:
        key = (
            id(console), options.max_width, options.min_width, options.justify, options.overflow,
            options.no_wrap, options.highlight, options.markup, options.is_terminal,
            options.encoding,
        )  # fmt: skip
        if key != self._key:
            self._segments = list(console.render(self.renderable, options))
            self.height = sum(1 for _ in Segment.split_lines(self._segments))
            self._key = key
            self._console = console
            self._options = options
        return self._segments

    def render_like(self, drawn: RenderedOnce) -> int | None:
        """Render now as ``drawn`` was last drawn (same console and options, so Textual's
        draw reuses it); the height in lines, None when ``drawn`` was never drawn."""
        if drawn._console is None or drawn._options is None:
            return None
        self.__rich_console__(drawn._console, drawn._options)
        return self.height

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
        once = RenderedOnce(shown)
        # A layout reflows the whole screen (a third of a frame's work on a busy feed), and
        # the next attempt's detail is nearly always as tall as the last: rendered now as
        # the last one was drawn, it is drawn without a layout when its height is the same.
        drawn = body.content
        same = (
            isinstance(drawn, RenderedOnce)
            and drawn.height == body.size.height
            and once.render_like(drawn) == drawn.height
        )
        body.update(once, layout=not same)
