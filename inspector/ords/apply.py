"""Replace a schema's ORDS JWT profile without ever losing the previous one.

Steps: read the current profile, delete it, create the new one, read it back and compare,
commit. The ORDS procedures do not commit (their documentation asks the caller to), so a
failure at any step is first undone by a rollback. Because some release might commit inside
a procedure, we then read the profile again and, if it is not the previous one, re-create
the previous profile explicitly and commit. Every outcome is reported (failure and restore),
sent to the progress callback step by step, and appended to the audit file.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from inspector.judge.ords_objects import JwtProfile
from inspector.ords import plsql
from inspector.ords.audit import AuditLog, AuditRecord, audit_detail, now_iso, os_user
from inspector.ords.database import OrdsRepository
from inspector.ords.errors import one_line
from inspector.ords.proposal import Proposal


class Step(StrEnum):
    """The steps of an apply, in order (restore steps only run after a failure)."""

    CHECK = "check"
    READ_CURRENT = "read-current"
    DELETE = "delete"
    CREATE = "create"
    READ_BACK = "read-back"
    COMMIT = "commit"
    ROLLBACK = "rollback"
    # Role and privilege set-up (inspector.ords.grants), before the profile steps.
    CREATE_ROLE = "create-role"
    DEFINE_PRIVILEGE = "define-privilege"
    VERIFY_RESTORE = "verify-restore"
    RESTORE = "restore"


class Result(StrEnum):
    """How an apply ended (also the audit record's ``result``)."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    FAILED_UNCHANGED = "failed-unchanged"
    FAILED_RESTORED = "failed-restored"
    FAILED_RESTORE_FAILED = "failed-restore-failed"


@dataclass(frozen=True, slots=True)
class Progress:
    """One step event: ``status`` is ``start``, ``ok``, ``failed``, ``skipped`` or ``warn``."""

    step: Step
    status: str
    message: str


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The outcome, with what the schema holds now as far as we could tell."""

    result: Result
    requested: JwtProfile
    previous: JwtProfile | None
    read_back: JwtProfile | None
    final: JwtProfile | None
    failure: str | None
    restore: str | None
    mismatches: tuple[str, ...]
    steps: tuple[Progress, ...]
    warnings: tuple[str, ...] = ()
    restore_script: str | None = None

    @property
    def ok(self) -> bool:
        """True when the requested profile is in place."""
        return self.result in (Result.APPLIED, Result.UNCHANGED)


class StepFailure(Exception):
    """A step failed: the transaction must be undone (what the read-back saw, if it ran)."""

    def __init__(
        self,
        step: Step,
        message: str,
        *,
        read_back: JwtProfile | None = None,
        mismatches: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.step = step
        self.message = message
        self.read_back = read_back
        self.mismatches = mismatches


def _oracle_value(value: object) -> object:
    # Oracle stores '' as NULL: an empty description reads back as None and is not a change.
    return None if value == "" else value


def mismatched_fields(expected: JwtProfile, actual: JwtProfile | None) -> tuple[str, ...]:
    """Names of the fields that differ (all of them when ``actual`` is missing)."""
    if actual is None:
        return tuple(f.name for f in dataclasses.fields(JwtProfile))
    return tuple(
        f.name
        for f in dataclasses.fields(JwtProfile)
        if _oracle_value(getattr(expected, f.name)) != _oracle_value(getattr(actual, f.name))
    )


def same_profile(a: JwtProfile | None, b: JwtProfile | None) -> bool:
    """Equal as the database sees them (``None`` only equals ``None``)."""
    if a is None or b is None:
        return a is b
    return not mismatched_fields(a, b)


class StepRun:
    """State of one apply: the event log and the progress callback."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self.progress = progress
        self.events: list[Progress] = []

    def emit(self, step: Step, status: str, message: str) -> None:
        event = Progress(step, status, message)
        self.events.append(event)
        if self.progress is not None:
            # A broken progress display must not stop a restore halfway.
            with contextlib.suppress(Exception):
                self.progress(event)


def apply_proposal(
    repo: OrdsRepository,
    proposal: Proposal,
    *,
    force_unverified: bool = False,
    progress: ProgressFn | None = None,
    audit: AuditLog | None = None,
    db_user: str | None = None,
    database: str | None = None,
) -> ApplyResult:
    """Apply ``proposal.proposed`` to ``proposal.schema`` (``None``: the connected schema).

    Refused (nothing written) while the proposal has blocking risks (unverified token,
    untrusted or unanchored issuer) unless ``force_unverified`` (for an unanchored issuer
    alone: the user confirmed a second time that the issuer is trusted).
    """
    run = StepRun(progress)
    warnings: list[str] = []
    blocking = proposal.blocking_risks
    if blocking and not force_unverified:
        reasons = "; ".join(r.message for r in blocking)
        run.emit(Step.CHECK, "failed", f"refused: {reasons} (override: --force-unverified)")
        result = ApplyResult(
            result=Result.REFUSED,
            requested=proposal.proposed,
            previous=proposal.current,
            read_back=None,
            final=proposal.current,
            failure=f"refused: {reasons}",
            restore=None,
            mismatches=(),
            steps=tuple(run.events),
        )
        return _audit(audit, result, proposal, db_user, database)
    if blocking:
        warning = proposal.override_warning
        warnings.append(warning)
        run.emit(Step.CHECK, "warn", warning)
    else:
        run.emit(Step.CHECK, "ok", "token verified and issuer accepted")
    result = replace_profile(
        repo, proposal.proposed, schema=proposal.schema, run=run, warnings=warnings
    )
    return _audit(audit, result, proposal, db_user, database)


def replace_profile(
    repo: OrdsRepository,
    profile: JwtProfile,
    *,
    schema: str | None = None,
    progress: ProgressFn | None = None,
    run: StepRun | None = None,
    warnings: list[str] | None = None,
) -> ApplyResult:
    """Delete + create + read back + commit, restoring the previous profile on any failure."""
    run = run or StepRun(progress)
    warns = warnings if warnings is not None else []
    target = schema or "the connected schema"

    run.emit(Step.READ_CURRENT, "start", f"reading the current profile of {target}")
    try:
        previous = repo.get_profile(schema)
    except Exception as exc:
        message = f"reading the current profile failed: {one_line(exc)}"
        run.emit(Step.READ_CURRENT, "failed", message)
        return ApplyResult(
            Result.FAILED_UNCHANGED,
            profile,
            None,
            None,
            None,
            message,
            None,
            (),
            tuple(run.events),
            warnings=tuple(warns),
        )
    run.emit(
        Step.READ_CURRENT,
        "ok",
        "no profile yet" if previous is None else f"current issuer {previous.issuer}",
    )
    if same_profile(previous, profile):
        run.emit(Step.COMMIT, "skipped", "the profile is already exactly this one")
        return ApplyResult(
            Result.UNCHANGED,
            profile,
            previous,
            previous,
            previous,
            None,
            None,
            (),
            tuple(run.events),
            warnings=tuple(warns),
        )

    read_back: JwtProfile | None = None
    try:
        read_back = write_profile(repo, profile, previous, schema=schema, run=run)
        run_step(run, Step.COMMIT, "committing", repo.commit)
    except StepFailure as failure:
        run.emit(failure.step, "failed", failure.message)
        restored, final, restore_msg = _restore(repo, previous, schema, run)
        return ApplyResult(
            result=Result.FAILED_RESTORED if restored else Result.FAILED_RESTORE_FAILED,
            requested=profile,
            previous=previous,
            read_back=failure.read_back,
            final=final,
            failure=failure.message,
            restore=restore_msg,
            mismatches=failure.mismatches,
            steps=tuple(run.events),
            warnings=tuple(warns),
            restore_script=None if restored else profile_restore_script(repo, previous, schema),
        )
    return ApplyResult(
        result=Result.APPLIED,
        requested=profile,
        previous=previous,
        read_back=read_back,
        final=read_back,
        failure=None,
        restore=None,
        mismatches=(),
        steps=tuple(run.events),
        warnings=tuple(warns),
    )


def write_profile(
    repo: OrdsRepository,
    profile: JwtProfile,
    previous: JwtProfile | None,
    *,
    schema: str | None,
    run: StepRun,
) -> JwtProfile | None:
    """Delete ``previous`` (if any), create ``profile``, read it back and compare, without
    committing: the caller owns the transaction (commit, or undo on ``StepFailure``).

    Returns the read-back profile (equal to ``profile`` as the database sees it).
    """
    if previous is not None:
        run_step(
            run,
            Step.DELETE,
            "deleting the current profile",
            lambda: repo.delete_profile(schema),
        )
    else:
        run.emit(Step.DELETE, "skipped", "nothing to delete")
    run_step(
        run,
        Step.CREATE,
        "creating the new profile",
        lambda: repo.create_profile(profile, schema),
    )
    run.emit(Step.READ_BACK, "start", "reading the new profile back")
    try:
        read_back = repo.get_profile(schema)
    except Exception as exc:
        raise StepFailure(Step.READ_BACK, f"read-back failed: {one_line(exc)}") from exc
    mismatches = mismatched_fields(profile, read_back)
    if mismatches:
        raise StepFailure(
            Step.READ_BACK,
            "read-back differs from what was sent in: " + ", ".join(mismatches),
            read_back=read_back,
            mismatches=mismatches,
        )
    run.emit(Step.READ_BACK, "ok", "read-back matches")
    return read_back


def run_step(run: StepRun, step: Step, message: str, action: Callable[[], None]) -> None:
    """Emit ``start``, run ``action``, emit ``ok``; a failure becomes ``StepFailure``."""
    run.emit(step, "start", message)
    try:
        action()
    except Exception as exc:
        raise StepFailure(step, f"{step.value} failed: {one_line(exc)}") from exc
    run.emit(step, "ok", f"{step.value} done")


def roll_back(repo: OrdsRepository, run: StepRun) -> None:
    """The first step of every restore: roll the transaction back, reporting the outcome.

    A failure is reported, not raised: a dead session is rolled back by the database
    itself, and the verification that follows decides what is in place.
    """
    run.emit(Step.ROLLBACK, "start", "rolling back")
    try:
        repo.rollback()
        run.emit(Step.ROLLBACK, "ok", "rolled back")
    except Exception as exc:
        # A dead session is rolled back by the database itself; verification decides.
        run.emit(Step.ROLLBACK, "failed", f"rollback failed: {one_line(exc)}")


def _restore(
    repo: OrdsRepository, previous: JwtProfile | None, schema: str | None, run: StepRun
) -> tuple[bool, JwtProfile | None, str]:
    """Undo: rollback, verify, and re-create ``previous`` explicitly if still needed.

    Returns (restored, what the schema holds as far as known, message).
    """
    roll_back(repo, run)
    run.emit(Step.VERIFY_RESTORE, "start", "checking the previous profile is in place")
    try:
        now = repo.get_profile(schema)
    except Exception as exc:
        message = (
            f"could not verify the previous profile is in place: {one_line(exc)}; "
            "check with `token-inspector profile show`"
        )
        run.emit(Step.VERIFY_RESTORE, "failed", message)
        return False, None, message
    if same_profile(now, previous):
        message = "previous profile in place (rolled back)" if previous else "no profile, as before"
        run.emit(Step.VERIFY_RESTORE, "ok", message)
        return True, now, message
    run.emit(Step.VERIFY_RESTORE, "warn", "the rollback did not restore it: re-creating it")
    run.emit(Step.RESTORE, "start", "re-creating the previous profile")
    try:
        if now is not None:
            repo.delete_profile(schema)
        if previous is not None:
            repo.create_profile(previous, schema)
        repo.commit()
        after = repo.get_profile(schema)
    except Exception as exc:
        message = f"restoring the previous profile failed: {one_line(exc)}"
        run.emit(Step.RESTORE, "failed", message)
        # The failure above is what the user needs to see, not a second one.
        with contextlib.suppress(Exception):
            repo.rollback()
        return False, None, message
    if not same_profile(after, previous):
        message = (
            "restore left a profile where there was none"
            if previous is None
            else "restore read-back differs: " + ", ".join(mismatched_fields(previous, after))
        )
        run.emit(Step.RESTORE, "failed", message)
        return False, after, message
    message = "previous profile re-created" if previous else "removed the partial profile"
    run.emit(Step.RESTORE, "ok", message)
    return True, after, message


def profile_restore_script(
    repo: OrdsRepository, previous: JwtProfile | None, schema: str | None
) -> str | None:
    """PL/SQL a DBA can run by hand when the automatic restore failed, for the package this
    database has (the script picks it at run time when even that cannot be read now)."""
    try:
        api = repo.jwt_api()
    except Exception:  # the session may be gone: the script must still be usable
        api = None
    if previous is None:
        return plsql.delete_block(schema=schema, api=api)
    return plsql.script(
        previous, schema=schema, header=["restore the previous JWT profile"], api=api
    )


def _audit(
    audit: AuditLog | None,
    result: ApplyResult,
    proposal: Proposal,
    db_user: str | None,
    database: str | None,
) -> ApplyResult:
    """Append the audit line; a failed write becomes a warning on the result."""
    if audit is None:
        return result
    forced = () if result.result is Result.REFUSED else proposal.blocking_risks
    record = AuditRecord(
        time=now_iso(),
        os_user=os_user(),
        db_user=db_user,
        # ORDS_SECURITY acts on the connected user's own schema.
        schema=proposal.schema or (db_user.upper() if db_user else None),
        old_profile=result.previous,
        new_profile=result.requested,
        token_fingerprint=proposal.token_fingerprint,
        result=result.result.value,
        detail=audit_detail(result.failure, result.restore, [r.code for r in forced]),
        database=database,
    )
    warning = audit.append_or_warning(record)
    if warning is None:
        return result
    return dataclasses.replace(result, warnings=(*result.warnings, warning))
