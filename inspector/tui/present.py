"""Wording and colours of the live screen, as Rich renderables (no Textual here).

Every value that came from a log line or a token is attacker-controlled: it goes through
``shown`` (credentials redacted by ``parsers.redaction``, escape sequences, C1 controls and
bidi overrides escaped by ``parsers.printable``: Rich's ``Text`` strips none of them) and
into ``Text`` objects, never interpreted as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from inspector.judge.analyzer import keys_pending
from inspector.judge.attempt import Attempt
from inspector.judge.verdicts import Outcome, Severity, Verdict
from inspector.tui.claims import TIME_CLAIMS, explain_claim, explain_header
from parsers.printable import printable
from parsers.redaction import redact_authorization, redact_text

Clock = Callable[[], datetime]

Role = Literal["ok", "warn", "error", "info", "accent"]


@dataclass(frozen=True)
class Palette:
    """The colour of each meaning on screen (ok, warning, error, information, accent).

    The app fills it from its Textual theme (``inspector.tui.theme``), so every theme,
    light or dark, colours the screen its own way; no colour is written here. ``PLAIN``
    has none (the terminal's own), for renderings outside the app.
    """

    ok: str = ""
    warn: str = ""
    error: str = ""
    info: str = ""
    accent: str = ""

    def __call__(self, role: Role, *, bold: bool = False) -> str:
        """A Rich style: ``role``'s colour, bold if asked."""
        colour: str = getattr(self, role)
        return " ".join(part for part in ("bold" if bold else "", colour) if part)


PLAIN = Palette()

OUTCOME_STYLE: dict[Outcome, tuple[str, Role]] = {
    Outcome.OK: ("✔ ok", "ok"),
    Outcome.WARN: ("▲ warn", "warn"),
    Outcome.FAIL: ("✘ fail", "error"),
}
SEVERITY_STYLE: dict[Severity, tuple[str, Role]] = {
    Severity.ERROR: ("✘", "error"),
    Severity.WARN: ("▲", "warn"),
    Severity.INFO: ("ℹ", "info"),
}
# Column keys in screen order: what went wrong first (outcome and cause beside the time),
# the request last, where it takes whatever width is left.
COLUMNS = ("time", "outcome", "cause", "status", "client", "subject", "idp", "request")
LABELS: dict[str, str] = {
    "time": "Time",
    "outcome": "Outcome",
    "cause": "Cause",
    "status": "HTTP",
    "client": "Client",
    "subject": "Subject",
    "idp": "IdP",
    "request": "Request",
}
# A narrower request column hides the columns below rather than the path's end.
REQUEST_MIN = 17  # "POST …/mcp/server"


@dataclass(frozen=True)
class Column:
    """One table column: its key in ``COLUMNS``, header and width in cells."""

    key: str
    label: str
    width: int


def table_columns(available: int, padding: int = 1) -> tuple[Column, ...]:
    """The columns that fit ``available`` cells, in ``COLUMNS`` order.

    Time, outcome, cause, status and request always show; client, subject and IdP join,
    in that order, while the request keeps room for its last segments (``…/mcp/server``).
    The request takes what is left. ``padding`` is the table's cell padding on each side.
    """
    # 18 holds every frequent code (rejected-by-server, audience-mismatch) whole.
    cause = 18 if available < 180 else 23
    widths = {"time": 8, "outcome": 7, "cause": cause, "status": 4}
    optional = (
        ("client", 9 if available < 100 else 12, REQUEST_MIN),
        ("subject", 30 if available >= 180 else 22, 30),
        ("idp", 9, 30),
    )
    gap = 2 * padding

    def left() -> int:
        return available - sum(w + gap for w in widths.values()) - gap

    for key, width, keep in optional:
        if left() - (width + gap) >= keep:
            widths[key] = width
    widths["request"] = max(left(), REQUEST_MIN)
    return tuple(Column(k, LABELS[k], widths[k]) for k in COLUMNS if k in widths)


def shown(value: object, *, limit: int | None = None) -> str:
    """A value from a log line or a token as display text: redacted, then made printable."""
    return printable(redact_text(str(value)), limit=limit)


def shown_request(method: str | None, path: str | None) -> str:
    """``GET /path`` with each part redacted on its own, as scan and tail redact them."""
    return f"{shown(method or '-')} {shown(path or '-')}"


def tail_fit(text: str, width: int) -> str:
    """``text`` cut from the left to ``width`` cells, ``…`` marking the cut."""
    if cell_len(text) <= width:
        return text
    if width < 1:
        return ""
    kept: list[str] = []
    used = 1  # the ellipsis
    for char in reversed(text):
        used += cell_len(char)
        if used > width:
            break
        kept.append(char)
    return "…" + "".join(reversed(kept))


def request_cell(method: str | None, path: str | None, width: int | None = None) -> str:
    """``shown_request`` in ``width`` cells: the method, then the END of the path.

    The end is what tells requests apart (``…/hr/mcp/server`` vs ``…/hr/mcp/tools``); the
    cut is made after redaction and escaping, so it never exposes what they hid.
    """
    full = shown_request(method, path)
    if width is None or cell_len(full) <= width:
        return full
    head = f"{shown(method or '-')} "
    if cell_len(head) + 8 <= width:  # room for a useful piece of the path
        return head + tail_fit(shown(path or "-"), width - cell_len(head))
    return tail_fit(full, width)


def shown_claim(value: object) -> str:
    """``shown`` for a claim: random-looking identifiers (a pairwise ``sub``) stay readable."""
    return printable(redact_text(str(value), opaque=False))


def shown_prose(value: str) -> str:
    """Like ``shown`` for multi-line text (explanations, fixes): newlines are kept."""
    return printable(redact_text(value), keep_newline=True)


def system_clock() -> datetime:
    """The real "now", timezone-aware."""
    return datetime.now(UTC)


def local(moment: datetime, tz: tzinfo | None) -> datetime:
    """``moment`` in ``tz`` (the machine's local zone when None)."""
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def outcome_text(outcome: Outcome, palette: Palette = PLAIN) -> Text:
    """The coloured symbol and word for an outcome."""
    label, role = OUTCOME_STYLE[outcome]
    return Text(label, style=palette(role, bold=True))


def human_span(seconds: float) -> str:
    """``41 min``, ``2 h 5 min``, ``3 d``: a duration for countdowns."""
    s = int(abs(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        hours, minutes = divmod(s // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{s // 86400} d"


def relative(claim: str, moment: datetime, now: datetime) -> str:
    """A live phrase for a time claim: ``expires in 41 min``, ``issued 3 min ago``."""
    delta = (moment - now).total_seconds()
    span = human_span(delta)
    if claim == "exp":
        return f"expires in {span}" if delta > 0 else f"expired {span} ago"
    if claim == "nbf":
        return f"valid in {span}" if delta > 0 else f"valid since {span}"
    if claim == "iat":
        return f"issued in {span} (clock ahead?)" if delta > 0 else f"issued {span} ago"
    return f"in {span}" if delta > 0 else f"{span} ago"


# An attempt judged while its issuer's keys are being fetched (and not failed regardless).
PENDING_LABEL = "… keys"


def first_cause(attempt: Attempt) -> str:
    """The code of the first error (else warning) verdict, for the table's Cause column."""
    if attempt.outcome is not Outcome.FAIL and keys_pending(attempt):
        return "keys-pending"
    for severity in (Severity.ERROR, Severity.WARN):
        for verdict in attempt.verdicts:
            if verdict.severity is severity:
                return verdict.code
    return ""


def row_cells(
    attempt: Attempt,
    tz: tzinfo | None,
    request_width: int | None = None,
    palette: Palette = PLAIN,
) -> tuple[Text, ...]:
    """The table row of one attempt, in ``COLUMNS`` order; the request cut to
    ``request_width`` cells from the left (None: whole)."""
    rec = attempt.record
    when = local(rec.time, tz).strftime("%H:%M:%S") if rec.time else "?"
    status = Text(str(rec.status) if rec.status is not None else "-")
    if rec.status is not None:
        status.stylize(palette("ok" if rec.status < 400 else "error"))
    idp = (attempt.token.idp if attempt.token else None) or "-"
    outcome = (
        Text(PENDING_LABEL, style=palette("info", bold=True))
        if attempt.outcome is not Outcome.FAIL and keys_pending(attempt)
        else outcome_text(attempt.outcome, palette)
    )
    # Text everywhere: a plain str cell would be read as markup by the DataTable. One line
    # each: a cell too narrow ends in an ellipsis instead of wrapping out of sight.
    cells = (
        Text(when),
        outcome,
        Text(shown(first_cause(attempt)), style="dim"),
        status,
        Text(shown(attempt.client)),
        Text(shown_claim(attempt.subject or "-")),
        Text(shown(idp)),
        Text(request_cell(rec.method, rec.path, request_width)),
    )
    for cell in cells:
        cell.no_wrap = True
        cell.overflow = "ellipsis"
    return cells


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}={v}" for k, v in value.items())
    else:
        text = str(value)
    return shown_claim(text)


def _time_value(
    name: str, value: Any, now: datetime, tz: tzinfo | None, palette: Palette
) -> Text | None:
    if name not in TIME_CLAIMS or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    shown = local(moment, tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    phrase = relative(name, moment, now)
    style = palette("error" if moment <= now else "ok") if name == "exp" else ""
    return Text.assemble(shown, "  ", (f"({phrase})", style or "dim"))


def fields_table(
    title: str,
    values: Mapping[str, Any],
    explain: Callable[[str], str],
    now: datetime,
    tz: tzinfo | None,
    palette: Palette = PLAIN,
) -> Table:
    """A three-column table: name, value (times in local time with countdown), explanation."""
    table = Table(title=title, title_justify="left", title_style="bold", expand=True, box=None)
    table.add_column("name", style=palette("info", bold=True), no_wrap=True)
    table.add_column("value", ratio=3, overflow="fold")
    table.add_column("meaning", ratio=2, style="dim")
    for name, value in values.items():
        value_text = _time_value(name, value, now, tz, palette) or Text(_value_text(value))
        table.add_row(Text(printable(str(name))), value_text, Text(explain(str(name))))
    return table


def verdict_block(verdict: Verdict, palette: Palette = PLAIN) -> Text:
    """One verdict: symbol, code and message, then why and fix."""
    symbol, role = SEVERITY_STYLE[verdict.severity]
    style = palette(role, bold=verdict.severity is not Severity.INFO)
    # Messages quote claim values; a check that quoted a credential must not show it here.
    text = Text.assemble((f"{symbol} {shown(verdict.code)}", style), "  ", shown(verdict.message))
    if verdict.explanation:
        text.append("\n    why: ", style="dim")
        text.append(shown_prose(verdict.explanation))
    if verdict.fix and verdict.severity is not Severity.INFO:
        text.append("\n    fix: ", style="bold")
        text.append(shown_prose(verdict.fix))
    return text


def signature_text(attempt: Attempt, palette: Palette = PLAIN) -> Text:
    """Whether the signature verified, and against which key."""
    token = attempt.token
    if token is None:
        return Text("no token in this request", style="dim")
    # kid comes from the token header, the JWKS location from the issuer's metadata.
    where = ""
    if token.key_id:
        where = f" key {shown(token.key_id)}"
    if token.key_source or token.jwks_uri:
        where += f" from {shown(token.key_source or token.jwks_uri)}"
    if token.verified is True:
        return Text.assemble(("✔ signature verified", palette("ok", bold=True)), f" with{where}")
    if token.verified is False:
        return Text.assemble(
            ("✘ signature did NOT verify", palette("error", bold=True)),
            where and f" against{where}",
        )
    return Text.assemble(
        ("? signature not checked", palette("warn", bold=True)), where and f" ({where.strip()})"
    )


def detail(
    attempt: Attempt, now: datetime, tz: tzinfo | None, palette: Palette = PLAIN
) -> RenderableType:
    """Everything about one attempt: request, verdicts, signature, header and claims."""
    rec = attempt.record
    when = local(rec.time, tz).strftime("%Y-%m-%d %H:%M:%S %Z") if rec.time else "unknown time"
    head = Text.assemble(
        outcome_text(attempt.outcome, palette),
        "  ",
        (shown_request(rec.method, rec.path), "bold"),
        f"  → {rec.status if rec.status is not None else '-'}",
        f"\n{when} · {shown(attempt.client)} · {shown(rec.remote_addr or '-')} · "
        f"{shown(rec.source.file)}:{rec.source.line}",
    )
    parts: list[RenderableType] = [head, Text("")]
    if attempt.verdicts:
        parts.append(Text("Verdicts", style="bold"))
        parts.extend(verdict_block(v, palette) for v in attempt.verdicts)
        parts.append(Text(""))
    parts.append(signature_text(attempt, palette))
    token = attempt.token
    if token is None and rec.authorization:
        # Basic credentials, an empty Bearer...: shown redacted, never decoded.
        shown_auth = printable(redact_authorization(rec.authorization) or "")
        parts.append(Text.assemble(("authorization ", "dim"), shown_auth))
    if token is not None:
        # The redacted form keeps ten characters of the credential: they may be escapes.
        redacted = printable(token.redacted or redact_authorization(rec.authorization) or "")
        parts.append(
            Text.assemble(
                ("token ", "dim"),
                redacted,
                ("  kind ", "dim"),
                shown(token.kind),
                ("  idp ", "dim"),
                shown(token.idp or "unknown"),
            )
        )
        if token.header:
            parts.append(fields_table("Header", token.header, explain_header, now, tz, palette))
        if token.claims:
            parts.append(fields_table("Claims", token.claims, explain_claim, now, tz, palette))
    return Group(*parts)
