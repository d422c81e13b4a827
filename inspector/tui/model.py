"""What the live screen holds, without a UI: the bounded list of attempts, filters, counters.

Memory stays bounded however long the app runs: the newest ``max_attempts`` attempts are
kept, older ones are dropped and counted, and every line read is counted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from inspector.judge.analyzer import keys_pending
from inspector.judge.attempt import Attempt
from inspector.judge.verdicts import Outcome

DEFAULT_MAX_ATTEMPTS = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One attempt as the table knows it: ``seq`` is its stable row key."""

    seq: int
    attempt: Attempt

    @property
    def key(self) -> str:
        """Row key in the table."""
        return str(self.seq)

    @property
    def failed(self) -> bool:
        """True for attempts that ORDS rejects (or would)."""
        return self.attempt.outcome is Outcome.FAIL


@dataclass(slots=True)
class Counters:
    """Everything the status bar counts since start."""

    lines: int = 0
    attempts: int = 0
    failures: int = 0
    parse_failures: int = 0
    rotations: int = 0
    truncations: int = 0
    dropped: int = 0
    worker_errors: int = 0


@dataclass(frozen=True, slots=True)
class Filter:
    """The table's filter: failures only and/or a case-insensitive text."""

    failures_only: bool = False
    text: str = ""

    @property
    def active(self) -> bool:
        """True when some attempts may be hidden."""
        return self.failures_only or bool(self.text)

    def matches(self, entry: Entry) -> bool:
        """Whether ``entry`` is shown under this filter."""
        if self.failures_only and not entry.failed:
            return False
        if self.text:
            return self.text.casefold() in searchable_text(entry.attempt)
        return True


def searchable_text(attempt: Attempt) -> str:
    """What ``/`` searches: request, client, subject, IdP, status, verdict codes, fingerprint."""
    rec = attempt.record
    parts: list[str] = [
        attempt.client,
        attempt.subject or "",
        rec.method or "",
        rec.path or "",
        str(rec.status or ""),
        rec.remote_addr or "",
        rec.user_agent or "",
        attempt.outcome.value,
    ]
    if attempt.token is not None:
        parts += [attempt.token.idp or "", attempt.token.fingerprint, attempt.token.kind]
    parts += [v.code for v in attempt.verdicts]
    return " ".join(parts).casefold()


@dataclass(slots=True)
class AttemptStore:
    """The newest ``max_attempts`` attempts, oldest first, with counters."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    counters: Counters = field(default_factory=Counters)
    _entries: deque[Entry] = field(init=False)
    _next_seq: int = field(default=0, init=False)
    # Kept entries whose attempt waits for its issuer's keys, by id() of the attempt (the
    # entry holds the attempt, so the id stays its own): ``replace`` finds them here.
    _pending: dict[int, Entry] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._entries = deque(maxlen=self.max_attempts)

    def add(self, attempts: Iterable[Attempt]) -> list[Entry]:
        """Append attempts; the oldest ones beyond the bound are dropped (and counted)."""
        added: list[Entry] = []
        for attempt in attempts:
            if len(self._entries) == self.max_attempts:
                self.counters.dropped += 1
                gone = self._entries[0]
                self._pending.pop(id(gone.attempt), None)
            entry = Entry(self._next_seq, attempt)
            self._next_seq += 1
            self._entries.append(entry)
            added.append(entry)
            if keys_pending(attempt):
                self._pending[id(attempt)] = entry
            self.counters.attempts += 1
            if entry.failed:
                self.counters.failures += 1
        return added

    def replace(self, old: Attempt, new: Attempt) -> Entry | None:
        """Put ``new`` in the place of the pending ``old`` (same row); None if not kept."""
        entry = self._pending.pop(id(old), None)
        if entry is None or entry.attempt is not old:
            return None
        index = entry.seq - self._entries[0].seq
        updated = Entry(entry.seq, new)
        self._entries[index] = updated
        self.counters.failures += int(updated.failed) - int(entry.failed)
        if keys_pending(new):
            self._pending[id(new)] = updated
        return updated

    @property
    def pending(self) -> int:
        """Kept attempts still waiting for their issuer's keys."""
        return len(self._pending)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    @property
    def oldest_seq(self) -> int:
        """Sequence number of the oldest kept entry (entries below it were dropped)."""
        return self._entries[0].seq if self._entries else self._next_seq

    def get(self, seq: int) -> Entry | None:
        """The kept entry with ``seq``, or None if it was dropped or never existed."""
        if not self._entries:
            return None
        index = seq - self._entries[0].seq
        if 0 <= index < len(self._entries):
            return self._entries[index]
        return None

    def visible(self, flt: Filter) -> list[Entry]:
        """Entries shown under ``flt``, oldest first."""
        if not flt.active:
            return list(self._entries)
        return [e for e in self._entries if flt.matches(e)]
