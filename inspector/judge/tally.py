"""What ``scan`` counts: attempts grouped by cause, with counts, examples and fixes.

The renderer (``inspector.cli.report``) prints it. Examples started as
attacker-controlled text (paths, user agents, claim values), so they go through
``printable``; tokens appear only as fingerprints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, KeysView
from dataclasses import dataclass, field

from inspector.judge.attempt import Attempt
from inspector.judge.rules import printable
from inspector.judge.verdicts import Outcome, Severity
from parsers.records import ParseFailure

EXAMPLES_PER_CAUSE = 3


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
class Cause:
    """The attempts that share one verdict code."""

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
    """Accumulates attempts and parse failures (``inspector.cli.report.render_report``
    writes the grouped report)."""

    files: set[str] = field(default_factory=set)
    lines: int = 0
    attempts: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    causes: dict[str, Cause] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    failure_examples: dict[str, str] = field(default_factory=dict)
    issuers: Counter[str] = field(default_factory=Counter)
    audiences: Counter[str] = field(default_factory=Counter)
    # The iss and aud (when strings) of each distinct token, by fingerprint (for
    # ``merge``; its keys are the distinct tokens). A scan may meet a million tokens of a
    # handful of issuers and audiences: each (iss, aud) pair is kept once, shared.
    token_values: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    _pairs: dict[tuple[str | None, str | None], tuple[str | None, str | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def tokens(self) -> KeysView[str]:
        """The fingerprints of the distinct tokens seen."""
        return self.token_values.keys()

    def add(self, attempt: Attempt) -> None:
        """Count one attempt under each of its verdict codes (info verdicts excepted)."""
        self.attempts += 1
        self.outcomes[attempt.outcome] += 1
        token = attempt.token
        if token is not None and token.fingerprint not in self.token_values:
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
                cause = self.causes[verdict.code] = Cause(
                    verdict.code, verdict.severity, fix=verdict.fix
                )
            cause.count += 1
            cause.messages[verdict.message] += 1
            if token is not None:
                cause.tokens.add(token.fingerprint)
            if len(cause.examples) < EXAMPLES_PER_CAUSE:
                cause.examples.append(_example(attempt))

    def _count_token(self, fingerprint: str, iss: str | None, aud: str | None) -> None:
        pair = (iss, aud)
        self.token_values[fingerprint] = self._pairs.setdefault(pair, pair)
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
                self.causes[code] = Cause(
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
        # A worker may hand over a million tokens: each new one costs a dict insertion,
        # and the issuers and audiences are counted per (iss, aud) pair. Pairs are taken
        # in the order of their first new token, so every issuer and audience enters its
        # counter where the token-by-token count would have put it.
        known = self.token_values
        pairs = self._pairs
        fresh: dict[tuple[str | None, str | None], int] = {}
        for fingerprint, pair in later.token_values.items():
            if fingerprint not in known:
                shared = pairs.get(pair)
                if shared is None:
                    shared = pairs[pair] = pair
                known[fingerprint] = shared
                fresh[shared] = fresh.get(shared, 0) + 1
        for (iss, aud), count in fresh.items():
            if iss is not None:
                self.issuers[iss] += count
            if aud is not None:
                self.audiences[aud] += count

    def add_failure(self, failure: ParseFailure) -> None:
        """Count a line that did not match the log format, by reason."""
        self.failures[failure.reason] += 1
        self.failure_examples.setdefault(
            failure.reason,
            f"{short_path(failure.source.file)}:{failure.source.line}  {failure.excerpt}",
        )


def summarize(attempts: Iterable[Attempt]) -> ScanReport:
    """A report over ``attempts`` (for callers that already hold them, like the TUI)."""
    report = ScanReport()
    for attempt in attempts:
        report.files.add(attempt.record.source.file)
        report.add(attempt)
    return report
