"""The demo's loopback IdP with the misbehaviour failure tests need.

``FaultyIdP`` answers the next requests with errors (``fail_next``), holds every request
(``hang``), serves another document or raw body at a path (``set_metadata_override``),
refuses connections (``down``/``up``), rotates its keys and counts requests per path. The
product's ``LocalIdP`` (``inspector.demo.idp``) does none of this: the demo needs a
working IdP only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

from inspector.demo.idp import Answer, LocalIdP, SigningKey, generate_rsa_key


@dataclass
class _Behaviour:
    fail_next: int = 0
    fail_status: int = 500
    hang_seconds: float = 0.0
    overrides: dict[str, Answer] = field(default_factory=dict)


class FaultyIdP(LocalIdP):
    """``LocalIdP`` plus failure switches; every switch is thread-safe."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._behaviour = _Behaviour()
        self._lock = threading.Lock()
        # Set to release hanging requests (stop, clear_behaviours).
        self._wake = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Serve (again), holding requests anew if ``hang`` is set."""
        self._wake.clear()
        return super().start()

    def stop(self) -> None:
        """Stop serving; hanging requests are released."""
        self._wake.set()
        super().stop()

    def down(self) -> None:
        """Close the listening socket: connections are refused until :meth:`up`."""
        self.stop()

    def up(self) -> None:
        """Serve again on the same port after :meth:`down`."""
        self.start()

    # -- behaviours --------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next ``n`` requests with ``status`` and an error body."""
        with self._lock:
            self._behaviour.fail_next = n
            self._behaviour.fail_status = status

    def hang(self, seconds: float) -> None:
        """Hold every following request for ``seconds`` before answering (0 to stop)."""
        with self._lock:
            self._behaviour.hang_seconds = seconds

    def set_metadata_override(
        self,
        document: Mapping[str, Any] | None = None,
        *,
        path: str | None = None,
        status: int = 200,
        body: bytes | None = None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        send_length: bool = True,
    ) -> None:
        """Serve ``document`` (or raw ``body``) with ``status`` at ``path``.

        ``path`` defaults to the path of :attr:`metadata_url`. Passing neither
        ``document`` nor ``body`` removes the override for that path. ``headers`` are
        added (e.g. ``Location`` for a redirect); ``send_length=False`` omits
        ``Content-Length`` so the client can only find the size by reading.
        """
        target = path if path is not None else urlsplit(self.metadata_url).path
        with self._lock:
            if document is None and body is None:
                self._behaviour.overrides.pop(target, None)
                return
            raw = body if body is not None else json.dumps(dict(document or {})).encode()
            self._behaviour.overrides[target] = Answer(
                status, raw, content_type, dict(headers or {}), send_length
            )

    def clear_behaviours(self) -> None:
        """Forget failures, hangs and overrides."""
        with self._lock:
            self._behaviour = _Behaviour()
        self._wake.set()
        self._wake.clear()

    def count(self, path_or_url: str) -> int:
        """How many requests were made for a path (or a full URL on this server)."""
        path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url
        return sum(1 for p in list(self.request_log) if p == path)

    def rotate(self, new_key: SigningKey | None = None, *, keep_old: bool = True) -> SigningKey:
        """Publish a new signing key first in the set (and drop the old ones if asked)."""
        key = new_key or generate_rsa_key()
        with self._lock:
            self.keys[:] = [key, *self.keys] if keep_old else [key]
        return key

    # -- answering ---------------------------------------------------------------------

    def respond(self, path: str) -> tuple[int, bytes, str]:
        """Status, body and content type for a GET of ``path`` (without hang/fail)."""
        with self._lock:
            override = self._behaviour.overrides.get(path)
        if override is not None:
            return override.status, override.body, override.content_type
        return super().respond(path)

    def answer(self, path: str) -> Answer:
        """A failure while ``fail_next`` lasts, an override, else the usual answer."""
        failure = self._before_response()
        if failure is not None:
            return Answer(failure, b'{"error":"server_error"}')
        with self._lock:
            override = self._behaviour.overrides.get(path)
        return override if override is not None else super().answer(path)

    def _before_response(self) -> int | None:
        """Apply hang/fail behaviours; returns a failure status to send, if any."""
        with self._lock:
            hang = self._behaviour.hang_seconds
        if hang > 0:
            self._wake.wait(hang)
        with self._lock:
            if self._behaviour.fail_next > 0:
                self._behaviour.fail_next -= 1
                return self._behaviour.fail_status
        return None
