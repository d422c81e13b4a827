"""The ORDS role the tokens carry and the privilege that protects the MCP module.

``plan_authorization`` reads the schema's roles, privileges and modules and says what to do:
create the role when it is missing, and define the privilege that protects the MCP module
with that role added. ``ORDS.DEFINE_PRIVILEGE`` creates a privilege or replaces it whole
(exactly the roles, modules and patterns given), so the plan merges: what the privilege
had, in its order, plus the new role and module. ``authorization_script`` is the preview a
DBA can read and run; ``apply_authorization`` does it in one transaction together with the
JWT profile (as ``profile apply`` does: bind variables only, read back, commit, and on any
failure rollback, verify, restore explicitly if a release committed, audit).

Which privilege: the one named; else, under a scope-based profile, the one named after the
scope (ORDS takes a token's scope values as privilege names, so no other name can work);
else the existing privilege that protects the module; else a new one named
``<module>.access`` (``new_privilege_name``).

Roles and privileges are the connected schema's (the ``ORDS`` package); a profile proposal
for another schema is refused here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from inspector.judge.ords_objects import JwtProfile, OrdsModule, OrdsPrivilege
from inspector.ords import plsql
from inspector.ords.apply import (
    Progress,
    ProgressFn,
    Result,
    Step,
    StepFailure,
    StepRun,
    mismatched_fields,
    profile_restore_script,
    roll_back,
    run_step,
    same_profile,
    write_profile,
)
from inspector.ords.audit import (
    AuditLog,
    AuthorizationAuditRecord,
    audit_detail,
    now_iso,
    os_user,
)
from inspector.ords.database import OrdsRepository
from inspector.ords.errors import one_line
from inspector.ords.proposal import Proposal

NEW_PRIVILEGE_SUFFIX = ".access"


def new_privilege_name(module: OrdsModule) -> str:
    """The name of a privilege created for a module no privilege protects yet."""
    return f"{module.name}{NEW_PRIVILEGE_SUFFIX}"


@dataclass(frozen=True, slots=True)
class AuthorizationPlan:
    """What the schema needs so that tokens carrying ``role`` (or ``scope``) reach ``module``.

    ``privilege_after`` is what ``DEFINE_PRIVILEGE`` will be given (``None`` when blocked);
    ``privilege_before`` the privilege of that name as read (``None``: it is new).
    """

    role_to_create: str | None
    privilege_before: OrdsPrivilege | None
    privilege_after: OrdsPrivilege | None
    module: OrdsModule | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()
    role: str | None = None
    scope: str | None = None

    @property
    def privilege_changed(self) -> bool:
        """The privilege must be defined (it is new or lacks the role or module)."""
        if self.privilege_after is None:
            return False
        return not same_privilege(self.privilege_before, self.privilege_after)

    @property
    def changed(self) -> bool:
        """True when applying would write anything (False when blocked)."""
        if self.blockers:
            return False
        return self.role_to_create is not None or self.privilege_changed


@dataclass(frozen=True, slots=True)
class AuthorizationState:
    """What the schema holds that an apply touches: whether the role exists, the privilege,
    the profile (``None`` when there is none)."""

    role_exists: bool
    privilege: OrdsPrivilege | None
    profile: JwtProfile | None


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    """The outcome, with what the schema held before and holds now as far as known."""

    result: Result
    plan: AuthorizationPlan
    requested_profile: JwtProfile | None
    previous: AuthorizationState | None
    final: AuthorizationState | None
    failure: str | None
    restore: str | None
    steps: tuple[Progress, ...]
    warnings: tuple[str, ...] = ()
    restore_script: str | None = None

    @property
    def ok(self) -> bool:
        """True when the role, privilege and profile are in place."""
        return self.result in (Result.APPLIED, Result.UNCHANGED)


# --------------------------------------------------------------------------- comparing


def _oracle(value: str | None) -> str | None:
    # Oracle stores '' as NULL.
    return value or None


def privilege_differences(expected: OrdsPrivilege, actual: OrdsPrivilege | None) -> tuple[str, ...]:
    """The fields of ``actual`` that differ from ``expected`` as the database keeps them
    (lists compared as sets: the views return them in their own order)."""
    if actual is None:
        return ("missing",)
    out: list[str] = []
    for attr in ("name", "label", "description", "comments"):
        if _oracle(getattr(expected, attr)) != _oracle(getattr(actual, attr)):
            out.append(attr)
    for attr in ("roles", "modules", "patterns"):
        if set(getattr(expected, attr)) != set(getattr(actual, attr)):
            out.append(attr)
    return tuple(out)


def same_privilege(a: OrdsPrivilege | None, b: OrdsPrivilege | None) -> bool:
    """Equal as ``DEFINE_PRIVILEGE`` would leave them (``None`` only equals ``None``)."""
    if a is None or b is None:
        return a is b
    return not privilege_differences(a, b)


def merged(existing: Iterable[str], added: Iterable[str]) -> tuple[str, ...]:
    """``existing`` in its order, then each of ``added`` not already there."""
    out: list[str] = []
    for item in [*existing, *added]:
        if item not in out:
            out.append(item)
    return tuple(out)


# --------------------------------------------------------------------------- planning


def _base_path(prefix: str) -> str:
    inner = prefix.strip("/")
    return f"/{inner}/" if inner else "/"


def module_for_path(modules: Sequence[OrdsModule], path: str) -> OrdsModule | None:
    """The module whose base path serves ``path``: the longest ``uri_prefix`` that starts
    the path, either as given (``/mcp/``) or after its first two segments (ORDS's context
    root and the schema's URL alias: ``/ords/demo/mcp/`` is module ``/mcp/``). A full URL
    is reduced to its path."""
    if "://" in path:
        path = urlsplit(path).path
    normal = _base_path(path)
    parts = normal.strip("/").split("/")
    tails = [normal]
    if len(parts) > 2:
        tails.append(_base_path("/".join(parts[2:])))
    best: tuple[int, OrdsModule] | None = None
    for module in modules:
        if module.uri_prefix is None:
            continue
        base = _base_path(module.uri_prefix)
        if base == "/":
            continue
        if any(tail.startswith(base) for tail in tails) and (best is None or len(base) > best[0]):
            best = (len(base), module)
    return None if best is None else best[1]


def _protecting(privileges: Sequence[OrdsPrivilege], module: OrdsModule) -> list[OrdsPrivilege]:
    """Privileges that protect ``module``: by naming it, else by a pattern covering its base."""
    direct = [p for p in privileges if module.name in p.modules]
    if direct or module.uri_prefix is None:
        return direct
    base = _base_path(module.uri_prefix)
    return [p for p in privileges if any(fnmatch.fnmatchcase(base, pat) for pat in p.patterns)]


def _module_list(modules: Sequence[OrdsModule]) -> str:
    if not modules:
        return "the schema has no REST modules"
    return "modules: " + ", ".join(f"{m.name} ({m.uri_prefix or 'no base path'})" for m in modules)


def plan_authorization(
    repo: OrdsRepository,
    *,
    role: str | None,
    privilege: str | None,
    module: str | None,
    mcp_path: str | None,
    label: str | None = None,
    scope: str | None = None,
) -> AuthorizationPlan:
    """Read the schema and plan the role and privilege for the MCP module.

    ``role``: the ORDS role the tokens carry (role-based profile); ``scope``: the scope value
    they carry when the profile is scope-based (the privilege is then named after it);
    ``module`` by name, else the module serving ``mcp_path``; ``label`` for a new privilege.
    Read failures and unusable inputs are blockers, never exceptions.
    """
    notes: list[str] = []
    warnings: list[str] = []
    blockers: list[str] = []

    def blocked(found: OrdsModule | None = None) -> AuthorizationPlan:
        return AuthorizationPlan(
            None, None, None, found, tuple(notes), tuple(warnings), tuple(blockers), role, scope
        )

    try:
        roles = repo.roles()
        privileges = repo.privileges()
        modules = repo.modules()
    except Exception as exc:
        blockers.append(
            f"could not read the schema's ORDS roles, privileges and modules: {one_line(exc)}"
        )
        return blocked()

    found: OrdsModule | None = None
    if module is not None:
        found = next((m for m in modules if m.name == module), None)
        if found is None:
            blockers.append(f"no REST module named {module!r} ({_module_list(modules)})")
    elif mcp_path is not None:
        found = module_for_path(modules, mcp_path)
        if found is None:
            blockers.append(
                f"no REST module's base path serves {mcp_path!r} ({_module_list(modules)})"
            )
        else:
            notes.append(
                f"module {found.name!r} serves {mcp_path!r} (base path {found.uri_prefix})"
            )
    else:
        blockers.append("name the MCP module or give the MCP URL's path")

    if role is None and scope is None:
        blockers.append(
            "name the ORDS role the tokens carry (role-based profile) or the scope (scope-based)"
        )

    name: str | None = privilege
    protecting = _protecting(privileges, found) if found is not None else []
    if scope is not None:
        if privilege is not None and privilege != scope:
            blockers.append(
                f"with a scope-based profile ORDS takes the token's scope values as privilege "
                f"names: the privilege must be named {scope!r}, not {privilege!r}"
            )
        name = scope
        notes.append(
            f"scope-based profile: tokens must carry the scope {scope!r}, so the privilege "
            "is named after it"
        )
        others = [p.name for p in protecting if p.name != scope]
        if others:
            warnings.append(
                f"the module is also protected by {', '.join(repr(o) for o in others)}: how "
                "ORDS combines several privileges on one module is unconfirmed (a token may "
                "need to satisfy each)"
            )
    elif name is None and found is not None:
        if protecting:
            name = protecting[0].name
            notes.append(f"extending {name!r}, the privilege that protects the module")
            if len(protecting) > 1:
                rest = ", ".join(repr(p.name) for p in protecting[1:])
                warnings.append(
                    f"other privileges protect the module too ({rest}): left as they are"
                )
        else:
            name = new_privilege_name(found)
            notes.append(f"no privilege protects the module: a new one, {name!r}, is defined")
    if blockers or name is None or found is None:
        return blocked(found)

    before = next((p for p in privileges if p.name == name), None)
    role_names = [r.name for r in roles]
    role_to_create = role if role is not None and role not in role_names else None
    if role_to_create is not None:
        notes.append(f"the role {role!r} is created")
        same_but_case = [r for r in role_names if r.lower() == role_to_create.lower()]
        if same_but_case:
            warnings.append(
                f"the schema has the role {same_but_case[0]!r}: role names are compared "
                f"exactly, so {role_to_create!r} is a different role"
            )
    after = OrdsPrivilege(
        name=name,
        label=before.label if before is not None else (label or f"MCP access ({found.name})"),
        description=before.description
        if before is not None
        else f"Access to the REST module {found.name} (token-inspector setup)",
        roles=merged(before.roles if before else (), [role] if role is not None else []),
        modules=merged(before.modules if before else (), [found.name]),
        patterns=before.patterns if before is not None else (),
        comments=before.comments if before is not None else None,
    )
    if before is not None and same_privilege(before, after) and role_to_create is None:
        notes.append(f"nothing to change: {name!r} already protects the module for this role")
    return AuthorizationPlan(
        role_to_create,
        before,
        after,
        found,
        tuple(notes),
        tuple(warnings),
        (),
        role,
        scope,
    )


# --------------------------------------------------------------------------- scripts


def _literal_list(var: str, values: Sequence[str]) -> list[str]:
    return [f"  {var}({i}) := {plsql.string_literal(v)};" for i, v in enumerate(values, start=1)]


def _privilege_lines(privilege: OrdsPrivilege) -> list[str]:
    """Assignments and the ``ords.define_privilege`` call, values as quoted literals."""
    return [
        *_literal_list("l_roles", privilege.roles),
        *_literal_list("l_modules", privilege.modules),
        *_literal_list("l_patterns", privilege.patterns),
        "  ords.define_privilege(",
        f"    p_privilege_name => {plsql.string_literal(privilege.name)},",
        "    p_roles => l_roles,",
        "    p_patterns => l_patterns,",
        "    p_modules => l_modules,",
        f"    p_label => {plsql.string_literal(privilege.label)},",
        f"    p_description => {plsql.string_literal(privilege.description)},",
        f"    p_comments => {plsql.string_literal(privilege.comments)});",
    ]


_DECLARE = [
    "declare",
    "  l_roles owa.vc_arr;",
    "  l_modules owa.vc_arr;",
    "  l_patterns owa.vc_arr;",
]
_SETTINGS = ["set define off", "whenever sqlerror exit failure rollback", ""]


def authorization_script(plan: AuthorizationPlan, profile_proposal: Proposal | None = None) -> str:
    """The PL/SQL preview: create the role, define the merged privilege, commit; then the
    profile proposal's script (when given and it changes anything).

    Display text only (the apply binds every value): values are literals quoted by
    ``plsql.string_literal``; comments hold only our own text.
    """
    out = ["-- ORDS role and privilege for the MCP module (token-inspector setup)"]
    if plan.blockers:
        out.append("-- blocked: nothing to run (see the plan's blockers)")
    elif not plan.changed:
        out.append("-- nothing to change: the role and privilege are in place")
    else:
        assert plan.privilege_after is not None  # not blocked
        body: list[str] = []
        if plan.role_to_create is not None:
            literal = plsql.string_literal(plan.role_to_create)
            body.append(f"  ords.create_role(p_role_name => {literal});")
        if plan.privilege_changed:
            body += _privilege_lines(plan.privilege_after)
        out += [*_SETTINGS, *_DECLARE, "begin", *body, "  commit;", "end;", "/"]
    text = "\n".join(out) + "\n"
    if profile_proposal is not None and profile_proposal.changed:
        text += "\n-- then the JWT profile\n" + profile_proposal.plsql
    return text


def authorization_restore_script(
    plan: AuthorizationPlan,
    previous: AuthorizationState,
    *,
    profile_changed: bool,
    repo: OrdsRepository | None = None,
) -> str:
    """PL/SQL a DBA runs by hand when the automatic restore failed: the previous privilege
    (or its deletion), the created role's deletion, then the previous profile."""
    out = ["-- restore the previous ORDS privilege and role (token-inspector setup)"]
    body: list[str] = []
    after = plan.privilege_after
    if after is not None and plan.privilege_changed:
        if previous.privilege is not None:
            body += _privilege_lines(previous.privilege)
        else:
            literal = plsql.string_literal(after.name)
            body.append(f"  ords.delete_privilege(p_name => {literal});")
    if plan.role_to_create is not None:
        # After the privilege: it no longer names the role.
        literal = plsql.string_literal(plan.role_to_create)
        body.append(f"  ords.delete_role(p_role_name => {literal});")
    out += [*_SETTINGS, *_DECLARE, "begin", *body, "  commit;", "end;", "/"]
    text = "\n".join(out) + "\n"
    if profile_changed and repo is not None:
        profile_script = profile_restore_script(repo, previous.profile, None)
        if profile_script:
            text += "\n-- then the previous JWT profile\n" + profile_script
    return text


# --------------------------------------------------------------------------- applying


def _read_state(
    repo: OrdsRepository, role: str | None, privilege: str, *, with_profile: bool
) -> AuthorizationState:
    roles = {r.name for r in repo.roles()}
    current = next((p for p in repo.privileges() if p.name == privilege), None)
    profile = repo.get_profile() if with_profile else None
    return AuthorizationState(role is not None and role in roles, current, profile)


def _state_differences(
    expected: AuthorizationState, actual: AuthorizationState, *, with_profile: bool
) -> list[str]:
    out: list[str] = []
    if expected.role_exists != actual.role_exists:
        out.append("role " + ("missing" if expected.role_exists else "still there"))
    if not same_privilege(expected.privilege, actual.privilege):
        if expected.privilege is None:
            out.append("privilege still there")
        else:
            out.append(
                "privilege "
                + ", ".join(privilege_differences(expected.privilege, actual.privilege))
            )
    if with_profile and not same_profile(expected.profile, actual.profile):
        if expected.profile is None:
            out.append("profile still there")
        else:
            out.append("profile " + ", ".join(mismatched_fields(expected.profile, actual.profile)))
    return out


def _refusal(plan: AuthorizationPlan, proposal: Proposal | None, forced: bool) -> str | None:
    if plan.blockers:
        return "refused: " + "; ".join(plan.blockers)
    if proposal is not None and proposal.schema is not None:
        return (
            "refused: roles and privileges are set up in the connected schema; the profile "
            f"is for schema {proposal.schema}: apply it with `profile apply --schema`"
        )
    if proposal is not None and proposal.blocking_risks and not forced:
        reasons = "; ".join(r.message for r in proposal.blocking_risks)
        return f"refused: {reasons} (override: --force-unverified)"
    return None


def apply_authorization(
    repo: OrdsRepository,
    plan: AuthorizationPlan,
    *,
    proposal: Proposal | None,
    force_unverified: bool = False,
    progress: ProgressFn | None = None,
    audit: AuditLog | None = None,
    db_user: str | None = None,
    database: str | None = None,
) -> AuthorizationResult:
    """Create the role, define the merged privilege and replace the JWT profile
    (``proposal.proposed``, when given) in one transaction, read everything back, commit.

    Refused (nothing written) while the plan has blockers, or the proposal blocking risks
    unless ``force_unverified``. Any failure: rollback, verify, and restore explicitly what
    the rollback did not (a release whose procedures commit); a restore that fails comes
    with the PL/SQL to run by hand.
    """
    run = StepRun(progress)
    warnings = list(plan.warnings)
    requested = proposal.proposed if proposal is not None else None

    def finish(result: AuthorizationResult) -> AuthorizationResult:
        return _audit(audit, result, proposal, db_user, database)

    def outcome(
        result: Result,
        *,
        previous: AuthorizationState | None = None,
        final: AuthorizationState | None = None,
        failure: str | None = None,
        restore: str | None = None,
        restore_script: str | None = None,
    ) -> AuthorizationResult:
        return finish(
            AuthorizationResult(
                result=result,
                plan=plan,
                requested_profile=requested,
                previous=previous,
                final=final,
                failure=failure,
                restore=restore,
                steps=tuple(run.events),
                warnings=tuple(warnings),
                restore_script=restore_script,
            )
        )

    refusal = _refusal(plan, proposal, force_unverified)
    if refusal is not None:
        run.emit(Step.CHECK, "failed", refusal)
        return outcome(Result.REFUSED, failure=refusal)
    if proposal is not None and proposal.blocking_risks:
        warning = proposal.override_warning
        warnings.append(warning)
        run.emit(Step.CHECK, "warn", warning)
    else:
        run.emit(Step.CHECK, "ok", "plan has no blockers")
    after = plan.privilege_after
    assert after is not None  # a plan without blockers has one
    with_profile = proposal is not None

    run.emit(Step.READ_CURRENT, "start", "reading the current role, privilege and profile")
    try:
        previous = _read_state(repo, plan.role, after.name, with_profile=with_profile)
    except Exception as exc:
        message = f"reading the current state failed: {one_line(exc)}"
        run.emit(Step.READ_CURRENT, "failed", message)
        return outcome(Result.FAILED_UNCHANGED, failure=message)
    expected_role = plan.role is not None and plan.role_to_create is None
    if previous.role_exists != expected_role or not same_privilege(
        previous.privilege, plan.privilege_before
    ):
        message = "the roles or the privilege changed since the plan was made: plan again"
        run.emit(Step.READ_CURRENT, "failed", message)
        return outcome(Result.FAILED_UNCHANGED, previous=previous, final=previous, failure=message)
    run.emit(Step.READ_CURRENT, "ok", "current state read")
    profile_change = proposal is not None and not same_profile(previous.profile, requested)
    if not plan.changed and not profile_change:
        run.emit(Step.COMMIT, "skipped", "the role, privilege and profile are already in place")
        return outcome(Result.UNCHANGED, previous=previous, final=previous)

    try:
        _write(repo, plan, run)
        if profile_change and requested is not None:
            write_profile(repo, requested, previous.profile, schema=None, run=run)
        _read_back(repo, plan, after, run)
        run_step(run, Step.COMMIT, "committing", repo.commit)
    except StepFailure as failure:
        run.emit(failure.step, "failed", failure.message)
        restored, final, message = _restore(repo, plan, previous, run, with_profile=with_profile)
        script = None
        if not restored:
            script = authorization_restore_script(
                plan, previous, profile_changed=profile_change, repo=repo
            )
        return outcome(
            Result.FAILED_RESTORED if restored else Result.FAILED_RESTORE_FAILED,
            previous=previous,
            final=final,
            failure=failure.message,
            restore=message,
            restore_script=script,
        )
    final_state = AuthorizationState(plan.role is not None, after, requested or previous.profile)
    return outcome(Result.APPLIED, previous=previous, final=final_state)


def _write(repo: OrdsRepository, plan: AuthorizationPlan, run: StepRun) -> None:
    role = plan.role_to_create
    if role is not None:
        run_step(run, Step.CREATE_ROLE, "creating the role", lambda: repo.create_role(role))
    else:
        run.emit(Step.CREATE_ROLE, "skipped", "the role exists" if plan.role else "no role")
    after = plan.privilege_after
    if after is not None and plan.privilege_changed:
        verb = "extending" if plan.privilege_before is not None else "defining"
        run_step(
            run,
            Step.DEFINE_PRIVILEGE,
            f"{verb} the privilege",
            lambda: repo.define_privilege(after),
        )
    else:
        run.emit(Step.DEFINE_PRIVILEGE, "skipped", "the privilege is already as planned")


def _read_back(
    repo: OrdsRepository, plan: AuthorizationPlan, after: OrdsPrivilege, run: StepRun
) -> None:
    run.emit(Step.READ_BACK, "start", "reading the role and privilege back")
    try:
        now = _read_state(repo, plan.role, after.name, with_profile=False)
    except Exception as exc:
        raise StepFailure(Step.READ_BACK, f"read-back failed: {one_line(exc)}") from exc
    problems = [] if now.role_exists or plan.role is None else ["role missing"]
    problems += [f"privilege {d}" for d in privilege_differences(after, now.privilege)]
    if problems:
        raise StepFailure(
            Step.READ_BACK, "read-back differs from what was sent in: " + ", ".join(problems)
        )
    run.emit(Step.READ_BACK, "ok", "role and privilege read back as sent")


def _restore(
    repo: OrdsRepository,
    plan: AuthorizationPlan,
    previous: AuthorizationState,
    run: StepRun,
    *,
    with_profile: bool,
) -> tuple[bool, AuthorizationState | None, str]:
    """Rollback, verify, and put back explicitly whatever is still changed.

    Order matters: the profile, then the privilege (so it no longer names the role), then
    the role. Returns (restored, what the schema holds as far as known, message).
    """
    after = plan.privilege_after
    assert after is not None
    roll_back(repo, run)
    run.emit(Step.VERIFY_RESTORE, "start", "checking the previous state is in place")
    try:
        now = _read_state(repo, plan.role, after.name, with_profile=with_profile)
    except Exception as exc:
        message = f"could not verify the previous state is in place: {one_line(exc)}"
        run.emit(Step.VERIFY_RESTORE, "failed", message)
        return False, None, message
    what = "role, privilege and profile" if with_profile else "role and privilege"
    differences = _state_differences(previous, now, with_profile=with_profile)
    if not differences:
        message = f"previous {what} in place (rolled back)"
        run.emit(Step.VERIFY_RESTORE, "ok", message)
        return True, now, message
    run.emit(
        Step.VERIFY_RESTORE,
        "warn",
        f"the rollback did not restore everything ({'; '.join(differences)}): restoring",
    )
    run.emit(Step.RESTORE, "start", "restoring the previous state")
    try:
        if with_profile and not same_profile(now.profile, previous.profile):
            if now.profile is not None:
                repo.delete_profile()
            if previous.profile is not None:
                repo.create_profile(previous.profile)
        if not same_privilege(now.privilege, previous.privilege):
            if previous.privilege is not None:
                repo.define_privilege(previous.privilege)
            else:
                repo.delete_privilege(after.name)
        if now.role_exists and not previous.role_exists and plan.role is not None:
            repo.delete_role(plan.role)
        repo.commit()
        restored = _read_state(repo, plan.role, after.name, with_profile=with_profile)
    except Exception as exc:
        message = f"restoring the previous state failed: {one_line(exc)}"
        run.emit(Step.RESTORE, "failed", message)
        with contextlib.suppress(Exception):
            repo.rollback()
        return False, None, message
    left = _state_differences(previous, restored, with_profile=with_profile)
    if left:
        message = "restore read-back differs: " + "; ".join(left)
        run.emit(Step.RESTORE, "failed", message)
        return False, restored, message
    message = f"previous {what} restored"
    run.emit(Step.RESTORE, "ok", message)
    return True, restored, message


def _audit(
    audit: AuditLog | None,
    result: AuthorizationResult,
    proposal: Proposal | None,
    db_user: str | None,
    database: str | None,
) -> AuthorizationResult:
    """Append the audit line; a failed write becomes a warning on the result."""
    if audit is None:
        return result
    forced = (
        proposal.blocking_risks
        if proposal is not None and result.result is not Result.REFUSED
        else ()
    )
    previous = result.previous
    record = AuthorizationAuditRecord(
        time=now_iso(),
        os_user=os_user(),
        db_user=db_user,
        schema=db_user.upper() if db_user else None,
        role_created=result.plan.role_to_create,
        old_privilege=previous.privilege if previous else result.plan.privilege_before,
        new_privilege=result.plan.privilege_after,
        old_profile=previous.profile if previous else None,
        new_profile=result.requested_profile,
        token_fingerprint=proposal.token_fingerprint if proposal is not None else None,
        result=result.result.value,
        detail=audit_detail(result.failure, result.restore, [r.code for r in forced]),
        database=database,
    )
    warning = audit.append_or_warning(record)
    if warning is None:
        return result
    return dataclasses.replace(result, warnings=(*result.warnings, warning))
