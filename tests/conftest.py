"""Suite-wide hooks.

CI installs nginx and tmux, so there a test skipped for want of them means a broken install
step, not a machine without the tool: with TOKEN_INSPECTOR_REQUIRE_TOOLS=1 such skips fail.

No test reaches beyond loopback: ``_loopback_only`` makes every name lookup and every
IPv4/IPv6 connect for another host fail in the test's process, and fails the test at
teardown even when the code under test swallowed the error (an offline machine must give
the same result as CI). Tests marked ``oracle`` are exempt: their database may be anywhere.
Subprocesses (``python -m inspector ...``, nginx, tmux) are not covered by the patch; those
tests stay offline by what they pass: keys from files (``--jwks``/``--oidc-metadata``),
IdPs and sites on 127.0.0.1, or commands that fetch nothing.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

_TOOL_WORDS = ("nginx", "tmux", "headers-more")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get("TOKEN_INSPECTOR_REQUIRE_TOOLS") != "1":
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if any(word in reason.lower() for word in _TOOL_WORDS):
        report.outcome = "failed"
        report.longrepr = f"required system tool missing in CI: {reason}"


# -- no network beyond loopback ------------------------------------------------------------

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: object) -> bool:
    """Whether ``host`` (a name or address, as given to ``getaddrinfo``) stays on this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard/loopback address
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetworkBeyondLoopback(socket.gaierror):
    """A test reached for a host that is not loopback.

    An ``OSError`` (as on an offline machine) so the code under test takes its ordinary
    error path; the fixture still fails the test whatever that path did with it.
    """


@pytest.fixture(autouse=True)
def _loopback_only(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    if request.node.get_closest_marker("oracle") is not None:
        yield []
        return
    reached: list[str] = []

    def refuse(how: str, host: object) -> NetworkBeyondLoopback:
        reached.append(f"{how}({host!r})")
        return NetworkBeyondLoopback(
            socket.EAI_NONAME,
            f"test tried {how} for {host!r}: tests may only reach loopback "
            "(localhost, 127.*, ::1); use a server on 127.0.0.1 or offline key files "
            "(see tests/conftest.py)",
        )

    def guarded_lookup(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def lookup(host: object, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback(host):
                raise refuse(name, host)
            return real(host, *args, **kwargs)

        return lookup

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, guarded_lookup(name, getattr(socket, name)))

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def outside(sock: socket.socket, address: object) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return False  # AF_UNIX and friends never leave the machine
        return not (isinstance(address, tuple) and address and is_loopback(address[0]))

    def connect(sock: socket.socket, address: Any) -> None:
        if outside(sock, address):
            raise refuse("connect", address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if outside(sock, address):
            raise refuse("connect_ex", address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield reached
    if reached:
        pytest.fail(
            "test reached beyond loopback (refused, but it must not try): "
            + ", ".join(dict.fromkeys(reached)),
            pytrace=False,
        )
