"""One deadline for a whole fetch (issue 9, item 1): a slow server cannot hold the tool.

Socket timeouts bound each read, not their sum: a server trickling a byte well inside the
read timeout kept ``decode``, ``scan`` and ``doctor`` busy for minutes. Each test runs the
fetch in a thread with a 1 s timeout and waits for it at most ``BOUND`` seconds: the fetch
must have ended by then, with an error that says it ran out of time. Before the fix the
trickling fetches never ended (the wait ran out), and the others ended with other errors.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import requests
import trustme

from inspector.keys.http import Deadline, HttpClient, JsonFetch
from inspector.keys.store import KeyStore
from tests.support.bounded import bounded as wait_bounded
from tests.support.trickle import Mode, TrickleServer

T = TypeVar("T")
# A fetch with a 1 s timeout must have ended well before this (a generous margin for a
# busy machine: this bounds the wait, it does not measure speed).
BOUND = 10.0


def bounded(call: Callable[[], T], limit: float = BOUND) -> T:
    """``call()`` within ``limit`` seconds, or the test fails."""
    return wait_bounded(call, limit, "the deadline did not hold")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    """A server context with a trustme certificate for 127.0.0.1, and the CA bundle."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return context, str(bundle)


def _server(mode: Mode, scheme: str, tls: tuple[ssl.SSLContext, str]) -> TrickleServer:
    return TrickleServer(mode, ssl_context=tls[0] if scheme == "https" else None)


def _client(scheme: str, tls: tuple[ssl.SSLContext, str], timeout: float = 1.0) -> HttpClient:
    session = requests.Session()
    if scheme == "https":
        session.verify = tls[1]
    return HttpClient(session=session, timeout=timeout)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_trickled_headers_end_at_the_deadline(scheme: str, tls: tuple[ssl.SSLContext, str]) -> None:
    with _server("headers", scheme, tls) as server:
        fetched = bounded(lambda: _client(scheme, tls).get_json(server.url + "/jwks"))
        assert server.bytes_sent > 0, "the server never started answering"
    assert fetched.document is None and fetched.timed_out
    assert fetched.error == "no response within 1 s"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_trickled_body_ends_at_the_deadline(scheme: str, tls: tuple[ssl.SSLContext, str]) -> None:
    with _server("body", scheme, tls) as server:
        fetched = bounded(lambda: _client(scheme, tls).get_json(server.url + "/jwks"))
    assert fetched.document is None and fetched.timed_out
    assert fetched.status == 200
    assert fetched.describe() == "200: response not complete within 1 s"


def test_a_redirect_chain_shares_one_deadline() -> None:
    # Every hop answers inside the read timeout; six of them do not fit in one deadline.
    with TrickleServer("slow", delay=0.4) as server:
        server.response = (
            f"HTTP/1.1 302 Found\r\nLocation: {server.url}/next\r\nConnection: close\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        fetched = bounded(lambda: HttpClient(timeout=1.0).get_json(server.url + "/start"))
    assert fetched.error is not None and "within 1 s" in fetched.error, fetched
    assert fetched.timed_out


def test_a_name_lookup_that_never_answers_ends_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    asked: list[object] = []

    def stuck(host: object, *args: object, **kwargs: object) -> Any:
        # An attacker's name server that never answers; released when the test ends.
        asked.append(host)
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "released")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    try:
        fetched = bounded(lambda: HttpClient(timeout=1.0).get_json("https://idp.invalid/jwks"))
    finally:
        release.set()
    assert asked, "the name was never looked up"
    assert fetched.timed_out and fetched.error == "no response within 1 s"


def test_the_deadline_holds_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The proxy itself trickles: the request was judged before it was sent, the socket
    # goes to the proxy, and the deadline still ends it.
    with TrickleServer("headers") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.delenv("NO_PROXY")
        monkeypatch.delenv("no_proxy")
        # A literal TEST-NET address: judged without a lookup, never contacted.
        fetched = bounded(lambda: HttpClient(timeout=1.0).get_json("http://192.0.2.1/jwks"))
        assert proxy.connections == 1
    assert fetched.timed_out and fetched.error == "no response within 1 s"


def test_a_fetch_inside_an_outer_deadline_gets_what_is_left() -> None:
    def fetch(url: str) -> tuple[JsonFetch, Deadline]:
        # Deadlines are per thread (a context variable): the outer one is entered here.
        with Deadline(1.0) as outer:
            return HttpClient(timeout=5.0).get_json(url), outer

    with TrickleServer("body") as server:
        fetched, outer = bounded(lambda: fetch(server.url + "/jwks"))
    assert fetched.timed_out and outer.timed_out
    assert fetched.error is not None
    assert "(what was left of a 1 s deadline)" in fetched.error


def test_one_issuers_discovery_has_an_overall_deadline() -> None:
    # Each metadata URL answers 404 after 0.9 s, inside the 1 s fetch timeout; the three
    # candidates together take longer than the issuer's 2 s (twice the timeout).
    with TrickleServer("slow", delay=0.9) as server:
        store = KeyStore(timeout=1.0, allow_private=True)
        issuer = server.url + "/tenant/v2.0"
        lookup = bounded(lambda: store.lookup(issuer, "kid"))
    assert lookup.status == "unavailable"
    assert "deadline" in lookup.detail and issuer in lookup.detail
    state = store.state()[issuer]
    assert state.status == "error" and state.timed_out


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_a_key_lookup_for_a_trickling_issuer_says_it_timed_out(mode: Mode) -> None:
    with TrickleServer(mode) as server:
        store = KeyStore(timeout=1.0, allow_private=True)
        lookup = bounded(lambda: store.lookup(server.url + "/t/v2.0", "kid"))
    assert lookup.status == "unavailable"
    assert "within 1 s" in lookup.detail
    assert store.state()[server.url + "/t/v2.0"].timed_out


def test_a_fast_fetch_stops_its_watchdog() -> None:
    before = set(threading.enumerate())
    with TrickleServer("slow", response=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}") as s:
        fetched = HttpClient(timeout=30.0).get_json(s.url + "/doc")
    assert fetched.ok and not fetched.timed_out
    timers = [t for t in set(threading.enumerate()) - before if isinstance(t, threading.Timer)]
    for timer in timers:
        timer.join(5)  # cancelled: ends at once, not after 30 s
        assert not timer.is_alive()
