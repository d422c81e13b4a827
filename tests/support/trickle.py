"""Slow servers on 127.0.0.1 for the fetch deadline tests: real sockets, one thread each.

``TrickleServer("headers")`` answers every request one byte at a time from the status line
on and never finishes its headers; ``"body"`` sends complete headers, then a body one byte
at a time that never ends. The pace (``interval``) is well below any socket timeout the
tests use, so only a deadline on the whole fetch can end the request. ``"slow"`` sends a
complete response (``response``) after ``delay`` seconds. With ``ssl_context`` the server
speaks TLS (a trustme certificate, see ``tests/support/https_keys.py``).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Literal

Mode = Literal["headers", "body", "slow"]


class TrickleServer:
    """A misbehaving HTTP(S) server; use it as a context manager."""

    def __init__(
        self,
        mode: Mode,
        *,
        interval: float = 0.1,
        ssl_context: ssl.SSLContext | None = None,
        delay: float = 0.0,
        response: bytes = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}",
    ) -> None:
        self.mode: Mode = mode
        self.interval = interval
        self.ssl_context = ssl_context
        self.delay = delay
        self.response = response
        self.connections = 0
        self.bytes_sent = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._port = int(self._listener.getsockname()[1])
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The bound port."""
        return self._port

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT``, no trailing slash."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> TrickleServer:
        accept = threading.Thread(target=self._accept, name="trickle-accept", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        for thread in list(self._threads):
            thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
            handler = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            handler.start()
            self._threads.append(handler)

    def _serve(self, raw: socket.socket) -> None:
        conn = raw
        try:
            raw.settimeout(5)
            if self.ssl_context is not None:
                conn = self.ssl_context.wrap_socket(raw, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            if self.mode == "slow":
                if not self._stop.wait(self.delay):
                    conn.sendall(self.response)
                return
            for byte in self._stream():
                # The pace of the trickle, not a synchronisation: stop() ends it at once.
                if self._stop.wait(self.interval):
                    return
                conn.sendall(byte)
                with self._lock:
                    self.bytes_sent += 1
        except (OSError, ssl.SSLError):
            return  # the client gave up: that is what the tests expect it to do
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _stream(self) -> Iterator[bytes]:
        if self.mode == "headers":
            head = b"HTTP/1.1 200 OK\r\nX-Slow: "
        else:
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000000\r\n\r\n"
            )
            # Complete headers at once: only the body dribbles.
            yield head
            head = b'{"keys": ['
        for index in range(len(head)):
            yield head[index : index + 1]
        while True:
            yield b"a" if self.mode == "headers" else b" "
