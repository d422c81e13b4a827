"""The real engine behind the app: loopback IdP, key store, analyzer, ORDS stand-in.

``follow_records`` follows a real file with ``LogFollower`` and parses each line with the
real ``LineParser``: the same path the log pipeline takes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from inspector.demo.environment import DemoEnvironment, RecordSource
from inspector.follow import FollowEvent, LogFollower, StartAt
from inspector.tui.engine_session import EngineSession
from parsers.log_format import LineParser
from parsers.records import Source


def follow_records(path: Path, parser: LineParser) -> RecordSource:
    """A record source following ``path`` from its start until the app stops."""

    def source(stop: threading.Event) -> Iterator[object]:
        follower = LogFollower([str(path)], start=StartAt("start"), poll_interval=0.05)
        try:
            while not stop.is_set() and not follower.finished:
                for batch in follower.batches(timeout=0.2):
                    for item in batch:
                        if isinstance(item, FollowEvent):
                            yield item
                            continue
                        src = Source(item.file, item.line or 0, item.offset)
                        yield parser.parse(item.data, src, truncated=item.truncated)
                    if stop.is_set():
                        return
        finally:
            follower.stop()

    return source


def demo_session(env: DemoEnvironment) -> EngineSession:
    """The session ``token-inspector demo`` builds, over the test's environment."""
    return EngineSession(
        records=follow_records(env.log_path, env.parser),
        files=(str(env.log_path),),
        title="DEMO",
        analyzer=env.analyzer,
        keys=env.keys,
        repository=env.repository,
        database_label="DEMO@memory: (in-memory ORDS stand-in)",
        proposal_options=env.proposal_options(),
        audit=env.audit,
        demo=True,
    )
