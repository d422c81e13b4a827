"""Two lines at the bottom: what is followed and counted, keys per issuer, the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from rich.text import Text
from textual.widgets import Static

from inspector.tui.model import Counters, Filter
from inspector.tui.present import PLAIN, Palette, shown
from inspector.tui.theme import app_palette


@dataclass(slots=True)
class StatusInfo:
    """Everything the status bar shows; the app updates it and calls ``StatusBar.show``."""

    files: Sequence[str] = ()
    counters: Counters = field(default_factory=Counters)
    keys: Mapping[str, str] = field(default_factory=dict)
    database: str = "not connected"
    filter: Filter = field(default_factory=Filter)
    problem: str | None = None
    following: bool = True
    # "extended.log:15: expected '\"' after $status" (already redacted by the parser).
    last_parse_failure: str | None = None


def status_text(info: StatusInfo, palette: Palette = PLAIN) -> Text:
    """The status bar's two lines."""
    c = info.counters
    names = shown(", ".join(PurePath(f).name or f for f in info.files) or "no file")
    line1 = Text.assemble(
        ("files ", "dim"),
        names,
        ("  lines ", "dim"),
        f"{c.lines:,}",
        ("  attempts ", "dim"),
        f"{c.attempts:,}",
        ("  failed ", "dim"),
        (f"{c.failures:,}", palette("error") if c.failures else ""),
        ("  parse failures ", "dim"),
        (f"{c.parse_failures:,}", palette("warn") if c.parse_failures else ""),
        ("  rotations ", "dim"),
        f"{c.rotations + c.truncations}",
    )
    if c.dropped:
        line1.append(f"  dropped {c.dropped:,} oldest", style="dim")
    if info.filter.active:
        active = []
        if info.filter.failures_only:
            active.append("failures only")
        if info.filter.text:
            active.append(f"text {info.filter.text!r}")
        line1.append(f"  filter: {shown(', '.join(active))}", style=palette("accent", bold=True))
    if not info.following:
        line1.append("  (scrolled: not following)", style="dim")
    # Last, so that it is what an ellipsis cuts on a narrow terminal.
    if info.last_parse_failure and c.parse_failures:
        failure = shown(info.last_parse_failure, limit=80)
        line1.append(f"  last parse failure {failure}", style=palette("warn"))
    line2 = Text()
    line2.append("db ", style="dim")
    db_style = palette("error") if info.database.startswith("error") else ""
    line2.append(shown(info.database), style=db_style)
    line2.append("  keys ", style="dim")
    if info.keys:
        for i, (issuer, state) in enumerate(sorted(info.keys.items())):
            if i:
                line2.append(" · ")
            style = palette("error") if state.startswith(("error", "unavailable")) else ""
            # The issuer is the token's claim and the state may quote a fetch error.
            line2.append(f"{shown(short_issuer(issuer))}: {shown(state)}", style=style)
    else:
        line2.append("none fetched yet")
    if info.problem:
        line2.append("  ⚠ ", style=palette("error", bold=True))
        line2.append(shown(info.problem), style=palette("error"))
    line2.truncate(400)
    return Text("\n").join([line1, line2])


def short_issuer(issuer: str, width: int = 36) -> str:
    """An issuer shortened for the status bar: no scheme, the tail kept (tenant, version)."""
    text = issuer.split("://", 1)[-1]
    return text if len(text) <= width else "…" + text[-(width - 1) :]


class StatusBar(Static):
    """Docked above the footer."""

    DEFAULT_CSS = """
    /* Two lines, always: each is cut with an ellipsis rather than wrapped. */
    StatusBar {
        height: 2; background: $panel; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def show(self, info: StatusInfo) -> None:
        """Re-render from ``info``."""
        # Two lines, always: the screen's layout does not change with their text.
        self.update(status_text(info, app_palette(self.app)), layout=False)
