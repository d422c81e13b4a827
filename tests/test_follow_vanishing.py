"""The follower's rotation grace and files that vanish under it, step by step.

The follower polls with a long interval and is woken by the test, so every round happens
exactly when the test says; a marker line written to the current file before each wake
tells when the round is done (lines of one round arrive together, retired file first).
The grace period runs on a clock the test moves forward (real time plus an offset), so
"five seconds later" costs nothing and cannot race. Failures of the file system are real
(files renamed and deleted under the reader) or injected through the module's ``os``
(a read that fails with EIO, a file that is deleted between the stat and the open).
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

import pytest

from inspector.logs import follow
from inspector.logs.follow import FollowEvent, LogFollower, RawLine, StartAt

WAIT = 10.0
POLL = 60.0  # only the test's wake() starts a round
GRACE = max(follow.RETIRE_GRACE, 3 * POLL)  # how long a renamed file is still read


class Clock:
    """``time.monotonic`` for the follower module: real time plus what the test added."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Recorder:
    """Everything the follower hands out, in order; waits are bounded by ``WAIT``."""

    def __init__(self, follower: LogFollower) -> None:
        self.follower = follower
        self.items: list[RawLine | FollowEvent] = []

    @property
    def data(self) -> list[bytes]:
        return [x.data for x in self.items if isinstance(x, RawLine)]

    @property
    def events(self) -> list[tuple[str, str]]:
        return [(x.kind, x.message) for x in self.items if isinstance(x, FollowEvent)]

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; got {self.items}")
            self.items.extend(self.follower.items(timeout=0.05))

    def line(self, data: bytes) -> None:
        self.until(lambda: data in self.data, f"line {data!r}")

    def event(self, kind: str) -> None:
        self.until(lambda: any(k == kind for k, _ in self.events), f"a {kind!r} event")

    def round(self, marker_file: BinaryIO, marker: bytes) -> None:
        """Wake the follower with ``marker`` appended to the current file; wait for the round."""
        marker_file.write(marker + b"\n")
        self.follower.wake()
        self.line(marker)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(follow, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


@pytest.fixture
def start() -> Iterator[Callable[..., Recorder]]:
    followers: list[LogFollower] = []

    def make(path: Path, **kwargs: Any) -> Recorder:
        options: dict[str, Any] = {"poll": True, "poll_interval": POLL, **kwargs}
        follower = LogFollower([str(path)], **options)
        followers.append(follower)
        follower.start()
        return Recorder(follower)

    yield make
    for follower in followers:
        follower.stop()


def _open_fds_to(path: Path) -> int:
    """How many of this process's descriptors point at ``path`` (Linux /proc)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            continue
    return count


# -- rotation grace -------------------------------------------------------------------------


def test_renamed_file_is_read_until_it_has_been_quiet_for_the_grace_period(
    tmp_path: Path, clock: Clock, start: Callable[..., Recorder]
) -> None:
    log = tmp_path / "extended.log"
    rotated = tmp_path / "extended.log.1"
    old = log.open("ab", buffering=0)  # nginx's descriptor, kept across the rename
    try:
        rec = start(log, start=StartAt("start"))
        rec.event("opened")
        old.write(b"old 1\n")
        rec.follower.wake()
        rec.line(b"old 1")
        log.rename(rotated)
        with log.open("ab", buffering=0) as new:
            rec.round(new, b"new 1")
            assert (
                "rotated",
                f"{log}: rotated; old file finished, reading the new one from its start",
            ) in rec.events

            # A worker that has not reopened yet writes late: still read within the grace.
            clock.advance(0.8 * GRACE)
            old.write(b"old 2\n")
            rec.round(new, b"new 2")
            # The grace counts from the last byte, not from the rotation: 1.6 grace after
            # the rotation but 0.8 after "old 2", the renamed file is still open.
            clock.advance(0.8 * GRACE)
            rec.round(new, b"new 3")
            old.write(b"old 3\n")
            rec.round(new, b"new 4")
            # Half a line, then silence past the grace: the half line is handed out as the
            # file's last line, and the descriptor is closed.
            old.write(b"old 4 without newline")
            rec.round(new, b"new 5")
            assert b"old 4 without newline" not in rec.data  # a writer may still finish it
            assert _open_fds_to(rotated) == 2  # ours and the test's "nginx"
            clock.advance(1.1 * GRACE)
            rec.round(new, b"new 6")
            assert _open_fds_to(rotated) == 1
            # After that, bytes written to the renamed file are no longer collected.
            old.write(b"old 5\n")
            rec.round(new, b"new 7")
    finally:
        old.close()
    assert rec.data == [
        b"old 1",
        b"new 1",
        b"old 2",
        b"new 2",
        b"new 3",
        b"old 3",
        b"new 4",
        b"new 5",
        b"old 4 without newline",
        b"new 6",
        b"new 7",
    ]
    assert rec.follower.stats.rotations == 1


def test_deleted_files_half_line_is_delivered_once_the_file_is_back_and_the_grace_is_over(
    tmp_path: Path, clock: Clock, start: Callable[..., Recorder]
) -> None:
    log = tmp_path / "extended.log"
    log.write_bytes(b"whole\nhalf")
    rec = start(log, start=StartAt("start"))
    rec.line(b"whole")
    log.unlink()
    rec.follower.wake()
    rec.event("deleted")
    with log.open("ab", buffering=0) as again:
        rec.round(again, b"again 1")
        assert b"half" not in rec.data
        clock.advance(1.1 * GRACE)
        rec.round(again, b"again 2")
    assert rec.data == [b"whole", b"again 1", b"half", b"again 2"]
    assert [k for k, _ in rec.events] == ["opened", "deleted", "opened"]
    assert rec.events[-1] == ("opened", f"{log}: was created again; reading from the start")
    assert rec.follower.stats.rotations == 0


# -- vanishing files ------------------------------------------------------------------------


def test_lines_written_just_before_deletion_come_before_the_deleted_event(
    tmp_path: Path, start: Callable[..., Recorder]
) -> None:
    log = tmp_path / "extended.log"
    log.write_bytes(b"")
    rec = start(log)
    rec.event("opened")
    with log.open("ab") as handle:
        handle.write(b"last 1\nlast 2\n")
    log.unlink()  # before the follower looked again: only our descriptor still reaches them
    rec.follower.wake()
    rec.event("deleted")
    assert rec.items[1:] == [
        RawLine(str(log), 1, 0, b"last 1", False),
        RawLine(str(log), 2, 7, b"last 2", False),
        FollowEvent("deleted", str(log), f"{log}: deleted; waiting for it to be created again"),
    ]


def test_rotated_in_file_vanishing_before_it_is_opened_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: Callable[..., Recorder]
) -> None:
    log = tmp_path / "extended.log"
    log.write_bytes(b"")
    vanish = {"armed": False}

    def racing_open(path: Any, flags: int, *args: Any) -> int:
        # The new file is deleted between the follower's stat and its open.
        if vanish["armed"] and str(path) == str(log):
            vanish["armed"] = False
            os.unlink(log)
        return os.open(path, flags, *args)

    monkeypatch.setattr(follow, "os", _os_with(open=racing_open))
    rec = start(log)
    rec.event("opened")
    log.rename(tmp_path / "extended.log.1")
    log.write_bytes(b"lost with its file\n")
    vanish["armed"] = True
    rec.follower.wake()
    rec.event("waiting")
    log.write_bytes(b"third file 1\n")
    rec.follower.wake()
    rec.line(b"third file 1")
    assert rec.events[1:] == [
        ("rotated", f"{log}: rotated; old file finished, reading the new one from its start"),
        ("waiting", f"{log}: not there yet; waiting for it to be created"),
        ("opened", f"{log}: appeared; reading from the start"),
    ]
    assert rec.data == [b"third file 1"]
    assert rec.items[-1] == RawLine(str(log), 1, 0, b"third file 1", False)


def _os_with(**overrides: Callable[..., Any]) -> Any:
    """The ``os`` module as the follower sees it, with some functions replaced."""
    names = {name: getattr(os, name) for name in dir(os) if not name.startswith("__")}
    return SimpleNamespace(**{**names, **overrides})


def test_a_read_error_on_the_same_file_does_not_read_it_again_from_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: Callable[..., Recorder]
) -> None:
    # A soft NFS mount answers EIO when the server is slow: the file is still there, and
    # what was read before the error must not be handed out a second time.
    log = tmp_path / "extended.log"
    log.write_bytes(b"before 1\nbefore 2\n")
    failing = {"armed": False}

    def flaky_pread(fd: int, size: int, offset: int) -> bytes:
        if failing["armed"]:
            failing["armed"] = False
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return os.pread(fd, size, offset)

    monkeypatch.setattr(follow, "os", _os_with(pread=flaky_pread))
    rec = start(log, start=StartAt("start"))
    rec.line(b"before 2")
    with log.open("ab", buffering=0) as writer:
        writer.write(b"after 1\n")
        failing["armed"] = True
        rec.follower.wake()
        rec.event("error")
        rec.round(writer, b"after 2")
    assert rec.data == [b"before 1", b"before 2", b"after 1", b"after 2"]
    lines = [x for x in rec.items if isinstance(x, RawLine)]
    assert [x.line for x in lines] == [1, 2, 3, 4]
    assert rec.events == [
        ("opened", f"{log}: following from the start"),
        ("error", f"{log}: Input/output error; retrying"),
        ("opened", f"{log}: reopened; continuing where reading stopped"),
    ]


def test_a_file_replaced_after_a_read_error_is_read_from_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: Callable[..., Recorder]
) -> None:
    # ESTALE on NFS: the file vanished on the server and another took its name.
    log = tmp_path / "extended.log"
    log.write_bytes(b"old 1\n")
    failing = {"armed": False}

    def stale_pread(fd: int, size: int, offset: int) -> bytes:
        if failing["armed"]:
            failing["armed"] = False
            raise OSError(errno.ESTALE, os.strerror(errno.ESTALE))
        return os.pread(fd, size, offset)

    monkeypatch.setattr(follow, "os", _os_with(pread=stale_pread))
    rec = start(log, start=StartAt("start"))
    rec.line(b"old 1")
    with log.open("ab") as handle:
        handle.write(b"old 2\n")
    failing["armed"] = True
    rec.follower.wake()
    rec.event("error")
    log.unlink()
    with log.open("ab", buffering=0) as writer:
        writer.write(b"new 1\n")
        rec.round(writer, b"new 2")
    assert rec.data == [b"old 1", b"new 1", b"new 2"]
    assert rec.events[1:] == [
        ("error", f"{log}: {os.strerror(errno.ESTALE)}; retrying"),
        ("opened", f"{log}: appeared; reading from the start"),
    ]
