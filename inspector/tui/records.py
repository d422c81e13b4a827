"""Records for the live screen from a ``LogSelection``: follow, parse, stop on request.

The loop itself is ``logsource.iter_records``; the screen passes its stop event so the
follower and its files are released when the screen closes rather than when the process
ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from inspector.logs.follow import StartAt
from inspector.logs.selection import LogSelection, iter_records

RecordSource = Callable[[threading.Event], Iterator[object]]


def record_source(
    selection: LogSelection,
    start: StartAt,
    *,
    follow: bool = True,
    poll: bool = False,
    poll_interval: float = 1.0,
) -> RecordSource:
    """A callable the session runs on its reader thread; setting its event ends it."""

    def records(stop: threading.Event) -> Iterator[object]:
        return iter_records(selection, start, follow, poll, poll_interval=poll_interval, stop=stop)

    return records
