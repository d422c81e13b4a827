"""The follower across rotation, truncation, deletion, late creation and permission trouble."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.logs.follow import LogFollower, StartAt
from tests.follow_support import WAIT, Collector, open_fifo_writer

ROOT = Path(__file__).resolve().parent.parent

Make = Callable[..., Collector]


def numbered(start: int, stop: int) -> bytes:
    return b"".join(f"line {i}\n".encode() for i in range(start, stop))


@pytest.fixture(params=["watchdog", "poll"])
def follow(request: pytest.FixtureRequest) -> Iterator[Make]:
    # With watchdog the periodic stat is made rare, so only file events can wake the reader.
    mode = {"poll": True, "poll_interval": 0.05} if request.param == "poll" else {}
    mode = mode or {"poll": False, "poll_interval": 30.0}
    followers: list[LogFollower] = []

    def make(paths: list[str], **kwargs: object) -> Collector:
        follower = LogFollower(paths, **{**mode, **kwargs})  # type: ignore[arg-type]
        followers.append(follower)
        follower.start()
        return Collector(follower)

    yield make
    for follower in followers:
        follower.stop()


def test_rename_and_create_rotation_loses_nothing(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "extended.log"
    # One unbuffered handle plays nginx: it keeps writing to the renamed file until "reopen".
    writer = log.open("ab", buffering=0)
    try:
        c = follow([str(log)])
        c.wait_event("opened")
        writer.write(numbered(1, 51))
        c.wait_lines(50)
        log.rename(tmp_path / "extended.log.1")
        writer.write(numbered(51, 61))  # written after the rename, before the reopen
        c.wait_lines(60)
        with log.open("ab", buffering=0) as new:
            new.write(numbered(61, 71))
            c.wait_event("rotated")
            writer.write(numbered(71, 76))  # a worker that had not reopened yet
            new.write(numbered(76, 81))
            c.wait_lines(80)
    finally:
        writer.close()
    assert sorted(c.data, key=lambda d: int(d.split()[1])) == numbered(1, 81).splitlines()
    assert len(c.data) == len(set(c.data)) == 80
    new_lines = [x for x in c.lines if int(x.data.split()[1]) >= 61 and x.line is not None]
    assert [x.line for x in new_lines if int(x.data.split()[1]) in range(61, 71)] == list(
        range(1, 11)
    )
    assert c.follower.stats.rotations == 1


def test_copytruncate_restarts_at_zero(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "extended.log"
    log.write_bytes(numbered(1, 11))
    c = follow([str(log)], start=StartAt("start"))
    c.wait_lines(10)
    with log.open("r+b") as handle:
        handle.truncate(0)
    event = c.wait_event("truncated")
    assert str(log) in event.message
    with log.open("ab") as handle:
        handle.write(b"after truncate\n")
    c.wait_lines(11)
    assert c.lines[-1].data == b"after truncate"
    assert (c.lines[-1].line, c.lines[-1].offset) == (1, 0)
    assert c.follower.stats.truncations == 1


def test_copytruncate_noticed_even_when_the_file_regrew_before_we_looked(tmp_path: Path) -> None:
    log = tmp_path / "extended.log"
    log.write_bytes(numbered(1, 4))
    # Polling with a long interval: the follower looks only when woken, so the truncation
    # and the new, longer content both happen between two looks.
    follower = LogFollower([str(log)], start=StartAt("start"), poll=True, poll_interval=60.0)
    follower.start()
    c = Collector(follower)
    try:
        c.wait_lines(3)
        with log.open("r+b") as handle:
            handle.truncate(0)
            handle.write(numbered(100, 110))  # longer than what we had read
        follower.wake()
        c.wait_event("truncated")
        c.wait_lines(13)
    finally:
        follower.stop()
    assert c.data[3:] == numbered(100, 110).splitlines()
    assert (c.lines[3].line, c.lines[3].offset) == (1, 0)


def test_deleted_then_created_again(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "extended.log"
    log.write_bytes(b"")
    c = follow([str(log)])
    c.wait_event("opened")
    with log.open("ab") as handle:
        handle.write(b"before\n")
    c.wait_lines(1)
    log.unlink()
    c.wait_event("deleted")
    log.write_bytes(b"again 1\nagain 2\n")
    c.wait_lines(3)
    assert c.data == [b"before", b"again 1", b"again 2"]
    assert [x.line for x in c.lines[1:]] == [1, 2]
    assert c.kinds().count("opened") == 2
    assert "rotated" not in c.kinds()


def test_missing_file_is_waited_for_and_read_from_its_start(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "later" / "extended.log"
    log.parent.mkdir()
    c = follow([str(log)])
    c.wait_event("waiting")
    c.pump(0.2)
    assert c.kinds() == ["waiting"]  # said once, not on every poll
    log.write_bytes(b"one\ntwo\n")
    c.wait_lines(2)
    assert c.data == [b"one", b"two"]
    assert c.kinds() == ["waiting", "opened"]


# -- permission denied -------------------------------------------------------------------

_PERMISSION_CHILD = """
import json, os, sys
# Import first: the interpreter under /root is not readable once we are "nobody".
from inspector.logs.follow import LogFollower, RawLine
if os.geteuid() == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
follower = LogFollower([sys.argv[1]], poll=True, poll_interval=0.05)
for item in follower:
    if isinstance(item, RawLine):
        print(json.dumps({"line": item.data.decode()}), flush=True)
    else:
        print(json.dumps({"kind": item.kind, "message": item.message}), flush=True)
"""


def _read_json_lines(
    proc: subprocess.Popen[str], until: Callable[[dict[str, str]], bool]
) -> list[dict[str, str]]:
    seen: list[dict[str, str]] = []
    done = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            seen.append(json.loads(raw))
            if until(seen[-1]):
                break
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    if not done.wait(WAIT):
        raise AssertionError(f"timed out; got {seen}")
    return seen


def test_permission_denied_says_which_file_why_and_what_to_do() -> None:
    # As root the child drops to "nobody" (chmod alone does not stop root); as anyone else
    # a mode of 000 already stops the owner. tmp_path is 0700, so use a 0755 directory.
    as_root = os.geteuid() == 0
    user = "nobody" if as_root else getpass.getuser()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        log = Path(tmp) / "extended.log"
        log.write_bytes(b"")
        log.chmod(0o600 if as_root else 0o000)
        proc = subprocess.Popen(
            [sys.executable, "-c", _PERMISSION_CHILD, str(log)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            first = _read_json_lines(proc, lambda item: "kind" in item)
            assert first[0]["kind"] == "permission"
            message = first[0]["message"]
            assert str(log) in message and "Permission denied" in message
            assert f"setfacl -m u:{user}:r {log}" in message and "adm" in message
            # Fixing the permission lets the follower pick the file up without a restart.
            # Once readable, it starts where it was asked to (the end), like at start-up.
            log.chmod(0o644)
            opened = _read_json_lines(proc, lambda item: "kind" in item)
            assert opened == [{"kind": "opened", "message": f"{log}: following at its end"}]
            with log.open("ab") as handle:
                handle.write(b"readable now\n")
            later = _read_json_lines(proc, lambda item: "line" in item)
            assert later == [{"line": "readable now"}]
        finally:
            proc.kill()
            proc.wait()


# -- standard input ----------------------------------------------------------------------

_STDIN_CHILD = """
import json, sys
from inspector.logs.follow import LogFollower, RawLine
for item in LogFollower(["-"], follow=True):
    if isinstance(item, RawLine):
        print(json.dumps([item.file, item.line, item.offset, item.data.hex()]), flush=True)
    else:
        print(json.dumps([item.kind, item.file]), flush=True)
"""


def test_standard_input_is_read_until_end_of_file() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _STDIN_CHILD],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"first\n")
    proc.stdin.flush()
    # The first line arrives while the pipe is still open: it is followed, not slurped.
    assert json.loads(proc.stdout.readline()) == ["-", 1, 0, b"first".hex()]
    proc.stdin.write(b"second\nno newline at the end")
    proc.stdin.close()
    out = proc.stdout.read()  # ends when the child exits at end of input
    proc.wait(timeout=WAIT)
    rows = [json.loads(x) for x in out.splitlines()]
    assert rows == [
        ["-", 2, 6, b"second".hex()],
        ["-", 3, 13, b"no newline at the end".hex()],
        ["eof", "-"],
    ]
    assert proc.returncode == 0


def test_a_named_pipe_is_read_like_standard_input(tmp_path: Path) -> None:
    # What `token-inspector tail <(ssh host tail -F /var/log/nginx/extended.log)` passes.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    follower = LogFollower([str(fifo)], poll=True, poll_interval=0.05)
    follower.start()
    c = Collector(follower)
    try:
        with open_fifo_writer(fifo) as writer:
            writer.write(b"one\n")
            c.wait_lines(1)
            writer.write(b"two\nthree")
        c.wait_event("eof")
    finally:
        follower.stop()
    assert [(x.line, x.offset, x.data) for x in c.lines] == [
        (1, 0, b"one"),
        (2, 4, b"two"),
        (3, 8, b"three"),
    ]
    assert "error" not in c.kinds()
