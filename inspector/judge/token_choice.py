"""Which token seen in a log a JWT profile is built from (``profile --from-log``).

The newest token that verified, from an anchored issuer, passing the expectations wins;
failing that, the newest verified from an anchored issuer, then the newest verified, then
the newest with a token. A newer token from an unknown issuer must never silently become
the profile, so the choice comes with lines saying which was picked and why newer ones
were skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from inspector.judge.analyzer import Analyzer
from inspector.judge.attempt import Attempt
from inspector.judge.verdicts import Severity
from parsers.authorization import parse_authorization
from parsers.records import LogRecord


@dataclass(frozen=True, slots=True)
class ChosenToken:
    """The token to build a profile from, and where it came from."""

    token: str
    client: str | None
    source: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A bearer token seen in the log, with why it is (or is not) the one to use."""

    attempt: Attempt
    token: str
    order: int
    # Lower is better: 0 verified, anchored, passing; 1 verified and anchored; 2 verified;
    # 3 anything else.
    tier: int
    reasons: tuple[str, ...]


TIER_WHY = {
    0: "verified, from an anchored issuer, passing the expectations",
    1: "verified, from an anchored issuer",
    2: "verified (its issuer is not anchored)",
    3: "with a token (none verified)",
}


def candidate(attempt: Attempt, token: str, order: int, anchors: tuple[str, ...]) -> Candidate:
    """``attempt`` (which has a token report) ranked by what it says of its token."""
    report = attempt.token
    assert report is not None
    reasons: list[str] = []
    if report.verified is not True:
        reasons.append(
            "its signature is invalid"
            if report.verified is False
            else "its signature could not be checked"
        )
    iss = report.claims.get("iss")
    anchored = isinstance(iss, str) and iss in anchors
    if not anchored:
        reasons.append(f"issuer {str(iss)[:120]!r} is not anchored")
    errors = sorted({v.code for v in attempt.verdicts if v.severity is Severity.ERROR})
    if errors:
        reasons.append(f"fails {', '.join(errors[:4])}")
    if report.verified is not True:
        tier = 3
    elif not anchored:
        tier = 2
    else:
        tier = 1 if errors else 0
    return Candidate(attempt, token, order, tier, tuple(reasons))


def later(a: Candidate, b: Candidate) -> bool:
    """``a`` is newer than ``b``: by time when both have one, else by file order."""
    mine, theirs = a.attempt.record.time, b.attempt.record.time
    if mine is None or theirs is None or mine == theirs:
        return a.order > b.order
    return bool(mine > theirs)


def newest_verified(
    items: Iterable[object], analyzer: Analyzer, anchors: tuple[str, ...] = ()
) -> tuple[ChosenToken, list[str]] | None:
    """The best token among the log ``items`` (records, failures, events), or None.

    Also gives the lines to show the user: which token was picked and why newer ones were
    skipped (at most five, then how many more).
    """
    candidates: list[Candidate] = []
    for item in items:
        if not isinstance(item, LogRecord) or not item.authorization:
            continue
        auth = parse_authorization(item.authorization)
        if not auth.is_bearer or not auth.credentials:
            continue
        attempt = analyzer.analyze(item)
        if attempt.token is None or attempt.token.kind != "jws":
            continue
        candidates.append(candidate(attempt, auth.credentials, len(candidates), anchors))
    if not candidates:
        return None
    chosen = candidates[0]
    for cand in candidates[1:]:
        if cand.tier < chosen.tier or (cand.tier == chosen.tier and later(cand, chosen)):
            chosen = cand
    rec = chosen.attempt.record
    when = rec.time.isoformat() if rec.time else "time unknown"
    source = f"{rec.source.file}:{rec.source.line}, {when}, {chosen.attempt.client}"
    notes = [f"using the token at {source}: the newest {TIER_WHY[chosen.tier]}"]
    skipped = [c for c in candidates if c is not chosen and later(c, chosen)]
    for cand in skipped[-5:]:
        where = f"{cand.attempt.record.source.file}:{cand.attempt.record.source.line}"
        notes.append(f"  skipped the newer token at {where}: {'; '.join(cand.reasons)}")
    if len(skipped) > 5:
        notes.append(f"  (and {len(skipped) - 5} more newer tokens skipped)")
    return ChosenToken(chosen.token, chosen.attempt.client, source, rec.time), notes
