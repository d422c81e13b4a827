"""The doctor's own HTTP requests: the unauthenticated MCP POST and plain document GETs.

Every request has a timeout and a size cap (the answers come from servers we are
diagnosing, possibly misconfigured ones); TLS trust follows ``requests`` defaults, so
``REQUESTS_CA_BUNDLE`` applies. Header fields are kept one by one because two
``WWW-Authenticate`` fields (ORDS's and nginx's) is itself a finding.

The URLs come from the answers themselves (a challenge's ``resource_metadata``, the
metadata's ``authorization_servers`` and ``jwks_uri``), so every request goes through the
key-discovery client's guards (``inspector.keys.http``): the address policy is judged before
the request and again for the address each connection goes to, and one deadline bounds
the whole exchange. :class:`Reach` says which policy a URL gets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.keys.http import (
    ANY_ADDRESS,
    PUBLIC_ONLY,
    AddressPolicy,
    Deadline,
    HttpClient,
    one_line,
    policy_in_force,
)
from parsers import json_limits

MAX_BODY_BYTES = 1_000_000
USER_AGENT = "token-inspector-doctor"
# Said when a URL on a host nobody named is refused for being private or plain http.
_NOT_NAMED = (
    "only the MCP URL's host and anchored issuers may be private or plain http "
    "(--trusted-issuer ISS, or --allow-private-idp)"
)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


@dataclass(frozen=True, slots=True)
class Reach:
    """Which addresses the doctor may contact for a URL, as key discovery decides it.

    Metadata services (169.254.169.254 in any spelling, ``metadata.google.internal``...)
    never. Loopback, private networks and plain http only on a host the user named: the
    MCP URL's host, an anchored issuer's (``--trusted-issuer``, the expected issuer), or
    every host with ``allow_private`` (``--allow-private-idp``). Anything else a server
    points the doctor at gets public https addresses only.
    """

    named_hosts: frozenset[str] = frozenset()
    allow_private: bool = False

    @classmethod
    def of(cls, url: str, anchored: Iterable[str] = (), allow_private: bool = False) -> Reach:
        """The reach of a run against ``url`` with these anchored issuers."""
        hosts = {host for host in map(_host, (url, *anchored)) if host}
        return cls(frozenset(hosts), allow_private)

    def policy(self, url: str, *, via: str | None = None) -> AddressPolicy:
        """The address policy for ``url``; ``via``: the URL whose document named it.

        A ``jwks_uri`` is trusted as much as the authorization server that published
        it, as key discovery trusts an anchored issuer's ``jwks_uri``.
        """
        if self.allow_private or {_host(url), _host(via)} & self.named_hosts:
            return ANY_ADDRESS
        return PUBLIC_ONLY

    def client(self, url: str, timeout: float, *, via: str | None = None) -> HttpClient:
        """The key-discovery client, under the policy for ``url``."""
        return HttpClient(timeout=timeout, policy=self.policy(url, via=via))

    def refusal(self, url: str, *, via: str | None = None) -> str | None:
        """Why the doctor will not contact ``url`` (one line), or ``None``."""
        return _refusal(url, self.policy(url, via=via))


def _refusal(url: str, policy: AddressPolicy) -> str | None:
    problem = HttpClient(policy=policy).check(url)
    if problem is None or "refusing" not in problem:
        # Not an address matter (a malformed URL...): the request itself says what.
        return None
    if policy.public_only and HttpClient(policy=ANY_ADDRESS).check(url) is None:
        problem = f"{problem}; {_NOT_NAMED}"
    return one_line(problem, 300)


def reach_of(options: DoctorOptions) -> Reach:
    """The reach of a doctor run: the MCP URL's host and the anchored issuers' hosts."""
    return Reach.of(options.url, options.anchored_issuers, options.allow_private)


REFUSED_FIX = (
    "connectors fetch every URL of the chain from the internet: publish public https "
    "URLs; metadata services are never contacted, and a lab IdP on a private network "
    "needs --trusted-issuer ISS (or --allow-private-idp)"
)


def refused(what: str, url: str, reason: object) -> Finding:
    """The finding for a URL the doctor did not contact: one line saying which and why."""
    return Finding(
        "address-refused",
        Status.FAIL,
        f"{what} was not contacted: the address policy refuses it",
        f"{url}: {reason}",
        REFUSED_FIX,
    )


class ProbeError(Exception):
    """The request did not produce an HTTP response (DNS, refused, TLS, timeout, too big)."""


class ProbeRefused(ProbeError):
    """The address policy refused the URL: no request was sent."""


@dataclass(frozen=True, slots=True)
class Probe:
    """One HTTP response: status, header fields as sent (name, value), body bytes."""

    url: str
    status: int
    fields: tuple[tuple[str, str], ...]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        """Every field named ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return [v for k, v in self.fields if k.lower() == wanted]

    def header(self, name: str) -> str | None:
        """The fields named ``name`` joined with ``, `` (RFC 9110 list semantics), or None."""
        values = self.header_values(name)
        return ", ".join(values) if values else None

    @property
    def content_type(self) -> str:
        """Media type without parameters, lower-cased ('' when absent)."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; ``ValueError`` with a short reason otherwise."""
        try:
            data = json_limits.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"not JSON ({exc.__class__.__name__}: {exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"JSON {type(data).__name__}, not an object")
        return data


def _describe(exc: requests.RequestException) -> str:
    """A one-line reason without the stack of urllib3 wrappers."""
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error: {_innermost(exc)}"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"connection failed: {_innermost(exc)}"
    return f"{exc.__class__.__name__}: {_innermost(exc)}"


def _innermost(exc: BaseException) -> str:
    seen: BaseException = exc
    while True:
        nxt = seen.__cause__ or seen.__context__
        if nxt is None or nxt is seen:
            break
        seen = nxt
    text = str(seen) or seen.__class__.__name__
    return text if len(text) <= 200 else text[:200] + "…"


def request(
    method: str,
    url: str,
    *,
    timeout: float,
    policy: AddressPolicy = ANY_ADDRESS,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> Probe:
    """Send one request without following redirects; raise :class:`ProbeError` on failure.

    Redirects are not followed because a connector fetching a ``.well-known`` document
    must get it at that URL; a 3xx is reported as what it is. ``policy`` decides which
    addresses may be contacted (:class:`ProbeRefused`: nothing was sent); the request,
    headers and body included, ends within ``timeout`` seconds.
    """
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    refusal = _refusal(url, policy)
    if refusal is not None:
        raise ProbeRefused(refusal)
    client = HttpClient(timeout=timeout, policy=policy)
    # The connection classes read the policy when they connect (DNS rebinding).
    with policy_in_force(policy), client.session, Deadline(timeout) as deadline:
        try:
            return _exchange(client.session, method, url, sent, body, timeout, max_bytes)
        except ProbeError:
            raise
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # The socket timeout and the deadline (a dribbling server) say the same.
            if deadline.expired or isinstance(exc, requests.Timeout):
                raise ProbeError("timed out") from None
            if isinstance(exc, requests.RequestException):
                raise ProbeError(_describe(exc)) from None
            raise ProbeError(f"connection failed: {_innermost(exc)}") from None
        except ValueError as exc:  # invalid URL pieces requests does not wrap
            raise ProbeError(f"invalid URL: {exc}") from None


def _exchange(
    session: requests.Session,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    max_bytes: int,
) -> Probe:
    with session.request(
        method,
        url,
        headers=headers,
        data=body,
        timeout=timeout,
        allow_redirects=False,
        stream=True,
    ) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise ProbeError(f"response larger than {max_bytes} bytes")
            chunks.append(chunk)
        raw_headers = response.raw.headers
        fields = tuple((str(k), str(v)) for k, v in raw_headers.iteritems())
        return Probe(url, response.status_code, fields, b"".join(chunks))
