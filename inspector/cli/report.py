"""The human-readable ``scan`` report: attempts grouped by cause, with counts and fixes.

Everything printed here started as attacker-controlled text (paths, user agents, claim
values), so it all goes through ``printable``; tokens appear only as fingerprints.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import Any, TextIO

from inspector.judge.checks import duration, timestamp
from inspector.judge.rules import get_rule, printable, quoted
from inspector.judge.tally import Cause, ScanReport
from inspector.judge.verdicts import Outcome, Severity, Verdict

MESSAGES_PER_CAUSE = 3
_TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")
_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARN: 1, Severity.INFO: 2}
_WIDTH = 96


def describe_claim(name: str, value: Any, at: datetime | None = None) -> str:
    """``exp  1767268800 (2026-01-01T12:00:00Z, in 55m 0s)``: one printable line."""
    text = f"{printable(name, 40):<10} {quoted(value, 200)}"
    if name in _TIME_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
        when = timestamp(float(value))
        if at is not None:
            delta = float(value) - at.timestamp()
            rel = f"in {duration(delta)}" if delta >= 0 else f"{duration(delta)} ago"
            text += f" ({when}, {rel})"
        else:
            text += f" ({when})"
    return text


def verdict_block(verdict: Verdict, *, indent: str = "") -> str:
    """A verdict with its explanation and fix, wrapped for a terminal."""
    head = f"{indent}{verdict.severity.value.upper():<5} {verdict.code}: {verdict.message}\n"
    pad = indent + "      "
    why = _wrap(verdict.explanation, pad + "why: ", pad + "     ")
    fix = _wrap(verdict.fix, pad + "fix: ", pad + "     ")
    return f"{head}{why}\n{fix}\n"


def _wrap(text: str, first: str, rest: str) -> str:
    # URLs and scopes such as api://{app-id}/mcp:connect must survive wrapping intact.
    return textwrap.fill(
        text,
        _WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,
    )


def render_report(report: ScanReport, out: TextIO, *, only_failures: bool = False) -> None:
    """Write the report: summary, causes worst first, profile values, parse failures."""
    summary = ", ".join(
        f"{report.outcomes[o]} {o.value}" for o in (Outcome.OK, Outcome.WARN, Outcome.FAIL)
    )
    files = f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}"
    out.write(
        f"Scanned {files}, {report.lines} lines: {report.attempts} attempts ({summary}), "
        f"{len(report.tokens)} distinct tokens, {sum(report.failures.values())} lines not parsed.\n"
    )
    causes = sorted(
        report.causes.values(), key=lambda c: (_SEVERITY_ORDER[c.severity], -c.count, c.code)
    )
    if only_failures:
        causes = [c for c in causes if c.severity is Severity.ERROR]
    if not causes:
        out.write("\nNo problems found.\n" if report.attempts else "\nNo attempts found.\n")
    for cause in causes:
        _render_cause(out, cause)
    if report.issuers or report.audiences:
        out.write("\nValues the tokens carry (a JWT profile must match them exactly):\n")
        for label, counter in (("p_issuer", report.issuers), ("p_audience", report.audiences)):
            for value, n in counter.most_common(5):
                out.write(f"  {label:<11} {quoted(value)}  ({n} token{'s' * (n != 1)})\n")
    if report.failures:
        out.write(f"\nLines not parsed: {sum(report.failures.values())}\n")
        for reason, n in report.failures.most_common(5):
            out.write(f"  {n:>6} × {printable(reason, 100)}\n")
            out.write(f"           e.g. {printable(report.failure_examples[reason], 160)}\n")


def _render_cause(out: TextIO, cause: Cause) -> None:
    rule = get_rule(cause.code)
    tokens = f", {len(cause.tokens)} distinct tokens" if cause.tokens else ""
    out.write(
        f"\n{cause.severity.value.upper():<5} {cause.code}: {rule.title} "
        f"({cause.count} attempt{'s' * (cause.count != 1)}{tokens})\n"
    )
    for message, n in cause.messages.most_common(MESSAGES_PER_CAUSE):
        out.write(f"      {message}" + (f"  (×{n})" if n > 1 else "") + "\n")
    hidden = len(cause.messages) - MESSAGES_PER_CAUSE
    if hidden > 0:
        out.write(f"      … and {hidden} other variants\n")
    for example in cause.examples:
        out.write(f"      e.g. {example}\n")
    out.write(_wrap(cause.fix or rule.fix, "      fix: ", "           ") + "\n")
