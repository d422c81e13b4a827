"""Stopping ``iter_records`` from another thread: it ends, and keeps what was read."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.logs.follow import StartAt
from inspector.logs.selection import REFERENCE_EXTENDED, LogSelection, iter_records, select_logs
from inspector.settings import Settings
from inspector.tui.records import record_source
from parsers.records import LogRecord

# Bounded waits: a broken stop shows up as a failed assertion, not a hung run.
WAIT = 10.0


def line(n: int) -> str:
    return (
        f'127.0.0.1 - - [22/Nov/2026:00:00:01 +0000] "POST /ords/mcp/{n} HTTP/1.1" 401 0 '
        'referer:"-" ua:"Claude-User" content-type:"application/json" '
        'authorization:"Bearer abc.def.ghi" mcp-protocol-version:"2025-06-18"'
    )


def selection_for(path: Path) -> LogSelection:
    args = build_parser().parse_args(
        ["tail", str(path), "--log-format", REFERENCE_EXTENDED.template]
    )
    return select_logs(settings_from_args(args, base=Settings()).logs)


class Consumer:
    """Drains an iterator on its own thread, as the TUI's reader does."""

    def __init__(self, items: Iterator[object]) -> None:
        self.records: list[LogRecord] = []
        self.error: BaseException | None = None
        self._items = items
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                if isinstance(item, LogRecord):
                    self.records.append(item)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.01)

    def ended(self) -> bool:
        self.thread.join(WAIT)
        assert self.error is None
        return not self.thread.is_alive()


def paths_of(records: list[LogRecord]) -> list[str | None]:
    return [r.path for r in records]


def test_stop_ends_following_a_quiet_file(tmp_path: Path) -> None:
    log = tmp_path / "extended.log"
    log.write_text("".join(line(n) + "\n" for n in range(3)))
    stop = threading.Event()
    consumer = Consumer(
        iter_records(selection_for(log), StartAt("start"), follow=True, poll=False, stop=stop)
    )
    consumer.wait_for(lambda: len(consumer.records) == 3, "the three lines")
    assert consumer.thread.is_alive()  # following: it would wait for more forever
    stop.set()
    assert consumer.ended()
    assert paths_of(consumer.records) == [f"/ords/mcp/{n}" for n in range(3)]


def test_stop_keeps_every_line_already_read(tmp_path: Path) -> None:
    # Several follower batches (4096 lines each) are queued when the stop arrives: the
    # ones not consumed yet must still come out, parsed, in order.
    count = 20_000
    log = tmp_path / "extended.log"
    log.write_text("".join(line(n) + "\n" for n in range(count)))
    stop = threading.Event()
    items = iter_records(selection_for(log), StartAt("start"), follow=True, poll=False, stop=stop)
    first = next(items)
    while not isinstance(first, LogRecord):
        first = next(items)
    setter = threading.Thread(target=stop.set)
    setter.start()
    setter.join()
    consumer = Consumer(items)
    assert consumer.ended()
    got = [first, *consumer.records]
    assert paths_of(got) == [f"/ords/mcp/{n}" for n in range(count)]
    assert [r.source.line for r in got] == list(range(1, count + 1))


def test_stop_ends_reading_a_pipe_that_stays_open(tmp_path: Path) -> None:
    # Reading once normally blocks in the caller's thread on a quiet pipe; a stop must
    # still be noticed (``scan`` of ``<(ssh host tail -F ...)`` from a UI, say).
    fifo = tmp_path / "stream.log"
    os.mkfifo(fifo)
    stop = threading.Event()
    selection = selection_for(fifo)
    writer_ready = threading.Event()
    release_writer = threading.Event()

    def write() -> None:
        with open(fifo, "w", encoding="utf-8") as handle:
            handle.write(line(1) + "\n" + line(2) + "\n")
            handle.flush()
            writer_ready.set()
            release_writer.wait(WAIT)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        consumer = Consumer(
            iter_records(selection, StartAt("start"), follow=False, poll=False, stop=stop)
        )
        consumer.wait_for(lambda: len(consumer.records) == 2, "the two lines from the pipe")
        assert writer_ready.is_set() and consumer.thread.is_alive()
        stop.set()
        assert consumer.ended()
        assert paths_of(consumer.records) == ["/ords/mcp/1", "/ords/mcp/2"]
    finally:
        release_writer.set()
        writer.join(WAIT)


def test_stop_set_before_the_first_item_ends_at_once_without_losing_lines(
    tmp_path: Path,
) -> None:
    log = tmp_path / "extended.log"
    log.write_text(line(1) + "\n")
    stop = threading.Event()
    stop.set()
    consumer = Consumer(
        iter_records(selection_for(log), StartAt("start"), follow=False, poll=False, stop=stop)
    )
    assert consumer.ended()
    # Whatever the reader got to before it noticed the stop comes out whole.
    assert paths_of(consumer.records) in ([], ["/ords/mcp/1"])


@pytest.mark.parametrize("follow", [True, False])
def test_the_live_screens_record_source_stops_the_same_way(tmp_path: Path, follow: bool) -> None:
    log = tmp_path / "extended.log"
    log.write_text(line(1) + "\n")
    stop = threading.Event()
    source = record_source(selection_for(log), StartAt("start"), follow=follow)
    consumer = Consumer(source(stop))
    consumer.wait_for(lambda: len(consumer.records) == 1, "the line")
    stop.set()
    assert consumer.ended()
    assert paths_of(consumer.records) == ["/ords/mcp/1"]
