"""Writing the demo's access log: each request rendered as nginx would, with fresh times.

Lines go through ``LineParser.render`` of the reference ``extended`` format, so the demo log
is byte-for-byte what nginx writes; the status of each MCP request is decided by the ORDS
stand-in's current profile (``ords_gate``), so an apply changes what follows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from inspector.demo.ords_gate import ords_status
from inspector.demo.scenario import DemoRequest
from inspector.judge.analyzer import Analyzer
from inspector.ords.database import OrdsRepository
from parsers.nginx.log_format import LineParser

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def time_local(moment: datetime) -> str:
    """nginx's ``$time_local``: ``21/Nov/2026:10:00:00 +0100`` (English month, any locale)."""
    return (
        f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} {moment:%z}"
    )


def _local_now() -> datetime:
    return datetime.now().astimezone()


class Replayer:
    """Appends the story's requests to ``log_path``; ``start()`` runs it in a thread."""

    def __init__(
        self,
        log_path: Path,
        parser: LineParser,
        repository: OrdsRepository,
        analyzer: Analyzer,
        first: Sequence[DemoRequest],
        repeat: Sequence[DemoRequest] = (),
        *,
        speed: float = 1.0,
        clock: Callable[[], datetime] = _local_now,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.log_path = log_path
        self._parser = parser
        self._repo = repository
        self._analyzer = analyzer
        self._first = list(first)
        self._repeat = list(repeat)
        self._speed = speed
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.error: str | None = None
        # Told about a failure (the demo shows it on screen); called from the replay thread.
        self.on_error: Callable[[str], None] | None = None

    def line_for(self, request: DemoRequest) -> str:
        """The log line for ``request`` now (status decided by the stand-in when not fixed)."""
        now = self._clock()
        status = request.status
        if status is None:
            status = ords_status(request.token, request.path, self._repo, self._analyzer, now)
        post = request.method == "POST"
        values: dict[str, str | None] = {
            "remote_addr": request.remote_addr,
            "remote_user": None,
            "time_local": time_local(now),
            "request": f"{request.method} {request.path} HTTP/1.1",
            "status": str(status),
            "body_bytes_sent": "0" if status >= 400 else "734",
            "http_referer": None,
            "http_user_agent": request.user_agent,
            "http_content_type": "application/json" if post else None,
            "http_authorization": f"Bearer {request.token}" if request.token else None,
            "http_mcp_protocol_version": "2025-06-18" if post else None,
        }
        return self._parser.render(values)

    def write(self, request: DemoRequest) -> None:
        """Append one line (one write call per line, as nginx does)."""
        line = self.line_for(request) + "\n"
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(line)
        self.written += 1

    def write_first_connection(self) -> None:
        """Write the whole first connection at once (``demo --no-tui``, tests)."""
        for request in self._first:
            self.write(request)

    def run(self) -> None:
        """The story at its pace, then the repeated requests until ``stop()``."""
        try:
            for request in self._first:
                if self._stop.wait(request.delay / self._speed):
                    return
                self.write(request)
            while self._repeat:
                for request in self._repeat:
                    if self._stop.wait(request.delay / self._speed):
                        return
                    self.write(request)
        except Exception as exc:  # the screen shows it; the demo keeps its window open
            self.error = f"demo replay stopped: {type(exc).__name__}: {exc}"
            if self.on_error is not None:
                self.on_error(self.error)

    def start(self) -> None:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="demo-replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop writing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
