"""Verdict vocabulary: severities, outcomes and the verdict record every check produces.

Rules (the registry of stable codes with explanations and fixes) live in ``rules.py``;
this module only holds the shapes that cross module lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a verdict matters for whether ORDS will accept the request."""

    ERROR = "error"
    WARN = "warn"
    INFO = "info"


class Outcome(StrEnum):
    """The summary of one attempt: the worst severity among its verdicts."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One finding about one attempt, filled with the observed values."""

    code: str
    severity: Severity
    message: str
    explanation: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        """The JSON shape used by ``scan --json``."""
        return {"code": self.code, "severity": self.severity.value, "message": self.message}


def outcome_of(verdicts: Iterable[Verdict]) -> Outcome:
    """Errors make a failure, warnings a warning; info verdicts never change the outcome."""
    severities = {v.severity for v in verdicts}
    if Severity.ERROR in severities:
        return Outcome.FAIL
    if Severity.WARN in severities:
        return Outcome.WARN
    return Outcome.OK
