"""The registry of verdict rules: stable codes, one-line messages, explanations and fixes.

Like a linter's rule table: a check never writes prose, it picks a rule and passes the
values it observed; ``Rule.verdict`` fills the one-line message. Codes are a public
interface (users filter and script on them): never rename one, add a new one instead.
Observed values come from attacker-controlled tokens, so they are made printable and
shortened before they reach a message. They are claim values (issuers, audiences, roles),
never the credential itself: checks must not pass the raw token in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from inspector.judge.verdicts import Severity, Verdict
from parsers.printable import printable as terminal_safe
from parsers.redaction import redact_text

# Values longer than this are cut in messages: a claim can be megabytes of junk.
MAX_SHOWN_CHARS = 120


# (text, limit) -> printable text: verdicts quote the same issuer, audience and key URL
# for thousands of tokens, and redaction is the dearest part of building one.
_PRINTABLE: dict[tuple[str, int], str] = {}
_PRINTABLE_MAX = 4096
_PRINTABLE_MAX_CHARS = 1024


def printable(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` safe for a terminal and free of credentials: escaped, redacted, capped."""
    key = (text, limit)
    found = _PRINTABLE.get(key)
    if found is None:
        found = terminal_safe(redact_text(text, opaque=False), limit=limit)
        if len(text) <= _PRINTABLE_MAX_CHARS:
            if len(_PRINTABLE) >= _PRINTABLE_MAX:
                _PRINTABLE.clear()
            _PRINTABLE[key] = found
    return found


def quoted(value: Any, limit: int = MAX_SHOWN_CHARS) -> str:
    """A claim value as JSON (``"https://x/"``, ``["a", "b"]``), printable and shortened.

    Quoting makes a trailing slash or a stray space visible, which is often the whole bug.
    """
    if isinstance(value, str):
        # What json.dumps(value, ensure_ascii=False) returns for a string, without
        # building an encoder for the keywords (two verdicts of most tokens quote one).
        return printable(_encode_string(value), limit)
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return printable(text, limit)


_encode_string: Callable[[str], str] = json.encoder.encode_basestring


class _Observed(dict[str, str]):
    def __missing__(self, key: str) -> str:
        # A check that forgot a value must not crash a scanner; show the gap instead.
        return f"<{key}?>"


@dataclass(frozen=True, slots=True)
class Rule:
    """One stable verdict code with its prose.

    ``message`` is a ``str.format`` template over the observed values; ``explanation`` says
    what ORDS does and why it fails; ``fix`` says what to change and where.
    """

    code: str
    severity: Severity
    title: str
    message: str
    explanation: str
    fix: str

    def verdict(self, *, hint: str | None = None, **observed: Any) -> Verdict:
        """A verdict with the message filled from ``observed``.

        ``hint`` is a case-specific fix sentence (such as "use the observed issuer
        '...'") placed before the rule's general fix.
        """
        # Thousands of tokens get the same verdict (the same issuer quoted): one object.
        # Only for plain, short strings: 1, 1.0 and True are equal keys but quoted apart,
        # and a claim may be megabytes.
        key: tuple[Any, ...] | None = None
        if (
            self.code not in _PER_SECOND
            and (hint is None or (type(hint) is str and len(hint) <= _PRINTABLE_MAX_CHARS))
            and all(
                type(value) is str and len(value) <= _PRINTABLE_MAX_CHARS
                for value in observed.values()
            )
        ):
            key = (self.code, hint, *observed.items())
            found = _VERDICTS.get(key)
            if found is not None and found[0] is self:
                return found[1]
        values = _Observed(
            {k: printable(v) if isinstance(v, str) else quoted(v) for k, v in observed.items()}
        )
        message = self.message.format_map(values)
        fix = f"{printable(hint, 400)} {self.fix}" if hint else self.fix
        verdict = Verdict(self.code, self.severity, message, self.explanation, fix)
        if key is not None:
            if len(_VERDICTS) >= _VERDICTS_MAX:
                _VERDICTS.clear()
            _VERDICTS[key] = (self, verdict)
        return verdict


# (code, hint, observed members) -> (the rule, its verdict). Verdicts are frozen: sharing
# one is safe. The rule is kept so a rule replaced under the same code is not mistaken.
_VERDICTS: dict[tuple[Any, ...], tuple[Rule, Verdict]] = {}
_VERDICTS_MAX = 4096
# Codes whose message names a duration to the second: a new one on every line of a token
# judged again (kept out of the memo, which would only be filled and emptied).
_PER_SECOND = frozenset({"expired", "not-yet-valid", "too-old", "ords-global-age"})


_REGISTRY: dict[str, Rule] = {}


def _rule(
    code: str, severity: Severity, title: str, message: str, explanation: str, fix: str
) -> Rule:
    if code in _REGISTRY:
        raise ValueError(f"duplicate rule code {code}")
    # Explanations are written as indented triple-quoted prose; store them as one line.
    rule = Rule(
        code, severity, title, message, " ".join(explanation.split()), " ".join(fix.split())
    )
    _REGISTRY[code] = rule
    return rule


def get_rule(code: str) -> Rule:
    """The rule registered under ``code`` (KeyError for an unknown code)."""
    return _REGISTRY[code]


def all_rules() -> Iterator[Rule]:
    """Every registered rule, in registration order (the order of a request's checks)."""
    return iter(tuple(_REGISTRY.values()))


E, W, I = Severity.ERROR, Severity.WARN, Severity.INFO  # noqa: E741

# --- The Authorization header -------------------------------------------------------------

NO_TOKEN = _rule(
    "no-token",
    W,
    "No Authorization header",
    "{status} without an Authorization header",
    """The request carried no credentials. The first 401 is the normal start of the MCP
    OAuth flow: the client reads the WWW-Authenticate challenge, fetches the protected
    resource metadata and signs in. A client that keeps coming back without a token never
    got or never used that metadata (challenge rewritten away, metadata not reachable,
    'resource' not equal to the URL the connector was given, or sign-in failed at the
    IdP). Entra ID's usual refusals: AADSTS9010010 (the client sends 'resource' = the MCP
    URL, which is not the resource of the requested scope), AADSTS650053 (a bare scope on
    reconnect resolved to Microsoft Graph), AADSTS90095 (the client asks for consent where
    user consent is restricted: an admin must consent).""",
    """Check that the 401 carries WWW-Authenticate: Bearer resource_metadata="..." and
    scope="<MCP URL>/mcp:connect", that the metadata URL answers from the internet, and
    that its 'resource' equals the MCP URL configured in the connector. For Entra ID the
    API's App ID URI must be the MCP URL itself (https, on a verified domain, trailing
    slash included), its scope <MCP URL>/mcp:connect, listed in scopes_supported: an
    api://{app-id} URI with the app id as resource fails with AADSTS9010010. Then look at
    the IdP's sign-in log for an AADSTS error (AADSTS90095: grant admin consent).""",
)
NOT_BEARER = _rule(
    "not-bearer",
    Severity.ERROR,
    "Not a Bearer credential",
    "Authorization scheme is {scheme}, not Bearer",
    """ORDS JWT profiles only accept 'Authorization: Bearer <JWT>'. Basic credentials, DPoP
    bound tokens, or a bare token without the scheme word are not looked at by the JWT
    profile.""",
    """Send the access token as 'Authorization: Bearer <token>'. For DPoP, configure the
    client or IdP to issue plain bearer tokens.""",
)

# --- The token's shape ---------------------------------------------------------------------

OPAQUE_TOKEN = _rule(
    "opaque-token",
    E,
    "Opaque (non-JWT) access token",
    "token is opaque ({length} characters, no dots): not a JWT",
    """ORDS can only validate JWT access tokens. IdPs issue an opaque reference token when
    the request names no API: Auth0 does so when no 'audience' is requested, other IdPs
    for tokens meant only for their own userinfo endpoint.""",
    """Make the client request a token for your API: Auth0 'audience' parameter (or a
    default audience on the tenant), Entra ID the fully-qualified scope
    <MCP URL>/mcp:connect with the API's App ID URI equal to the MCP URL (on a verified
    domain), so that the 'resource' MCP clients send is the scope's resource (otherwise
    AADSTS9010010).""",
)
ENCRYPTED_TOKEN = _rule(
    "encrypted-token",
    E,
    "Encrypted token (JWE)",
    "token is a JWE (5 segments, alg {alg}, enc {enc}): ORDS cannot read it",
    """The token is encrypted (JSON Web Encryption). ORDS verifies signed tokens (JWS) and
    has no decryption key, so it can read neither the claims nor the signature.""",
    """Configure the IdP to sign access tokens for this API and not encrypt them (remove
    the token encryption key / certificate from the API registration).""",
)
MALFORMED_TOKEN = _rule(
    "malformed-token",
    E,
    "Malformed token",
    "token cannot be decoded: {problem}",
    """The credential is neither a well-formed JWT nor an opaque token: wrong number of
    segments, invalid base64url, or a header or payload that is not a JSON object. It was
    truncated, mangled by a proxy or a copy-paste, or is not a token at all.""",
    """Look at what the client sends (and whether a proxy or the log format truncates long
    headers); obtain a fresh token from the IdP.""",
)

# --- Algorithm and signature ----------------------------------------------------------------

ALG_NONE = _rule(
    "alg-none",
    E,
    "Unsigned token (alg none)",
    "token header says alg {alg}: the token is not signed",
    """An unsigned token proves nothing: anyone can write one. ORDS rejects it, and so
    should anything else. Such tokens are test artefacts or forgery attempts.""",
    """Never use alg none. Get a real token from the IdP; investigate the client if it
    came from outside.""",
)
ALG_UNSUPPORTED = _rule(
    "alg-unsupported",
    E,
    "Signing algorithm ORDS does not accept",
    "token is signed with {alg}; ORDS accepts RS256, RS384 and RS512 only",
    """ORDS verifies JWT signatures with RSA PKCS#1 v1.5 (RS256/RS384/RS512) keys from the
    profile's JWK URL. HMAC tokens (HS256) use a shared secret ORDS does not have; ES256,
    PS256 and EdDSA are other key types or padding schemes ORDS does not verify.""",
    """Change the signing algorithm of the IdP's API / authorization server to RS256
    (Auth0: the API's setting, APIs > Settings > Signing Algorithm, not the application's;
    Keycloak: the client's access token signature algorithm; Okta custom servers sign
    with RS256).""",
)
KID_MISSING = _rule(
    "kid-missing",
    W,
    "No key id in the token header",
    "token header has no kid",
    """A JWKS usually holds several keys and the 'kid' header says which one signed the
    token. Without it a verifier has to guess; ORDS may fail to pick a key.""",
    """Configure the IdP to include 'kid' in the header (most do by default).""",
)
KID_NOT_FOUND = _rule(
    "kid-not-found",
    E,
    "Signing key not in the JWKS",
    "kid {kid} is not in the JWKS at {jwks_uri}",
    """The key that signed the token is not published at the JWK URL that was checked.
    Usual causes: the profile's p_jwk_url points at the wrong key set (Entra v1 tokens are
    signed with keys from .../discovery/keys, v2 tokens with .../discovery/v2.0/keys; an
    application with a custom signing key publishes its keys under ?appid=...), a key
    rollover the JWKS cache has not caught up with, or a token from another IdP or
    tenant. ORDS itself refetches the key set only every security.jwks.refresh.interval
    (its settings), so right after a rollover it may refuse tokens signed with the new
    key although this tool finds it.""",
    """Use the jwks_uri from the issuer's OpenID metadata as p_jwk_url, exactly. If the
    key was just rolled, wait for caches to refresh.""",
)
SIGNATURE_INVALID = _rule(
    "signature-invalid",
    E,
    "Signature does not verify",
    "signature does not verify with key {kid} ({detail})",
    """The issuer publishes a key with this kid, but the signature does not match it. The
    token was altered, corrupted in transit or in the log, or forged by someone reusing a
    real key id. Its claims cannot be trusted.""",
    """Treat the token as hostile: do not copy its claims into a profile. Get a fresh
    token from the IdP; if forged tokens keep arriving, find out where from
    (remote_addr).""",
)
JWKS_UNAVAILABLE = _rule(
    "jwks-unavailable",
    W,
    "Signing keys unavailable",
    "signature not checked: keys for {issuer} unavailable ({detail})",
    """The issuer's metadata or JWKS could not be fetched or read, so the signature was
    not verified. If ORDS cannot reach the JWK URL either, it rejects every token.""",
    """Check that the JWK URL is https://, reachable from this host and from the ORDS host
    (proxy, firewall, DNS), and returns a JWKS; or pass an offline copy with --jwks. An
    issuer only a token names is fetched from public https addresses only: anchor yours
    with --trusted-issuer ISS, or allow a lab IdP on a private network with
    --allow-private-idp.""",
)
JWKS_KEYS_REFUSED = _rule(
    "jwks-keys-refused",
    W,
    "Signing keys beyond the limits",
    "signature not checked: {detail}",
    """The key set holds keys no identity provider publishes, or too many of them for this
    token: an RSA modulus outside 2048 to 8192 bits, an RSA public exponent that is even,
    below 3 or longer than 32 bits (every IdP uses 65537), more than 100 keys in one
    document, or more than 8 keys the token may have been signed with (it names no kid,
    or many keys share its kid). Checking such keys costs seconds of CPU per token, which
    is how a hostile issuer would stall the inspector, so they were not used and the
    signature was not verified. ORDS may reject such a key set or time out on it too.""",
    """If this is your IdP: publish RSA keys of 2048 to 4096 bits with exponent 65537 (AQAB),
    each with its own kid, and sign tokens with a kid header. If it is not, the token's
    issuer is hostile or broken: do not trust its claims, and anchor key discovery with
    --trusted-issuer ISS.""",
)
KEYS_PENDING = _rule(
    "keys-pending",
    W,
    "Signing keys still being fetched",
    "signature not checked yet: keys for {issuer} are being fetched ({detail})",
    """The issuer's metadata and keys were being fetched when this attempt was shown. The
    live screen does not wait for a slow issuer: the attempt is shown at once and judged
    again when the keys arrive, or when the fetch is given up at its deadline (then it
    says jwks-unavailable).""",
    """Nothing to do if it clears within seconds. If the issuer keeps timing out, check
    that its metadata and JWK URL answer quickly from this host (proxy, firewall, DNS);
    --http-timeout sets the deadline of each request.""",
)
SIGNATURE_UNCHECKED = _rule(
    "signature-unchecked",
    I,
    "Signature not checked",
    "signature not checked: {detail}",
    """No key source applied to this token (its issuer is not trusted for discovery and no
    offline JWKS holds its key), so only its claims were checked.""",
    """Pass --trusted-issuer ISS (or [keys] trusted_issuers in the config) to fetch the
    issuer's keys, or --jwks FILE for an offline key set.""",
)
SIGNATURE_NOT_LOGGED = _rule(
    "signature-not-logged",
    I,
    "Signature not logged",
    "signature not checked: the log keeps the token without its signature{kid}",
    """The access log uses the safe token format: nginx recorded the token's header and
    claims but replaced its signature with a marker, so nobody who reads the log can
    replay the token. Every check that does not need the signature ran (claims, times,
    alg, and whether the issuer publishes the kid); whether the signature itself verifies
    cannot be told from this line.""",
    """Nothing to do: this is the recommended way to log tokens. To check a signature
    ORDS rejects, paste the full token into decode (from the client, not from a log), or
    switch the log to full tokens briefly and back again right after.""",
)
GRAPH_TOKEN = _rule(
    "graph-token",
    E,
    "Token for Microsoft Graph",
    "token is for Microsoft Graph (aud {aud}{nonce}): nobody but Graph can verify it",
    """The client asked Entra ID for a bare scope (such as 'mcp:connect' or 'openid') that
    resolved to Microsoft Graph, so the token's audience is Graph. Graph tokens carry a
    'nonce' header and are signed in a way only Graph can check: their signature never
    verifies elsewhere and their audience never matches your API. A client that sends the
    bare scope on reconnect may instead be refused with AADSTS650053.""",
    """Request the fully-qualified scope <MCP URL>/mcp:connect, with the API's App ID URI
    equal to the MCP URL (https, on a verified domain): advertise it in scopes_supported
    of the protected resource metadata and in the scope= parameter of the
    WWW-Authenticate challenge. Since 2026 Entra refuses an api://{app-id} scope when the
    client's 'resource' is the MCP URL (AADSTS9010010).""",
)

OKTA_ORG_TOKEN = _rule(
    "okta-org-token",
    E,
    "Token from Okta's org authorization server",
    "token is from Okta's org authorization server (iss {iss}, no /oauth2/): for Okta's own "
    "APIs only",
    """Okta's org authorization server (issuer https://{org}.okta.com, without
    /oauth2/...) issues access tokens for Okta's own APIs. They are not meant to be
    validated by anyone else, and their audience is Okta, not your API.""",
    """Create (or use) a custom authorization server for the MCP API (Security > API >
    Authorization Servers; 'default' works) and make the client use its issuer
    https://{org}.okta.com/oauth2/{id}; the profile's p_issuer and p_jwk_url follow it.""",
)

# --- Times -----------------------------------------------------------------------------------

EXPIRED = _rule(
    "expired",
    E,
    "Token expired",
    "token expired {ago} before the request (exp {exp}, allowed skew {skew}s)",
    """ORDS rejects a token whose 'exp' is past, allowing p_allowed_skew seconds of clock
    difference. A client replaying a cached token, or a clock off on the ORDS host, gives
    this.""",
    """Check the clocks (NTP) on the ORDS and nginx hosts; make the client refresh its token
    (disconnect and reconnect the connector). p_allowed_skew can absorb up to 60 s of
    drift, not more.""",
)
NOT_YET_VALID = _rule(
    "not-yet-valid",
    E,
    "Token not yet valid",
    "token is not valid until {delta} after the request ({claim} {when}, allowed skew {skew}s)",
    """The token's 'nbf' (or 'iat') lies in the future beyond the allowed skew: the clocks
    of the IdP and the ORDS host disagree.""",
    """Synchronise the ORDS host's clock (NTP); set p_allowed_skew (at most 60 seconds) to
    absorb small differences.""",
)
TOO_OLD = _rule(
    "too-old",
    E,
    "Token older than the allowed age",
    "token was issued {age} before the request; allowed age is {allowed}s",
    """The profile's p_allowed_age limits the seconds since 'iat', whatever 'exp' says. An
    age limit below the IdP's token lifetime (Entra: 60-90 minutes) rejects tokens that
    are still valid.""",
    """Raise p_allowed_age above the token lifetime, or clear it (NULL) and rely on
    'exp'.""",
)
EXP_MISSING = _rule(
    "exp-missing",
    W,
    "No expiry",
    "token has no usable exp claim",
    """Access tokens carry 'exp'; a token without one never expires, which ORDS and most
    verifiers refuse or should refuse.""",
    """Configure the IdP to issue access tokens with an expiry.""",
)
IAT_MISSING = _rule(
    "iat-missing",
    W,
    "No issued-at time",
    "token has no usable iat claim, so the allowed age ({allowed}s) cannot be checked",
    """p_allowed_age is measured from 'iat'. A token without it cannot satisfy an age
    limit.""",
    """Clear p_allowed_age, or configure the IdP to include 'iat'.""",
)

# --- Issuer and audience ---------------------------------------------------------------------

ISSUER_MISMATCH = _rule(
    "issuer-mismatch",
    E,
    "Issuer does not match",
    "iss {iss} differs from the expected {expected}{why}",
    """ORDS compares 'iss' with p_issuer exactly, character for character: a trailing
    slash, http vs https, the v1 issuer https://sts.windows.net/{tid}/ vs the v2 issuer
    https://login.microsoftonline.com/{tid}/v2.0, or another tenant all make it fail.""",
    """Re-create the JWT profile with p_issuer set to the issuer the tokens actually carry
    (delete the profile first), or make the IdP issue the expected kind of token.""",
)
PROFILE_ISSUER = _rule(
    "profile-issuer",
    I,
    "Issuer a profile would need",
    "a JWT profile for this token needs p_issuer => {iss}",
    """No issuer is expected yet (no config, flag or profile), so this is what
    CREATE_JWT_PROFILE would need to accept the token.""",
    """Pass --expect-iss, set [expect] issuer, or create the profile with this value.""",
)
AUDIENCE_ARRAY = _rule(
    "audience-array",
    W,
    "Audience is an array",
    "aud is an array {aud}: reported to fail with ORDS{why}",
    """ORDS compares 'aud' with p_audience. An array is reported to fail even when it
    contains p_audience (one user report, Auth0, 2025); no Oracle document says ORDS
    rejects arrays, so this is a likely cause, not a certainty. Auth0 returns an array
    (your API plus its /userinfo) when 'openid' is requested together with an
    audience.""",
    """If such tokens get 401, change the token request so that the token has one audience
    (Auth0: do not request 'openid' in the connector's scopes, or use a separate API for
    the MCP server).""",
)
AUDIENCE_MISMATCH = _rule(
    "audience-mismatch",
    E,
    "Audience does not match",
    "aud {aud} differs from the expected {expected}{why}",
    """ORDS compares 'aud' with p_audience exactly. Entra v2 tokens always carry the API's
    application id (GUID); v1 tokens carry whatever resource was requested, often the App
    ID URI (the MCP URL, or an older api://{app-id}). A trailing slash or another API's
    id also fails.""",
    """Use the audience the tokens actually carry as p_audience, or make the client
    request the audience the profile names (RFC 8707 'resource' / scope of your API).""",
)
# The same code, worded for a token that has no 'aud' at all (no value to compare).
AUDIENCE_ABSENT = replace(AUDIENCE_MISMATCH, message="token has no aud; expected {expected}{why}")
PROFILE_AUDIENCE = _rule(
    "profile-audience",
    I,
    "Audience a profile would need",
    "a JWT profile for this token needs p_audience => {aud}",
    """No audience is expected yet (no config, flag or profile), so this is what
    CREATE_JWT_PROFILE would need to accept the token.""",
    """Pass --expect-aud, set [expect] audience, or create the profile with this value.""",
)
PROFILE_JWK_URL = _rule(
    "profile-jwk-url",
    I,
    "JWK URL a profile would need",
    "a JWT profile for this token needs p_jwk_url => {jwks_uri}",
    """The key that verified this token was found at this JWKS URL, taken from the
    issuer's metadata.""",
    """Use this value as p_jwk_url.""",
)
JWK_URL_NOT_HTTPS = _rule(
    "jwk-url-not-https",
    E,
    "JWK URL is not https",
    "p_jwk_url {jwk_url} does not start with https://",
    """ORDS refuses a JWT profile whose p_jwk_url is not an https:// URL.""",
    """Use the https jwks_uri from the issuer's OpenID metadata.""",
)
ENTRA_V1_TOKEN = _rule(
    "entra-v1-token",
    W,
    "Entra ID v1 token",
    "token is an Entra ID v1.0 token (iss {iss})",
    """The API's app registration issues v1.0 tokens (manifest
    api.requestedAccessTokenVersion, accessTokenAcceptedVersion in the old AAD Graph
    manifest, null or 1: the default), whatever endpoint the client used. v1 tokens have the issuer
    https://sts.windows.net/{tid}/, may carry the App ID URI as 'aud', and are signed
    with keys from the v1 JWKS. A profile written for v2 values rejects them.""",
    """Set api.requestedAccessTokenVersion (old manifest: accessTokenAcceptedVersion) to
    2 in the API app's manifest and re-create the
    profile with the v2 issuer the new tokens carry; or keep v1 and use exactly the
    observed iss and aud in the profile.""",
)
# The same code when the expected issuer is this v1 issuer: nothing fails, it only says
# which token version the profile accepts (Entra issues v1 tokens by default).
ENTRA_V1_ACCEPTED = replace(
    ENTRA_V1_TOKEN,
    severity=I,
    message="token is an Entra ID v1.0 token (iss {iss}): the profile accepts v1.0 tokens "
    "of this tenant",
)

# --- Authorization claims ---------------------------------------------------------------------

ROLE_CLAIM_POINTER = _rule(
    "role-claim-pointer",
    E,
    "Role claim is not a JSON pointer",
    "p_role_claim_name {pointer} is not a JSON pointer (must start with '/')",
    """p_role_claim_name is a JSON pointer into the token, such as /roles. A bare name
    ('roles') does not point at anything, so ORDS finds no roles and the request gets 401
    although the token is fine.""",
    """Re-create the profile with p_role_claim_name => '/roles' (with the leading slash).""",
)
ROLES_CLAIM_MISSING = _rule(
    "roles-claim-missing",
    E,
    "Roles claim missing",
    "role-based profile reads {pointer}, but the token has no such claim{groups}",
    """A role-based profile looks up the ORDS role names at p_role_claim_name. Entra puts
    app roles in 'roles' only when the user (or a group they belong to) is assigned an app
    role of the API; 'groups' GUIDs are not roles.""",
    """In Entra: create an app role in the API registration whose value equals the ORDS
    role name, and assign users or groups to it (Enterprise applications > Users and
    groups).""",
)
ROLE_MISSING = _rule(
    "role-missing",
    E,
    "Required role missing",
    "roles {roles} lack {missing}{why}",
    """The profile maps token roles to ORDS roles by exact, case-sensitive name. A token
    role 'ordsusers' does not grant the ORDS role 'ORDSUsers'.""",
    """Make the app role's value exactly equal to the ORDS role name (case included), and
    assign the user to it.""",
)
ROLE_WITHOUT_PRIVILEGE = _rule(
    "role-without-privilege",
    E,
    "ORDS role holds no privilege",
    "token roles {roles} are ORDS roles, but none holds a privilege that protects a module{why}",
    """The token's role exists in ORDS (USER_ORDS_ROLES), so the name is right, but ORDS
    grants access through privileges: a request to a protected module passes only when a
    privilege protecting that module (p_modules) or path (p_patterns) is granted to one of
    the token's roles (USER_ORDS_PRIVILEGE_ROLES). This role holds none, or only
    privileges that protect nothing, so ORDS answers 401 although the token is valid.""",
    """Grant the privilege that protects the module to this role: run
    ords.define_privilege for it again with this role added to p_roles (keep its p_modules
    and p_patterns), then commit. Or assign the users the app role that the privilege
    already names.""",
)
SCOPE_MISSING = _rule(
    "scope-missing",
    E,
    "Required scope missing",
    "scopes {scopes} lack {missing}{why}",
    """A scope-based profile (no p_role_claim_name) treats each 'scp'/'scope' value as an
    ORDS privilege name. The module's privilege must be among them, spelled the same (case
    included): a scope 'mcp:connect' does not grant the privilege 'oracle.example.mcp', and
    a privilege without p_modules or p_patterns protects nothing, so naming it lets no one
    in. With a connected database the privileges are read from USER_ORDS_PRIVILEGES and
    its modules and mappings.""",
    """Rename the delegated scope or the ORDS privilege so they are identical, and make the
    client request that scope.""",
)
ROLES_NOT_ARRAY = _rule(
    "roles-not-array",
    E,
    "Roles claim is not an array",
    "{pointer} is {kind}, not an array of role names",
    """ORDS expects the role claim to be a JSON array of strings.""",
    """Configure the IdP to emit the roles as an array claim.""",
)
UPN_MISSING = _rule(
    "upn-missing",
    W,
    "upn claim missing",
    "token has no upn claim ({ver}): required by your policy, not by ORDS",
    """ORDS identifies the user by 'sub' and never reads 'upn': this is about your own
    policy (--require-upn, [expect] require_upn), not about ORDS accepting the token.
    Entra v2 access tokens carry 'upn' only when it is configured as an optional claim;
    Oracle Database's own Entra integration (not ORDS) maps users by upn, and without it
    (or an app role) the user cannot be mapped there.""",
    """In the API's app registration: Token configuration > Add optional claim > Access >
    upn.""",
)
SKEW_TOO_LARGE = _rule(
    "skew-too-large",
    W,
    "Allowed skew above ORDS's maximum",
    "allowed skew {skew}s is above ORDS's maximum of 60s",
    """ORDS accepts p_allowed_skew up to 60 seconds.""",
    """Use a value of 60 or less and fix the clocks (NTP).""",
)

# --- The schema (known from a connected database) ---------------------------------------------

NO_PROFILE = _rule(
    "no-profile",
    E,
    "No JWT profile in the schema",
    "the schema has no JWT profile: ORDS rejects every bearer token",
    """ORDS validates a bearer token only against the JWT profile of the schema that owns
    the module (USER_ORDS_JWT_PROFILE, one per schema, ORDS 23.3+). The connected schema
    has none, so every request with a bearer token to a protected module is answered 401,
    however good the token. The other verdicts of this token say whether a profile built
    from it would accept it.""",
    """Create the profile from a token that passes every other check: select its attempt
    and press a in the live screen, or run token-inspector profile apply (or save the
    CREATE_JWT_PROFILE script with profile sql and run it yourself: ORDS_SECURITY, or
    OAUTH before ORDS 24.3).""",
)

# --- ORDS's own settings (--ords-config) -------------------------------------------------------

ORDS_POOL_PROFILE = _rule(
    "ords-pool-profile",
    I,
    "Pool-level JWT profile in use",
    "ORDS pool {pool} validates tokens with its pool-level JWT profile ({setting}){schema}",
    """ORDS 25.2 and later can define the JWT profile in its own settings (global/settings.xml
    or databases/<pool>/pool.xml): security.jwt.profile.mode POOL with
    security.jwt.profile.issuer, .audience, .jwk.url and .role.claim.name. In POOL mode the
    schema's profile (USER_ORDS_JWT_PROFILE) is reportedly ignored (not confirmed by an
    Oracle document): a schema without a profile is then not a failure, and creating one
    changes nothing. Tokens are judged here against the pool settings.""",
    """Change security.jwt.profile.* in the ORDS settings (ords --config DIR config --db-pool
    POOL set KEY VALUE, then restart ORDS), not the schema's profile.""",
)
ORDS_PROFILES_DISABLED = _rule(
    "ords-profiles-disabled",
    E,
    "JWT profiles disabled in the ORDS settings",
    "ORDS settings say {setting}: ORDS validates no JWT, however good the token",
    """security.jwt.profile.enabled=false in global/settings.xml or the pool's pool.xml
    turns JWT profile validation off: every bearer token is refused with 401, whatever the
    schema's or the pool's profile says.""",
    """Set security.jwt.profile.enabled to true (or remove the entry) in the ORDS settings
    and restart ORDS.""",
)
ORDS_JWK_URL_NOT_ALLOWED = _rule(
    "ords-jwk-url-not-allowed",
    W,
    "JWK URL not admitted by the ORDS settings",
    "JWK URL {jwk_url} is not admitted by {setting}",
    """security.jwks.allowed.urls limits the URLs ORDS fetches signing keys from; a JWK URL
    it does not admit cannot be fetched, so every token is refused with 401. ORDS does not
    document the format of the list (unconfirmed): it is read here as comma-separated
    entries, and an entry admits the URL when it equals it, is a prefix of it, or is a
    regular expression matching it whole. Under the most lenient of these readings no
    entry admits this URL.""",
    """Add the JWK URL (the p_jwk_url of the profile, or security.jwt.profile.jwk.url) to
    security.jwks.allowed.urls, or remove the setting, and restart ORDS.""",
)
ORDS_JWKS_TOO_LARGE = _rule(
    "ords-jwks-too-large",
    W,
    "JWKS larger than ORDS accepts",
    "the JWKS at {jwks_uri} is {size} bytes, above {setting}",
    """ORDS reads at most security.jwks.size bytes of a JWK set (default 100000). The key
    set fetched here from the same URL is larger, so ORDS likely cannot read it and
    refuses every token with 401. The size is what this host received; ORDS's host may be
    served another document.""",
    """Raise security.jwks.size above the size of the key set (ords config set
    security.jwks.size N), or point the profile at a smaller key set (Entra: the
    tenant's own jwks_uri, not a multi-tenant one).""",
)
ORDS_JWKS_SLOW = _rule(
    "ords-jwks-slow",
    W,
    "JWKS slower than ORDS waits",
    "fetching the JWKS at {jwks_uri} took {elapsed} here; {setting}",
    """ORDS gives up fetching the JWK set after security.jwks.connection.timeout to
    connect and security.jwks.read.timeout to read (5 seconds each by default; a bare
    number is read here as seconds, its unit in ORDS is unconfirmed). The fetch from this
    host took longer, so ORDS probably times out too and refuses the token with 401. The
    time is measured from this host, not from ORDS's.""",
    """Make the JWK URL reachable quickly from the ORDS host (proxy, DNS, firewall), or
    raise security.jwks.connection.timeout / security.jwks.read.timeout in the ORDS
    settings.""",
)
ORDS_GLOBAL_AGE = _rule(
    "ords-global-age",
    E,
    "Token older than ORDS's global allowed age",
    "token was issued {age} before the request; {setting} applies (the profile sets no age)",
    """When the profile's p_allowed_age is NULL (or, in POOL mode, always) ORDS applies its
    global security.jwt.allowed.age: the seconds since 'iat' a token may have, whatever
    'exp' says. A limit below the IdP's token lifetime rejects tokens that are still
    valid.""",
    """Raise or remove security.jwt.allowed.age in the ORDS settings, or set p_allowed_age
    on the schema profile (it wins over the global value).""",
)
ORDS_GLOBAL_SKEW = _rule(
    "ords-global-skew",
    W,
    "ORDS's global skew decides this time check",
    "the time check used {setting} (the profile sets no skew); with 60 s it would pass",
    """When the profile's p_allowed_skew is NULL (or, in POOL mode, always) ORDS allows the
    clock difference of its global security.jwt.allowed.skew (0 when unset or <= 0). This
    token's time claims miss by less than the 60 seconds a profile may allow, so the global
    setting is what rejects it.""",
    """Synchronise the clocks (NTP); or set p_allowed_skew (at most 60) on the schema
    profile, or raise security.jwt.allowed.skew in the ORDS settings.""",
)

# --- What the server did --------------------------------------------------------------------

REJECTED_BY_SERVER = _rule(
    "rejected-by-server",
    E,
    "Rejected although the token checks out",
    "{status} although the token passes every check",
    """Everything the token can be checked for passed, so the cause is on the ORDS side:
    the privilege protecting the module is not granted to the role in the token, the
    privilege does not cover this module or path pattern, the schema's JWT profile
    differs from the expectations used here (compare with USER_ORDS_JWT_PROFILE), the
    role pointer lacks its leading '/', or ORDS cannot reach the JWK URL. A 403 means
    authenticated but not authorized.""",
    """Compare USER_ORDS_JWT_PROFILE with the token (token-inspector profile), check
    USER_ORDS_PRIVILEGE_ROLES and USER_ORDS_PRIVILEGE_MODULES / _MAPPINGS for the
    privilege that protects this path, and check the ORDS log for the JWK fetch.""",
)
ACCEPTED_DESPITE_ERRORS = _rule(
    "accepted-despite-errors",
    W,
    "Accepted although checks fail",
    "{status} although these checks fail: {codes}",
    """The server answered with success although the token fails a check ORDS performs. The
    module is probably not protected by a privilege (anyone gets in), or the request never
    reached a JWT-protected handler, or the expectations used here differ from the real
    profile.""",
    """Protect the module with an ORDS privilege (ords.define_privilege with p_modules or
    p_patterns); compare the expectations with USER_ORDS_JWT_PROFILE.""",
)


def markdown() -> str:
    """``docs/verdicts.md``: every code with its severity, explanation and fix."""
    lines = [
        "# Verdict codes",
        "",
        "<!-- Generated by `python -m inspector.judge.rules > docs/verdicts.md`; do not edit. -->",
        "",
        "Every finding of `scan`, `tail`, `decode` and the TUI carries one of these stable",
        "codes (filter on them in `scan --json` output). Severity `error` means ORDS will",
        "reject the request (exit status 1 for `scan`/`decode`), `warn` that something is",
        "off or could not be checked, `info` that the verdict describes rather than judges.",
        "",
        "Assumption: when neither the profile (`p_allowed_skew`) nor `--allowed-skew` says",
        "otherwise, the clock skew is ORDS's global `security.jwt.allowed.skew` default,",
        "taken as 0 seconds (no tolerance). ORDS caps `p_allowed_skew` at 60 seconds.",
        "",
        "Some verdicts need what only a connected database knows (the live screen with a",
        "database, the demo, `doctor --dsn` and `profile show --token -`): `no-profile` when",
        "the schema has no JWT profile; under a role-based profile `role-missing` (no token",
        "role is an ORDS role holding a privilege; names the roles that would work and",
        "case-only near misses) and `role-without-privilege` (the role exists in ORDS but",
        "holds no privilege that protects a module); under a scope-based profile",
        "`scope-missing` (no `scp`/`scope` value names an ORDS privilege that protects a",
        "module or pattern; names the privileges that would work and near misses). On a",
        "log line these follow the request: only the privileges protecting the requested",
        "module (its base path, USER_ORDS_MODULES.uri_prefix) or pattern count, and a path",
        "no privilege protects needs none. Without a database these cases end as",
        "`rejected-by-server`.",
        "",
        "With `--ords-config DIR` (ORDS's own settings) the `ords-*` verdicts judge what",
        "those settings do to a token, and `rejected-by-server` names them as suspects (and",
        "`security.jwks.refresh.interval` in its fix, for 401s after a key rollover).",
        "",
        "| code | severity | title |",
        "|---|---|---|",
    ]
    ordered = list(all_rules())
    lines += [f"| [`{r.code}`](#{r.code}) | {r.severity.value} | {r.title} |" for r in ordered]
    for r in ordered:
        lines += [
            "",
            f"## {r.code}",
            "",
            f"**{r.title}** ({r.severity.value}). Message: `{r.message}`",
            "",
            r.explanation,
            "",
            f"Fix: {r.fix}",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
