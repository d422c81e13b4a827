"""A real MCP server built with the official Python SDK (PyPI ``mcp``), as a resource server
with bearer-token auth, in a child process on 127.0.0.1.

The SDK serves the RFC 9728 protected-resource metadata itself: ``MCPServer(auth=
AuthSettings(resource_server_url=..., issuer_url=..., required_scopes=...))`` adds the
route ``/.well-known/oauth-protected-resource<path of the resource URL>`` (path-suffixed,
RFC 9728 section 3.1; ``mcp.server.auth.routes.create_protected_resource_routes``) and its
``RequireAuthMiddleware`` answers a request without a token with 401 and
``WWW-Authenticate: Bearer error=..., error_description=..., resource_metadata="<that URL>"``.

Run as ``python -m tests.support.mcp_sdk_server --resource URL --issuer URL --scope S``:
the child binds a free port itself (no race with other processes), prints it on one line,
then serves. :class:`SdkMcpServer` starts it and waits, bounded, for that line.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]


class SdkMcpServer:
    """The SDK server in a child process; ``port`` is known once :meth:`start` returns."""

    def __init__(self, resource: str, issuer: str, scopes: tuple[str, ...]) -> None:
        self.resource = resource
        self.issuer = issuer
        self.scopes = scopes
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 60.0) -> SdkMcpServer:
        """Start the child and wait (at most ``timeout`` s: importing the SDK is slow on a
        loaded machine) for the line carrying its port."""
        argv = [sys.executable, "-m", "tests.support.mcp_sdk_server"]
        argv += ["--resource", self.resource, "--issuer", self.issuer]
        for scope in self.scopes:
            argv += ["--scope", scope]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        assert self._process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.stop()
                raise RuntimeError(f"the SDK server did not report its port within {timeout} s")
        line = self._process.stdout.readline().decode().strip()
        if not line.isdigit():
            errors = self._stop_and_read_errors()
            raise RuntimeError(f"the SDK server did not start: {line!r} {errors}")
        self.port = int(line)
        return self

    def _stop_and_read_errors(self) -> str:
        self.stop()
        assert self._process is not None and self._process.stderr is not None
        return self._process.stderr.read().decode(errors="replace")[-2000:]

    def stop(self, *, timeout: float = 10.0) -> None:
        """Terminate the child and wait for it (kill after ``timeout``)."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def __enter__(self) -> SdkMcpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._process is not None:
            for stream in (self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()


def _serve(resource: str, issuer: str, scopes: list[str]) -> None:
    # Imported here: the parent process (the test) never needs the SDK itself.
    import uvicorn
    from mcp.server.auth.provider import AccessToken, TokenVerifier
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings
    from pydantic import AnyHttpUrl

    class RejectAll(TokenVerifier):
        """The doctor never sends a token; every token is refused."""

        async def verify_token(self, token: str) -> AccessToken | None:
            return None

    server = MCPServer(
        "doctor-sdk-reference",
        token_verifier=RejectAll(),
        auth=AuthSettings(
            issuer_url=AnyHttpUrl(issuer),
            resource_server_url=AnyHttpUrl(resource),
            required_scopes=scopes,
        ),
    )

    @server.tool(description="Answer pong.")
    def ping() -> str:
        return "pong"

    # Behind nginx the Host header is nginx's; the SDK's DNS-rebinding check is for
    # servers reached directly.
    app = server.streamable_http_app(
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # Listening before the port is reported: connections wait in the backlog until
    # uvicorn accepts them, so the parent needs no polling.
    sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    """``python -m tests.support.mcp_sdk_server --resource URL --issuer URL --scope S``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--resource", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--scope", action="append", default=[])
    args = parser.parse_args()
    _serve(args.resource, args.issuer, args.scope)


if __name__ == "__main__":
    main()
