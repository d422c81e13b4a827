"""Helpers for follower tests: collect items and wait on conditions with a bounded wait."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from inspector.logs.follow import FollowEvent, LogFollower, RawLine

WAIT = 10.0


class Collector:
    """Drains a follower into lists; ``wait_for`` polls a condition for up to ``WAIT`` s."""

    def __init__(self, follower: LogFollower) -> None:
        self.follower = follower
        self.lines: list[RawLine] = []
        self.events: list[FollowEvent] = []

    def pump(self, idle: float = 0.05) -> None:
        for item in self.follower.items(timeout=idle):
            if isinstance(item, RawLine):
                self.lines.append(item)
            else:
                self.events.append(item)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; lines={[x.data for x in self.lines][-5:]} "
                    f"events={[(e.kind, e.message) for e in self.events]}"
                )
            self.pump()

    def wait_lines(self, count: int) -> None:
        self.wait_for(lambda: len(self.lines) >= count, f"{count} lines")

    def wait_event(self, kind: str) -> FollowEvent:
        self.wait_for(lambda: any(e.kind == kind for e in self.events), f"a {kind!r} event")
        return next(e for e in self.events if e.kind == kind)

    def wait_bytes(self, path: str, count: int) -> None:
        def seen() -> bool:
            stats = self.follower.stats.files.get(path)
            return stats is not None and stats.bytes >= count

        self.wait_for(seen, f"{count} bytes read from {path}")

    @property
    def data(self) -> list[bytes]:
        return [line.data for line in self.lines]

    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]


def open_fifo_writer(fifo: Path, timeout: float = WAIT) -> BinaryIO:
    """The write end of ``fifo`` once a reader has opened it (unbuffered, blocking writes).

    A plain ``open`` would block for ever if the code under test never opened the pipe;
    this fails the test after ``timeout`` instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing opened {fifo} for reading") from None
            time.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        return os.fdopen(fd, "wb", buffering=0)
