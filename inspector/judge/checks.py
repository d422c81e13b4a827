"""The checks ORDS performs on a bearer token, one function per concern.

Each check reads facts (the decoded token, the key lookup, the expectations, the time of
the request) and returns verdicts from ``rules``; none of them does I/O, so the analyzer
can cache, reorder and re-run them with other expectations. The semantics follow ORDS's
documented JWT profile validation (see docs/verdicts.md and the domain reference).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from inspector.judge import rules
from inspector.judge.expectations import ORDS_ALGORITHMS, ORDS_MAX_SKEW, Expectations
from inspector.judge.idp import ENTRA_V1_ISSUER, ENTRA_V2_ISSUER, idp_family, is_graph_audience
from inspector.judge.verdicts import Severity, Verdict
from parsers.authorization import Authorization
from parsers.ords_config import url_admitted
from parsers.redaction import MAX_SCHEME_CHARS
from parsers.token import UNKNOWN_SCHEME_LOGGED, DecodedToken, TokenKind

# ORDS's global `security.jwt.allowed.skew` applies when p_allowed_skew is NULL. We assume
# its documented default, 0 (no tolerance); say otherwise with --allowed-skew or [expect].
ORDS_DEFAULT_SKEW = 0
# Role pointer ORDS reads when roles are expected but no profile says where they live.
DEFAULT_ROLE_POINTER = "/roles"

Verdicts = list[Verdict]


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """Outcome of finding the signing key and verifying the signature.

    ``status``: ``verified``, ``signature-invalid``, ``kid-not-found``, ``unavailable``,
    ``pending`` (keys still being fetched: judged again later), ``untrusted-issuer``,
    ``no-keys`` (no key source configured), ``signature-not-logged`` (a token from the
    safe token log: its key was found, or no key source applies), ``keys-refused`` (the
    candidate keys are beyond the size or count limits) or ``skipped`` (not a verifiable
    JWS: opaque, JWE, alg none/HMAC, Graph).
    """

    status: str
    verified: bool | None
    kid: str | None = None
    jwks_uri: str | None = None  # a URL (what p_jwk_url names) or None, never a path
    detail: str = ""
    source: str | None = None  # where the keys were read: the URL or ``file:<path>``
    # Bytes of the JWKS document fetched and seconds the fetch took (None: not fetched).
    jwks_size: int | None = None
    jwks_seconds: float | None = None


def numeric_date(value: Any) -> float | None:
    """A JWT NumericDate as float, None when absent or not a finite number."""
    # bool is an int in Python, but `"exp": true` is not a time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return float(value)
    except OverflowError:  # an int past float's range (10**400): attacker-sized, not a time
        return None


def duration(seconds: float) -> str:
    """``42s``, ``5m 3s``, ``2h 10m``, ``3d 4h``: short and exact enough for a message."""
    s = int(abs(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def timestamp(value: float) -> str:
    """A NumericDate as ISO 8601 UTC, or the number when it is out of range."""
    # Floats only: an int equal to a float (2**100) prints otherwise when out of range.
    found = _TIMESTAMPS.get(value) if type(value) is float else None
    if found is None:
        try:
            found = datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            found = str(value)
        if type(value) is float:
            if len(_TIMESTAMPS) >= _TIMESTAMPS_MAX:
                _TIMESTAMPS.clear()
            _TIMESTAMPS[value] = found
    return found


# NumericDate -> its text: an expired token's verdict names its exp again on every line
# (a new message each second), and formatting a date costs more than the rest of it.
_TIMESTAMPS: dict[float, str] = {}
_TIMESTAMPS_MAX = 4096


# --- Credentials -------------------------------------------------------------------------------


def check_credentials(auth: Authorization, status: int | None) -> Verdicts:
    """``no-token`` for a rejected request without credentials, ``not-bearer`` otherwise."""
    if auth.scheme is None and auth.credentials is None:
        if status in (401, 403):
            return [rules.NO_TOKEN.verdict(status=str(status))]
        return []
    if auth.scheme == "Bearer" and auth.credentials:
        return []
    if auth.scheme is None:
        scheme = "missing (a bare credential)"
    elif auth.scheme == UNKNOWN_SCHEME_LOGGED:
        # The safe token log does not record an unknown scheme: it may be a credential.
        scheme = "not recorded by the safe token log (an unknown scheme, or no scheme)"
    elif auth.scheme == "Bearer":
        scheme = "Bearer without a token"
    elif len(auth.scheme) > MAX_SCHEME_CHARS or "." in auth.scheme:
        # "<jwt> extra": the credential sits where the scheme should; never quote it.
        scheme = "missing (a credential followed by other text)"
    else:
        scheme = auth.scheme
    return [rules.NOT_BEARER.verdict(scheme=scheme)]


# --- Shape, header, signature ------------------------------------------------------------------


def check_shape(decoded: DecodedToken) -> Verdicts:
    """``opaque-token``, ``encrypted-token`` or ``malformed-token``; empty for a JWS."""
    if decoded.kind is TokenKind.OPAQUE:
        return [rules.OPAQUE_TOKEN.verdict(length=str(decoded.length))]
    if decoded.kind is TokenKind.JWE:
        return [
            rules.ENCRYPTED_TOKEN.verdict(
                alg=decoded.header.get("alg"), enc=decoded.header.get("enc")
            )
        ]
    if decoded.kind is TokenKind.MALFORMED:
        return [rules.MALFORMED_TOKEN.verdict(problem=decoded.problem or "unreadable")]
    return []


def is_graph_token(decoded: DecodedToken, idp: str | None = None) -> bool:
    """A token for Microsoft Graph: Graph audience, or an Entra token with a ``nonce`` header."""
    if decoded.kind is not TokenKind.JWS:
        return False
    if is_graph_audience(decoded.claims.get("aud")):
        return True
    family = idp or idp_family(decoded.claims)
    return family.startswith("entra") and "nonce" in decoded.header


def check_header(decoded: DecodedToken, idp: str | None = None) -> Verdicts:
    """``alg-none``/``alg-unsupported``/``kid-missing``/``graph-token`` for a JWS."""
    if decoded.kind is not TokenKind.JWS:
        return []
    out: Verdicts = []
    alg = decoded.header.get("alg")
    if alg is None or (isinstance(alg, str) and alg.lower() == "none"):
        out.append(rules.ALG_NONE.verdict(alg=alg if alg is not None else "missing"))
    elif alg not in ORDS_ALGORITHMS:
        hint = None
        if (idp or idp_family(decoded.claims)) == "auth0":
            # Auth0 admins look for it on the application, where it does not apply.
            hint = (
                "Auth0: the signing algorithm is the API's setting (APIs > your API > "
                "Settings > Signing Algorithm: RS256), not the application's."
            )
        out.append(rules.ALG_UNSUPPORTED.verdict(alg=alg, hint=hint))
    elif decoded.kid is None:
        out.append(rules.KID_MISSING.verdict())
    if is_graph_token(decoded, idp):
        nonce = ", nonce header" if "nonce" in decoded.header else ""
        out.append(rules.GRAPH_TOKEN.verdict(aud=decoded.claims.get("aud"), nonce=nonce))
    return out


def check_idp(claims: Mapping[str, Any], idp: str | None) -> Verdicts:
    """``okta-org-token``: an Okta token from the org authorization server (no /oauth2/)."""
    iss = claims.get("iss")
    if idp == "okta" and isinstance(iss, str) and "/oauth2/" not in iss:
        return [rules.OKTA_ORG_TOKEN.verdict(iss=rules.quoted(iss))]
    return []


def check_keys(key: KeyCheck, issuer: Any) -> Verdicts:
    """Signature verdicts from the key lookup and verification outcome."""
    if key.status == "verified" or key.status == "skipped":
        return []
    if key.status == "signature-invalid":
        return [rules.SIGNATURE_INVALID.verdict(kid=key.kid, detail=key.detail or "mismatch")]
    if key.status == "signature-not-logged":
        found = f" (key {key.kid} found)" if key.kid and key.source else ""
        return [rules.SIGNATURE_NOT_LOGGED.verdict(kid=found)]
    if key.status == "kid-not-found":
        return [
            rules.KID_NOT_FOUND.verdict(
                kid=key.kid, jwks_uri=key.source or key.jwks_uri or "the JWKS"
            )
        ]
    if key.status == "unavailable":
        shown = rules.quoted(issuer) if isinstance(issuer, str) else "a token without iss"
        return [rules.JWKS_UNAVAILABLE.verdict(issuer=shown, detail=key.detail or "no answer")]
    if key.status == "pending":
        shown = rules.quoted(issuer) if isinstance(issuer, str) else "a token without iss"
        return [rules.KEYS_PENDING.verdict(issuer=shown, detail=key.detail or "in progress")]
    if key.status == "keys-refused":
        return [rules.JWKS_KEYS_REFUSED.verdict(detail=key.detail or "key limits")]
    detail = key.detail or (
        "issuer not trusted for key discovery"
        if key.status == "untrusted-issuer"
        else "no key source configured"
    )
    return [rules.SIGNATURE_UNCHECKED.verdict(detail=detail)]


# --- Issuer and audience ------------------------------------------------------------------------


def _difference(observed: str, expected: str) -> str:
    """A short reason two near-identical strings differ, or ''."""
    if observed.rstrip("/") == expected.rstrip("/"):
        return " (only the trailing slash differs)"
    if observed.lower() == expected.lower():
        return " (only letter case differs)"
    if observed.strip() == expected.strip():
        return " (only surrounding whitespace differs)"
    if observed.replace("http://", "https://", 1) == expected.replace("http://", "https://", 1):
        return " (http vs https)"
    return ""


def check_issuer(claims: Mapping[str, Any], exp: Expectations, idp: str | None = None) -> Verdicts:
    """``issuer-mismatch`` against an expectation, else ``profile-issuer``; ``entra-v1-token``."""
    out: Verdicts = []
    iss = claims.get("iss")
    is_v1 = (idp or idp_family(claims)) == "entra-v1"
    if exp.issuer is None:
        if isinstance(iss, str) and iss:
            out.append(rules.PROFILE_ISSUER.verdict(iss=rules.quoted(iss)))
        else:
            # No profile can match a token without a usable issuer.
            why = " (the token has no iss)" if iss is None else " (iss is not a string)"
            out.append(
                rules.ISSUER_MISMATCH.verdict(
                    iss=rules.quoted(iss), expected="a single issuer string", why=why
                )
            )
        if is_v1:
            out.append(rules.ENTRA_V1_TOKEN.verdict(iss=iss))
        return out
    if iss == exp.issuer:
        if is_v1:
            # The profile names this v1 issuer: ORDS accepts the token; say so, not warn.
            accepted = isinstance(iss, str) and ENTRA_V1_ISSUER.fullmatch(iss) is not None
            rule = rules.ENTRA_V1_ACCEPTED if accepted else rules.ENTRA_V1_TOKEN
            out.append(rule.verdict(iss=iss))
        return out
    why, hint = "", None
    if not isinstance(iss, str):
        why = " (the token has no iss)" if iss is None else " (iss is not a string)"
    else:
        why = _difference(iss, exp.issuer)
        if is_v1 and (ENTRA_V2_ISSUER.fullmatch(exp.issuer) or exp.issuer.endswith("/v2.0")):
            why = " (a v1 token where a v2 issuer is expected)"
        elif ENTRA_V2_ISSUER.fullmatch(iss) and ENTRA_V1_ISSUER.fullmatch(exp.issuer):
            why = (
                " (a v2 token where a v1 issuer is expected: the profile accepts only v1.0 "
                "tokens of its tenant)"
            )
        hint = f"The tokens carry p_issuer => {rules.quoted(iss)}."
    origin = exp.origin.get("issuer")
    if origin:
        why += f" [expected by {origin}]"
    out.append(
        rules.ISSUER_MISMATCH.verdict(
            iss=rules.quoted(iss), expected=rules.quoted(exp.issuer), why=why, hint=hint
        )
    )
    if is_v1:
        out.append(rules.ENTRA_V1_TOKEN.verdict(iss=iss))
    return out


def check_audience(claims: Mapping[str, Any], exp: Expectations) -> Verdicts:
    """``audience-array``, ``audience-mismatch`` or ``profile-audience``."""
    aud = claims.get("aud")
    if isinstance(aud, list):
        if exp.audience is not None and exp.audience not in aud:
            why = f" (and it lacks the expected {rules.quoted(exp.audience)})"
            # Whatever ORDS does with arrays, this one cannot match the profile.
            return [
                rules.AUDIENCE_ARRAY.verdict(aud=aud, why=why),
                rules.AUDIENCE_MISMATCH.verdict(
                    aud=rules.quoted(aud), expected=rules.quoted(exp.audience), why=""
                ),
            ]
        hint = None
        if exp.audience is not None:
            hint = "The array contains the expected audience; ORDS is reported to fail it still."
        return [rules.AUDIENCE_ARRAY.verdict(aud=aud, why="", hint=hint)]
    if exp.audience is None:
        if isinstance(aud, str) and aud:
            return [rules.PROFILE_AUDIENCE.verdict(aud=rules.quoted(aud))]
        if aud is None:
            # Nothing expected and nothing carried: no comparison to report.
            return []
        return [
            rules.AUDIENCE_MISMATCH.verdict(
                aud=rules.quoted(aud),
                expected="a single audience string",
                why=" (aud is not a string)",
            )
        ]
    if aud == exp.audience:
        return []
    if aud is None:
        origin = exp.origin.get("audience")
        return [
            rules.AUDIENCE_ABSENT.verdict(
                expected=rules.quoted(exp.audience),
                why=f" [expected by {origin}]" if origin else "",
            )
        ]
    why, hint = "", None
    if not isinstance(aud, str):
        why = " (the token has no aud)" if aud is None else " (aud is not a string)"
    else:
        why = _difference(aud, exp.audience)
        if not why and (
            aud.removeprefix("api://") == exp.audience or exp.audience.removeprefix("api://") == aud
        ):
            why = " (App ID URI vs application id: an Entra v1 token carries what was requested)"
        hint = f"The tokens carry p_audience => {rules.quoted(aud)}."
    origin = exp.origin.get("audience")
    if origin:
        why += f" [expected by {origin}]"
    return [
        rules.AUDIENCE_MISMATCH.verdict(
            aud=rules.quoted(aud), expected=rules.quoted(exp.audience), why=why, hint=hint
        )
    ]


# --- Times --------------------------------------------------------------------------------------


def effective_skew(exp: Expectations) -> int:
    """Seconds of tolerance ORDS applies: the profile's, else the global setting (from
    ``--ords-config``, else its default 0); max 60."""
    skew = exp.allowed_skew if exp.allowed_skew is not None else _global_skew(exp)
    if skew is None or skew <= 0:
        return 0
    return min(skew, ORDS_MAX_SKEW)


def _global_skew(exp: Expectations) -> int | None:
    """ORDS's ``security.jwt.allowed.skew`` when read and the profile sets no skew."""
    if exp.allowed_skew is not None or exp.ords_config is None:
        return None
    return exp.ords_config.allowed_skew


def global_age(exp: Expectations) -> int | None:
    """ORDS's ``security.jwt.allowed.age`` when it applies (the profile sets no age)."""
    if exp.allowed_age is not None or exp.ords_config is None:
        return None
    age = exp.ords_config.allowed_age
    return age if age is not None and age > 0 else None


def global_skew_decides(exp: Expectations) -> bool:
    """True when a time verdict may depend on ORDS's global skew setting."""
    return _global_skew(exp) is not None


def check_times(claims: Mapping[str, Any], at: datetime | None, exp: Expectations) -> Verdicts:
    """``expired``/``not-yet-valid``/``too-old`` at the time ``at`` (skipped when None)."""
    return times_verdicts(
        numeric_date(claims.get("exp")),
        numeric_date(claims.get("nbf")),
        numeric_date(claims.get("iat")),
        None if at is None else at.timestamp(),
        exp,
    )


def times_verdicts(
    expires: float | None,
    not_before: float | None,
    issued: float | None,
    now: float | None,
    exp: Expectations,
) -> Verdicts:
    """``check_times`` from the ``numeric_date`` of the claims ``exp``, ``nbf`` and ``iat``
    and the request's timestamp (None: no time): what a token judged again at another
    time reads from numbers kept since its first line."""
    out: Verdicts = []
    if exp.allowed_skew is not None and exp.allowed_skew > ORDS_MAX_SKEW:
        out.append(rules.SKEW_TOO_LARGE.verdict(skew=str(exp.allowed_skew)))
    if expires is None:
        out.append(rules.EXP_MISSING.verdict())
    if now is None:
        return out
    skew = effective_skew(exp)
    if expires is not None and now >= expires + skew:
        out.append(
            rules.EXPIRED.verdict(
                ago=duration(now - expires), exp=timestamp(expires), skew=str(skew)
            )
        )
    if not_before is not None and now + skew < not_before:
        out.append(
            rules.NOT_YET_VALID.verdict(
                delta=duration(not_before - now),
                claim="nbf",
                when=timestamp(not_before),
                skew=str(skew),
            )
        )
    if exp.allowed_age is not None and exp.allowed_age > 0:
        if issued is None:
            out.append(rules.IAT_MISSING.verdict(allowed=str(exp.allowed_age)))
        elif now - issued > exp.allowed_age + skew:
            out.append(
                rules.TOO_OLD.verdict(age=duration(now - issued), allowed=str(exp.allowed_age))
            )
    if exp.ords_config is not None:
        out.extend(_global_time_checks(now, exp, expires, not_before, issued, skew))
    return out


def _global_time_checks(
    now: float,
    exp: Expectations,
    expires: float | None,
    not_before: float | None,
    issued: float | None,
    skew: int,
) -> Verdicts:
    """``ords-global-age`` and ``ords-global-skew``: ORDS's global time settings."""
    out: Verdicts = []
    config = exp.ords_config
    if config is None:
        return out
    age = global_age(exp)
    if age is not None:
        if issued is None:
            out.append(rules.IAT_MISSING.verdict(allowed=str(age)))
        elif now - issued > age + skew:
            setting = config.where("security.jwt.allowed.age")
            out.append(rules.ORDS_GLOBAL_AGE.verdict(age=duration(now - issued), setting=setting))
    if _global_skew(exp) is not None:
        # Only a miss that the largest skew a profile may set would forgive.
        late = expires is not None and expires + skew <= now < expires + ORDS_MAX_SKEW
        early = not_before is not None and not_before - ORDS_MAX_SKEW <= now < not_before - skew
        if late or early:
            setting = config.where("security.jwt.allowed.skew")
            out.append(rules.ORDS_GLOBAL_SKEW.verdict(setting=setting))
    return out


# --- Roles, scopes, upn -------------------------------------------------------------------------

_MISSING = object()


def resolve_pointer(document: Mapping[str, Any], pointer: str) -> Any:
    """RFC 6901 JSON pointer lookup; the module's ``_MISSING`` when the path is absent."""
    if pointer == "":
        return document
    current: Any = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return _MISSING
    return current


def token_scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """Scopes from ``scp`` (Entra, space-separated) or ``scope`` (string or array)."""
    found: list[str] = []
    for name in ("scp", "scope"):
        value = claims.get(name)
        if isinstance(value, str):
            found.extend(value.split())
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str))
    return tuple(found)


def check_authorization_claims(claims: Mapping[str, Any], exp: Expectations) -> Verdicts:
    """Role-based (``role_claim``/roles) and scope-based (``scp``/``scope``) checks.

    When the ORDS roles are known (``exp.ords_roles``), a role-based profile's token must
    also carry an ORDS role that holds a privilege: ``role-missing`` names the roles that
    would work, ``role-without-privilege`` a token role that exists but holds nothing.
    When the privileges are known (``exp.ords_privileges``), a scope-based profile's token
    must carry a scope naming a privilege that protects something: ``scope-missing`` names
    the privileges that would work and the near misses. One ``scope-missing`` at most.
    """
    out: Verdicts = []
    pointer = exp.role_claim
    if pointer is None and exp.roles:
        pointer = DEFAULT_ROLE_POINTER
    if pointer is not None:
        # Only a role-based profile makes ORDS look the token's roles up.
        ords_roles = exp.ords_roles if exp.role_claim is not None else None
        out.extend(_check_roles(claims, pointer, exp.roles, ords_roles))
    have = token_scopes(claims)
    if exp.scopes:
        missing = [s for s in exp.scopes if s not in have]
        if missing:
            hint = None
            lowered = {s.lower() for s in have}
            if any(m.lower() in lowered for m in missing):
                hint = "A scope differs only in letter case; names must match exactly."
            out.append(
                rules.SCOPE_MISSING.verdict(
                    scopes=list(have) if have else "(none)", missing=missing, why="", hint=hint
                )
            )
            return out
    if exp.ords_privileges is not None and is_scope_based(exp):
        out.extend(_check_scope_privileges(have, exp.ords_privileges))
    return out


def _relative_paths(path: str) -> list[str]:
    """Where ORDS's patterns could apply in a logged request path.

    ``/ords/<schema alias>/rest``: ``/rest``. A path nginx rewrites into ORDS (``/mcp``
    proxied to ``/ords/hr/mcp``) could start anywhere: every suffix at a '/'.
    """
    bare = path.split("?", 1)[0].split("#", 1)[0]
    parts = bare.split("/")
    if len(parts) >= 3 and parts[0] == "" and parts[1] == "ords":
        return ["/" + "/".join(parts[3:])]
    return ["/" + "/".join(parts[i:]) for i in range(1, len(parts))] or ["/"]


def _glob_matches(glob: str, path: str) -> bool:
    if glob.endswith("/*") and path == glob[:-2]:
        return True  # the module's base path without its trailing slash
    pattern = ".*".join(re.escape(piece) for piece in glob.split("*"))
    return re.fullmatch(pattern, path) is not None


def protecting_privileges(path: str, paths: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """The ORDS privileges whose modules or patterns cover the requested ``path``."""
    candidates = _relative_paths(path)
    return frozenset(
        name
        for name, globs in paths.items()
        if any(_glob_matches(glob, rel) for glob in globs for rel in candidates)
    )


def path_scoped(exp: Expectations) -> bool:
    """True when role and scope checks can follow the requested path (paths are known)."""
    return bool(exp.ords_paths) and (exp.ords_roles is not None or exp.ords_privileges is not None)


def without_ords_authorization(exp: Expectations) -> Expectations:
    """``exp`` without the ORDS roles and privileges: the request-free part of the checks."""
    return replace(exp, ords_roles=None, ords_privileges=None)


def check_ords_authorization(
    claims: Mapping[str, Any], exp: Expectations, allowed: frozenset[str] | None
) -> Verdicts:
    """The ORDS role/privilege verdicts for a request protected by ``allowed`` privileges.

    ``allowed`` None: no request (any protecting privilege counts); empty: nothing protects
    the request, so ORDS asks for no privilege at all.
    """
    if allowed is not None and not allowed:
        return []
    narrowed = exp
    if allowed is not None:
        # Privileges that protect other paths hold nothing for this request.
        privileges, roles = exp.ords_privileges, exp.ords_roles
        narrowed = replace(
            exp,
            ords_privileges=None
            if privileges is None
            else {n: (p if n in allowed else ()) for n, p in privileges.items()},
            ords_roles=None
            if roles is None
            else {r: tuple(p for p in held if p in allowed) for r, held in roles.items()},
        )
    full = check_authorization_claims(claims, narrowed)
    base = check_authorization_claims(claims, without_ords_authorization(narrowed))
    return [v for v in full if v not in base]


def is_scope_based(exp: Expectations) -> bool:
    """True when a JWT profile (the schema's, or the pool's in POOL mode) is known to
    exist and names no role claim."""
    return (exp.profile_state == "present" or exp.pool_mode) and exp.role_claim is None


def _near_privileges(scope: str, names: Sequence[str]) -> list[tuple[str, str]]:
    """(privilege, why) for the privileges ``scope`` almost names."""
    near: list[tuple[str, str]] = []
    for name in names:
        if name == scope:
            continue
        if name.casefold() == scope.casefold():
            near.append((name, "case differs"))
        elif name.endswith("/" + scope) or scope.endswith("/" + name):
            # Entra's scp holds the bare value; the full api://… form is only requested.
            near.append((name, "the token carries only the part after the last '/'"))
    return near


def _check_scope_privileges(
    have: Sequence[str], privileges: Mapping[str, Sequence[str]]
) -> Verdicts:
    """ORDS's scope-based authorization: one scope must name a protecting privilege."""
    granting = [name for name, protects in privileges.items() if protects]
    if any(scope in granting for scope in have):
        return []
    idle = [scope for scope in have if scope in privileges]
    near = [(scope, name, why) for scope in have for name, why in _near_privileges(scope, granting)]
    missing = "the name of an ORDS privilege that protects a module" + (
        f": {', '.join(rules.quoted(p) for p in granting)}"
        if granting
        else " (no ORDS privilege protects one)"
    )
    notes = [f"{rules.quoted(s)} for {rules.quoted(n)}: {w}" for s, n, w in near]
    notes += [f"privilege {rules.quoted(s)} protects no module or pattern" for s in idle]
    why = f" ({'; '.join(notes)})" if notes else " (no scope is an ORDS privilege name)"
    hint: str | None = None
    if near and near[0][2] != "case differs":
        scope, name, _ = near[0]
        hint = (
            f"Rename the ORDS privilege {rules.quoted(name)} to exactly {rules.quoted(scope)}: "
            "the token never carries the scope's prefix."
        )
    elif near:
        scope, name, _ = near[0]
        hint = (
            f"Rename one of them: the ORDS privilege {rules.quoted(name)} to exactly "
            f"{rules.quoted(scope)}, or the scope to {rules.quoted(name)}."
        )
    elif idle:
        hint = (
            f"Give the privilege {rules.quoted(idle[0])} the module or path it should protect "
            "(ords.define_privilege with p_modules or p_patterns), or rename a protecting "
            "privilege after the scope."
        )
    elif len(granting) == 1 and len(have) == 1:
        hint = (
            f"Rename one of them: the scope {rules.quoted(have[0])} to "
            f"{rules.quoted(granting[0])}, or the ORDS privilege {rules.quoted(granting[0])} "
            f"to {rules.quoted(have[0])}."
        )
    elif len(granting) == 1:
        hint = f"Request a scope named {rules.quoted(granting[0])} (or rename the privilege)."
    return [
        rules.SCOPE_MISSING.verdict(
            scopes=list(have) if have else "(none)", missing=missing, why=why, hint=hint
        )
    ]


def _check_roles(
    claims: Mapping[str, Any],
    pointer: str,
    wanted: Sequence[str],
    ords_roles: Mapping[str, Sequence[str]] | None = None,
) -> Verdicts:
    if not pointer.startswith("/"):
        # ORDS resolves nothing from a bare name; show what '/name' would have given.
        return [rules.ROLE_CLAIM_POINTER.verdict(pointer=pointer)]
    value = resolve_pointer(claims, pointer)
    if value is _MISSING:
        groups = " (it has 'groups' GUIDs, which are not app roles)" if "groups" in claims else ""
        return [rules.ROLES_CLAIM_MISSING.verdict(pointer=pointer, groups=groups)]
    if not isinstance(value, list):
        return [rules.ROLES_NOT_ARRAY.verdict(pointer=pointer, kind=type(value).__name__)]
    have = [v for v in value if isinstance(v, str)]
    missing = [r for r in wanted if r not in have]
    if not missing:
        return [] if ords_roles is None else _check_ords_roles(have, ords_roles)
    lowered = {h.lower(): h for h in have}
    near = [f"{lowered[m.lower()]!r} for {m!r}" for m in missing if m.lower() in lowered]
    why = f" (case differs: {', '.join(near)})" if near else ""
    return [rules.ROLE_MISSING.verdict(roles=have, missing=missing, why=why)]


def _check_ords_roles(have: Sequence[str], ords_roles: Mapping[str, Sequence[str]]) -> Verdicts:
    """ORDS's own authorization step: one token role must hold a protecting privilege."""
    granting = [name for name, privileges in ords_roles.items() if privileges]
    if any(role in granting for role in have):
        return []
    existing = [role for role in have if role in ords_roles]
    if existing:
        why = (
            f" (roles that do: {', '.join(rules.quoted(r) for r in granting)})" if granting else ""
        )
        return [rules.ROLE_WITHOUT_PRIVILEGE.verdict(roles=existing, why=why)]
    # Case counts in ORDS: 'ordsusers' is not 'ORDSUsers', and that is the usual mistake.
    near = [
        (role, name)
        for role in have
        for name in ords_roles
        if role != name and role.casefold() == name.casefold()
    ]
    missing = "an ORDS role holding a privilege" + (
        f": {', '.join(rules.quoted(r) for r in granting)}"
        if granting
        else " (no ORDS role holds one)"
    )
    if near:
        why = (
            " (case differs: "
            + ", ".join(f"{rules.quoted(r)} for {rules.quoted(n)}" for r, n in near)
            + ")"
        )
        hint = (
            "Change the app role value "
            + ", ".join(f"{rules.quoted(r)} to exactly {rules.quoted(n)}" for r, n in near)
            + "."
        )
    else:
        why = " (no token role is an ORDS role)"
        hint = (
            f"Assign the user an app role whose value is {rules.quoted(granting[0])}."
            if len(granting) == 1
            else ""
        )
    return [
        rules.ROLE_MISSING.verdict(
            roles=list(have) if have else "(none)", missing=missing, why=why, hint=hint or None
        )
    ]


def check_profile(exp: Expectations, idp: str | None = None) -> Verdicts:
    """``no-profile`` when a connected database says the schema has no JWT profile;
    ``ords-pool-profile`` instead in POOL mode, where the schema's profile is reportedly
    ignored."""
    if exp.ords_config is not None and exp.pool_mode:
        config = exp.ords_config
        schema = {
            "absent": "; the schema has no profile, which does not matter in POOL mode "
            "(reportedly)",
            "present": "; the schema's own profile is reportedly ignored",
        }.get(exp.profile_state, "")
        return [
            rules.ORDS_POOL_PROFILE.verdict(
                pool=rules.quoted(config.pool),
                setting=config.where("security.jwt.profile.mode"),
                schema=schema,
            )
        ]
    if exp.profile_state != "absent":
        return []
    hint = None
    if idp == "entra-v1":
        # A profile made from this token would accept only v1 tokens.
        hint = (
            "This is an Entra ID v1 token (see entra-v1-token): a profile made from it accepts "
            "only v1.0 tokens. For v2, set api.requestedAccessTokenVersion (old manifest: "
            "accessTokenAcceptedVersion) to 2 first and create the profile from a v2 token."
        )
    return [rules.NO_PROFILE.verdict(hint=hint)]


def check_upn(claims: Mapping[str, Any], exp: Expectations, idp: str | None) -> Verdicts:
    """``upn-missing`` when the upn is required and absent."""
    if not exp.require_upn:
        return []
    upn = claims.get("upn")
    if isinstance(upn, str) and upn:
        return []
    ver = "Entra v2.0 token" if idp == "entra-v2" else f"{idp or 'unknown'} token"
    return [rules.UPN_MISSING.verdict(ver=ver)]


def check_jwk_url(exp: Expectations) -> Verdicts:
    """``jwk-url-not-https`` when the expected JWK URL could not be used by ORDS."""
    if exp.jwk_url is not None and not exp.jwk_url.lower().startswith("https://"):
        return [rules.JWK_URL_NOT_HTTPS.verdict(jwk_url=exp.jwk_url)]
    return []


# --- ORDS's own settings -----------------------------------------------------------------------

# Verdicts about ORDS's settings that name a suspect when ORDS refuses a good token.
ORDS_SUSPECT_CODES = (
    rules.ORDS_JWK_URL_NOT_ALLOWED.code,
    rules.ORDS_JWKS_TOO_LARGE.code,
    rules.ORDS_JWKS_SLOW.code,
    rules.ORDS_GLOBAL_SKEW.code,
)


def check_ords_settings(key: KeyCheck, exp: Expectations) -> Verdicts:
    """What ORDS's own settings (``--ords-config``) do to this token's validation:
    ``ords-profiles-disabled``, ``ords-jwk-url-not-allowed``, ``ords-jwks-too-large``,
    ``ords-jwks-slow``. Empty without the settings."""
    config = exp.ords_config
    if config is None:
        return []
    out: Verdicts = []
    if config.profiles_enabled is False:
        out.append(
            rules.ORDS_PROFILES_DISABLED.verdict(
                setting=config.where("security.jwt.profile.enabled")
            )
        )
    # The URL ORDS fetches: the profile's (schema or pool), else where the keys were found.
    jwk_url = exp.jwk_url or key.jwks_uri
    allowed = config.allowed_urls
    if jwk_url and allowed is not None and not url_admitted(allowed, jwk_url):
        out.append(
            rules.ORDS_JWK_URL_NOT_ALLOWED.verdict(
                jwk_url=rules.quoted(jwk_url), setting=config.where("security.jwks.allowed.urls")
            )
        )
    fetched_from = key.jwks_uri or "the JWK URL"
    if key.jwks_size is not None and key.jwks_size > config.jwks_size:
        setting = (
            config.where("security.jwks.size")
            if config.get("security.jwks.size")
            else f"security.jwks.size (default {config.jwks_size} bytes)"
        )
        out.append(
            rules.ORDS_JWKS_TOO_LARGE.verdict(
                jwks_uri=fetched_from, size=str(key.jwks_size), setting=setting
            )
        )
    if key.jwks_seconds is not None:
        limits = [
            (config.connect_timeout, "security.jwks.connection.timeout"),
            (config.read_timeout, "security.jwks.read.timeout"),
        ]
        over = [(limit, name) for limit, name in limits if key.jwks_seconds > limit]
        if over:
            shown = ", ".join(
                config.where(name) if config.get(name) else f"{name} (default {limit:g} s)"
                for limit, name in over
            )
            out.append(
                rules.ORDS_JWKS_SLOW.verdict(
                    jwks_uri=fetched_from,
                    elapsed=f"{key.jwks_seconds:.1f} s",
                    setting=f"ORDS waits {shown}",
                )
            )
    return out


def with_refresh_hint(verdicts: Sequence[Verdict], exp: Expectations) -> Sequence[Verdict]:
    """``verdicts`` with ``kid-not-found``'s fix naming ORDS's
    ``security.jwks.refresh.interval`` when the settings set it (else unchanged)."""
    config = exp.ords_config
    if config is None or not config.refresh_interval:
        return verdicts
    if not any(v.code == rules.KID_NOT_FOUND.code for v in verdicts):
        return verdicts
    hint = rules.printable(
        "ORDS itself refetches the key set only every "
        f"{config.where('security.jwks.refresh.interval')}: right after a key rollover it "
        "may refuse tokens signed with the new key until then.",
        400,
    )
    return [
        replace(v, fix=f"{hint} {v.fix}") if v.code == rules.KID_NOT_FOUND.code else v
        for v in verdicts
    ]


# --- The server's answer ------------------------------------------------------------------------


def check_status(
    status: int | None, verdicts: Sequence[Verdict], *, has_token: bool, exp: Expectations
) -> Verdicts:
    """Compare the server's status with the verdicts: who is right, the token or ORDS?"""
    if status is None:
        return []
    errors = [v.code for v in verdicts if v.severity is Severity.ERROR]
    if status in (401, 403) and has_token and not errors:
        notes = []
        unchecked = ("signature-unchecked", "jwks-unavailable", "jwks-keys-refused")
        if any(v.code in unchecked for v in verdicts):
            notes.append("signature not checked")
        if exp.empty:
            notes.append("no expectations set: pass --expect-iss/--expect-aud or the profile")
        suspects = [v.code for v in verdicts if v.code in ORDS_SUSPECT_CODES]
        if suspects:
            notes.append(f"suspects: {', '.join(dict.fromkeys(suspects))}")
        hint = None
        if exp.ords_config is not None and exp.ords_config.refresh_interval:
            # The message is short; the fix sentence has room for the setting and file.
            hint = (
                "Right after a key rollover ORDS still uses its cached key set until "
                f"{exp.ords_config.where('security.jwks.refresh.interval')} has passed."
            )
        note = f" ({'; '.join(notes)})" if notes else ""
        return [rules.REJECTED_BY_SERVER.verdict(status=f"{status}{note}", hint=hint)]
    if 200 <= status < 300 and errors:
        codes = ", ".join(dict.fromkeys(errors))
        return [rules.ACCEPTED_DESPITE_ERRORS.verdict(status=str(status), codes=codes)]
    return []
