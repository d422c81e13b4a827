"""The doctor's own HTTP requests: the unauthenticated MCP POST and plain document GETs.

Every request has a timeout and a size cap (the answers come from servers we are
diagnosing, possibly misconfigured ones); TLS trust follows ``requests`` defaults, so
``REQUESTS_CA_BUNDLE`` applies. Header fields are kept one by one because two
``WWW-Authenticate`` fields (ORDS's and nginx's) is itself a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

MAX_BODY_BYTES = 1_000_000
USER_AGENT = "token-inspector-doctor"


class ProbeError(Exception):
    """The request did not produce an HTTP response (DNS, refused, TLS, timeout, too big)."""


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
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> Probe:
    """Send one request without following redirects; raise :class:`ProbeError` on failure.

    Redirects are not followed because a connector fetching a ``.well-known`` document
    must get it at that URL; a 3xx is reported as what it is.
    """
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        with requests.request(
            method,
            url,
            headers=sent,
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
    except requests.RequestException as exc:
        raise ProbeError(_describe(exc)) from None
    except ValueError as exc:  # invalid URL pieces requests does not wrap
        raise ProbeError(f"invalid URL: {exc}") from None
