"""Moving attempts from the engine's blocking iterator to the UI, in batches (no Textual here).

A reader thread pulls items from the session (tailing and analysis happen there) into a
bounded queue; the pump drains whatever is queued into one ``Batch`` and hands it to the
UI. Bursts become one screen update instead of thousands (coalescing), and when the UI
falls behind the bounded queue blocks the reader (back-pressure) instead of growing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from inspector.judge.attempt import Attempt
from parsers.records import LogRecord, ParseFailure
from parsers.redaction import redact_text

MAX_BATCH = 2000
QUEUE_SIZE = 10_000
_DONE = object()


@runtime_checkable
class FollowNotice(Protocol):
    """What the UI reads from the follower's events (``inspector.logs.follow.FollowEvent``)."""

    kind: str
    file: str
    message: str


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """Something went wrong in a worker; shown to the user, the app goes on."""

    message: str


@dataclass(frozen=True, slots=True)
class AttemptUpdate:
    """``old`` (shown while its issuer's keys were being fetched) judged again: ``new``."""

    old: Attempt
    new: Attempt


FeedItem = Attempt | AttemptUpdate | LogRecord | ParseFailure | FollowNotice | FeedProblem


@dataclass(slots=True)
class Batch:
    """Everything that arrived since the last UI update."""

    attempts: list[Attempt] = field(default_factory=list)
    updates: list[AttemptUpdate] = field(default_factory=list)
    lines: int = 0
    parse_failures: int = 0
    last_failure: ParseFailure | None = None
    events: list[FollowNotice] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    finished: bool = False

    def add(self, item: object) -> None:
        """Sort one item from the session into this batch (a batch judged in another
        process is taken in whole)."""
        if isinstance(item, Attempt):
            self.attempts.append(item)
            self.lines += 1
        elif isinstance(item, LogRecord):
            self.lines += 1
        elif isinstance(item, ParseFailure):
            self.lines += 1
            self.parse_failures += 1
            self.last_failure = item
        elif isinstance(item, AttemptUpdate):
            self.updates.append(item)
        elif isinstance(item, FeedProblem):
            self.problems.append(item.message)
        elif isinstance(item, FollowNotice):
            self.events.append(item)
        elif isinstance(item, Batch):
            self.merge(item)

    def merge(self, later: Batch) -> None:
        """Take in ``later`` (the next batch from the feed), as if it had come in this one."""
        self.attempts += later.attempts
        self.updates += later.updates
        self.lines += later.lines
        self.parse_failures += later.parse_failures
        if later.last_failure is not None:
            self.last_failure = later.last_failure
        self.events += later.events
        self.problems += later.problems
        self.finished = self.finished or later.finished

    def __len__(self) -> int:
        return (
            len(self.attempts)
            + len(self.updates)
            + len(self.events)
            + len(self.problems)
            + self.lines
        )


def problem_text(exc: BaseException) -> str:
    """One redacted line for an exception raised in a worker."""
    return redact_text(f"{type(exc).__name__}: {exc}")[:300]


class Pump:
    """Runs ``source`` on a reader thread and delivers batches to ``emit`` on the caller's.

    ``emit`` is called from the thread running ``run``; in the app that is a worker thread
    and ``emit`` is ``App.call_from_thread``, which waits for the UI (back-pressure).
    """

    def __init__(self, source: Callable[[threading.Event], Iterator[object]]) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_SIZE)
        self.stop_event = threading.Event()
        # Lines and items of the batches queued (a batch judged in another process counts
        # for what it holds, so that a stalled screen holds back QUEUE_SIZE lines, not
        # QUEUE_SIZE batches of them).
        self._batched = 0
        self._room = threading.Condition()

    def _read(self) -> None:
        try:
            for item in self._source(self.stop_event):
                if self.stop_event.is_set():
                    break
                self._put(item)
        except Exception as exc:  # the app must survive any engine failure
            self._put(FeedProblem(f"log reader stopped: {problem_text(exc)}"))
        finally:
            self._put(_DONE)

    def _put(self, item: object) -> None:
        if isinstance(item, Batch):
            with self._room:
                while self._batched >= QUEUE_SIZE and not self.stop_event.is_set():
                    self._room.wait(0.2)
                self._batched += len(item)
        while not self.stop_event.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _got(self, item: object) -> object:
        if isinstance(item, Batch):
            with self._room:
                self._batched -= len(item)
                self._room.notify()
        return item

    @property
    def batched(self) -> int:
        """Lines and items in the batches queued for the screen."""
        return self._batched

    def run(self, emit: Callable[[Batch], None]) -> None:
        """Deliver batches until the source ends or ``stop()`` is called."""
        reader = threading.Thread(target=self._read, name="inspector-reader", daemon=True)
        reader.start()
        while not self.stop_event.is_set():
            try:
                item = self._got(self._queue.get(timeout=0.2))
            except queue.Empty:
                continue
            batch = Batch()
            done = self._drain(item, batch)
            batch.finished = done
            emit(batch)
            if done:
                return

    def _drain(self, first: object, batch: Batch) -> bool:
        item = first
        while True:
            if item is _DONE:
                return True
            batch.add(item)
            if len(batch) >= MAX_BATCH:
                return False
            try:
                item = self._got(self._queue.get_nowait())
            except queue.Empty:
                return False

    def stop(self) -> None:
        """Ask the reader and the pump to finish."""
        self.stop_event.set()
