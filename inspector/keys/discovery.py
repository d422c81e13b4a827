"""Finding an issuer's authorization server metadata, the way MCP clients do.

The steps are exposed one by one so the doctor can show each of them: which URLs are
candidates for an issuer (:func:`candidate_metadata_urls`), fetching and checking one
document (:func:`fetch_metadata`), walking the candidates (:func:`discover`), reading a
document from a file (:func:`load_metadata`) and comparing its issuer with a token's
(:func:`issuer_mismatch`, with Entra's ``{tenantid}`` template resolved).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from inspector.keys.http import Deadline, HttpClient, JsonFetch, one_line, shown_url, url_problem
from parsers import json_limits

# --debug: which metadata URLs were tried and what was decided about each.
log = logging.getLogger(__name__)

ENTRA_LOGIN_HOST = "login.microsoftonline.com"
ENTRA_V1_HOST = "sts.windows.net"
# Entra's login hosts (public, US Government, China) answer only the appended OIDC form.
ENTRA_LOGIN_HOSTS = frozenset(
    {ENTRA_LOGIN_HOST, "login.microsoftonline.us", "login.chinacloudapi.cn"}
)
# v1 token issuers and the login host that serves their tenant's v1 document.
ENTRA_V1_HOSTS = {ENTRA_V1_HOST: ENTRA_LOGIN_HOST, "sts.chinacloudapi.cn": "login.chinacloudapi.cn"}
TENANT_TEMPLATE = "{tenantid}"
# OCI IAM identity domains sign tokens with this issuer by default; their metadata and
# keys are served under the domain URL (https://idcs-....identity.oraclecloud.com).
OCI_IAM_DEFAULT_ISSUER = "https://identity.oraclecloud.com/"
# Metadata documents are small; a local file bigger than this is not one.
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UrlOutcome:
    """One metadata URL that was tried: its HTTP status and why it was not used."""

    url: str
    status: int | None
    # ``None`` when this URL answered with the metadata that was used.
    error: str | None

    def describe(self) -> str:
        """``<url> -> 200`` / ``<url> -> 404: HTTP 404 Not Found`` / ``<url> -> <error>``."""
        if self.error is None:
            return f"{self.url} -> {self.status if self.status is not None else 'read'}"
        if self.status is None:
            return f"{self.url} -> {self.error}"
        return f"{self.url} -> {self.status}: {self.error}"


@dataclass(frozen=True, slots=True)
class Discovery:
    """The result of looking for an issuer's metadata, successful or not."""

    issuer: str
    # The URL (or file) whose document was accepted; ``None`` on failure.
    metadata_url: str | None
    tried: tuple[UrlOutcome, ...]
    metadata: Mapping[str, Any] | None
    # One line saying why discovery failed; ``None`` on success.
    problem: str | None
    # The document's ``issuer`` exactly as written (it may be a ``{tenantid}`` template).
    metadata_issuer: str | None = None
    source: Literal["network", "file"] = "network"
    # True when the address policy refused a metadata URL (nothing was sent there).
    refused: bool = False

    @property
    def ok(self) -> bool:
        """True when a document was found, valid, and for this issuer."""
        return self.problem is None and self.metadata is not None

    @property
    def jwks_uri(self) -> str | None:
        """The document's ``jwks_uri`` when discovery succeeded."""
        if not self.ok or self.metadata is None:
            return None
        value = self.metadata.get("jwks_uri")
        return value if isinstance(value, str) else None

    def summary(self) -> str:
        """One line for a status bar or a log: where the metadata came from, or why not."""
        if self.ok:
            return f"metadata from {self.metadata_url}; jwks_uri {self.jwks_uri}"
        return f"discovery failed: {self.problem}"


def issuer_problem(issuer: str) -> str | None:
    """Why ``issuer`` cannot be used to build metadata URLs, or ``None``."""
    problem = url_problem(issuer)
    if problem is not None:
        return f"issuer is not usable: {problem}"
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        return "issuer is not usable: it has a query or fragment (RFC 8414 forbids both)"
    return None


def candidate_metadata_urls(issuer: str) -> list[str]:
    """Metadata URLs for ``issuer``, in the order they are tried.

    The order is the MCP specification's (2025-06-18 / 2025-11-25): for an issuer with a
    path, the RFC 8414 form with the path appended after the well-known segment, then the
    OIDC form the same way, then OIDC discovery's ``{issuer}/.well-known/...``; for an
    issuer without a path, the RFC 8414 then the OIDC document at the root.
    """
    if issuer_problem(issuer) is not None:
        return []
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    if host in ENTRA_V1_HOSTS and path:
        # v1 tokens say sts.windows.net, which serves no metadata; the tenant's v1
        # document lives on the login host and carries the sts.windows.net issuer.
        tenant = path.strip("/").split("/")[0]
        login = ENTRA_V1_HOSTS[host]
        return [f"https://{login}/{tenant}/.well-known/openid-configuration"]
    if not path:
        return [
            f"{origin}/.well-known/oauth-authorization-server",
            f"{origin}/.well-known/openid-configuration",
        ]
    urls = [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]
    if host in ENTRA_LOGIN_HOSTS:
        # Entra answers only the OIDC form appended to the issuer: asking it first saves
        # two round-trips that always fail, on every refresh.
        urls.insert(0, urls.pop())
    return urls


def resolve_issuer_template(metadata_issuer: str, claims: Mapping[str, Any] | None) -> str:
    """Entra's multi-tenant documents say ``.../{tenantid}/v2.0``: put the token's ``tid`` in."""
    tid = (claims or {}).get("tid")
    if TENANT_TEMPLATE in metadata_issuer and isinstance(tid, str) and tid:
        return metadata_issuer.replace(TENANT_TEMPLATE, tid)
    return metadata_issuer


def issuer_mismatch(
    metadata_issuer: str, token_issuer: str, claims: Mapping[str, Any] | None = None
) -> str | None:
    """Why a document with ``metadata_issuer`` is not valid for ``token_issuer``, or ``None``.

    RFC 8414 section 3.3 and OIDC Discovery section 4.3: the issuer must be identical,
    character for character (a trailing slash matters, as it does for ORDS).
    """
    resolved = resolve_issuer_template(metadata_issuer, claims)
    if TENANT_TEMPLATE in resolved:
        return (
            f"metadata issuer {one_line(resolved)!r} is a {TENANT_TEMPLATE} template "
            "and the token has no tid claim to fill it"
        )
    if resolved == token_issuer:
        return None
    if resolved.rstrip("/") == token_issuer.rstrip("/"):
        return (
            f"metadata issuer {one_line(resolved)!r} differs from the token's iss "
            f"{one_line(token_issuer)!r} only by a trailing slash"
        )
    return (
        f"metadata issuer {one_line(resolved)!r} does not match the token's iss "
        f"{one_line(token_issuer)!r}"
    )


def check_metadata(
    document: Mapping[str, Any],
    *,
    issuer: str | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str | None:
    """Why ``document`` cannot be used (no issuer, bad ``jwks_uri``, other issuer), or ``None``.

    With ``issuer=None`` only the document's shape is checked.
    """
    meta_issuer = document.get("issuer")
    if not isinstance(meta_issuer, str) or not meta_issuer:
        return "metadata has no issuer"
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        return "metadata has no jwks_uri"
    problem = url_problem(jwks_uri)
    if problem is not None:
        return f"metadata jwks_uri is not usable: {problem}"
    if issuer is not None:
        return issuer_mismatch(meta_issuer, issuer, claims)
    return None


def _meta_issuer(document: Mapping[str, Any] | None) -> str | None:
    value = (document or {}).get("issuer")
    return value if isinstance(value, str) else None


def _outcome(fetch: JsonFetch, problem: str | None) -> UrlOutcome:
    return UrlOutcome(fetch.url, fetch.status, problem if fetch.error is None else fetch.error)


def fetch_metadata(
    url: str,
    *,
    issuer: str | None = None,
    claims: Mapping[str, Any] | None = None,
    http: HttpClient | None = None,
) -> Discovery:
    """Fetch one metadata document and check it (against ``issuer`` when given).

    For the doctor and for users who name the metadata URL themselves (e.g. Entra's
    ``common`` document, whose issuer is a template resolved with ``claims["tid"]``).
    """
    client = http or HttpClient()
    fetch = client.get_json(url)
    problem = fetch.error or check_metadata(fetch.document or {}, issuer=issuer, claims=claims)
    return Discovery(
        issuer=issuer or _meta_issuer(fetch.document) or "",
        metadata_url=url if problem is None else None,
        tried=(_outcome(fetch, problem),),
        metadata=fetch.document,
        problem=None if problem is None else f"{one_line(url)}: {problem}",
        metadata_issuer=_meta_issuer(fetch.document),
    )


def discover(
    issuer: str,
    *,
    claims: Mapping[str, Any] | None = None,
    http: HttpClient | None = None,
    base: str | None = None,
) -> Discovery:
    """Walk :func:`candidate_metadata_urls` until one answers with this issuer's metadata.

    ``base`` is where the metadata lives when that is not the issuer (an OCI IAM domain
    URL for tokens whose ``iss`` is the shared https://identity.oraclecloud.com/): its
    candidate URLs are walked, and the document must still name ``issuer``.

    A transport failure (refused, timeout, TLS) ends the walk: every candidate is on the
    same host, so the others would only fail the same way, each after its own timeout.
    The whole walk ends within twice ``http``'s timeout.
    """
    problem = issuer_problem(base or issuer)
    if problem is not None:
        return Discovery(issuer, None, (), None, problem)
    client = http or HttpClient()
    # The candidates together get twice one fetch's timeout (inside any outer deadline,
    # such as the key store's for discovery and JWKS together).
    with Deadline(2 * client.timeout):
        return _walk(issuer, claims, client, base)


def _walk(
    issuer: str, claims: Mapping[str, Any] | None, client: HttpClient, base: str | None = None
) -> Discovery:
    log.debug("discovering metadata for issuer %s", shown_url(issuer))
    tried: list[UrlOutcome] = []
    rejected: str | None = None
    rejected_doc: Mapping[str, Any] | None = None
    for url in candidate_metadata_urls(base or issuer):
        fetch = client.get_json(url)
        if fetch.error is not None:
            tried.append(_outcome(fetch, None))
            if fetch.status is None or fetch.timed_out:
                return Discovery(
                    issuer,
                    None,
                    tuple(tried),
                    None,
                    f"{fetch.error} ({one_line(url)})",
                    _meta_issuer(rejected_doc),
                    refused=fetch.refused,
                )
            if 200 <= fetch.status < 300:
                # Answered, but unusable (not JSON, too large): says more than a 404.
                rejected = f"{fetch.error} ({one_line(url)})"
            continue
        document = fetch.document or {}
        reason = check_metadata(document, issuer=issuer, claims=claims)
        tried.append(_outcome(fetch, reason))
        if reason is None:
            log.debug("metadata for %s found at %s", shown_url(issuer), shown_url(url))
            return Discovery(issuer, url, tuple(tried), document, None, _meta_issuer(document))
        log.debug("metadata at %s rejected: %s", shown_url(url), shown_url(reason))
        rejected, rejected_doc = f"{reason} ({one_line(url)})", document
    if rejected is None:
        statuses = ", ".join(str(t.status) for t in tried)
        rejected = (
            f"no metadata found for {one_line(issuer)!r}: {len(tried)} URLs tried ({statuses})"
        )
    return Discovery(issuer, None, tuple(tried), rejected_doc, rejected, _meta_issuer(rejected_doc))


def load_metadata(
    path: Path,
    *,
    issuer: str | None = None,
    claims: Mapping[str, Any] | None = None,
) -> Discovery:
    """Read a metadata document from a file (``--oidc-metadata``) and check it like a fetch."""
    source = str(path)
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        problem = f"cannot read {source}: {exc.strerror or exc}"
        return Discovery(issuer or "", None, (), None, problem, source="file")
    if len(raw) > MAX_FILE_BYTES:
        problem = f"{source} is larger than {MAX_FILE_BYTES // 1024} KiB"
        return Discovery(issuer or "", None, (), None, problem, source="file")
    try:
        document = json_limits.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        problem = f"{source} is not JSON ({one_line(str(exc), 80)})"
        return Discovery(issuer or "", None, (), None, problem, source="file")
    if not isinstance(document, dict):
        problem = f"{source} holds a JSON {type(document).__name__}, not an object"
        return Discovery(issuer or "", None, (), None, problem, source="file")
    return metadata_from_document(document, source, issuer=issuer, claims=claims)


def metadata_from_document(
    document: Mapping[str, Any],
    source: str,
    *,
    issuer: str | None = None,
    claims: Mapping[str, Any] | None = None,
) -> Discovery:
    """A :class:`Discovery` for an already-loaded document (offline metadata, cached file)."""
    reason = check_metadata(document, issuer=issuer, claims=claims)
    meta_issuer = _meta_issuer(document)
    return Discovery(
        issuer=issuer or meta_issuer or "",
        metadata_url=source if reason is None else None,
        tried=(UrlOutcome(source, None, reason),),
        metadata=document,
        problem=None if reason is None else f"{reason} ({source})",
        metadata_issuer=meta_issuer,
        source="file",
    )
