"""Step 1: the unauthenticated MCP request and its 401 challenge, as a connector sees it."""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from urllib.parse import urlsplit

from inspector import __version__
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.probe import Probe, ProbeError, reach_of, request
from inspector.doctor.urls import is_https, origin_of
from parsers.challenge import Challenge, ChallengeSyntaxError, parse_challenges

ORDS_REALM = "Oracle REST Data Services"

REWRITE_FIX = (
    "in the MCP location: proxy_intercept_errors on; error_page 401 = @ords_401; and "
    "location @ords_401 { internal; more_clear_headers 'WWW-Authenticate'; add_header "
    "WWW-Authenticate 'Bearer resource_metadata=\"https://<host>/.well-known/"
    'oauth-protected-resource",scope="<MCP URL>/mcp:connect"\' always; return 401; }'
    " (Entra ID: the App ID URI is the MCP URL)"
)


@dataclass(frozen=True, slots=True)
class ChallengeResult:
    """What step 1 learned: the Bearer challenge a connector would act on, if any."""

    status: int | None
    challenge: Challenge | None
    resource_metadata: str | None
    scopes: tuple[str, ...]


def initialize_body(protocol_version: str) -> bytes:
    """The JSON-RPC ``initialize`` request a connector opens with."""
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": protocol_version,
            "capabilities": {},
            "clientInfo": {"name": "token-inspector-doctor", "version": __version__},
        },
    }
    return json.dumps(message).encode()


def check_challenge(options: DoctorOptions) -> Generator[Finding, None, ChallengeResult]:
    """POST ``initialize`` without a token; judge the status, challenge and CORS headers."""
    url = options.url
    nothing = ChallengeResult(None, None, None, ())
    if is_https(url):
        yield Finding("mcp-url-https", Status.PASS, "MCP endpoint uses https", url)
    else:
        yield Finding(
            "mcp-url-not-https",
            Status.WARN if options.allow_http else Status.FAIL,
            "MCP endpoint is not https: ChatGPT and Claude connectors only accept https"
            + (" (allowed by --allow-http)" if options.allow_http else ""),
            url,
            "terminate TLS in nginx and give connectors the https:// URL",
        )
    protocol_version = options.protocol_version or options.mcp_revision
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": protocol_version,
        "Origin": options.origin,
    }
    try:
        probe = request(
            "POST",
            url,
            timeout=options.timeout,
            policy=reach_of(options).policy(url),
            headers=headers,
            body=initialize_body(protocol_version),
        )
    except ProbeError as exc:
        yield Finding(
            "challenge-unreachable",
            Status.FAIL,
            "the MCP endpoint did not answer",
            f"POST {url}: {exc}",
            "check the URL, DNS, the firewall and that nginx listens on this host and port",
        )
        return nothing
    if probe.status != 401:
        yield _not_401(probe)
        return ChallengeResult(probe.status, None, None, ())
    yield Finding("challenge-401", Status.PASS, "unauthenticated POST gets 401", "401")
    result = yield from _judge_challenge(probe, options)
    yield from _judge_cors(probe, options)
    return result


def _not_401(probe: Probe) -> Finding:
    status = probe.status
    if 200 <= status < 300:
        message = "the MCP endpoint answered without a token: connectors never start OAuth"
        fix = "protect the ORDS module with a privilege so ORDS answers 401 without a token"
    elif 300 <= status < 400:
        message = "the MCP endpoint redirects: connectors expect 401 at this exact URL"
        fix = "give connectors the final URL (scheme, host and trailing slash exactly)"
    elif status == 404:
        message = "no MCP endpoint at this URL"
        fix = "check the ORDS module and template path (…/ords/<schema>/<module>/<template>)"
    else:
        message = f"expected 401 for a request without a token, got {status}"
        fix = "make the unauthenticated request reach ORDS, which answers 401"
    location = probe.header("Location")
    observed = f"{status}" + (f" Location: {location}" if location else "")
    return Finding("challenge-not-401", Status.FAIL, message, observed, fix)


def _judge_challenge(
    probe: Probe, options: DoctorOptions
) -> Generator[Finding, None, ChallengeResult]:
    values = probe.header_values("WWW-Authenticate")
    none = ChallengeResult(probe.status, None, None, ())
    if not values:
        yield Finding(
            "challenge-missing",
            Status.FAIL,
            "401 without WWW-Authenticate: a connector cannot find the authorization server",
            None,
            REWRITE_FIX,
        )
        return none
    observed = " | ".join(values)
    try:
        challenges = parse_challenges(values)
    except ChallengeSyntaxError as exc:
        yield Finding(
            "challenge-unparseable",
            Status.FAIL,
            f"WWW-Authenticate is not a valid challenge list: {exc}",
            observed,
            "quote parameter values and separate parameters with commas",
        )
        return none
    bearers = [c for c in challenges if c.is_scheme("Bearer")]
    if not bearers:
        yield Finding(
            "challenge-not-bearer",
            Status.FAIL,
            "no Bearer challenge: connectors only do OAuth on a Bearer challenge",
            observed,
            REWRITE_FIX,
        )
        return none
    # Connectors look for resource_metadata wherever it is; prefer the challenge carrying it.
    chosen = next((c for c in bearers if c.param("resource_metadata")), bearers[0])
    leaks = [c for c in challenges if c.param("realm") == ORDS_REALM]
    if leaks:
        also_good = chosen.param("resource_metadata") is not None and chosen not in leaks
        yield Finding(
            "challenge-ords-realm-leak",
            Status.WARN if also_good else Status.FAIL,
            "ORDS's own challenge reaches the client"
            + (" next to the rewritten one" if also_good else " instead of the rewritten one")
            + ": the 401 rewrite is not (fully) in effect",
            observed,
            "load the headers-more module and use more_clear_headers 'WWW-Authenticate' in "
            "@ords_401 (proxy_intercept_errors copies the upstream challenge); " + REWRITE_FIX,
        )
    else:
        yield Finding(
            "challenge-no-ords-realm", Status.PASS, "ORDS's own challenge is not leaking", None
        )
    for name in chosen.duplicates:
        yield Finding(
            "challenge-duplicate-param",
            Status.WARN,
            f"parameter {name!r} appears twice: clients disagree on which copy wins",
            observed,
            "send each parameter once",
        )
    metadata_url = chosen.param("resource_metadata")
    if metadata_url is None:
        yield _no_resource_metadata(observed, options)
    elif not urlsplit(metadata_url).netloc:
        yield Finding(
            "challenge-resource-metadata-invalid",
            Status.FAIL,
            "resource_metadata is not an absolute URL",
            metadata_url,
            "use https://<host>/.well-known/oauth-protected-resource",
        )
        metadata_url = None
    else:
        yield Finding(
            "challenge-resource-metadata",
            Status.PASS,
            "challenge names resource_metadata",
            metadata_url,
        )
        yield from check_metadata_url(metadata_url, options)
    scopes = chosen.scopes
    if scopes:
        yield Finding("challenge-scope", Status.PASS, "challenge names a scope", " ".join(scopes))
    else:
        yield Finding(
            "challenge-no-scope",
            Status.WARN,
            "the challenge has no scope: clients guess one from scopes_supported or send "
            "none (Entra ID then resolves to Microsoft Graph, AADSTS650053)",
            observed,
            f'add scope="{options.url}/mcp:connect" to the challenge (MCP 2025-11-25 SHOULD; '
            "Entra ID: the App ID URI is the MCP URL)",
        )
    return ChallengeResult(probe.status, chosen, metadata_url, scopes)


def _no_resource_metadata(observed: str, options: DoctorOptions) -> Finding:
    """2025-06-18 requires ``resource_metadata`` in the challenge; 2025-11-25 lets the
    server offer the metadata at the well-known URI instead (clients MUST try both), so
    there it is advice and step 2 decides whether the well-known copy exists."""
    if options.mcp_revision == "2025-06-18":
        return Finding(
            "challenge-no-resource-metadata",
            Status.FAIL,
            "the Bearer challenge has no resource_metadata: MCP 2025-06-18 requires it, "
            "connectors of that revision cannot discover the authorization server",
            observed,
            REWRITE_FIX,
        )
    return Finding(
        "challenge-no-resource-metadata",
        Status.WARN,
        f"the Bearer challenge has no resource_metadata: MCP {options.mcp_revision} "
        "allows serving the metadata at the well-known URI instead (clients MUST try it; "
        "step 2 checks it is there), but the header SHOULD name it and clients of "
        "2025-06-18 need it",
        observed,
        REWRITE_FIX,
    )


def check_metadata_url(metadata_url: str, options: DoctorOptions) -> Generator[Finding, None, None]:
    """The resource_metadata URL must be https and on the MCP URL's origin (port included)."""
    if not is_https(metadata_url):
        yield Finding(
            "challenge-resource-metadata-not-https",
            Status.WARN if options.allow_http else Status.FAIL,
            "resource_metadata is not https"
            + (" (allowed by --allow-http)" if options.allow_http else "")
            + ": behind a TLS-terminating proxy $scheme is http",
            metadata_url,
            "write https:// literally in the add_header instead of $scheme",
        )
    if origin_of(metadata_url) != origin_of(options.url):
        yield Finding(
            "challenge-resource-metadata-cross-origin",
            Status.WARN,
            "resource_metadata is on another origin than the MCP endpoint (nginx's $host "
            "drops the port)",
            f"{origin_of(metadata_url)} vs {origin_of(options.url)}",
            "use the public origin literally, or $http_host to keep a non-default port",
        )


def _judge_cors(probe: Probe, options: DoctorOptions) -> Generator[Finding, None, None]:
    allow_origin = probe.header("Access-Control-Allow-Origin")
    if allow_origin is None:
        yield Finding(
            "cors-missing",
            Status.WARN,
            "no Access-Control-Allow-Origin on the 401: browser-based clients (MCP "
            "Inspector, web apps) cannot read the challenge; ChatGPT and Claude are not "
            "affected",
            None,
            "add_header Access-Control-Allow-Origin $http_origin always; (or a fixed origin)",
        )
        return
    if allow_origin not in ("*", options.origin):
        yield Finding(
            "cors-origin-mismatch",
            Status.WARN,
            f"Access-Control-Allow-Origin does not allow the probe's origin {options.origin}",
            allow_origin,
            "allow the origins of the browser-based clients you use",
        )
    else:
        yield Finding("cors-present", Status.PASS, "CORS allows the origin", allow_origin)
    exposed = {
        h.strip().lower() for h in (probe.header("Access-Control-Expose-Headers") or "").split(",")
    }
    if "www-authenticate" not in exposed and "*" not in exposed:
        yield Finding(
            "cors-challenge-not-exposed",
            Status.WARN,
            "WWW-Authenticate is not in Access-Control-Expose-Headers: browser clients "
            "cannot read resource_metadata",
            probe.header("Access-Control-Expose-Headers"),
            "add_header Access-Control-Expose-Headers WWW-Authenticate always;",
        )
