"""Records for the live screen from a ``LogSelection``: follow, parse, stop on request.

The same parsers and follower as ``logsource.iter_records``; the difference is that this
loop wakes up four times a second to notice ``stop`` (the app quitting), so the follower
and its files are released when the screen closes rather than when the process ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from inspector.follow import LogFollower, RawLine, StartAt
from inspector.logsource import LogSelection
from parsers.records import Source

RecordSource = Callable[[threading.Event], Iterator[object]]


def record_source(
    selection: LogSelection,
    start: StartAt,
    *,
    follow: bool = True,
    poll: bool = False,
    poll_interval: float = 1.0,
) -> RecordSource:
    """A callable the session runs on its reader thread."""

    def records(stop: threading.Event) -> Iterator[object]:
        follower = LogFollower(
            selection.paths, start=start, follow=follow, poll=poll, poll_interval=poll_interval
        )
        parsers = selection.parsers
        try:
            while not stop.is_set() and not follower.finished:
                for batch in follower.batches(timeout=0.25):
                    for item in batch:
                        if isinstance(item, RawLine):
                            source = Source(item.file, item.line or 0, item.offset)
                            yield parsers[item.file].parse(item.data, source, item.truncated)
                        else:
                            yield item
                    if stop.is_set():
                        return
        finally:
            follower.stop()

    return records
