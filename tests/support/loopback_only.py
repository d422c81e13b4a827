"""Refuse, in this process, every name lookup and connect for a host that is not loopback.

Installed for every test by ``tests/conftest.py``. Lookups (``getaddrinfo``,
``gethostbyname``, ``gethostbyname_ex``) and IPv4/IPv6 ``connect``/``connect_ex`` for any host
other than ``localhost``, ``127.*`` or ``::1`` raise :class:`NetworkBeyondLoopback` and are
recorded, so the fixture can fail the test even when the code under test caught the error.
``socket.create_connection``, requests/urllib3 and asyncio all go through these calls.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LOOKUPS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex")


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


def install(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch ``socket`` until ``monkeypatch`` is undone; returns the list of refused attempts."""
    reached: list[str] = []

    def refuse(how: str, host: object) -> NetworkBeyondLoopback:
        reached.append(f"{how}({host!r})")
        return NetworkBeyondLoopback(
            socket.EAI_NONAME,
            f"test tried {how} for {host!r}: tests may only reach loopback "
            "(localhost, 127.*, ::1); use a server on 127.0.0.1 or offline key files "
            "(see tests/support/loopback_only.py)",
        )

    def guarded(how: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def lookup(host: object, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback(host):
                raise refuse(how, host)
            return real(host, *args, **kwargs)

        return lookup

    for how in _LOOKUPS:
        monkeypatch.setattr(socket, how, guarded(how, getattr(socket, how)))

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
    return reached
