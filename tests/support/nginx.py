"""A real nginx on 127.0.0.1 in a temporary prefix, for tests that need nginx's own output.

Usage::

    from tests.support.nginx import NginxServer, http_conf, requires_nginx

    @requires_nginx
    def test_something(tmp_path):
        with NginxServer(tmp_path / "nginx") as server:
            server.start(http_conf('''
                log_format extended '...';
                server {
                    listen 127.0.0.1:@PORT@;
                    access_log @PREFIX@/logs/extended.log extended;
                    location / { return 200 "ok\\n"; }
                }
            '''))
            status, headers, body = server.request("/", headers={"User-Agent": "x"})
            server.reopen()
            server.stop()

``@PORT@`` and ``@PREFIX@`` in the configuration text are replaced by the chosen port and
the prefix directory (nginx's own ``$var`` and ``${var}`` syntax stays untouched). nginx runs
in the foreground (``daemon off``) as a child process; ``stop()`` (also on context exit)
shuts it down gracefully and waits, so the access log is complete afterwards.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import pytest

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
HEADERS_MORE_MODULE = Path("/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so")

requires_nginx = pytest.mark.skipif(NGINX is None, reason="nginx binary not installed")
requires_headers_more = pytest.mark.skipif(
    NGINX is None or not HEADERS_MORE_MODULE.exists(),
    reason="nginx or its headers-more module (libnginx-mod-http-headers-more-filter) missing",
)


class NginxError(RuntimeError):
    """nginx refused the configuration or did not come up; carries its error output."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (another process may take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections for as long as the block runs.

    The socket is bound but never listens: connects are refused, and no other process can
    take the port meanwhile (a port that was merely free a moment ago may be taken).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def main_conf(body: str, *, load_modules: tuple[Path, ...] = ()) -> str:
    """Main-context boilerplate around ``body`` (which must contain the ``http {}`` block)."""
    lines = [f"load_module {module};" for module in load_modules]
    # As root nginx would switch workers to "nobody", who cannot enter a 0700 tmp dir.
    if os.geteuid() == 0:
        lines.append("user root;")
    lines += [
        "worker_processes 1;",
        "daemon off;",
        "master_process on;",
        "pid @PREFIX@/nginx.pid;",
        "error_log @PREFIX@/logs/error.log info;",
        "events { worker_connections 64; }",
        textwrap.dedent(body).strip(),
    ]
    return "\n".join(lines) + "\n"


# The reference `extended` log_format directive as it stands in the reference nginx.conf
# (domain.md section 2): several quoted strings over several lines.
EXTENDED_LOG_FORMAT = r"""log_format extended '$remote_addr - $remote_user [$time_local] '
                   '"$request" $status $body_bytes_sent '
                   'referer:"$http_referer" '
                   'ua:"$http_user_agent" '
                   'content-type:"$http_content_type" '
                   'authorization:"$http_authorization" '
                   'mcp-protocol-version:"$http_mcp_protocol_version"';
"""


def http_conf(http_body: str, *, load_modules: tuple[Path, ...] = ()) -> str:
    """A complete nginx.conf whose ``http {}`` block holds ``http_body``.

    Temp paths point into the prefix so nginx never touches ``/var/lib/nginx``.
    """
    http = "\n".join(
        [
            "http {",
            "    client_body_temp_path @PREFIX@/tmp/body;",
            "    proxy_temp_path @PREFIX@/tmp/proxy;",
            "    fastcgi_temp_path @PREFIX@/tmp/fastcgi;",
            "    uwsgi_temp_path @PREFIX@/tmp/uwsgi;",
            "    scgi_temp_path @PREFIX@/tmp/scgi;",
            "    access_log off;",
            textwrap.indent(textwrap.dedent(http_body).strip(), "    "),
            "}",
        ]
    )
    return main_conf(http, load_modules=load_modules)


def check_config(conf_path: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a configuration file; the result's ``stderr`` has nginx's verdict."""
    if NGINX is None:
        raise NginxError("nginx is not installed")
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [
            NGINX,
            "-t",
            "-q",
            "-p",
            str(prefix),
            "-c",
            str(conf_path),
            "-e",
            str(prefix / "logs" / "error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class NginxServer:
    """One nginx master + one worker on 127.0.0.1, rooted in ``prefix``.

    Attributes: ``prefix`` (the temp prefix; logs go to ``prefix/logs``), ``port`` (chosen
    at construction, substituted for ``@PORT@``), ``conf_path`` and ``error_log``.
    """

    def __init__(self, prefix: Path | None = None, *, port: int | None = None) -> None:
        if NGINX is None:
            raise NginxError("nginx is not installed")
        self._own_prefix = prefix is None
        self.prefix = Path(tempfile.mkdtemp(prefix="nginx-")) if prefix is None else prefix
        # A port chosen here may be taken by another process before nginx binds it: start()
        # then picks another. A port the caller chose is theirs to keep.
        self._auto_port = port is None
        self.port = port if port is not None else free_port()
        self.conf_path = self.prefix / "conf" / "nginx.conf"
        self.error_log = self.prefix / "logs" / "error.log"
        self._process: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def render(self, conf_text: str) -> str:
        """The configuration text with ``@PORT@`` and ``@PREFIX@`` substituted."""
        return conf_text.replace("@PORT@", str(self.port)).replace("@PREFIX@", str(self.prefix))

    def write_conf(self, conf_text: str) -> Path:
        """Write the rendered configuration to ``conf_path`` and create the prefix layout."""
        for sub in ("conf", "logs", "tmp", "html"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self.render(conf_text))
        return self.conf_path

    def check(self, conf_text: str) -> subprocess.CompletedProcess[str]:
        """Write the configuration and run ``nginx -t`` on it (does not start nginx)."""
        return check_config(self.write_conf(conf_text), self.prefix)

    def start(self, conf_text: str, *, timeout: float = 10.0) -> None:
        """Write the configuration, start nginx and wait until it accepts connections.

        Raises ``NginxError`` with nginx's error output if it exits or never listens.
        """
        if self._process is not None:
            raise NginxError("nginx already running; stop() first")
        for _ in range(4 if self._auto_port else 0):
            try:
                self._start_once(conf_text, timeout)
                return
            except NginxError as exc:
                if "Address already in use" not in str(exc):
                    raise
                self.port = free_port()
        self._start_once(conf_text, timeout)

    def _start_once(self, conf_text: str, timeout: float) -> None:
        self.write_conf(conf_text)
        assert NGINX is not None
        self._process = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(self.conf_path), "-e", str(self.error_log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                self._process = None
                raise NginxError(f"nginx exited at start: {err.strip()} {self._error_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise NginxError(f"nginx did not listen on 127.0.0.1:{self.port}: {self._error_tail()}")

    def reopen(self, *, wait_for: Path | None = None, timeout: float = 5.0) -> None:
        """Send USR1 (what logrotate's postrotate does): nginx reopens its log files.

        nginx reopens asynchronously; with ``wait_for`` (a log path that was renamed away)
        this waits until nginx has created it again.
        """
        process = self._require_running()
        process.send_signal(signal.SIGUSR1)
        if wait_for is None:
            return
        deadline = time.monotonic() + timeout
        while not wait_for.exists():
            if time.monotonic() > deadline:
                raise NginxError(f"nginx did not reopen {wait_for}: {self._error_tail()}")
            time.sleep(0.02)

    def reload(self, conf_text: str | None = None, *, timeout: float = 10.0) -> None:
        """Rewrite the configuration (if given), send HUP and wait until it is in force.

        nginx starts workers with the new configuration and shuts the old ones down
        gracefully: once none of the old workers is left, every connection meets the new
        configuration. A configuration nginx refuses keeps the old workers, so this raises
        ``NginxError`` with nginx's error output instead of returning.
        """
        process = self._require_running()
        old = self._workers()
        logged = self.error_log.stat().st_size if self.error_log.exists() else 0
        if conf_text is not None:
            self.write_conf(conf_text)
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while True:
            current = self._workers()
            if current and not current & old:
                return
            refused = b"[emerg]" in self._error_log_since(logged)
            if refused or process.poll() is not None or time.monotonic() > deadline:
                raise NginxError(f"nginx did not reload: {self._error_tail()}")
            time.sleep(0.02)

    def stop(self, *, timeout: float = 10.0) -> None:
        """Graceful shutdown (QUIT: finish requests, flush logs); KILL if it hangs."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()

    @property
    def running(self) -> bool:
        """Whether the nginx master is alive."""
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> NginxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._own_prefix:
            shutil.rmtree(self.prefix, ignore_errors=True)

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        headers: Mapping[str, str | bytes] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP/1.1 request; header values may be ``bytes`` to send raw (UTF-8, quotes).

        Returns (status, headers with lower-case names, body).
        """
        self._require_running()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def wait_for_log(self, path: Path, lines: int, *, timeout: float = 5.0) -> list[bytes]:
        """Wait until ``path`` holds at least ``lines`` complete lines; return them (bytes)."""
        deadline = time.monotonic() + timeout
        while True:
            data = path.read_bytes() if path.exists() else b""
            got = data.split(b"\n")[:-1]
            if len(got) >= lines:
                return got
            if time.monotonic() > deadline:
                raise NginxError(f"{path} has {len(got)} lines, expected {lines}")
            time.sleep(0.02)

    # -- helpers ---------------------------------------------------------------------------

    def _require_running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            raise NginxError(f"nginx is not running: {self._error_tail()}")
        return self._process

    def _workers(self) -> set[int]:
        """PIDs of the master's live children (its workers), read from ``/proc``."""
        master = self._require_running().pid
        found: set[int] = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone since the listing
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == master and state != "Z":
                found.add(int(entry.name))
        return found

    def _error_log_since(self, offset: int) -> bytes:
        try:
            with self.error_log.open("rb") as f:
                f.seek(offset)
                return f.read()
        except OSError:
            return b""

    def _error_tail(self) -> str:
        try:
            return self.error_log.read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""
