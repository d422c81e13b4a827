"""Stand-ins for the keys engineer's discovery and JWKS functions, isolated for swapping.

``inspector/discovery.py`` and ``inspector/jwks.py`` (authorization-server discovery in the
MCP order, issuer checks with Entra ``{tenantid}`` templates, JWKS fetching) had not landed
when the doctor was written. Everything the doctor needs from them goes through the three
functions below, so replacing this module with calls into theirs is a local change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from inspector.doctor.probe import ProbeError, request


@dataclass(frozen=True, slots=True)
class Discovered:
    """The first metadata document found for an issuer, and every URL tried on the way."""

    url: str | None
    document: dict[str, Any] | None
    tried: tuple[tuple[str, str], ...]


def discovery_urls(issuer: str) -> list[str]:
    """MCP order: RFC 8414 path-inserted, OIDC path-inserted, then OIDC path-appended."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")

    def at(p: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, p, "", ""))

    if not path:
        return [
            at("/.well-known/oauth-authorization-server"),
            at("/.well-known/openid-configuration"),
        ]
    return [
        at(f"/.well-known/oauth-authorization-server{path}"),
        at(f"/.well-known/openid-configuration{path}"),
        at(f"{path}/.well-known/openid-configuration"),
    ]


def discover(issuer: str, *, timeout: float) -> Discovered:
    """Try :func:`discovery_urls` in order; the first 200 JSON object wins."""
    tried: list[tuple[str, str]] = []
    for url in discovery_urls(issuer):
        try:
            probe = request("GET", url, timeout=timeout, headers={"Accept": "application/json"})
        except ProbeError as exc:
            tried.append((url, str(exc)))
            continue
        if probe.status != 200:
            tried.append((url, f"HTTP {probe.status}"))
            continue
        try:
            document = probe.json_object()
        except ValueError as exc:
            tried.append((url, str(exc)))
            continue
        tried.append((url, "ok"))
        return Discovered(url, document, tuple(tried))
    return Discovered(None, None, tuple(tried))


def expected_issuer(document_issuer: str, requested: str) -> str:
    """The issuer a document claims, with Entra's ``{tenantid}`` filled from ``requested``."""
    if "{tenantid}" not in document_issuer:
        return document_issuer
    segments = [s for s in urlsplit(requested).path.split("/") if s]
    tenant = segments[0] if segments else ""
    return document_issuer.replace("{tenantid}", tenant)


def fetch_jwks(uri: str, *, timeout: float) -> dict[str, Any]:
    """The JWKS document at ``uri``; ``ValueError`` with a one-line reason otherwise."""
    try:
        probe = request("GET", uri, timeout=timeout, headers={"Accept": "application/json"})
    except ProbeError as exc:
        raise ValueError(str(exc)) from None
    if probe.status != 200:
        raise ValueError(f"HTTP {probe.status}")
    document = probe.json_object()
    if not isinstance(document.get("keys"), list):
        raise ValueError("no 'keys' array")
    return document
