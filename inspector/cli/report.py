"""The human-readable ``scan`` report: attempts grouped by cause, with counts and fixes.

Everything printed here started as attacker-controlled text (paths, user agents, claim
values), so it all goes through ``printable``; tokens appear only as fingerprints.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from inspector.judge.attempt import Attempt
from inspector.judge.checks import duration, timestamp
from inspector.judge.rules import get_rule, printable, quoted
from inspector.judge.verdicts import Outcome, Severity, Verdict
from parsers.records import ParseFailure

EXAMPLES_PER_CAUSE = 3
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


def short_path(path: str, limit: int = 60) -> str:
    """A printable path, cut from the left so the file name stays visible."""
    shown = printable(path, 10_000)
    return shown if len(shown) <= limit else "…" + shown[-(limit - 1) :]


def _example(attempt: Attempt) -> str:
    rec = attempt.record
    parts = [
        f"{short_path(rec.source.file)}:{rec.source.line}",
        rec.time.isoformat() if rec.time else "-",
        str(rec.status) if rec.status is not None else "-",
        printable(attempt.client, 30),
    ]
    if attempt.subject:
        parts.append(printable(attempt.subject, 60))
    if attempt.token is not None:
        parts.append(f"token {attempt.token.fingerprint}")
    return "  ".join(parts)


@dataclass
class _Cause:
    code: str
    severity: Severity
    count: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    # The first verdict's fix: it may start with a case-specific hint (observed values).
    fix: str = ""


@dataclass
class ScanReport:
    """Accumulates attempts and parse failures; ``render`` writes the grouped report."""

    files: set[str] = field(default_factory=set)
    lines: int = 0
    attempts: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    causes: dict[str, _Cause] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    failure_examples: dict[str, str] = field(default_factory=dict)
    issuers: Counter[str] = field(default_factory=Counter)
    audiences: Counter[str] = field(default_factory=Counter)
    tokens: set[str] = field(default_factory=set)
    # The iss and aud (when strings) of each distinct token, for ``merge``.
    token_values: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def add(self, attempt: Attempt) -> None:
        """Count one attempt under each of its verdict codes (info verdicts excepted)."""
        self.attempts += 1
        self.outcomes[attempt.outcome] += 1
        token = attempt.token
        if token is not None and token.fingerprint not in self.tokens:
            iss, aud = token.claims.get("iss"), token.claims.get("aud")
            self._count_token(
                token.fingerprint,
                iss if isinstance(iss, str) else None,
                aud if isinstance(aud, str) else None,
            )
        for verdict in attempt.verdicts:
            if verdict.severity is Severity.INFO:
                continue
            cause = self.causes.get(verdict.code)
            if cause is None:
                cause = self.causes[verdict.code] = _Cause(
                    verdict.code, verdict.severity, fix=verdict.fix
                )
            cause.count += 1
            cause.messages[verdict.message] += 1
            if token is not None:
                cause.tokens.add(token.fingerprint)
            if len(cause.examples) < EXAMPLES_PER_CAUSE:
                cause.examples.append(_example(attempt))

    def _count_token(self, fingerprint: str, iss: str | None, aud: str | None) -> None:
        self.tokens.add(fingerprint)
        self.token_values[fingerprint] = (iss, aud)
        if iss is not None:
            self.issuers[iss] += 1
        if aud is not None:
            self.audiences[aud] += 1

    def merge(self, later: ScanReport) -> None:
        """Add ``later``, the report of the lines that follow ours (a split scan).

        The result is the report one pass over all lines would have made: counts add up,
        examples and first fixes come from the earliest lines, ties keep first-seen order.
        """
        self.files |= later.files
        self.lines += later.lines
        self.attempts += later.attempts
        self.outcomes.update(later.outcomes)
        for code, theirs in later.causes.items():
            mine = self.causes.get(code)
            if mine is None:
                self.causes[code] = _Cause(
                    theirs.code,
                    theirs.severity,
                    theirs.count,
                    Counter(theirs.messages),
                    list(theirs.examples),
                    set(theirs.tokens),
                    theirs.fix,
                )
                continue
            mine.count += theirs.count
            mine.messages.update(theirs.messages)
            mine.tokens |= theirs.tokens
            room = EXAMPLES_PER_CAUSE - len(mine.examples)
            if room > 0:
                mine.examples.extend(theirs.examples[:room])
        self.failures.update(later.failures)
        for reason, example in later.failure_examples.items():
            self.failure_examples.setdefault(reason, example)
        for fingerprint, (iss, aud) in later.token_values.items():
            if fingerprint not in self.tokens:
                self._count_token(fingerprint, iss, aud)

    def add_failure(self, failure: ParseFailure) -> None:
        """Count a line that did not match the log format, by reason."""
        self.failures[failure.reason] += 1
        self.failure_examples.setdefault(
            failure.reason,
            f"{short_path(failure.source.file)}:{failure.source.line}  {failure.excerpt}",
        )

    def render(self, out: TextIO, *, only_failures: bool = False) -> None:
        """Write the report: summary, causes worst first, profile values, parse failures."""
        summary = ", ".join(
            f"{self.outcomes[o]} {o.value}" for o in (Outcome.OK, Outcome.WARN, Outcome.FAIL)
        )
        files = f"{len(self.files)} file{'s' if len(self.files) != 1 else ''}"
        out.write(
            f"Scanned {files}, {self.lines} lines: {self.attempts} attempts ({summary}), "
            f"{len(self.tokens)} distinct tokens, {sum(self.failures.values())} lines not parsed.\n"
        )
        causes = sorted(
            self.causes.values(), key=lambda c: (_SEVERITY_ORDER[c.severity], -c.count, c.code)
        )
        if only_failures:
            causes = [c for c in causes if c.severity is Severity.ERROR]
        if not causes:
            out.write("\nNo problems found.\n" if self.attempts else "\nNo attempts found.\n")
        for cause in causes:
            self._render_cause(out, cause)
        if self.issuers or self.audiences:
            out.write("\nValues the tokens carry (a JWT profile must match them exactly):\n")
            for label, counter in (("p_issuer", self.issuers), ("p_audience", self.audiences)):
                for value, n in counter.most_common(5):
                    out.write(f"  {label:<11} {quoted(value)}  ({n} token{'s' * (n != 1)})\n")
        if self.failures:
            out.write(f"\nLines not parsed: {sum(self.failures.values())}\n")
            for reason, n in self.failures.most_common(5):
                out.write(f"  {n:>6} × {printable(reason, 100)}\n")
                out.write(f"           e.g. {printable(self.failure_examples[reason], 160)}\n")

    def _render_cause(self, out: TextIO, cause: _Cause) -> None:
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


def summarize(attempts: Iterable[Attempt]) -> ScanReport:
    """A report over ``attempts`` (for callers that already hold them, like the TUI)."""
    report = ScanReport()
    for attempt in attempts:
        report.files.add(attempt.record.source.file)
        report.add(attempt)
    return report
