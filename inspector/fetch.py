"""Fetching small JSON documents (OIDC metadata, JWKS) from attacker-chosen URLs, safely.

Issuers come from tokens in a log, so every URL here may be hostile: only http(s),
a timeout on connect and read plus an overall deadline, a size limit, redirects followed
by hand (never to another scheme, never downgraded to plain http), JSON objects only.
Failures are values with a one-line message; nothing raises to the caller.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

DEFAULT_TIMEOUT = 5.0
# Discovery documents and key sets are a few KiB; Entra's JWKS is about 10 KiB.
DEFAULT_MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 16 * 1024
_HEADERS = {"Accept": "application/json", "User-Agent": "ords-token-inspector"}


@dataclass(frozen=True, slots=True)
class JsonFetch:
    """What one GET produced: a JSON object, or an HTTP status and/or a one-line error."""

    url: str
    status: int | None
    document: dict[str, Any] | None
    error: str | None
    # The URL that finally answered, when redirects were followed.
    final_url: str | None = None

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


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be fetched (not http(s), no host, credentials), or ``None``."""
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
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    # Token issuers are attacker-chosen: never let one point us at a cloud instance
    # metadata service (169.254.169.254, fd00:ec2::254) or a broadcast/unspecified address.
    if address.is_link_local or address.is_unspecified or address.is_multicast:
        return f"refusing to contact {address} (link-local, unspecified or multicast)"
    if address == ipaddress.ip_address("fd00:ec2::254"):
        return f"refusing to contact {address} (instance metadata service)"
    return None


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cap the length so a message fits one status line."""
    # Control characters come from attacker-chosen URLs and documents: never echo them.
    flat = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    flat = re.sub(r"\s+", " ", flat).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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


class HttpClient:
    """A ``requests.Session`` with the limits above; shared by discovery and key fetching.

    ``trust_env`` stays on, so ``REQUESTS_CA_BUNDLE``, ``HTTPS_PROXY`` and ``NO_PROXY``
    from the environment apply, as the admin expects on a host behind a proxy.
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_bytes = max_bytes

    def get_json(self, url: str) -> JsonFetch:
        """GET ``url`` and parse a JSON object; never raises."""
        problem = url_problem(url)
        if problem is not None:
            return JsonFetch(url, None, None, problem)
        deadline = time.monotonic() + self.timeout
        # requests lets REQUESTS_CA_BUNDLE override a CA set on the session itself
        # (psf/requests#3829); a CA the caller chose explicitly must win.
        chosen = self.session.verify
        verify: bool | str | None = chosen if chosen is not True else None
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self.session.get(
                    current,
                    timeout=(self.timeout, self.timeout),
                    allow_redirects=False,
                    stream=True,
                    verify=verify,
                    headers=_HEADERS,
                )
            except requests.RequestException as exc:
                return JsonFetch(url, None, None, _transport_error(exc, self.timeout))
            except (ValueError, OSError) as exc:
                # urllib3 and idna reject some hostile URLs with plain exceptions.
                problem = f"request failed: {one_line(str(exc), 120)}"
                return JsonFetch(url, None, None, problem)
            with response:
                if response.is_redirect:
                    target, problem = self._redirect_target(current, response)
                    if target is None:
                        return JsonFetch(url, response.status_code, None, problem)
                    current = target
                    continue
                return self._read(url, current, response, deadline)
        return JsonFetch(url, None, None, f"more than {MAX_REDIRECTS} redirects")

    @staticmethod
    def _redirect_target(
        current: str, response: requests.Response
    ) -> tuple[str | None, str | None]:
        location = response.headers.get("Location")
        if not location:
            return None, "redirect without a Location"
        target = urljoin(current, location)
        problem = url_problem(target)
        if problem is not None:
            return None, f"redirect refused: {problem}"
        before, after = urlsplit(current).scheme, urlsplit(target).scheme
        if before == "https" and after != "https":
            return None, "redirect refused: https downgraded to http"
        return target, None

    def _read(
        self, url: str, current: str, response: requests.Response, deadline: float
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
                # A server dribbling bytes would dodge the per-read timeout.
                if time.monotonic() > deadline:
                    return JsonFetch(
                        url, status, None, f"response took more than {self.timeout:g} s", final
                    )
        except (requests.RequestException, OSError) as exc:
            if not isinstance(exc, requests.RequestException):
                return JsonFetch(url, status, None, f"read failed: {one_line(str(exc), 120)}")
            return JsonFetch(url, status, None, _transport_error(exc, self.timeout), final)
        try:
            document = json.loads(bytes(body))
        except (ValueError, UnicodeDecodeError) as exc:
            return JsonFetch(url, status, None, f"not JSON ({one_line(str(exc), 80)})", final)
        if not isinstance(document, dict):
            kind = type(document).__name__
            return JsonFetch(url, status, None, f"JSON is a {kind}, not an object", final)
        return JsonFetch(url, status, document, None, final)

    def _too_big(self) -> str:
        return f"response larger than {self.max_bytes // 1024} KiB refused"
