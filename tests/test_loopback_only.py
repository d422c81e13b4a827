"""The suite's network guard: loopback works, anything else is refused and remembered.

Every test already runs under it (``tests/conftest.py``); these tests ask the autouse
fixture for its record, check what it caught, and then clear it so that this module's own
deliberate attempts do not fail the test at teardown. No packet leaves the machine: a
refused lookup or connect never reaches the real ``socket`` call.
"""

from __future__ import annotations

import _socket
import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.support.loopback_only import NetworkBeyondLoopback, is_loopback

# TEST-NET-1 (RFC 5737) and a reserved name (RFC 2606): nothing real answers either.
DOCUMENTATION_ADDRESS = "192.0.2.1"
RESERVED_NAME = "login.example.invalid"


@pytest.fixture
def caught(_loopback_only: list[str]) -> Iterator[list[str]]:
    """What the guard refused during the test; cleared afterwards (these are on purpose)."""
    yield _loopback_only
    _loopback_only.clear()


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]",
     b"127.0.0.1", None],
)  # fmt: skip
def test_loopback_names_and_addresses_are_allowed(host: object) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    ["example.com", "localhost.example.com", "127.0.0.1.nip.io", "0.0.0.0", "10.0.0.1",
     "::", "::ffff:8.8.8.8", "", 2130706433],
)  # fmt: skip
def test_everything_else_is_not_loopback(host: object) -> None:
    assert not is_loopback(host)


def test_a_lookup_beyond_loopback_is_refused_with_a_clear_message(caught: list[str]) -> None:
    with pytest.raises(NetworkBeyondLoopback, match="tests may only reach loopback"):
        socket.getaddrinfo(RESERVED_NAME, 443)
    with pytest.raises(OSError):  # what the code under test sees: an ordinary lookup failure
        socket.gethostbyname(RESERVED_NAME)
    assert caught == [f"getaddrinfo({RESERVED_NAME!r})", f"gethostbyname({RESERVED_NAME!r})"]


def test_a_connect_to_an_address_beyond_loopback_is_refused(caught: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(NetworkBeyondLoopback):
            sock.connect((DOCUMENTATION_ADDRESS, 443))
        with pytest.raises(NetworkBeyondLoopback):
            sock.connect_ex((DOCUMENTATION_ADDRESS, 443))
    address = (DOCUMENTATION_ADDRESS, 443)
    assert caught == [f"connect({address!r})", f"connect_ex({address!r})"]


def test_an_error_the_code_swallows_is_still_recorded(caught: list[str]) -> None:
    # requests turns the refusal into a ConnectionError, as code under test might catch it;
    # the record is what fails such a test at teardown.
    session = requests.Session()
    session.trust_env = False  # straight to the host, whatever proxy the machine names
    with pytest.raises(requests.ConnectionError):
        session.get(f"https://{RESERVED_NAME}/keys", timeout=5)
    assert caught == [f"getaddrinfo({RESERVED_NAME!r})"]


def test_refusals_in_other_threads_are_recorded_too(caught: list[str]) -> None:
    def lookup() -> None:
        with contextlib.suppress(OSError):  # swallowed, as a worker thread might
            socket.getaddrinfo(RESERVED_NAME, 80)

    worker = threading.Thread(target=lookup)
    worker.start()
    worker.join(10)
    assert caught == [f"getaddrinfo({RESERVED_NAME!r})"]


def test_loopback_still_works() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with socket.create_connection(("localhost", port), timeout=5):
            pass
        assert socket.getaddrinfo("127.0.0.1", port)


@pytest.mark.oracle
def test_oracle_tests_are_exempt(_loopback_only: list[str]) -> None:
    # Their database may be on another host; the guard is not installed for them.
    assert _loopback_only == []
    assert socket.getaddrinfo.__module__ == "socket"
    assert socket.socket.connect is _socket.socket.connect
