"""Step 2: the RFC 9728 protected-resource metadata a connector reads after the 401."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from inspector.doctor.challenge import ChallengeResult
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.probe import Probe, ProbeError, ProbeRefused, reach_of, refused, request
from inspector.doctor.scopes import bare_scopes, is_entra_url, is_qualified
from inspector.doctor.urls import (
    is_https,
    is_origin,
    is_parent_resource,
    prm_locations,
    same_resource,
)
from parsers.challenge import OIDC_SCOPES
from parsers.redaction import redact_text

PRM_FIX = (
    "serve a static JSON file at /.well-known/oauth-protected-resource (nginx: location = "
    "/.well-known/oauth-protected-resource { default_type application/json; alias "
    "/etc/nginx/well-known/oauth-protected-resource.json; })"
)


@dataclass(frozen=True, slots=True)
class ResourceMetadata:
    """The document a connector would use, and what the doctor concluded about the IdP."""

    url: str
    document: Mapping[str, Any]
    authorization_servers: tuple[str, ...]
    scopes_supported: tuple[str, ...]
    entra: bool
    challenge_scopes: tuple[str, ...] = field(default=())


def _fetch(url: str, options: DoctorOptions) -> tuple[Probe | None, str]:
    """The 200 answer at ``url``, or None and the reason it is unusable.

    Raises :class:`ProbeRefused` when the address policy forbids contacting ``url``.
    """
    policy = reach_of(options).policy(url)
    try:
        probe = request(
            "GET",
            url,
            timeout=options.timeout,
            policy=policy,
            headers={"Accept": "application/json"},
        )
    except ProbeRefused:
        raise
    except ProbeError as exc:
        return None, str(exc)
    if probe.status != 200:
        return None, f"HTTP {probe.status}"
    return probe, ""


def check_resource_metadata(
    options: DoctorOptions, challenge: ChallengeResult
) -> Generator[Finding, None, ResourceMetadata | None]:
    """Fetch the metadata the way a connector does and check it against the challenge."""
    probe: Probe | None = None
    if challenge.resource_metadata:
        try:
            probe, reason = _fetch(challenge.resource_metadata, options)
        except ProbeRefused as exc:
            # Never contacted; the well-known locations on the MCP host are tried next.
            yield refused("the challenge's resource_metadata", challenge.resource_metadata, exc)
            probe, reason = None, ""
        else:
            if probe is None:
                yield Finding(
                    "prm-unreachable",
                    Status.FAIL,
                    "the resource_metadata URL from the challenge does not serve the document",
                    f"{challenge.resource_metadata}: {reason}",
                    PRM_FIX,
                )
    if probe is None:
        tried: list[str] = []
        for url in prm_locations(options.url):
            if url == challenge.resource_metadata:
                continue
            try:
                found, reason = _fetch(url, options)
            except ProbeRefused as exc:
                found, reason = None, str(exc)
            tried.append(f"{url}: {reason or 'ok'}")
            if found is not None:
                probe = found
                break
        if probe is None:
            if not challenge.resource_metadata:
                yield Finding(
                    "prm-unreachable",
                    Status.FAIL,
                    "no protected-resource metadata at the well-known locations",
                    "; ".join(tried),
                    PRM_FIX,
                )
            return None
        if challenge.resource_metadata:
            # The chain continues with the well-known copy so later steps still get checked.
            yield Finding(
                "prm-found-by-probing",
                Status.WARN,
                "metadata found at a well-known location, not where the challenge points",
                probe.url,
                "make resource_metadata in the challenge point at this URL",
            )
    yield Finding("prm-reachable", Status.PASS, "protected-resource metadata served", probe.url)
    return (yield from _judge_document(probe, options, challenge))


def _judge_document(
    probe: Probe, options: DoctorOptions, challenge: ChallengeResult
) -> Generator[Finding, None, ResourceMetadata | None]:
    try:
        document = probe.json_object()
    except ValueError as exc:
        yield Finding(
            "prm-not-json",
            Status.FAIL,
            f"the metadata is {exc}",
            redact_text(probe.body[:120].decode("utf-8", "replace")),
            "serve the file as JSON (default_type application/json) and validate it",
        )
        return None
    if probe.content_type != "application/json":
        yield Finding(
            "prm-content-type",
            Status.WARN,
            "metadata is not served as application/json; strict clients refuse it",
            probe.content_type or "(none)",
            "default_type application/json; in the well-known location",
        )
    yield from _judge_resource(document, options)
    servers = document.get("authorization_servers")
    server_list = (
        tuple(s for s in servers if isinstance(s, str) and s) if isinstance(servers, list) else ()
    )
    if not server_list:
        yield Finding(
            "prm-no-authorization-servers",
            Status.FAIL,
            "authorization_servers is missing or empty: connectors cannot find the IdP",
            repr(servers) if servers is not None else None,
            'add "authorization_servers": ["https://login.microsoftonline.com/<tenant>/v2.0"]',
        )
    else:
        yield Finding(
            "prm-authorization-servers",
            Status.PASS,
            "authorization_servers names the IdP",
            " ".join(server_list),
        )
        for server in server_list:
            if not is_https(server):
                yield Finding(
                    "prm-authorization-server-not-https",
                    Status.WARN if options.allow_http else Status.FAIL,
                    "authorization server is not https"
                    + (" (allowed by --allow-http)" if options.allow_http else ""),
                    server,
                    "use the IdP's https issuer URL",
                )
    entra = options.idp == "entra" or (
        options.idp == "auto" and any(is_entra_url(s) for s in server_list)
    )
    scopes_raw = document.get("scopes_supported")
    scopes = (
        tuple(s for s in scopes_raw if isinstance(s, str)) if isinstance(scopes_raw, list) else ()
    )
    yield from _judge_scopes(scopes, challenge.scopes, entra, options.url)
    methods = document.get("bearer_methods_supported")
    if isinstance(methods, list) and "header" not in methods:
        yield Finding(
            "prm-bearer-methods",
            Status.WARN,
            "bearer_methods_supported does not include header: connectors send the token in "
            "the Authorization header",
            repr(methods),
            '"bearer_methods_supported": ["header"]',
        )
    return ResourceMetadata(probe.url, document, server_list, scopes, entra, challenge.scopes)


def _judge_resource(document: Mapping[str, Any], options: DoctorOptions) -> Generator[Finding]:
    resource = document.get("resource")
    if not isinstance(resource, str) or not resource:
        yield Finding(
            "prm-resource-missing",
            Status.FAIL,
            "the metadata has no resource (required by RFC 9728)",
            repr(resource) if resource is not None else None,
            f'"resource": "{options.url}"',
        )
    elif resource != options.url and is_parent_resource(resource, options.url):
        yield Finding(
            "prm-resource-parent",
            Status.WARN,
            "resource is "
            + ("the origin" if is_origin(resource) else "a parent path")
            + " of the MCP URL, not the URL itself. RFC 9728 section 3.3 makes the origin "
            "the right value for the root document (it is the resource its well-known URI "
            "was built from), and the official Python SDK client accepts it "
            "(mcp/shared/auth_utils.py check_resource_allowed: same origin, path prefix, "
            "trailing slash ignored) and then requests tokens with resource = this value; "
            "clients that compare resource with the MCP URL exactly reject the metadata",
            f"{resource} vs {options.url}",
            f'serve metadata for the MCP URL at {prm_locations(options.url)[0]} with "resource": '
            f'"{options.url}" (Entra ID: the resource must also be the App ID URI)',
        )
    elif not same_resource(resource, options.url):
        hint = ""
        if resource.rstrip("/") == options.url.rstrip("/"):
            hint = " (only a trailing slash differs, and that counts)"
        yield Finding(
            "prm-resource-mismatch",
            Status.FAIL,
            "resource differs from the MCP URL the client used: connectors must reject the "
            "metadata" + hint,
            f"{resource} vs {options.url}",
            f'"resource": "{options.url}"',
        )
    else:
        yield Finding("prm-resource", Status.PASS, "resource equals the MCP URL", resource)


def _judge_scopes(
    scopes: tuple[str, ...], challenge_scopes: tuple[str, ...], entra: bool, options_url: str
) -> Generator[Finding]:
    if not scopes:
        yield Finding(
            "prm-no-scopes-supported",
            Status.FAIL if entra and not challenge_scopes else Status.WARN,
            "scopes_supported is missing or empty"
            + (
                ": with no scope in the challenge either, Entra ID clients ask for Graph"
                if entra and not challenge_scopes
                else ""
            ),
            None,
            f'"scopes_supported": ["{entra_scope(options_url)}"]',
        )
    elif challenge_scopes and set(challenge_scopes) != set(scopes):
        # MCP 2025-11-25: the challenge's scopes MAY be a subset or a superset of
        # scopes_supported; clients use the challenge's. Information only (whether each
        # scope's resource is right is the Entra resource check's business).
        yield Finding(
            "prm-scope-mismatch",
            Status.PASS,
            "the challenge's scopes differ from scopes_supported, which MCP allows (a subset "
            "or superset); clients request the challenge's scopes",
            f"challenge {' '.join(challenge_scopes)} vs scopes_supported {' '.join(scopes)}",
            None,
        )
    else:
        yield Finding("prm-scopes", Status.PASS, "scopes_supported is consistent", " ".join(scopes))


def check_scope_qualification(metadata: ResourceMetadata, entra: bool) -> Generator[Finding]:
    """Entra ID only: every advertised scope must name its resource (``api://<app>/...``)."""
    if not entra:
        return
    for code, label, values in (
        ("challenge-bare-scope", "the challenge's scope", metadata.challenge_scopes),
        ("prm-bare-scope", "scopes_supported", metadata.scopes_supported),
    ):
        bare = bare_scopes(values)
        if bare:
            yield Finding(
                code,
                Status.FAIL,
                f"{label} has a bare scope: Entra ID resolves it against Microsoft Graph and "
                "the token is for Graph (AADSTS650053 or an unverifiable token)",
                " ".join(bare),
                "use the fully qualified scope <App ID URI>/"
                + bare[0]
                + " (the App ID URI being the MCP URL: see entra-resource-mismatch)",
            )
        elif values:
            yield Finding(
                code.replace("bare-scope", "scope-qualified"),
                Status.PASS,
                f"{label} is fully qualified for Entra ID",
                " ".join(values),
            )


def entra_scope(url: str) -> str:
    """The scope that works with Entra ID today: the App ID URI is the MCP URL."""
    return f"{url}/mcp:connect"


ENTRA_RESOURCE_FIX = (
    "set the API app's App ID URI to the MCP URL exactly ({url}; https on a verified "
    "domain of the tenant, trailing slash as the connector uses it), expose the scope "
    '{scope}, and use it in the challenge (scope="{scope}") and in scopes_supported; '
    'keep "resource": "{url}" in the metadata'
)


def check_entra_resource(metadata: ResourceMetadata, url: str, entra: bool) -> Generator[Finding]:
    """Entra ID only: connectors send ``resource`` = the MCP URL, and Entra answers
    AADSTS9010010 unless that is the resource of every requested scope. The MCP URL, the
    metadata's ``resource`` and each scope's resource part must be equal, character for
    character (a trailing slash counts)."""
    if not entra:
        return
    differing: list[str] = []
    resource = metadata.document.get("resource")
    if isinstance(resource, str) and resource != url:
        differing.append(f"metadata resource {resource}")
    for label, values in (
        ("challenge scope", metadata.challenge_scopes),
        ("scopes_supported", metadata.scopes_supported),
    ):
        for scope in values:
            if scope in OIDC_SCOPES or not is_qualified(scope):
                continue  # bare scopes have their own finding
            scope_resource = scope.rpartition("/")[0]
            if scope_resource != url:
                differing.append(f"{label} {scope} (resource {scope_resource})")
    if differing:
        yield Finding(
            "entra-resource-mismatch",
            Status.FAIL,
            "connectors send resource = the MCP URL and Entra ID rejects the token request "
            "when that is not the resource of the requested scope (AADSTS9010010, enforced "
            "since about March 2026; api://<app-id> scopes with the app id as resource no "
            "longer work with Claude and ChatGPT)",
            f"MCP URL {url} vs " + "; ".join(differing),
            ENTRA_RESOURCE_FIX.format(url=url, scope=entra_scope(url)),
        )
    elif metadata.challenge_scopes or metadata.scopes_supported:
        yield Finding(
            "entra-resource-consistent",
            Status.PASS,
            "the MCP URL, the metadata's resource and every scope's resource agree",
            url,
        )
