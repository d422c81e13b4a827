"""What the server side is set up for: the MCP URL, issuer, scopes, role, audience, keys.

Each value comes from the first of: what the user typed (``--issuer``, ``--scope``,
``--role``), a verified token from the access log, what doctor observed (the 401
challenge's ``scope=``, the protected-resource metadata), or the resource rule of
domain.md (the resource is the MCP URL; for Entra ID the scopes hang off it:
``<MCP URL>/mcp:connect``). Every value says where it came from, so the plan can show why
it proposes what it does.

Every value ends up in nginx configuration, JSON documents, PL/SQL or shell commands:
anything that could break out of those (quotes, whitespace, ``$``, braces, ``;``,
control characters) is refused with a one-line reason, whoever supplied it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from inspector.doctor.resource_metadata import entra_scope
from inspector.doctor.scopes import is_entra_url, is_qualified
from inspector.judge.idp import ENTRA_V1_ISSUER
from inspector.settings import InspectorError
from inspector.setup.model import ResourceFacts
from parsers.challenge import OIDC_SCOPES
from parsers.printable import printable

# Characters that would end a quoted nginx string, start a variable, open or close a
# block, end a directive, or split a header value; plus anything invisible or control.
_UNSAFE_IN_CONFIG = re.compile(r"[\s\"'\\$;{}`<>|]|[^\x21-\x7e]")
_ROLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
MAX_VALUE_CHARS = 400
ENTRA_SCOPE_NAME = "mcp:connect"
# Why the resource is the MCP URL, said to the user (the rule itself, not where we keep it).
RESOURCE_RULE = (
    "the MCP URL: RFC 9728's resource is the URL connectors are given, and Entra ID "
    "(since 2026) needs the API's App ID URI to equal it"
)


class FactsError(InspectorError):
    """A value setup cannot use (one line: which value, what is wrong with it)."""


@dataclass(frozen=True, slots=True)
class FactInputs:
    """What the user gave. ``allow_http`` admits ``http://`` URLs (loopback labs, tests);
    ``idp`` is ``auto`` (Entra ID recognised from the issuer's host), ``entra`` or
    ``generic``."""

    mcp_url: str | None
    issuer: str | None = None
    scopes: tuple[str, ...] = ()
    role: str | None = None
    idp: str = "auto"
    allow_http: bool = False


@dataclass(frozen=True, slots=True)
class ObservedToken:
    """The token chosen from the log: its claims, whether it may be used (its signature
    verified and its issuer is anchored), and where it was."""

    claims: Mapping[str, Any]
    verified: bool
    source: str
    jwks_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Observed:
    """What was seen before planning: a token, doctor's challenge and metadata."""

    token: ObservedToken | None = None
    challenge_scopes: tuple[str, ...] = ()
    metadata_url: str | None = None
    metadata_servers: tuple[str, ...] = ()
    metadata_scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetupFacts:
    """The values the plan is built from, and one note per value saying where it came from.

    ``issuer`` is the tokens' issuer (the ORDS profile's ``p_issuer``); the metadata
    advertises ``resource.authorization_servers``, which differs for Entra ID's v1 issuer
    (the v2 endpoint of the same tenant is advertised). ``role`` is the ORDS role the
    tokens carry (role-based profiles), ``audience`` the token's ``aud`` (known only from a
    token), ``jwks_uri`` the issuer's keys when seen.
    """

    resource: ResourceFacts
    issuer: str
    entra: bool
    role: str | None = None
    audience: str | None = None
    jwks_uri: str | None = None
    sources: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def mcp_url(self) -> str:
        """The MCP URL (the RFC 9728 resource)."""
        return self.resource.mcp_url

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes advertised and put in the challenge."""
        return self.resource.scopes

    @property
    def mcp_path(self) -> str:
        """The MCP URL's path (the location nginx protects, the ORDS pattern's base)."""
        return urlsplit(self.mcp_url).path or "/"

    @property
    def notes(self) -> tuple[str, ...]:
        """``name: value (from where)`` lines, values escaped for display."""
        return tuple(
            f"{name}: {printable(where, limit=MAX_VALUE_CHARS)}" for name, where in self.sources
        )


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def shown_url(url: str) -> str:
    """``url`` for a message: a user name and password it carries replaced by ``***``,
    unprintable characters escaped, at most 120 characters.

    Everything from the scheme's ``//`` (or its ``:`` when there is none) to the last ``@``
    goes: a password may itself hold ``/``, ``?``, ``#`` or ``:``, so no narrower cut is
    safe (a path holding ``@`` is cut too, which only costs a message some detail)."""
    at = url.rfind("@")
    if at >= 0:
        head = url[:at]
        slashes = head.find("//")
        scheme = _SCHEME.match(head)
        keep = head[: slashes + 2] if slashes >= 0 else (scheme.group(0) if scheme else "")
        url = f"{keep}***{url[at:]}"
    return printable(url, limit=120)


def check_url(what: str, url: str, *, allow_http: bool) -> str:
    """``url`` if it is an absolute https URL (http with ``allow_http``) safe to write into
    nginx configuration and JSON, else ``FactsError`` naming ``what``."""
    shown = shown_url(url)
    if len(url) > MAX_VALUE_CHARS:
        raise FactsError(f"{what}: longer than {MAX_VALUE_CHARS} characters")
    if _UNSAFE_IN_CONFIG.search(url):
        raise FactsError(
            f"{what} {shown!r}: holds a quote, space, '$', brace, ';' or a control or "
            "non-ASCII character (percent-encode it)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise FactsError(f"{what} {shown!r}: not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise FactsError(f"{what} {shown!r}: must be an absolute https:// URL")
    if scheme == "http" and not allow_http:
        raise FactsError(f"{what} {shown!r}: must be https (connectors and ORDS demand it)")
    if parts.username or parts.password:
        raise FactsError(f"{what} {shown!r}: must not carry a user name or password")
    if parts.fragment:
        raise FactsError(f"{what} {shown!r}: must not have a fragment")
    return url


def check_mcp_url(url: str, *, allow_http: bool) -> str:
    """The MCP URL: as :func:`check_url`, without a query (nginx matches it as a location)."""
    checked = check_url("MCP URL", url, allow_http=allow_http)
    parts = urlsplit(checked)
    if parts.query:
        raise FactsError(f"MCP URL {shown_url(url)!r}: must not have a query")
    if not parts.path or parts.path == "/":
        raise FactsError(
            f"MCP URL {shown_url(url)!r}: needs the module's path "
            "(e.g. https://host/ords/hr/mcp/server)"
        )
    return checked


def check_scope(scope: str) -> str:
    """A scope safe for the challenge header, JSON and shell commands, else ``FactsError``."""
    if not scope or len(scope) > MAX_VALUE_CHARS or _UNSAFE_IN_CONFIG.search(scope):
        raise FactsError(
            f"scope {printable(scope, limit=120)!r}: must be non-empty printable ASCII "
            "without quotes, spaces, '$', braces or ';'"
        )
    return scope


def check_role(role: str) -> str:
    """An ORDS role name as tokens carry it (letters, digits, ``_ . : -``), else ``FactsError``."""
    if not _ROLE.match(role):
        raise FactsError(
            f"role {printable(role, limit=120)!r}: must be 1-128 letters, digits, "
            "'_', '.', ':' or '-', starting with a letter or digit"
        )
    return role


def _entra_scopes(
    candidates: Sequence[str],
    mcp_url: str,
    where: str,
    *,
    fix: bool = True,
    names: bool = False,
) -> tuple[tuple[str, ...], list[str]]:
    """Scopes on the MCP URL's resource: qualified on another resource, the name is kept
    and the resource replaced (Entra answers AADSTS9010010 otherwise). Without ``fix``
    (the user typed them) the scopes stay as given and only the warnings are made.
    ``names``: the candidates are a token's ``scp``, where Entra always writes the bare
    name of a scope it granted: qualifying it is the rule, not a correction."""
    out: list[str] = []
    warnings: list[str] = []
    for scope in candidates:
        if scope in OIDC_SCOPES:
            continue
        bare = not is_qualified(scope)
        if bare:
            fixed = f"{mcp_url}/{scope}"
        elif scope.rpartition("/")[0] != mcp_url:
            fixed = f"{mcp_url}/{scope.rpartition('/')[2]}"
        else:
            fixed = scope
        if fixed != scope and not (bare and names):
            warnings.append(
                f"{where} {scope!r} is not on the MCP URL's resource; Entra ID rejects it "
                f"(AADSTS9010010): " + (f"using {fixed!r}" if fix else f"the rule gives {fixed!r}")
            )
        out.append(fixed if fix else scope)
    return tuple(dict.fromkeys(out)), warnings


def _claim_strings(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = claims.get(name)
    if isinstance(value, str):
        return tuple(v for v in value.split() if v)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str) and v)
    return ()


def derive_facts(inputs: FactInputs, observed: Observed | None = None) -> SetupFacts:
    """The facts for the plan: user input first, then a verified token, then doctor's
    observations, then the resource rule. Raises ``FactsError`` for a missing MCP URL or
    issuer and for any value unsafe to write."""
    seen = observed or Observed()
    allow_http = inputs.allow_http
    if not inputs.mcp_url:
        raise FactsError("give the MCP URL connectors are given (or set [doctor] url)")
    mcp_url = check_mcp_url(inputs.mcp_url, allow_http=allow_http)
    sources: list[tuple[str, str]] = [("resource", f"{mcp_url} ({RESOURCE_RULE})")]
    warnings: list[str] = []
    token = seen.token if seen.token is not None and seen.token.verified else None
    if seen.token is not None and token is None:
        warnings.append(
            f"the token at {seen.token.source} did not verify or its issuer is not anchored "
            "(--trusted-issuer): none of its values are used"
        )

    issuer, where = _issuer(inputs, token, seen)
    issuer = check_url("issuer", issuer, allow_http=allow_http)
    sources.append(("issuer", f"{issuer} ({where})"))
    entra = inputs.idp == "entra" or (inputs.idp == "auto" and is_entra_url(issuer))

    scopes, where, from_token = _scopes(inputs, token, seen, entra)
    if entra:
        fix = where != "--scope"
        scopes, fixed = _entra_scopes(scopes, mcp_url, where, fix=fix, names=from_token)
        warnings.extend(fixed)
        if not scopes:
            scopes, where = (entra_scope(mcp_url),), "Entra ID rule: <MCP URL>/mcp:connect"
    scopes = tuple(check_scope(s) for s in scopes)
    sources.append(("scopes", f"{' '.join(scopes) or 'none'} ({where})"))

    role, where = _role(inputs, token)
    if role is not None:
        role = check_role(role)
    sources.append(("role", f"{role or 'none'} ({where})"))

    audience = None
    if token is not None:
        aud = token.claims.get("aud")
        if isinstance(aud, str) and aud:
            audience = aud
            sources.append(("audience", f"{aud} (the token at {token.source})"))
    if audience is None:
        sources.append(("audience", "unknown until a connector's verified token is in the log"))
    jwks_uri = token.jwks_uri if token is not None else None
    if jwks_uri is not None:
        jwks_uri = check_url("jwks_uri", jwks_uri, allow_http=allow_http)
        sources.append(("jwks_uri", f"{jwks_uri} (the issuer's metadata)"))

    servers = (issuer,)
    v1 = ENTRA_V1_ISSUER.fullmatch(issuer) if entra else None
    if v1 is not None:
        # Clients discover the authorization server's endpoints from this URL: the v1
        # issuer would lead them to v1 endpoints, against the checklist's switch to v2.
        # ORDS compares p_issuer with the tokens' iss, so the profile keeps the v1 issuer.
        v2 = f"https://login.microsoftonline.com/{v1.group(1)}/v2.0"
        servers = (v2,)
        sources.append(
            (
                "authorization server",
                f"{v2} (Entra ID's v2 endpoint of the tenant, advertised to clients; the "
                f"tokens are v1, so the ORDS profile keeps p_issuer {issuer}: once the app "
                "issues v2 tokens, run setup again to re-create the profile with the v2 issuer)",
            )
        )
    resource = ResourceFacts(mcp_url, servers, scopes)
    return SetupFacts(
        resource=resource,
        issuer=issuer,
        entra=entra,
        role=role,
        audience=audience,
        jwks_uri=jwks_uri,
        sources=tuple(sources),
        warnings=tuple(printable(w, limit=MAX_VALUE_CHARS) for w in warnings),
    )


def _issuer(inputs: FactInputs, token: ObservedToken | None, seen: Observed) -> tuple[str, str]:
    if inputs.issuer:
        return inputs.issuer, "--issuer"
    if token is not None:
        iss = token.claims.get("iss")
        if isinstance(iss, str) and iss:
            return iss, f"the verified token at {token.source}"
    if seen.metadata_servers:
        return seen.metadata_servers[0], f"the served metadata {seen.metadata_url or ''}".strip()
    raise FactsError(
        "no issuer: give --issuer (the authorization server), or --from-log with a "
        "connector's verified token"
    )


def _scopes(
    inputs: FactInputs, token: ObservedToken | None, seen: Observed, entra: bool
) -> tuple[tuple[str, ...], str, bool]:
    """The scopes, where they came from, and whether that was the token's claim."""
    if inputs.scopes:
        return tuple(inputs.scopes), "--scope", False
    if seen.challenge_scopes:
        return seen.challenge_scopes, "the 401 challenge's scope= doctor saw", False
    if seen.metadata_scopes:
        return seen.metadata_scopes, "scopes_supported in the served metadata", False
    if token is not None:
        # Entra's scp holds the scope names without their resource; the rule adds it.
        names = _claim_strings(token.claims, "scp" if entra else "scope")
        if not names and not entra:
            names = _claim_strings(token.claims, "scp")
        if names and entra:
            where = f"the token's scp at {token.source}, names on the MCP URL's resource"
            return names, where, True
        if names:
            return names, f"the token's scope at {token.source}", True
    return (), "none given or seen: give --scope", False


def _role(inputs: FactInputs, token: ObservedToken | None) -> tuple[str | None, str]:
    if inputs.role:
        return inputs.role, "--role"
    if token is not None:
        roles = _claim_strings(token.claims, "roles")
        if len(roles) == 1:
            return roles[0], f"the token's roles at {token.source}"
        if roles:
            return None, f"the token carries several roles ({', '.join(roles[:5])}): give --role"
    return None, "none given or seen: give --role for a role-based profile"
