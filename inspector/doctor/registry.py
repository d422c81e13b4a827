"""The registry of doctor checks: every finding code with its status, meaning and fix.

Like the verdict registry (``inspector.judge.rules``), codes are a public interface that
users script on: never rename one, add a new one instead. ``docs/doctor.md``'s finding
tables are generated from here (``python -m inspector.doctor.registry docs/doctor.md``
rewrites them; a test keeps them in step) and ``token-inspector rules CODE`` prints the
same text on a host without the repository.

Severity uses the verdicts' vocabulary: a check is ``error`` when it can fail (a broken
connection, exit 1), ``warn`` when at worst it warns, ``info`` when it only passes or
skips. A finding's status (pass, warn, fail, skip) is the outcome of one run, as a
verdict's severity decides a request's outcome (ok, warn, fail).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from inspector.judge.rules import get_rule
from inspector.judge.verdicts import Severity

# A verdict the doctor reports about a logged token is this prefix and the verdict's code.
TOKEN_PREFIX = "token-"  # noqa: S105 - a code prefix, not a password
TOKEN_PATTERN = "token-<verdict>"  # noqa: S105 - a code pattern

BEGIN = (
    "<!-- Generated from inspector/doctor/registry.py by "
    "`python -m inspector.doctor.registry docs/doctor.md`; do not edit up to the end mark. -->"
)
END = "<!-- End of the generated finding codes. -->"


@dataclass(frozen=True, slots=True)
class Check:
    """One doctor finding code: the step it belongs to, its status (with the conditions
    that change it), what it means and how to fix it."""

    code: str
    section: str
    status: str
    meaning: str
    fix: str

    @property
    def severity(self) -> Severity:
        """The worst the check can report, in the verdicts' vocabulary."""
        if "fail" in self.status:
            return Severity.ERROR
        if "warn" in self.status:
            return Severity.WARN
        return Severity.INFO


_REGISTRY: dict[str, Check] = {}


def _check(section: str, code: str, status: str, meaning: str, fix: str) -> Check:
    if code in _REGISTRY:
        raise ValueError(f"duplicate doctor code {code}")
    check = Check(code, section, status, meaning, fix)
    _REGISTRY[code] = check
    return check


def all_checks() -> Iterator[Check]:
    """Every doctor check in step order (``token-<verdict>`` stands for all verdicts)."""
    return iter(tuple(_REGISTRY.values()))


def find_check(code: str) -> Check | None:
    """The check for ``code``: a registered one, or ``token-<verdict>`` filled from the
    verdict registry (``token-expired``); None when the doctor never reports ``code``."""
    if code in _REGISTRY:
        return _REGISTRY[code]
    if code.startswith(TOKEN_PREFIX) and code.removeprefix(TOKEN_PREFIX) not in _REGISTRY:
        # A verdict the doctor reports under its own code (no-profile) never gets the prefix.
        try:
            rule = get_rule(code.removeprefix(TOKEN_PREFIX))
        except KeyError:
            return None
        status = {Severity.ERROR: "fail", Severity.WARN: "warn"}.get(rule.severity)
        if status is None:
            # Informational verdicts never become findings.
            return None
        return replace(
            _REGISTRY[TOKEN_PATTERN], code=code, status=status, meaning=rule.title, fix=rule.fix
        )
    return None


# --- 1. Challenge

_check("1. Challenge", "mcp-url-https", "pass", "the MCP URL is https", "")
_check(
    "1. Challenge",
    "mcp-url-not-https",
    "fail (warn with `--allow-http`)",
    "connectors only accept https",
    "terminate TLS in nginx",
)
_check(
    "1. Challenge",
    "challenge-unreachable",
    "fail",
    "no HTTP answer (refused, DNS, TLS, timeout)",
    "URL, firewall, `REQUESTS_CA_BUNDLE`",
)
_check("1. Challenge", "challenge-401", "pass", "unauthenticated POST gets 401", "")
_check(
    "1. Challenge",
    "challenge-not-401",
    "fail",
    "2xx (module not protected), 3xx, 404 or other",
    "protect the module with a privilege; use the final URL",
)
_check(
    "1. Challenge",
    "challenge-missing",
    "fail",
    "401 without `WWW-Authenticate`",
    "the `@ords_401` rewrite",
)
_check(
    "1. Challenge",
    "challenge-unparseable",
    "fail",
    "the header breaks the RFC 9110 grammar",
    "quote values, separate with commas",
)
_check(
    "1. Challenge",
    "challenge-not-bearer",
    "fail",
    "no `Bearer` challenge",
    "the `@ords_401` rewrite",
)
_check(
    "1. Challenge",
    "challenge-ords-realm-leak",
    "fail, or warn next to a good challenge",
    'ORDS\'s `realm="Oracle REST Data Services"` reaches the client',
    "headers-more `more_clear_headers 'WWW-Authenticate'` (proxy_intercept_errors copies "
    "the upstream challenge)",
)
_check("1. Challenge", "challenge-no-ords-realm", "pass", "ORDS's challenge is not leaking", "")
_check(
    "1. Challenge", "challenge-duplicate-param", "warn", "a parameter appears twice", "send it once"
)
_check(
    "1. Challenge",
    "challenge-no-resource-metadata",
    "warn under MCP 2025-11-25 (step 2 then fails if the well-known URI has no metadata); "
    "fail under 2025-06-18",
    "2025-06-18 requires `resource_metadata` in the challenge; 2025-11-25 lets the server "
    "serve the metadata at the well-known URI instead (clients MUST try both) and SHOULD "
    "name it in the header",
    '`resource_metadata="https://host/.well-known/oauth-protected-resource"`',
)
_check(
    "1. Challenge",
    "challenge-resource-metadata-invalid",
    "fail",
    "not an absolute URL",
    "use an absolute https URL",
)
_check("1. Challenge", "challenge-resource-metadata", "pass", "`resource_metadata` present", "")
_check(
    "1. Challenge",
    "challenge-resource-metadata-not-https",
    "fail (warn with `--allow-http`)",
    "`$scheme` is `http` behind a TLS-terminating proxy",
    "write `https://` literally",
)
_check(
    "1. Challenge",
    "challenge-resource-metadata-cross-origin",
    "warn",
    "another origin than the MCP URL; nginx's `$host` drops the port",
    "the public origin literally, or `$http_host`",
)
_check(
    "1. Challenge",
    "challenge-no-scope",
    "warn",
    "no `scope` (MCP 2025-11-25 SHOULD); Entra clients may end at Graph",
    '`scope="<MCP URL>/mcp:connect"` (Entra: App ID URI = MCP URL)',
)
_check("1. Challenge", "challenge-scope", "pass", "a scope is named", "")
_check(
    "1. Challenge",
    "challenge-bare-scope",
    "fail (Entra ID, reported in step 3)",
    "e.g. `mcp:connect`: Entra resolves it against Microsoft Graph (AADSTS650053)",
    "`<MCP URL>/mcp:connect` (Entra: App ID URI = MCP URL)",
)
_check("1. Challenge", "challenge-scope-qualified", "pass (Entra ID)", "", "")
_check(
    "1. Challenge",
    "cors-missing",
    "warn",
    "no `Access-Control-Allow-Origin` on the 401 (browser clients only)",
    "`add_header Access-Control-Allow-Origin $http_origin always;`",
)
_check(
    "1. Challenge",
    "cors-origin-mismatch",
    "warn",
    "the probe's origin is not allowed",
    "allow your browser clients' origins",
)
_check(
    "1. Challenge",
    "cors-challenge-not-exposed",
    "warn",
    "`WWW-Authenticate` not in `Access-Control-Expose-Headers`",
    "`add_header Access-Control-Expose-Headers WWW-Authenticate always;`",
)
_check("1. Challenge", "cors-present", "pass", "", "")

# --- 2. Protected-resource metadata

_check(
    "2. Protected-resource metadata",
    "prm-unreachable",
    "fail",
    "no 200 at the challenge's URL (or at the well-known locations)",
    "serve the static JSON file",
)
_check(
    "2. Protected-resource metadata",
    "address-refused",
    "fail (steps 2, 3, 4)",
    "a URL the server named (`resource_metadata`, an authorization server, `jwks_uri`) "
    "points at a metadata service, or at a private, loopback or plain-http address on a "
    "host nobody named: not contacted",
    "public https URLs; a lab IdP: `--trusted-issuer ISS` or `--allow-private-idp`",
)
_check(
    "2. Protected-resource metadata",
    "prm-found-by-probing",
    "warn",
    "found at a well-known location, not where the challenge points",
    "point `resource_metadata` there",
)
_check("2. Protected-resource metadata", "prm-reachable", "pass", "", "")
_check(
    "2. Protected-resource metadata",
    "prm-not-json",
    "fail",
    "not a JSON object",
    "`default_type application/json`, validate the file",
)
_check(
    "2. Protected-resource metadata",
    "prm-content-type",
    "warn",
    "not served as `application/json`",
    "`default_type application/json;`",
)
_check(
    "2. Protected-resource metadata",
    "prm-resource-missing",
    "fail",
    "no `resource` (required by RFC 9728)",
    '`"resource": "<MCP URL>"`',
)
_check(
    "2. Protected-resource metadata",
    "prm-resource-parent",
    "warn",
    "`resource` is the origin (or a parent path) of the MCP URL: right for the root "
    "document by RFC 9728 section 3.3; the official Python SDK client accepts it (path "
    "prefix, `check_resource_allowed`) and asks for tokens for that resource; clients "
    "comparing exactly reject it",
    "metadata for the MCP URL at the path-suffixed well-known URI, `resource` = MCP URL",
)
_check(
    "2. Protected-resource metadata",
    "prm-resource-mismatch",
    "fail",
    "`resource` differs from the MCP URL (a trailing slash counts)",
    "the exact MCP URL",
)
_check("2. Protected-resource metadata", "prm-resource", "pass", "", "")
_check(
    "2. Protected-resource metadata",
    "prm-no-authorization-servers",
    "fail",
    "missing or empty",
    '`["https://login.microsoftonline.com/<tenant>/v2.0"]`',
)
_check("2. Protected-resource metadata", "prm-authorization-servers", "pass", "", "")
_check(
    "2. Protected-resource metadata",
    "prm-authorization-server-not-https",
    "fail (warn with `--allow-http`)",
    "",
    "the IdP's https issuer",
)
_check(
    "2. Protected-resource metadata",
    "prm-no-scopes-supported",
    "warn; fail for Entra ID without a challenge scope",
    "",
    '`"scopes_supported": ["<MCP URL>/mcp:connect"]`',
)
_check(
    "2. Protected-resource metadata",
    "prm-scope-mismatch",
    "pass (information)",
    "the challenge's scopes differ from `scopes_supported`: MCP 2025-11-25 allows a subset "
    "or superset, and clients request the challenge's",
    "",
)
_check("2. Protected-resource metadata", "prm-scopes", "pass", "", "")
_check(
    "2. Protected-resource metadata",
    "prm-bare-scope",
    "fail (Entra ID, reported in step 3)",
    "a bare scope in `scopes_supported`",
    "fully qualified scopes",
)
_check("2. Protected-resource metadata", "prm-scope-qualified", "pass (Entra ID)", "", "")
_check(
    "2. Protected-resource metadata",
    "entra-resource-mismatch",
    "fail (Entra ID, reported in step 3)",
    "the MCP URL, the metadata's `resource` and the resource part of every scope (challenge "
    "and `scopes_supported`) are not equal character for character: connectors send "
    "`resource` = the MCP URL and Entra answers AADSTS9010010 when it is not the scope's "
    "resource (`api://<app-id>/mcp:connect` with the app id as resource no longer works)",
    "App ID URI = the MCP URL (https, verified domain, trailing slash as used), scope "
    "`<MCP URL>/mcp:connect` in the challenge and `scopes_supported`, `resource` = MCP URL",
)
_check(
    "2. Protected-resource metadata",
    "entra-resource-consistent",
    "pass (Entra ID)",
    "the MCP URL, `resource` and every scope's resource agree",
    "",
)
_check(
    "2. Protected-resource metadata",
    "prm-bearer-methods",
    "warn",
    "`bearer_methods_supported` lacks `header`",
    '`["header"]`',
)

# --- 3. Authorization server

_check(
    "3. Authorization server",
    "as-several",
    "warn",
    "several servers; connectors use the first, only it is checked",
    "list the one ORDS trusts",
)
_check(
    "3. Authorization server",
    "as-metadata-unreachable",
    "fail",
    "no metadata at any discovery URL (each tried URL is listed)",
    "`authorization_servers` must hold the exact issuer",
)
_check("3. Authorization server", "as-metadata-found", "pass", "", "")
_check("3. Authorization server", "as-issuer-missing", "fail", "the metadata has no `issuer`", "")
_check(
    "3. Authorization server",
    "as-issuer-mismatch",
    "fail",
    "`issuer` differs from the URL it was fetched for (RFC 8414 3.3)",
    "set `authorization_servers` to the issuer",
)
_check("3. Authorization server", "as-issuer", "pass", "", "")
_check(
    "3. Authorization server",
    "as-entra-multi-tenant",
    "fail (Entra ID)",
    "`authorization_servers` names Entra's `common`, `organizations` or `consumers` "
    "endpoint: its issuer is the `{tenantid}` template, tokens carry the user's tenant",
    "the tenant-specific issuer `https://login.microsoftonline.com/<tenant-id>/v2.0`",
)
_check(
    "3. Authorization server",
    "as-no-registration-endpoint",
    "warn",
    "no automatic client registration: neither Client ID Metadata Documents "
    "(`client_id_metadata_document_supported`) nor a working `registration_endpoint` "
    "(Entra offers neither); pre-registration, always possible for the admin, remains",
    "pre-register a client, add redirect URIs "
    "`https://chatgpt.com/connector_platform_oauth_redirect`, "
    "`https://claude.ai/api/mcp/auth_callback` and "
    "`https://claude.com/api/mcp/auth_callback`, give id and secret to the connector",
)
_check(
    "3. Authorization server",
    "as-client-id-metadata-document",
    "pass",
    "`client_id_metadata_document_supported`: connectors can use their metadata URL as client id",
    "",
)
_check(
    "3. Authorization server",
    "as-registration-endpoint",
    "pass",
    "the advertised `registration_endpoint` exists (probed with a GET, which never "
    "registers a client; 405, 400 or 401 count as existing)",
    "",
)
_check(
    "3. Authorization server",
    "as-registration-endpoint-broken",
    "warn",
    "`registration_endpoint` is advertised but answers 404/410 or not at all: clients "
    "trying dynamic registration stop there",
    "fix or remove it; pre-register a client meanwhile",
)
_check(
    "3. Authorization server",
    "as-no-pkce-s256",
    "fail",
    "`code_challenge_methods_supported` lacks `S256` (only `plain`, or absent): MCP clients "
    "MUST refuse the server (the official Python SDK client sends S256 without checking)",
    'enable PKCE S256 and advertise `["S256"]`',
)
_check(
    "3. Authorization server",
    "as-pkce-not-advertised-entra",
    "warn (Entra ID)",
    "Entra ID supports PKCE S256 but its metadata has no `code_challenge_methods_supported`: "
    "strict MCP clients refuse it, the official Python SDK client proceeds",
    "nothing to change in Entra or ORDS; a client that accepts Entra's metadata",
)
_check("3. Authorization server", "as-pkce-s256", "pass", "", "")
_check("3. Authorization server", "jwks-uri-missing", "fail", "no `jwks_uri`", "")
_check(
    "3. Authorization server",
    "jwks-uri-not-https",
    "fail (warn with `--allow-http`)",
    "ORDS fetches keys over https only",
    "",
)
_check("3. Authorization server", "jwks-uri-https", "pass", "", "")

# --- 4. JWKS

_check(
    "4. JWKS", "jwks-unreachable", "fail", "fetch failed", "reachable over https from the ORDS host"
)
_check(
    "4. JWKS",
    "jwks-no-usable-keys",
    "fail",
    "no RSA key for RS256/384/512 (symmetric, EC, PS*, `use: enc` keys are listed)",
    "sign access tokens with RS256",
)
_check("4. JWKS", "jwks-usable-keys", "pass", "count and `kid`s", "")

# --- 5. ORDS profile and tokens

_check("5. ORDS profile and tokens", "profile-not-configured", "skip", "no `--dsn`", "")
_check(
    "5. ORDS profile and tokens",
    "profile-unreadable",
    "fail",
    "connecting or reading failed (first line of the error)",
    "`--dsn`, `--user`, `ORACLE_PASSWORD`",
)
_check(
    "5. ORDS profile and tokens",
    "no-profile",
    "fail",
    "the schema has no JWT profile (the verdict `no-profile`: one code for one fact)",
    "`token-inspector profile`",
)
_check(
    "5. ORDS profile and tokens",
    "profile-pool",
    "pass; fail when the pool's profile lacks a value",
    "with `--ords-config` in POOL mode (`security.jwt.profile.mode`): the pool's "
    "`security.jwt.profile.*` is compared instead of the schema's profile, which ORDS "
    "reportedly ignores (never `no-profile`)",
    "set `security.jwt.profile.issuer`, `.audience`, `.jwk.url` in the pool's settings",
)
_check(
    "5. ORDS profile and tokens",
    "profile-roles-unreadable",
    "skip",
    "with `--log`: the ORDS roles and privileges could not be read, so the tokens' role "
    "and scope checks are skipped",
    "the user must own the REST-enabled schema",
)
_check(
    "5. ORDS profile and tokens", "profile-not-compared", "skip", "no metadata to compare with", ""
)
_check(
    "5. ORDS profile and tokens",
    "profile-issuer-mismatch",
    "fail",
    "`p_issuer` differs from the metadata issuer",
    "re-create with the right issuer",
)
_check(
    "5. ORDS profile and tokens",
    "profile-issuer-matches",
    "pass",
    "`p_issuer` is the metadata issuer",
    "",
)
_check(
    "5. ORDS profile and tokens",
    "jwk-url-not-https",
    "fail (warn with `--allow-http`)",
    "the profile's `p_jwk_url` is not https (the verdict `jwk-url-not-https`)",
    "the https `jwks_uri`",
)
_check(
    "5. ORDS profile and tokens",
    "profile-jwk-url-mismatch",
    "fail",
    "`p_jwk_url` is not the metadata's `jwks_uri` and does not serve its keys",
    "re-create with `jwks_uri`",
)
_check(
    "5. ORDS profile and tokens",
    "profile-jwk-url-matches",
    "pass",
    "`p_jwk_url` is the metadata's `jwks_uri`",
    "",
)
_check(
    "5. ORDS profile and tokens",
    "profile-jwk-url-same-keys",
    "pass",
    "`p_jwk_url` is another URL that serves every key of the metadata's `jwks_uri` "
    "(Entra's v1 and v2 key URLs do)",
    "",
)
_check(
    "5. ORDS profile and tokens",
    "profile-issuer-entra-v1",
    "pass",
    "`p_issuer` is the tenant's v1.0 issuer (read from Entra's v1 document): the profile "
    "accepts v1.0 tokens only, which is what Entra issues while the API's manifest leaves "
    "`api.requestedAccessTokenVersion` (formerly `accessTokenAcceptedVersion`) at null or 1",
    "",
)
_check(
    "5. ORDS profile and tokens",
    "token-log-unusable",
    "fail",
    "a `--log` file cannot be read or parsed",
    "path, permissions, `--nginx-conf`",
)
_check(
    "5. ORDS profile and tokens",
    "token-none-in-log",
    "warn",
    "no bearer request in the newest lines",
    "connect once, run again",
)
_check(
    "5. ORDS profile and tokens",
    "token-ok",
    "pass",
    "a recent token passes every analyzer check",
    "",
)
_check(
    "5. ORDS profile and tokens",
    "token-<verdict>",
    "as the verdict: error fail, warn warn",
    "the analyzer's verdict, e.g. `token-issuer-mismatch`, `token-audience-mismatch`, "
    "`token-kid-not-found`, `token-graph-token`, `token-expired`",
    "see [verdicts.md](verdicts.md)",
)

# --- 6. Local nginx

_check(
    "6. Local nginx",
    "nginx-conf-unreadable",
    "skip (warn for `--nginx-conf`)",
    "cannot read the configuration here",
    "run on the nginx host, or `--nginx-conf`",
)
_check(
    "6. Local nginx", "nginx-conf-invalid", "fail", "the configuration does not parse", "`nginx -t`"
)
_check("6. Local nginx", "nginx-conf-read", "pass", "", "")
_check(
    "6. Local nginx",
    "nginx-undefined-format",
    "fail",
    "an `access_log` names a format no `log_format` defines (nginx refuses it)",
    "define it, or fix the name",
)
_check(
    "6. Local nginx",
    "nginx-no-authorization-log",
    "warn",
    "no access log records `$http_authorization`",
    "the `extended` format",
)
_check("6. Local nginx", "nginx-authorization-log", "pass", "", "")
_check(
    "6. Local nginx",
    "nginx-log-replayable-tokens",
    "warn",
    "the token log's format records `$http_authorization` as sent: full, replayable tokens",
    "the safe token log (docs/safe-token-log.md): the token without its signature",
)
_check(
    "6. Local nginx",
    "nginx-log-query-tokens",
    "warn",
    "the token log drops the token's signature but records the query string or referer "
    "as sent (`$request`, `$request_uri`, `$args`, `$arg_*`, `$http_referer`): a token "
    "a client sends in the URL (MCP forbids it) is logged whole",
    "`$request_without_token` and `$referer_without_token` (docs/safe-token-log.md)",
)
_check("6. Local nginx", "nginx-log-signature-free", "pass", "", "")
_check(
    "6. Local nginx",
    "nginx-log-rotation-keeps-tokens",
    "warn",
    "logrotate (`/etc/logrotate.d/nginx`) keeps `rotate N` old copies of a full-token log",
    "the safe token log; or fewer rotations",
)
_check(
    "6. Local nginx",
    "nginx-log-world-readable",
    "fail (warn: safe token log)",
    "the token log is readable by every local user",
    "`chmod o-r`, logrotate `create 0640`",
)
_check("6. Local nginx", "nginx-log-private", "pass", "", "")
_check("6. Local nginx", "nginx-log-mode-unknown", "skip", "log missing or relative path", "")
_check(
    "6. Local nginx",
    "nginx-headers-more-not-loaded",
    "fail",
    "`more_*` used without `load_module` of headers-more (nginx refuses it)",
    "`apt install libnginx-mod-http-headers-more-filter`",
)
_check("6. Local nginx", "nginx-headers-more-loaded", "pass", "", "")

# --- Any step

_check(
    "Any step",
    "challenge-skipped",
    "skip",
    "the step's input is missing; the message says which",
    "",
)
_check(
    "Any step",
    "resource-metadata-skipped",
    "skip",
    "the step's input is missing; the message says which",
    "",
)
_check(
    "Any step",
    "authorization-server-skipped",
    "skip",
    "the step's input is missing; the message says which",
    "",
)
_check(
    "Any step", "jwks-skipped", "skip", "the step's input is missing; the message says which", ""
)
_check(
    "Any step", "profile-skipped", "skip", "the step's input is missing; the message says which", ""
)
_check(
    "Any step", "nginx-skipped", "skip", "the step's input is missing; the message says which", ""
)
_check(
    "Any step",
    "doctor-internal-error",
    "fail",
    "a check crashed (message redacted); the run goes on; please report it",
    "",
)


def markdown() -> str:
    """The finding-code tables of ``docs/doctor.md`` (between the generated marks)."""
    lines = [
        BEGIN,
        "",
        "Status: **fail** breaks a connection (exit 1), **warn** is worth fixing or depends on the",
        "client, **pass** is shown in the checklist, **skip** means the check could not run.",
        "Severity (as `token-inspector rules` shows it, in the verdicts' words): `error` for a",
        "check that can fail, `warn` for one that at worst warns, `info` for one that only",
        "passes or skips. `token-inspector rules CODE` prints any row below.",
    ]
    section = None
    for check in all_checks():
        if check.section != section:
            section = check.section
            lines += [
                "",
                f"### {section}",
                "",
                "| code | status | meaning | fix |",
                "|---|---|---|---|",
            ]
        cells = (f"`{check.code}`", check.status, check.meaning, check.fix)
        lines.append("|" + "|".join(f" {c} " if c else " " for c in cells) + "|")
    lines += ["", END]
    return "\n".join(lines) + "\n"


def rewrite(doc: str) -> str:
    """``doc`` with the text between the generated marks replaced by :func:`markdown`."""
    start = doc.index(BEGIN)
    end = doc.index(END) + len(END) + 1
    return doc[:start] + markdown() + doc[end:]


def main(argv: list[str]) -> int:
    """Rewrite the generated part of the file named in ``argv`` (or print it)."""
    if not argv:
        print(markdown(), end="")
        return 0
    path = Path(argv[0])
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
