"""Fetching small JSON documents (OIDC metadata, JWKS) from attacker-chosen URLs, safely.

Issuers come from tokens in a log, so every URL here may be hostile: only http(s),
one deadline for the whole fetch (name lookup, connect, headers and body, across
redirects: :class:`Deadline`), a size limit, redirects followed by hand (never to another
scheme, never downgraded to plain http), JSON objects only. Failures are values with a
one-line message; nothing raises to the caller.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from parsers import json_limits
from parsers.printable import printable
from parsers.redaction import redact_text

DEFAULT_TIMEOUT = 5.0
# Discovery documents and key sets are a few KiB; Entra's JWKS is about 10 KiB.
DEFAULT_MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 16 * 1024
_HEADERS = {"Accept": "application/json", "User-Agent": "ords-token-inspector"}

# --debug: what was fetched and refused. URLs come from tokens and servers: logged
# escaped and with any credential in them redacted.
log = logging.getLogger(__name__)


def shown_url(url: str) -> str:
    """``url`` as a debug line may show it: credentials redacted, escaped, capped."""
    return printable(redact_text(url, opaque=False), limit=300)


@dataclass(frozen=True, slots=True)
class JsonFetch:
    """What one GET produced: a JSON object, or an HTTP status and/or a one-line error."""

    url: str
    status: int | None
    document: dict[str, Any] | None
    error: str | None
    # The URL that finally answered, when redirects were followed.
    final_url: str | None = None
    # True when the fetch was cut off by its deadline (a stalled or dribbling server).
    timed_out: bool = False
    # True when the address policy refused the URL, a redirect target or an address the
    # name resolved to: nothing was sent there.
    refused: bool = False
    # Bytes of the body received and seconds the whole fetch took (for a document).
    size: int | None = None
    elapsed: float | None = None

    @property
    def ok(self) -> bool:
        """True when a JSON object was received with a 2xx status."""
        return self.error is None and self.document is not None

    def describe(self) -> str:
        """``200``, ``404``, ``200 but not JSON: ...`` or the transport error: one line."""
        if self.error is None:
            return str(self.status)
        if self.status is None:
            return self.error
        return f"{self.status}: {self.error}"


# Host names of cloud instance metadata services: refused whatever they resolve to.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.platformequinix.com",
    }
)
# Metadata services outside the link-local range (AWS over IPv6, Alibaba Cloud).
_METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses a fetch may reach.

    Always refused: link-local (the 169.254.169.254 metadata service), unspecified,
    multicast, reserved and known metadata addresses and host names, also when written
    as IPv4-mapped/compatible/NAT64/6to4 IPv6 or in a numeric form such as 2852039166.
    ``public_only`` (issuers nobody anchored: discovery triggered by a token's ``iss``)
    also refuses loopback, private and other non-global addresses, and plain http.
    """

    public_only: bool = False

    def describe(self) -> str:
        """How to lift the restriction, for refusal messages (short: they get capped)."""
        return "issuer not anchored (--trusted-issuer ISS, or --allow-private-idp)"


ANY_ADDRESS = AddressPolicy()
PUBLIC_ONLY = AddressPolicy(public_only=True)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    packed = int(address)
    # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks); not :: or ::1.
    if packed >> 32 == 0 and packed > 1:
        return ipaddress.IPv4Address(packed)
    return None


def address_problem(address: Address, policy: AddressPolicy = ANY_ADDRESS) -> str | None:
    """Why ``address`` may not be contacted under ``policy``, or ``None``."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return f"refusing to contact {address} (scoped IPv6 address)"
        inner = _embedded_ipv4(address)
        if inner is not None:
            # The IPv4 address inside is what the packets reach: judge that one.
            problem = address_problem(inner, policy)
            return None if problem is None else f"{problem} (written as {address})"
    if address in _METADATA_ADDRESSES:
        return f"refusing to contact {address} (instance metadata service)"
    # Token issuers are attacker-chosen: never let one point us at a cloud instance
    # metadata service (169.254.169.254) or a broadcast/unspecified/reserved address.
    if address.is_link_local or address.is_unspecified or address.is_multicast:
        return f"refusing to contact {address} (link-local, unspecified or multicast)"
    if address.is_reserved and not address.is_loopback:
        return f"refusing to contact {address} (reserved address)"
    if policy.public_only:
        if address.is_loopback:
            return f"refusing to contact {address} (loopback)"
        if address.is_private or address in _SHARED or not address.is_global:
            return f"refusing to contact {address} (private or non-global address)"
    return None


def _literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _numeric_ipv4(host: str) -> bool:
    # inet_aton accepts 2852039166, 0xa9fea9fe, 0251.0376.0251.0376 and 169.254.43518:
    # resolvers turn them into addresses, so they must be judged as addresses.
    return bool(re.fullmatch(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}", host))


def url_problem(url: str, policy: AddressPolicy = ANY_ADDRESS) -> str | None:
    """Why ``url`` may not be fetched, or ``None``: only what the URL itself says.

    Not http(s), no host, credentials, a metadata host name, a literal address the
    policy refuses, a non-canonical numeric IPv4 form; ``public_only`` also refuses
    plain http. Host names are judged after resolution (:func:`resolve_problem`).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"only http(s) URLs are fetched, not {parts.scheme or 'a relative URL'!r}"
    if not parts.hostname:
        return "URL has no host"
    if parts.username or parts.password:
        return "URL carries credentials"
    host = parts.hostname.lower().rstrip(".")
    if host in METADATA_HOSTS:
        return f"refusing to contact {host} (instance metadata service)"
    address = _literal_address(host)
    if address is None and _numeric_ipv4(host):
        return f"refusing to contact {host} (numeric IPv4 form that is not a dotted quad)"
    if address is not None:
        problem = address_problem(address, policy)
        if problem is not None:
            return problem
    if policy.public_only and parts.scheme != "https":
        return "refusing plain http for an issuer that is not anchored"
    return None


def resolve_problem(host: str, port: int | None, policy: AddressPolicy) -> str | None:
    """Resolve ``host`` and say why one of its addresses may not be contacted, or ``None``.

    Every address counts: a name resolving to a public and a private address is refused.
    ``socket.gaierror`` propagates (the caller decides what a failed lookup means).
    """
    infos = _getaddrinfo(host, port or 443)
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        problem = address_problem(address, policy)
        if problem is not None:
            return problem if host == str(address) else f"{host}: {problem}"
    return None


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cap the length so a message fits one status line."""
    # Control characters come from attacker-chosen URLs and documents: never echo them.
    flat = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    flat = re.sub(r"\s+", " ", flat).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class AddressRefused(NewConnectionError):
    """A name resolved to an address the policy refuses: no connection was attempted."""


def _caused_by_refusal(exc: BaseException) -> bool:
    # requests wraps urllib3's MaxRetryError, whose ``reason`` is the connect error.
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, AddressRefused):
            return True
        reason = getattr(seen, "reason", None)
        first = seen.args[0] if seen.args else None
        if isinstance(reason, BaseException):
            seen = reason
        else:
            seen = first if isinstance(first, BaseException) else None
    return False


def _transport_error(exc: requests.RequestException, timeout: float) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        match = re.search(r"certificate verify failed: ([^(')\"]+)", text)
        detail = match.group(1).strip() if match else "handshake failed"
        return f"TLS error: {one_line(detail, 120)}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"connect timed out after {timeout:g} s"
    if isinstance(exc, requests.Timeout):
        return f"no response within {timeout:g} s"
    if isinstance(exc, requests.exceptions.ProxyError):
        return f"proxy error: {one_line(text, 120)}"
    if isinstance(exc, requests.ConnectionError):
        refused = re.search(r"refusing to contact [^'\")]+\)", text)
        if refused:
            return refused.group(0)
        for needle, message in (
            ("Connection refused", "connection refused"),
            ("Name or service not known", "host name not found"),
            ("nodename nor servname", "host name not found"),
            ("Temporary failure in name resolution", "host name lookup failed"),
            ("Network is unreachable", "network unreachable"),
            ("No route to host", "no route to host"),
            ("Connection reset", "connection reset"),
            ("RemoteDisconnected", "server closed the connection"),
        ):
            if needle in text:
                return message
        return f"connection failed: {one_line(text, 120)}"
    return f"{type(exc).__name__}: {one_line(text, 120)}"


# -- deadlines -----------------------------------------------------------------------------


class Deadline:
    """One time limit for everything a fetch does: name lookup, connect, headers, body.

    Socket timeouts bound each read, not their sum: a server sending a byte every second
    keeps a read (of the status line, the headers or the body) alive for ever. While a
    deadline is active (``with Deadline(s):``), every socket the guarded connection
    classes open or reuse is registered with it, and when it passes those sockets are
    shut down: the read in progress ends at once, over TLS too. Name lookups run in a
    helper thread that is given up at the deadline. Deadlines nest: an inner one ends no
    later than the outer one (an issuer's discovery bounds each of its fetches).

    Works for any request made through :class:`HttpClient` or a ``requests`` session with
    :class:`CheckedAdapter` mounted, in the thread that entered the ``with`` block.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.outer = _ACTIVE_DEADLINE.get()
        now = time.monotonic()
        self.at = now + seconds
        if self.outer is not None and self.outer.at < self.at:
            self.at = self.outer.at
        # What this deadline actually allows (less than ``seconds`` inside an outer one).
        self.budget = max(0.0, self.at - now)
        # Set by whoever gave up because of this deadline (or an inner one).
        self.timed_out = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer: threading.Timer | None = None
        self._fired = False
        self._closed = False
        self._token: Any = None

    def __enter__(self) -> Deadline:
        self._token = _ACTIVE_DEADLINE.set(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        _ACTIVE_DEADLINE.reset(self._token)
        self.close()

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self._fired or time.monotonic() >= self.at

    def describe(self) -> str:
        """``5 s``, or ``1.2 s (what was left of a 10 s deadline)`` inside an outer one."""
        outer = self.outer
        if outer is not None and self.budget < self.seconds:
            return f"{self.budget:.2g} s (what was left of a {outer.seconds:g} s deadline)"
        return f"{self.seconds:g} s"

    def note_timeout(self) -> None:
        """Record that work was cut off here, in this deadline and every outer one."""
        current: Deadline | None = self
        while current is not None:
            current.timed_out = True
            current = current.outer

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        try:
            # A duplicate descriptor of the same connection: shutting it down ends reads
            # on the original, whatever object (an SSLSocket) now wraps that one.
            watcher = socket.socket(fileno=os.dup(sock.fileno()))
        except OSError:
            return
        with self._lock:
            if self._closed:
                watcher.close()
                return
            self._watched.append(watcher)
            if self._fired or self.expired:
                _shut(watcher)
            elif self._timer is None:
                self._timer = threading.Timer(self.remaining(), self._fire)
                self._timer.daemon = True
                self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._fired = True
            # Under the lock: close() cannot free a descriptor while it is shut down.
            for watcher in self._watched:
                _shut(watcher)

    def close(self) -> None:
        """Stop watching (the fetch is over); its sockets are left as they are."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            for watcher in self._watched:
                watcher.close()
            self._watched.clear()


def _shut(watcher: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the peer
        watcher.shutdown(socket.SHUT_RDWR)


# The innermost deadline of the fetch running in this thread.
_ACTIVE_DEADLINE: ContextVar[Deadline | None] = ContextVar("_ACTIVE_DEADLINE", default=None)


def _watch(sock: Any) -> None:
    deadline = _ACTIVE_DEADLINE.get()
    if deadline is not None and sock is not None:
        deadline.watch(sock)


def _getaddrinfo(host: str, port: int | None) -> list[Any]:
    """``getaddrinfo`` for TCP, given up when the active deadline passes.

    A resolver that never answers (an attacker's name server) would otherwise hold the
    fetch for the resolver's own timeouts, which no socket timeout covers.
    """
    deadline = _ACTIVE_DEADLINE.get()
    if deadline is None or _literal_address(host.strip("[]")) is not None:
        return socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    if deadline.expired:
        deadline.note_timeout()
        raise socket.gaierror(socket.EAI_AGAIN, "no time left for the name lookup")
    box: list[Any] = []
    done = threading.Event()

    def resolve() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP))
        except Exception as exc:
            box.append(exc)
        finally:
            done.set()

    threading.Thread(target=resolve, name="inspector-resolve", daemon=True).start()
    if not done.wait(deadline.remaining()):
        deadline.note_timeout()
        raise socket.gaierror(socket.EAI_AGAIN, "the name lookup did not finish in time")
    found = box[0]
    if isinstance(found, Exception):
        raise found
    return list(found)


# The policy of the fetch running in this thread, read when a socket is opened.
_ACTIVE_POLICY: ContextVar[AddressPolicy] = ContextVar("_ACTIVE_POLICY", default=ANY_ADDRESS)


@contextlib.contextmanager
def policy_in_force(policy: AddressPolicy) -> Iterator[None]:
    """Judge every connection opened in this block (this thread) under ``policy``.

    The checked connection classes read it when they connect, after resolving the name:
    a request made with a checked session outside such a block runs under ``ANY_ADDRESS``.
    """
    token = _ACTIVE_POLICY.set(policy)
    try:
        yield
    finally:
        _ACTIVE_POLICY.reset(token)


def _checked_socket(conn: HTTPConnection, opener: Callable[..., Any]) -> Any:
    """Resolve, judge every address, then connect to an address that was judged.

    Checking a name and letting the library resolve it again would let DNS answer a
    public address to the check and a private one to the connect (rebinding).
    """
    policy = _ACTIVE_POLICY.get()
    try:
        infos = _getaddrinfo(conn._dns_host, conn.port)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    targets: list[str] = []
    for info in infos:
        text = str(info[4][0])
        problem = address_problem(ipaddress.ip_address(text.split("%")[0]), policy)
        if problem is not None:
            log.debug("refused at connect time: %s -> %s", printable(conn.host), problem)
            raise AddressRefused(conn, problem)
        targets.append(text)
    last: OSError | None = None
    for target in dict.fromkeys(targets):
        try:
            sock = opener(
                (target, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            ) from exc
        except OSError as exc:
            last = exc
            continue
        _watch(sock)
        return sock
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}")


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock: socket.socket = _checked_socket(self, urllib3.util.connection.create_connection)
        return sock


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock: socket.socket = _checked_socket(self, urllib3.util.connection.create_connection)
        return sock


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        # A kept-alive connection was opened under an earlier deadline: watch it too.
        conn = super()._get_conn(timeout)
        _watch(getattr(conn, "sock", None))
        return conn


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _watch(getattr(conn, "sock", None))
        return conn


# Through an HTTP proxy the socket goes to the proxy: its address is the admin's choice
# (the request was judged before it was sent), but the deadline holds all the same.
class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _watch(getattr(conn, "sock", None))
        return conn


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _watch(getattr(conn, "sock", None))
        return conn


class CheckedAdapter(HTTPAdapter):
    """Direct connections go only to addresses the active :class:`AddressPolicy` allows.

    Requests through a proxy are judged before they are sent (the proxy resolves the
    name itself, so a rebinding DNS answer could still reach a private address there).
    """

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        """The ordinary pool manager, with connection classes that check the address."""
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """The ordinary proxy manager; its connections (not SOCKS) keep the deadline."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = {
                "http": _WatchedHTTPPool,
                "https": _WatchedHTTPSPool,
            }
        return manager


def _install_checks(session: requests.Session) -> None:
    # Only over requests' own adapter: a caller's custom adapter is left alone (its
    # requests are still judged before they are sent).
    for prefix in ("http://", "https://"):
        if type(session.get_adapter(prefix)) is HTTPAdapter:
            session.mount(prefix, CheckedAdapter())


class HttpClient:
    """A ``requests.Session`` with the limits above; shared by discovery and key fetching.

    ``trust_env`` stays on, so ``REQUESTS_CA_BUNDLE``, ``HTTPS_PROXY`` and ``NO_PROXY``
    from the environment apply, as the admin expects on a host behind a proxy.
    ``policy`` says which addresses may be reached (see :class:`AddressPolicy`).
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        policy: AddressPolicy = ANY_ADDRESS,
    ) -> None:
        self.session = session or requests.Session()
        _install_checks(self.session)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.policy = policy

    def reset_session(self) -> None:
        """A new session with the same checks and CA choice (in a forked child: a
        kept-alive connection must never carry requests from two processes)."""
        session = requests.Session()
        session.verify = self.session.verify
        _install_checks(session)
        self.session = session

    def with_policy(self, policy: AddressPolicy) -> HttpClient:
        """The same session and limits under another address policy."""
        if policy == self.policy:
            return self
        return HttpClient(
            session=self.session, timeout=self.timeout, max_bytes=self.max_bytes, policy=policy
        )

    def check(self, url: str) -> str | None:
        """Why ``url`` may not be fetched under this client's policy, or ``None``.

        A name that does not resolve here is left to the request (a proxy may resolve it).
        """
        problem = url_problem(url, self.policy)
        if problem is not None:
            return problem
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        if _literal_address(host) is not None:
            return None
        try:
            return resolve_problem(host, parts.port, self.policy)
        except (OSError, UnicodeError, ValueError):
            return None

    def get_json(self, url: str) -> JsonFetch:
        """GET ``url`` and parse a JSON object; never raises.

        Everything (lookup, connect, redirects, headers, body) ends within ``timeout``
        seconds, and within any enclosing :class:`Deadline`.
        """
        outer = _ACTIVE_DEADLINE.get()
        if outer is not None and outer.expired:
            outer.note_timeout()
            error = f"not fetched: the {outer.seconds:g} s deadline had passed"
            return JsonFetch(url, None, None, error, timed_out=True)
        started = time.monotonic()
        with policy_in_force(self.policy), Deadline(self.timeout) as deadline:
            fetched = self._get_json(url, deadline)
            if fetched.document is not None:
                fetched = replace(fetched, elapsed=time.monotonic() - started)
            log.debug("GET %s: %s", shown_url(url), printable(fetched.describe(), limit=300))
            cut = fetched.status is None or 200 <= fetched.status < 300
            if deadline.expired and fetched.document is None and cut:
                # However the cut-off surfaced (reset, protocol error, short body),
                # it is the deadline that ended this fetch.
                deadline.note_timeout()
                what = "no response" if fetched.status is None else "response not complete"
                error = f"{what} within {deadline.describe()}"
                return JsonFetch(
                    url, fetched.status, None, error, fetched.final_url, timed_out=True
                )
            return fetched

    def _get_json(self, url: str, deadline: Deadline) -> JsonFetch:
        problem = self.check(url)
        if problem is not None:
            log.debug("refused %s: %s", shown_url(url), printable(problem))
            return JsonFetch(url, None, None, problem, refused=True)
        # requests lets REQUESTS_CA_BUNDLE override a CA set on the session itself
        # (psf/requests#3829); a CA the caller chose explicitly must win.
        chosen = self.session.verify
        verify: bool | str | None = chosen if chosen is not True else None
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            # Connect and each read get what is left; the deadline's watchdog ends a
            # read that data trickling in keeps alive.
            left = min(self.timeout, deadline.remaining())
            if left <= 0:
                return JsonFetch(url, None, None, "deadline passed")
            try:
                response = self.session.get(
                    current,
                    timeout=(left, left),
                    allow_redirects=False,
                    stream=True,
                    verify=verify,
                    headers=_HEADERS,
                )
            except requests.RequestException as exc:
                error = _transport_error(exc, self.timeout)
                return JsonFetch(url, None, None, error, refused=_caused_by_refusal(exc))
            except (ValueError, OSError) as exc:
                # urllib3 and idna reject some hostile URLs with plain exceptions.
                problem = f"request failed: {one_line(str(exc), 120)}"
                return JsonFetch(url, None, None, problem)
            with response:
                if response.is_redirect:
                    target, problem, refused = self._redirect_target(current, response)
                    if target is None:
                        status = response.status_code
                        return JsonFetch(url, status, None, problem, refused=refused)
                    log.debug("redirect %s -> %s", shown_url(current), shown_url(target))
                    current = target
                    continue
                return self._read(url, current, response, deadline)
        return JsonFetch(url, None, None, f"more than {MAX_REDIRECTS} redirects")

    def _redirect_target(
        self, current: str, response: requests.Response
    ) -> tuple[str | None, str | None, bool]:
        """(target, None, False), or (None, why not, whether the address policy refused)."""
        location = response.headers.get("Location")
        if not location:
            return None, "redirect without a Location", False
        target = urljoin(current, location)
        before, after = urlsplit(current).scheme, urlsplit(target).scheme
        if before == "https" and after != "https":
            return None, "redirect refused: https downgraded to http", False
        problem = self.check(target)
        if problem is not None:
            return None, f"redirect refused: {problem}", True
        return target, None, False

    def _read(
        self, url: str, current: str, response: requests.Response, deadline: Deadline
    ) -> JsonFetch:
        status = response.status_code
        final = current if current != url else None
        if not 200 <= status < 300:
            reason = one_line(response.reason or "", 60)
            return JsonFetch(url, status, None, f"HTTP {status} {reason}".strip(), final)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return JsonFetch(url, status, None, self._too_big(), final)
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    return JsonFetch(url, status, None, self._too_big(), final)
                if deadline.expired:
                    return JsonFetch(url, status, None, "deadline passed", final)
        except (requests.RequestException, OSError) as exc:
            if not isinstance(exc, requests.RequestException):
                return JsonFetch(url, status, None, f"read failed: {one_line(str(exc), 120)}")
            return JsonFetch(url, status, None, _transport_error(exc, self.timeout), final)
        try:
            # Depth-limited: a 100,000-deep document is "not JSON", not a RecursionError.
            document = json_limits.loads(bytes(body))
        except (ValueError, UnicodeDecodeError) as exc:
            return JsonFetch(url, status, None, f"not JSON ({one_line(str(exc), 80)})", final)
        if not isinstance(document, dict):
            kind = type(document).__name__
            return JsonFetch(url, status, None, f"JSON is a {kind}, not an object", final)
        return JsonFetch(url, status, document, None, final, size=len(body))

    def _too_big(self) -> str:
        return f"response larger than {self.max_bytes // 1024} KiB refused"
