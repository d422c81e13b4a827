"""Step 3: the authorization server's metadata, found the way an MCP client finds it."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from inspector.doctor import _adapters as keys
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.resource_metadata import ResourceMetadata, check_scope_qualification
from inspector.doctor.scopes import is_entra_url
from inspector.doctor.urls import is_https

CONNECTOR_REDIRECTS = (
    "https://chatgpt.com/connector_platform_oauth_redirect",
    "https://claude.ai/api/mcp/auth_callback",
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
    found = keys.discover(server, timeout=options.timeout)
    if found.document is None or found.url is None:
        yield Finding(
            "as-metadata-unreachable",
            Status.FAIL,
            "no authorization-server metadata at any discovery location",
            "; ".join(f"{url}: {why}" for url, why in found.tried),
            "authorization_servers must hold the IdP's issuer exactly (Entra: "
            "https://login.microsoftonline.com/<tenant>/v2.0)",
        )
        yield from check_scope_qualification(prm, is_entra(options, server, None))
        return None
    document = found.document
    misses = [url for url, why in found.tried if why != "ok"]
    yield Finding(
        "as-metadata-found",
        Status.PASS,
        "authorization-server metadata found"
        + (f" after {len(misses)} miss(es), as MCP discovery order allows" if misses else ""),
        found.url,
    )
    issuer = document.get("issuer")
    issuer_str = issuer if isinstance(issuer, str) else None
    yield from _judge_issuer(issuer_str, server)
    yield from _judge_registration(document)
    methods = document.get("code_challenge_methods_supported")
    if not (isinstance(methods, list) and "S256" in methods):
        yield Finding(
            "as-no-pkce-s256",
            Status.WARN,
            "code_challenge_methods_supported does not list S256: MCP clients must refuse "
            "servers that do not advertise PKCE",
            repr(methods) if methods is not None else None,
            "use an IdP (or metadata) that advertises S256",
        )
    jwks_uri = document.get("jwks_uri")
    jwks_str = jwks_uri if isinstance(jwks_uri, str) and jwks_uri else None
    yield from _judge_jwks_uri(jwks_str, options)
    entra = is_entra(options, server, document)
    yield from check_scope_qualification(prm, entra)
    return AuthorizationServer(server, found.url, issuer_str, jwks_str, document, entra)


def _judge_issuer(issuer: str | None, server: str) -> Generator[Finding]:
    if issuer is None:
        yield Finding(
            "as-issuer-missing",
            Status.FAIL,
            "the metadata has no issuer",
            None,
            "point authorization_servers at the IdP's real issuer",
        )
        return
    expected = keys.expected_issuer(issuer, server)
    if expected != server:
        hint = (
            " (only a trailing slash differs, and it counts)"
            if (expected.rstrip("/") == server.rstrip("/"))
            else ""
        )
        yield Finding(
            "as-issuer-mismatch",
            Status.FAIL,
            "the metadata's issuer differs from the authorization server URL it was fetched "
            "for: clients must reject it (RFC 8414 section 3.3)" + hint,
            f"{issuer} vs {server}",
            f"set authorization_servers to {expected}",
        )
    else:
        yield Finding(
            "as-issuer",
            Status.PASS,
            "issuer matches the authorization server URL"
            + (" (Entra {tenantid} template)" if expected != issuer else ""),
            issuer,
        )


def _judge_registration(document: Mapping[str, Any]) -> Generator[Finding]:
    if document.get("registration_endpoint"):
        yield Finding(
            "as-registration-endpoint",
            Status.PASS,
            "dynamic client registration offered",
            str(document["registration_endpoint"]),
        )
        return
    yield Finding(
        "as-no-registration-endpoint",
        Status.WARN,
        "no registration_endpoint: connectors cannot register themselves (Entra ID never "
        "offers it); give each connector a pre-registered client id and secret",
        None,
        "register a client app, add redirect URIs "
        + " and ".join(CONNECTOR_REDIRECTS)
        + ", create a secret and enter id and secret in the connector's advanced settings",
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
