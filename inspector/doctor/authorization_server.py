"""Step 3: the authorization server's metadata, found the way an MCP client finds it."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.probe import ProbeError, ProbeRefused, reach_of, refused, request
from inspector.doctor.resource_metadata import (
    ResourceMetadata,
    check_entra_resource,
    check_scope_qualification,
)
from inspector.doctor.scopes import is_entra_url
from inspector.doctor.urls import is_https
from inspector.keys.discovery import Discovery, discover, issuer_mismatch, resolve_issuer_template

CONNECTOR_REDIRECTS = (
    "https://chatgpt.com/connector_platform_oauth_redirect",
    "https://claude.ai/api/mcp/auth_callback",
    "https://claude.com/api/mcp/auth_callback",
)

PRE_REGISTER = (
    "register a client app, add redirect URIs "
    + ", ".join(CONNECTOR_REDIRECTS)
    + ", create a secret and enter id and secret in the connector's advanced settings"
)


@dataclass(frozen=True, slots=True)
class AuthorizationServer:
    """The metadata a connector would use: where it came from, issuer, keys location."""

    server: str
    metadata_url: str
    issuer: str | None
    jwks_uri: str | None
    document: Mapping[str, Any]
    entra: bool


def is_entra(options: DoctorOptions, server: str, document: Mapping[str, Any] | None) -> bool:
    """Entra ID by flag, by host, or by the fields only Entra's metadata carries."""
    if options.idp != "auto":
        return options.idp == "entra"
    return is_entra_url(server) or bool(document and "cloud_instance_name" in document)


def check_authorization_server(
    options: DoctorOptions, prm: ResourceMetadata
) -> Generator[Finding, None, AuthorizationServer | None]:
    """Discover the first authorization server's metadata and check what connectors need."""
    server = prm.authorization_servers[0]
    if len(prm.authorization_servers) > 1:
        yield Finding(
            "as-several",
            Status.WARN,
            "several authorization servers: connectors use the first, the others are not checked",
            " ".join(prm.authorization_servers),
            "list only the IdP whose tokens the ORDS profile accepts",
        )
    yield from _judge_entra_tenant(server, options)
    claims = tenant_claims(server)
    reach = reach_of(options)
    refusal = reach.refusal(server)
    if refusal is not None:
        yield refused("the authorization server", server, refusal)
        yield from _entra_scope_checks(prm, options, is_entra(options, server, None))
        return None
    found = discover(server, claims=claims, http=reach.client(server, options.timeout))
    document, metadata_url = _document_of(found)
    if document is None or metadata_url is None:
        yield Finding(
            "as-metadata-unreachable",
            Status.FAIL,
            "no authorization-server metadata at any discovery location",
            "; ".join(t.describe() for t in found.tried) or found.problem,
            "authorization_servers must hold the IdP's issuer exactly (Entra: "
            "https://login.microsoftonline.com/<tenant>/v2.0)",
        )
        yield from _entra_scope_checks(prm, options, is_entra(options, server, None))
        return None
    misses = [t for t in found.tried if t.url != metadata_url]
    yield Finding(
        "as-metadata-found",
        Status.PASS,
        "authorization-server metadata found"
        + (f" after {len(misses)} miss(es), as MCP discovery order allows" if misses else ""),
        metadata_url,
    )
    issuer = document.get("issuer")
    issuer_str = issuer if isinstance(issuer, str) else None
    yield from _judge_issuer(issuer_str, server, claims)
    yield from _judge_registration(document, options, server)
    yield from _judge_pkce(document, is_entra(options, server, document))
    jwks_uri = document.get("jwks_uri")
    jwks_str = jwks_uri if isinstance(jwks_uri, str) and jwks_uri else None
    yield from _judge_jwks_uri(jwks_str, options)
    entra = is_entra(options, server, document)
    yield from _entra_scope_checks(prm, options, entra)
    return AuthorizationServer(server, metadata_url, issuer_str, jwks_str, document, entra)


def _entra_scope_checks(
    prm: ResourceMetadata, options: DoctorOptions, entra: bool
) -> Generator[Finding]:
    yield from check_scope_qualification(prm, entra)
    yield from check_entra_resource(prm, options.url, entra)


ENTRA_MULTI_TENANT = ("common", "organizations", "consumers")


def _judge_entra_tenant(server: str, options: DoctorOptions) -> Generator[Finding]:
    """An Entra multi-tenant endpoint issues tokens whose ``iss`` names the user's own
    tenant, never ``common``: the metadata's templated issuer cannot match, and an ORDS
    profile needs one exact issuer."""
    if not (options.idp == "entra" or (options.idp == "auto" and is_entra_url(server))):
        return
    segments = [s for s in urlsplit(server).path.split("/") if s]
    if segments and segments[0].lower() in ENTRA_MULTI_TENANT:
        parts = urlsplit(server)
        rest = "/".join(segments[1:])
        fixed = f"{parts.scheme}://{parts.netloc}/<tenant-id>" + (f"/{rest}" if rest else "")
        yield Finding(
            "as-entra-multi-tenant",
            Status.FAIL,
            f"the authorization server is Entra ID's multi-tenant '{segments[0]}' endpoint: "
            "its metadata's issuer is a {tenantid} template no token carries, clients "
            "validating the issuer (RFC 8414) reject it, and the ORDS profile needs the one "
            "tenant's issuer",
            server,
            f"list the tenant-specific issuer in authorization_servers: {fixed} (the "
            "Directory (tenant) ID from the app registration's overview)",
        )


def tenant_claims(server: str) -> dict[str, str]:
    """Stand-in claims carrying the tenant from an Entra-style URL (``/<tenant>/v2.0``).

    Entra's ``common`` documents carry a ``{tenantid}`` template that the discovery module
    fills from a token's ``tid``; here the tenant comes from the URL the client was given.
    """
    segments = [s for s in urlsplit(server).path.split("/") if s]
    return {"tid": segments[0]} if segments else {}


def metadata_issuer(server: AuthorizationServer) -> str | None:
    """The metadata's issuer with any ``{tenantid}`` template filled in."""
    if server.issuer is None:
        return None
    return resolve_issuer_template(server.issuer, tenant_claims(server.server))


def _document_of(found: Discovery) -> tuple[Mapping[str, Any] | None, str | None]:
    """The document a client would have looked at, accepted or rejected, and its URL.

    ``discover`` rejects a document whose issuer differs; the doctor still wants it, to
    say exactly what differs and to go on checking the rest.
    """
    if found.metadata is None:
        return None, None
    if found.metadata_url is not None:
        return found.metadata, found.metadata_url
    answered = [t.url for t in found.tried if t.status is not None and 200 <= t.status < 300]
    return found.metadata, (answered[-1] if answered else None)


def _judge_issuer(issuer: str | None, server: str, claims: Mapping[str, str]) -> Generator[Finding]:
    if issuer is None:
        yield Finding(
            "as-issuer-missing",
            Status.FAIL,
            "the metadata has no issuer",
            None,
            "point authorization_servers at the IdP's real issuer",
        )
        return
    problem = issuer_mismatch(issuer, server, claims)
    if problem is not None:
        resolved = resolve_issuer_template(issuer, claims)
        yield Finding(
            "as-issuer-mismatch",
            Status.FAIL,
            "the metadata's issuer differs from the authorization server URL it was fetched "
            "for: clients must reject it (RFC 8414 section 3.3)",
            problem,
            f"set authorization_servers to {resolved}",
        )
    else:
        yield Finding(
            "as-issuer",
            Status.PASS,
            "issuer matches the authorization server URL"
            + (" ({tenantid} template filled)" if "{tenantid}" in issuer else ""),
            issuer,
        )


def _judge_registration(
    document: Mapping[str, Any], options: DoctorOptions, server: str
) -> Generator[Finding]:
    """Three ways a connector gets a client id (MCP 2025-11-25): pre-registration (always
    possible for the admin), a Client ID Metadata Document, dynamic registration."""
    cimd = document.get("client_id_metadata_document_supported") is True
    if cimd:
        yield Finding(
            "as-client-id-metadata-document",
            Status.PASS,
            "Client ID Metadata Documents supported: connectors can use their URL as client id",
            "client_id_metadata_document_supported: true",
        )
    endpoint = document.get("registration_endpoint")
    dynamic = False
    if isinstance(endpoint, str) and endpoint:
        dynamic = yield from _probe_registration(endpoint, options, server)
    if cimd or dynamic:
        return
    yield Finding(
        "as-no-registration-endpoint",
        Status.WARN,
        "no automatic client registration (no client_id_metadata_document_supported, no "
        "working registration_endpoint; Entra ID offers neither): connectors need a "
        "pre-registered client id (and secret), which the admin can always create",
        None,
        PRE_REGISTER,
    )


def _probe_registration(
    endpoint: str, options: DoctorOptions, server: str
) -> Generator[Finding, None, bool]:
    """Whether the advertised registration endpoint exists, asked with a GET: RFC 7591
    registers only on POST with a body, so this can never register a client."""
    try:
        probe = request(
            "GET",
            endpoint,
            timeout=options.timeout,
            policy=reach_of(options).policy(endpoint, via=server),
            headers={"Accept": "application/json"},
        )
    except ProbeRefused as exc:
        yield refused("the registration_endpoint", endpoint, exc)
        return False
    except ProbeError as exc:
        yield Finding(
            "as-registration-endpoint-broken",
            Status.WARN,
            "registration_endpoint is advertised but did not answer: connectors that try "
            "dynamic registration stop there",
            f"GET {endpoint}: {exc}",
            "fix or remove registration_endpoint; meanwhile " + PRE_REGISTER,
        )
        return False
    if probe.status in (404, 410):
        yield Finding(
            "as-registration-endpoint-broken",
            Status.WARN,
            "registration_endpoint is advertised but does not exist: connectors that try "
            "dynamic registration stop there",
            f"GET {endpoint}: HTTP {probe.status}",
            "fix or remove registration_endpoint; meanwhile " + PRE_REGISTER,
        )
        return False
    # 405 (POST only), 400 or 401 (a body or an initial access token wanted): it exists.
    yield Finding(
        "as-registration-endpoint",
        Status.PASS,
        "dynamic client registration offered (the endpoint exists; probed with a GET, "
        "which never registers a client)",
        f"{endpoint} (GET: HTTP {probe.status})",
    )
    return True


# What the official Python SDK client does (mcp/client/auth/oauth2.py, checked 2026-08):
# it always sends code_challenge_method=S256 and never reads the field.
PKCE_CLIENTS = (
    "clients that follow MCP strictly refuse the server before the authorization request "
    "(MCP: clients MUST refuse an authorization server whose metadata lacks S256); the "
    "official Python SDK client sends S256 without reading the field and proceeds"
)


def _judge_pkce(document: Mapping[str, Any], entra: bool) -> Generator[Finding]:
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" in methods:
        yield Finding("as-pkce-s256", Status.PASS, "PKCE S256 advertised", " ".join(methods))
        return
    observed = repr(methods) if methods is not None else "(field absent)"
    if entra and methods is None:
        # A warning, not a failure: ChatGPT and Claude connect to Entra ID as it is, so
        # failing every Entra set-up here would be confidently wrong.
        yield Finding(
            "as-pkce-not-advertised-entra",
            Status.WARN,
            "Entra ID supports PKCE S256 but its metadata has no "
            "code_challenge_methods_supported: " + PKCE_CLIENTS,
            observed,
            "nothing to change in Entra or ORDS: use a client that accepts Entra's metadata "
            "(or a proxy that serves the metadata with code_challenge_methods_supported "
            '["S256"]); strict clients will keep refusing this server',
        )
        return
    yield Finding(
        "as-no-pkce-s256",
        Status.FAIL,
        "code_challenge_methods_supported does not list S256"
        + (" (only plain)" if isinstance(methods, list) and methods else "")
        + ": MCP clients MUST refuse this authorization server; "
        + PKCE_CLIENTS,
        observed,
        "enable PKCE with S256 on the authorization server and advertise it in "
        'code_challenge_methods_supported: ["S256"]',
    )


def _judge_jwks_uri(jwks_uri: str | None, options: DoctorOptions) -> Generator[Finding]:
    if jwks_uri is None:
        yield Finding(
            "jwks-uri-missing",
            Status.FAIL,
            "the metadata has no jwks_uri: ORDS needs it as p_jwk_url",
            None,
            "use an IdP that publishes its signing keys",
        )
    elif not is_https(jwks_uri):
        yield Finding(
            "jwks-uri-not-https",
            Status.WARN if options.allow_http else Status.FAIL,
            "jwks_uri is not https: ORDS only fetches keys over https"
            + (" (allowed by --allow-http: lab setups only)" if options.allow_http else ""),
            jwks_uri,
            "publish the JWKS over https",
        )
    else:
        yield Finding("jwks-uri-https", Status.PASS, "jwks_uri is https", jwks_uri)
