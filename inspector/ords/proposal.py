"""From an observed token to a proposed ORDS JWT profile, with everything a reviewer needs.

A proposal answers, before anything is written: what would change (a diff against the
current profile), whether this very token would pass under the proposed profile (the
analysis engine runs on it with ``Expectations.from_profile(proposed)``), which ORDS roles,
privileges, modules and patterns the user would reach, what the risks are, and the exact
PL/SQL. It never talks to the database itself: the caller passes what it read.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from inspector.judge import checks
from inspector.judge.attempt import TokenReport
from inspector.judge.expectations import ORDS_MAX_SKEW, Expectations
from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege, OrdsRole
from inspector.judge.verdicts import Severity, Verdict
from inspector.ords import plsql
from inspector.ords.database import (
    JwtApi,
    OrdsRepository,
    create_statement,
    delete_statement,
)

# Runs the analysis engine on the token under the given expectations.
TokenCheck = Callable[[Expectations], tuple[TokenReport, Sequence[Verdict]]]

DEFAULT_ROLE_POINTER = "/roles"
FORCE_UNVERIFIED_WARNING = (
    "--force-unverified: the token's signature was not verified against keys its issuer "
    "publishes, so its iss, aud and jwks_uri may be attacker-chosen. The profile would make "
    "ORDS trust an issuer and a key set that someone else may control, and accept any token "
    "they sign. Continue only if you know where this token came from."
)
UNANCHORED_MEANING = "anyone who controls that issuer's keys can sign tokens ORDS accepts"
# Multi-tenant IdP hosts are not anchors by host: anyone can create a tenant on
# login.microsoftonline.com or an Okta/Auth0 org, and its tokens verify just as well.


def unanchored_warning(issuer: str) -> str:
    """What trusting an issuer nobody anchored means, quoting it."""
    return (
        f"issuer {issuer!r} is not anchored (not a --trusted-issuer, the expected issuer or "
        f"the current profile's issuer): its token's signature only matches keys published "
        f"by the issuer the token itself names. Trusting it means {UNANCHORED_MEANING}."
    )


def anchor_hint(issuer: str) -> str:
    """One line saying how to anchor ``issuer``."""
    return f"if you trust it, anchor it: --trusted-issuer {issuer}"


HTTP_JWK_URL_NOTE = (
    "p_jwk_url is http:// (allowed for the demo's loopback IdP only): real ORDS refuses it, "
    "it must start with https://"
)


# The analysis engine's "no such path" marker, obtained through its public function.
_ABSENT = checks.resolve_pointer({}, "/absent")


class ProposalError(Exception):
    """No profile can be proposed from this token; ``code`` is a stable reason."""

    def __init__(self, code: str, message: str, explanation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.explanation = explanation


@dataclass(frozen=True, slots=True)
class ProposalOptions:
    """Choices the user makes on top of what the token says (flags of ``profile apply``)."""

    role_claim: str | None = None
    scope_based: bool = False
    allowed_skew: int | None = None
    allowed_age: int | None = None
    allow_http_jwk_url: bool = False
    jwk_url: str | None = None
    description: str | None = None
    schema: str | None = None
    trusted_issuers: tuple[str, ...] = ()
    # Issuers the user vouched for besides trusted ones (the expected issuer).
    anchored_issuers: tuple[str, ...] = ()
    # The JWT profile package of the target database (``--ords-version`` or detected);
    # None: unknown, the script picks it when it runs.
    jwt_api: JwtApi | None = None
    # The expected audience (--expect-aud, [expect], the current profile's): the element
    # taken from a token whose 'aud' is an array.
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One profile parameter, current and proposed, rendered as text."""

    parameter: str
    current: str
    proposed: str
    changed: bool


@dataclass(frozen=True, slots=True)
class Precheck:
    """One line of the pre-check: ``ok`` True (good), False (problem) or None (information)."""

    ok: bool | None
    text: str


@dataclass(frozen=True, slots=True)
class Risk:
    """Something the user should weigh before applying; ``blocking`` ones refuse the apply."""

    code: str
    message: str
    blocking: bool = False
    # A blocking risk an interactive user may accept with a second explicit confirmation.
    confirmable: bool = False


@dataclass(frozen=True, slots=True)
class Proposal:
    """Everything the apply modal (or ``profile apply``) shows, and what ``apply`` needs."""

    proposed: JwtProfile
    current: JwtProfile | None
    current_known: bool
    schema: str | None
    diff: tuple[DiffRow, ...]
    prechecks: tuple[Precheck, ...]
    will_pass: bool | None
    verdicts: tuple[Verdict, ...]
    risks: tuple[Risk, ...]
    plsql: str
    token_fingerprint: str
    verified: bool | None
    client: str | None = None
    source: str | None = None
    reached_privileges: tuple[str, ...] = ()
    reached_modules: tuple[str, ...] = ()
    reached_patterns: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # The statements the tool itself sends (values travel as bind variables, not in the text).
    statements: tuple[str, ...] = ()
    # The issuer is trusted, expected or the current profile's (see ``is_anchored``).
    anchored: bool = True
    # The pre-check lines about roles and privileges (also in ``prechecks``) and the claims
    # they were judged from: ``judged_against`` redoes them for a schema as it will be.
    authorization: tuple[Precheck, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def changed(self) -> bool:
        """True when applying would change anything."""
        return not self.current_known or any(row.changed for row in self.diff)

    @property
    def blocking_risks(self) -> tuple[Risk, ...]:
        """Risks that refuse the apply unless explicitly overridden (``--force-unverified``)."""
        return tuple(r for r in self.risks if r.blocking)

    @property
    def needs_trust_confirmation(self) -> bool:
        """Blocking risks exist and each may be accepted by a second confirmation."""
        blocking = self.blocking_risks
        return bool(blocking) and all(r.confirmable for r in blocking)

    @property
    def override_warning(self) -> str:
        """What applying despite the blocking risks means: the unanchored issuer's warning
        when confirming trust is all that is asked, else the forced-unverified one."""
        if self.needs_trust_confirmation:
            return unanchored_warning(self.proposed.issuer)
        return FORCE_UNVERIFIED_WARNING

    def signature_state(self) -> str:
        """``signature verified`` only for an anchored issuer; what it really means otherwise."""
        if self.verified is None:
            return "signature not checked"
        if not self.verified:
            return "signature did NOT verify"
        if self.anchored:
            return "signature verified"
        return "signature matches keys published by its own issuer"


def is_anchored(issuer: str, options: ProposalOptions, current: JwtProfile | None = None) -> bool:
    """An issuer the user vouched for: trusted, expected, or the current profile's."""
    return (
        issuer in options.trusted_issuers
        or issuer in options.anchored_issuers
        or (current is not None and current.issuer == issuer)
    )


# --------------------------------------------------------------------------- helpers


def _text(value: object) -> str:
    return "NULL" if value is None else str(value)


def diff_rows(current: JwtProfile | None, proposed: JwtProfile) -> tuple[DiffRow, ...]:
    """One row per ``CREATE_JWT_PROFILE`` parameter."""
    rows = []
    for parameter, attr in plsql.PROFILE_PARAMETERS:
        old = getattr(current, attr) if current is not None else None
        new = getattr(proposed, attr)
        rows.append(DiffRow(parameter, _text(old), _text(new), current is None or old != new))
    return tuple(rows)


def _audience_array_explanation() -> str:
    try:
        from inspector.judge.rules import get_rule

        rule = get_rule("audience-array")
        return f"{rule.explanation} {rule.fix}"
    except (ImportError, KeyError):
        return "ORDS compares aud with p_audience; an aud array is reported to fail (unconfirmed)."


def audience_from_array(aud: Sequence[Any], expected: str | None) -> str:
    """The element of an ``aud`` array a profile names; ``ProposalError`` when none stands out.

    The expected audience when the array holds it; else the one element that is not an
    IdP's own userinfo endpoint (Auth0 adds it when 'openid' is requested).
    """
    values = [v for v in aud if isinstance(v, str) and v]
    if expected is not None and expected in values:
        return expected
    apis = [v for v in values if not v.rstrip("/").endswith("/userinfo")]
    if len(apis) == 1:
        return apis[0]
    wanted = f" (the expected {expected!r} is not among them)" if expected is not None else ""
    raise ProposalError(
        "audience-array",
        f"the token's aud is an array ({len(aud)} values){wanted}: name the element the "
        "profile should accept with --expect-aud",
        _audience_array_explanation(),
    )


def _audience_array_risk(aud: Sequence[Any], chosen: str) -> Risk:
    return Risk(
        "audience-array",
        f"the token's aud is an array ({len(aud)} values); the profile names {chosen!r}. "
        "ORDS is reported to fail such tokens (one user report; no Oracle document says "
        "so): if they still get 401, make the IdP issue one audience (Auth0: do not "
        "request 'openid').",
    )


def _describe(client: str | None, fingerprint: str, when: datetime) -> str:
    # Only our own text: a client name from our table, a hex fingerprint and a date.
    who = re.sub(r"[^\w .()+-]", "", client or "")[:40].strip()
    via = f" ({who})" if who else ""
    return f"token-inspector: from token sha256:{fingerprint}{via} on {when.date().isoformat()}"


def profile_from_token(
    token: TokenReport,
    options: ProposalOptions,
    *,
    client: str | None = None,
    now: datetime | None = None,
) -> JwtProfile:
    """The profile that accepts ``token``: ``iss``, ``aud``, the metadata's ``jwks_uri``,
    the role claim when the token carries ``roles`` (unless scope-based).
    """
    claims = token.claims
    iss = claims.get("iss")
    aud = claims.get("aud")
    if not isinstance(iss, str) or not iss:
        raise ProposalError("no-issuer", "the token has no string 'iss' claim")
    if isinstance(aud, list):
        aud = audience_from_array(aud, options.audience)
    if not isinstance(aud, str) or not aud:
        raise ProposalError("no-audience", "the token has no string 'aud' claim")
    jwk_url = options.jwk_url or token.jwks_uri
    if not jwk_url and options.trusted_issuers and iss not in options.trusted_issuers:
        raise ProposalError(
            "untrusted-issuer",
            f"issuer {iss!r} is not among --trusted-issuer, so its metadata and keys were "
            "not fetched",
        )
    if not jwk_url:
        source = token.key_source or ""
        # Keys from an offline file tell nothing about where ORDS must fetch them.
        came_from = (
            f" (keys were read from the file {source[5:]})" if source.startswith("file:") else ""
        )
        raise ProposalError(
            "no-jwks-uri",
            f"p_jwk_url is unknown{came_from}: give the issuer's JWKS URL with --jwk-url URL, "
            "or --oidc-metadata FILE naming its jwks_uri, or let the tool discover the "
            "issuer's metadata",
        )
    if not jwk_url.startswith("https://") and not (
        options.allow_http_jwk_url and jwk_url.startswith("http://")
    ):
        raise ProposalError(
            "jwk-url-not-https", f"jwks_uri {jwk_url!r} is not https://; ORDS refuses it"
        )
    if options.allowed_skew is not None and options.allowed_skew > ORDS_MAX_SKEW:
        raise ProposalError(
            "skew-too-large", f"--allowed-skew {options.allowed_skew} exceeds ORDS's maximum 60"
        )
    role_claim: str | None = None
    if not options.scope_based:
        if options.role_claim is not None:
            if not options.role_claim.startswith("/"):
                raise ProposalError(
                    "role-claim-pointer",
                    f"--role-claim {options.role_claim!r} must be a JSON pointer such as /roles",
                )
            role_claim = options.role_claim
        elif "roles" in claims:
            role_claim = DEFAULT_ROLE_POINTER
    when = now or datetime.now(UTC)
    return JwtProfile(
        issuer=iss,
        audience=aud,
        jwk_url=jwk_url,
        description=options.description or _describe(client, token.fingerprint, when),
        allowed_skew=options.allowed_skew,
        allowed_age=options.allowed_age,
        role_claim_name=role_claim,
    )


def _authorization(
    proposed: JwtProfile,
    claims: Mapping[str, Any],
    roles: Sequence[OrdsRole] | None,
    privileges: Sequence[OrdsPrivilege] | None,
) -> tuple[list[Precheck], list[Risk], list[OrdsPrivilege]]:
    """Which privileges the token reaches in ORDS under ``proposed``."""
    lines: list[Precheck] = []
    risks: list[Risk] = []
    reached: list[OrdsPrivilege] = []
    if roles is None or privileges is None:
        lines.append(NOT_READ)
        return lines, risks, reached
    if proposed.role_claim_name is not None:
        value = checks.resolve_pointer(claims, proposed.role_claim_name)
        if value is _ABSENT:
            lines.append(Precheck(False, f"the token has no {proposed.role_claim_name} claim"))
            risks.append(Risk("no-role-claim", "role-based profile but the token has no roles"))
            return lines, risks, reached
        token_roles = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        ords_roles = {r.name for r in roles}
        present = [r for r in token_roles if r in ords_roles]
        absent = [r for r in token_roles if r not in ords_roles]
        for name in present:
            lines.append(Precheck(True, f"token role {name!r} exists in ORDS"))
        for name in absent:
            near = [r for r in ords_roles if r.lower() == name.lower()]
            extra = f" (ORDS has {near[0]!r}: case counts)" if near else ""
            lines.append(Precheck(None, f"token role {name!r} is not an ORDS role{extra}"))
        reached = [p for p in privileges if set(p.roles) & set(present)]
        if not present:
            risks.append(
                Risk("no-ords-role", "none of the token's roles is an ORDS role: ORDS will 401")
            )
    else:
        scopes = checks.token_scopes(claims)
        names = {p.name for p in privileges}
        for scope in scopes:
            ok = scope in names
            lines.append(
                Precheck(
                    True if ok else None,
                    f"scope {scope!r} {'names' if ok else 'names no'} ORDS privilege",
                )
            )
        reached = [p for p in privileges if p.name in scopes]
        if not reached:
            risks.append(
                Risk("no-privilege", "no scope in the token names an ORDS privilege: ORDS will 401")
            )
    for priv in reached:
        where = ", ".join([*priv.modules, *priv.patterns]) or "nothing (no module or pattern)"
        lines.append(Precheck(True, f"privilege {priv.name!r} protects {where}"))
    return lines, risks, reached


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


NOT_READ = Precheck(None, "ORDS roles and privileges not read (no database, or another schema)")
# The risks ``_authorization`` raises: replaced when the authorization is judged again.
AUTHORIZATION_RISKS = frozenset({"no-role-claim", "no-ords-role", "no-privilege"})


def _judged(
    proposed: JwtProfile,
    claims: Mapping[str, Any],
    roles: Sequence[OrdsRole] | None,
    privileges: Sequence[OrdsPrivilege] | None,
    will_pass: bool | None,
) -> tuple[tuple[Precheck, ...], list[Risk], list[OrdsPrivilege]]:
    lines, risks, reached = _authorization(proposed, claims, roles, privileges)
    if reached and will_pass is not False:
        lines.append(Precheck(True, "the user will reach the listed modules and patterns"))
    return tuple(lines), risks, reached


def judged_against(
    proposal: Proposal,
    roles: Sequence[OrdsRole],
    privileges: Sequence[OrdsPrivilege],
) -> Proposal:
    """``proposal`` with its roles-and-privileges pre-check redone against ``roles`` and
    ``privileges``: the schema as it will be once a planned change (setup's role and
    privilege, applied before the profile) is made. The pre-check lines, those risks and
    the privileges, modules and patterns reached are replaced; the rest is kept. A
    proposal whose roles were not read (another schema) is returned as it is."""
    if NOT_READ in proposal.authorization:
        return proposal
    lines, risks, reached = _judged(
        proposal.proposed, proposal.claims, roles, privileges, proposal.will_pass
    )
    kept = [p for p in proposal.prechecks if p not in proposal.authorization]
    return replace(
        proposal,
        prechecks=(*kept, *lines),
        authorization=lines,
        risks=(*(r for r in proposal.risks if r.code not in AUTHORIZATION_RISKS), *risks),
        reached_privileges=_unique(p.name for p in reached),
        reached_modules=_unique(m for p in reached for m in p.modules),
        reached_patterns=_unique(x for p in reached for x in p.patterns),
    )


def build_proposal(
    token: TokenReport,
    *,
    options: ProposalOptions | None = None,
    current: JwtProfile | None = None,
    current_known: bool = False,
    roles: Sequence[OrdsRole] | None = None,
    privileges: Sequence[OrdsPrivilege] | None = None,
    check: TokenCheck | None = None,
    client: str | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Propose the profile for ``token`` and pre-check it. Raises ``ProposalError``.

    ``current_known`` says whether ``current`` was read from a database (``None`` then means
    "the schema has no profile"); without a database there is no diff to speak of.
    """
    opts = options or ProposalOptions()
    proposed = profile_from_token(token, opts, client=client, now=now)
    prechecks: list[Precheck] = []
    risks: list[Risk] = []
    notes: list[str] = []
    verdicts: tuple[Verdict, ...] = ()
    will_pass: bool | None = None

    if token.verified is not True:
        state = "did not verify" if token.verified is False else "could not be verified"
        risks.append(
            Risk(
                "unverified-token",
                f"the token's signature {state} against the issuer's published keys",
                blocking=True,
            )
        )
    anchored = is_anchored(proposed.issuer, opts, current if current_known else None)
    if opts.trusted_issuers and proposed.issuer not in opts.trusted_issuers:
        risks.append(
            Risk(
                "untrusted-issuer",
                f"issuer {proposed.issuer!r} is not among --trusted-issuer",
                blocking=True,
            )
        )
    elif not anchored:
        risks.append(
            Risk(
                "unanchored-issuer",
                f"{unanchored_warning(proposed.issuer)} {anchor_hint(proposed.issuer)}",
                blocking=True,
                confirmable=True,
            )
        )
    aud = token.claims.get("aud")
    if isinstance(aud, list):
        risks.append(_audience_array_risk(aud, proposed.audience))
    if proposed.jwk_url.startswith("http://"):
        notes.append(HTTP_JWK_URL_NOTE)
        risks.append(Risk("http-jwk-url", HTTP_JWK_URL_NOTE))
    if current_known and current is not None and current.issuer != proposed.issuer:
        risks.append(
            Risk(
                "issuer-change",
                f"replaces issuer {current.issuer!r}: tokens from it stop being accepted",
            )
        )
    if current_known and current is not None and current.audience != proposed.audience:
        risks.append(
            Risk(
                "audience-change",
                f"replaces audience {current.audience!r}: tokens for it stop being accepted",
            )
        )

    if check is not None:
        _report, found = check(Expectations.from_profile(proposed))
        verdicts = tuple(found)
        errors = [v for v in verdicts if v.severity is Severity.ERROR]
        if opts.allow_http_jwk_url:
            # Accepted for the demo's loopback IdP only; the note says real ORDS refuses it.
            errors = [v for v in errors if v.code != "jwk-url-not-https"]
        will_pass = not errors
        if will_pass:
            prechecks.append(Precheck(True, "this token passes every ORDS check under it"))
        for v in errors:
            prechecks.append(Precheck(False, f"{v.code}: {v.message}"))
    else:
        prechecks.append(Precheck(None, "token checks not run (analysis engine unavailable)"))

    auth_checks, auth_risks, reached = _judged(proposed, token.claims, roles, privileges, will_pass)
    prechecks.extend(auth_checks)
    risks.extend(auth_risks)

    header = [
        "ORDS JWT profile generated by token-inspector",
        f"token sha256:{token.fingerprint} (the token itself is not included)",
        f"generated {(now or datetime.now(UTC)).isoformat(timespec='seconds')}",
    ]
    if proposed.jwk_url.startswith("http://"):
        header.append("WARNING: p_jwk_url is http://; real ORDS requires https://")
    text = plsql.script(
        proposed,
        schema=opts.schema,
        header=header,
        previous=current if current_known else None,
        api=opts.jwt_api,
    )
    return Proposal(
        proposed=proposed,
        current=current,
        current_known=current_known,
        schema=opts.schema,
        diff=diff_rows(current if current_known else None, proposed),
        prechecks=tuple(prechecks),
        will_pass=will_pass,
        verdicts=verdicts,
        risks=tuple(risks),
        plsql=text,
        token_fingerprint=token.fingerprint,
        verified=token.verified,
        client=client,
        source=source,
        reached_privileges=_unique(p.name for p in reached),
        reached_modules=_unique(m for p in reached for m in p.modules),
        reached_patterns=_unique(x for p in reached for x in p.patterns),
        notes=tuple(notes),
        statements=_statements(
            proposed, opts.schema, current if current_known else None, opts.jwt_api
        ),
        anchored=anchored,
        authorization=auth_checks,
        claims=token.claims,
    )


def _statements(
    proposed: JwtProfile, schema: str | None, current: JwtProfile | None, api: JwtApi | None
) -> tuple[str, ...]:
    # Without a database nothing is sent; the repository falls back to ORDS_SECURITY too.
    chosen = api or JwtApi.ORDS_SECURITY
    create = create_statement(proposed, schema, chosen)[0]
    return (create,) if current is None else (delete_statement(schema, chosen)[0], create)


class _TokenAnalyzer(Protocol):
    """The part of ``inspector.judge.analyzer.Analyzer`` a proposal needs."""

    def with_expectations(self, expectations: Expectations) -> _TokenAnalyzer: ...

    def analyze_token(
        self, token: str, *, at: datetime | None = None, status: int | None = None
    ) -> tuple[TokenReport, tuple[Verdict, ...]]: ...


def check_with(analyzer: _TokenAnalyzer, token: str, *, at: datetime | None = None) -> TokenCheck:
    """A ``TokenCheck`` running ``analyzer`` on ``token`` (judged at ``at``, default now)."""

    def check(expectations: Expectations) -> tuple[TokenReport, Sequence[Verdict]]:
        return analyzer.with_expectations(expectations).analyze_token(token, at=at)

    return check


def propose(
    repo: OrdsRepository | None,
    token: TokenReport,
    *,
    options: ProposalOptions | None = None,
    check: TokenCheck | None = None,
    client: str | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Read what the proposal needs from ``repo`` (when connected) and build it.

    Database errors propagate: the caller shows them with ``db_errors.one_line``.
    """
    opts = options or ProposalOptions()
    if repo is None:
        return build_proposal(
            token, options=opts, check=check, client=client, source=source, now=now
        )
    # The USER_ORDS_ views describe the connected schema only: for another schema (--schema)
    # its roles and privileges are unknown rather than those of the wrong schema.
    own = opts.schema is None or opts.schema.upper() == repo.current_schema().upper()
    if opts.jwt_api is None:
        opts = dataclasses.replace(opts, jwt_api=repo.jwt_api())
    current = repo.get_profile(opts.schema)
    if opts.audience is None and current is not None:
        # An aud array keeps the audience ORDS already accepts.
        opts = replace(opts, audience=current.audience)
    return build_proposal(
        token,
        options=opts,
        current=current,
        current_known=True,
        roles=repo.roles() if own else None,
        privileges=repo.privileges() if own else None,
        check=check,
        client=client,
        source=source,
        now=now,
    )
