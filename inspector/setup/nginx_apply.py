"""Change nginx's configuration as one transaction: back up, write, test, reload, probe.

Steps: check that no file changed since it was planned, make a backup set (copies and a
manifest, before anything else is touched), write the files, ``nginx -t`` the real
configuration with them in place, ask before reloading, reload, and poll the probe until
the new workers answer as planned. Any failure restores every file byte for byte (new files
and directories removed) and, when nginx was already told to reload, tests and reloads the
previous configuration again. An interrupt is handled the same way before it goes up.
Every run appends one audit record; the backup set stays for ``rollback``.

Modelled on ``inspector/ords/apply.py`` (every step reported, restore verified) and on
certbot's nginx plugin (test before reload, revert the files on a failed test).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from inspector.private_files import create_new
from inspector.setup.audit import AuditedFile, SetupAudit, SetupAuditRecord, now_iso, os_user
from inspector.setup.backups import (
    BackupSet,
    PlannedFile,
    create_backup_set,
    exclusive,
    finish,
    list_backups,
    read_backup_set,
    restore_files,
)
from inspector.setup.config_files import (
    create_log_file,
    encode,
    make_directory,
    missing_directories,
    read_state,
    remove_if_empty,
    remove_path,
    replace_file,
    sha256,
)
from inspector.setup.model import (
    Confirm,
    FileChange,
    Probe,
    ProbeOutcome,
    ProgressStatus,
    SetupProgress,
)
from inspector.setup.nginx_control import CommandOutcome, NginxControl

__all__ = [
    "NginxApplyResult",
    "NginxResult",
    "NginxStep",
    "apply_nginx",
    "list_backups",
    "rollback",
]

ProgressFn = Callable[[SetupProgress], None]
# Between two probes while the old workers finish: short, since a probe is a request to
# loopback or the user's own server, and the window bounds the whole wait anyway.
_PROBE_INTERVAL = 0.2


class NginxStep(StrEnum):
    """The steps of an apply or rollback (``restore*`` only run after a failure)."""

    CHECK = "check"
    BACKUP = "backup"
    WRITE = "write"
    TEST = "nginx -t"
    CONFIRM = "confirm"
    RELOAD = "reload"
    PROBE = "probe"
    RESTORE = "restore"
    RESTORE_TEST = "restore: nginx -t"
    RESTORE_RELOAD = "restore: reload"
    RECORD = "record"


class NginxResult(StrEnum):
    """How an apply or rollback ended (also the audit record's and manifest's ``result``).

    ``REFUSED``: nothing written (a file changed since it was planned, a link planted).
    ``FAILED_UNCHANGED``: the backup could not be made, so nothing was written.
    ``DECLINED``: the user said no to the reload; the files are restored.
    """

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    DECLINED = "declined"
    REFUSED = "refused"
    FAILED_UNCHANGED = "failed-unchanged"
    FAILED_RESTORED = "failed-restored"
    FAILED_RESTORE_FAILED = "failed-restore-failed"


@dataclass(frozen=True, slots=True)
class NginxApplyResult:
    """The outcome. ``nginx_output`` is nginx's own error text when a test or reload failed
    (the one place to read why); ``failure`` is one line; ``restore`` says what the restore
    left when it did not succeed, with the manual steps."""

    result: NginxResult
    steps: tuple[SetupProgress, ...]
    backup: Path | None
    failure: str | None
    nginx_output: str | None
    probe: ProbeOutcome | None
    restore: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the planned configuration is in force (or already was)."""
        return self.result in (NginxResult.APPLIED, NginxResult.UNCHANGED)


@dataclass(frozen=True, slots=True)
class _Op:
    """One file to write (``data``) or remove (``data is None``).

    ``keep`` is the (mode, uid, gid) to give it; ``None`` keeps an existing file's own and
    gives a new file ``mode``.
    """

    path: Path
    target: Path
    data: bytes | None
    mode: int = 0o644
    keep: tuple[int, int, int] | None = None


class _Run:
    """The event log of one run and its progress callback."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self.progress = progress
        self.events: list[SetupProgress] = []
        # Set once the reload command ran (even if it failed: nginx may have had the
        # signal): from then on a restore must reload the previous files too.
        self.reload_sent = False
        # The token log this run created: a restore removes it while it is still empty.
        self.created_log: Path | None = None

    def emit(self, step: NginxStep, status: ProgressStatus, message: str) -> None:
        event = SetupProgress(step.value, status, message)
        self.events.append(event)
        if self.progress is not None:
            # A broken display must not stop a restore halfway.
            with contextlib.suppress(Exception):
                self.progress(event)


class _Failed(Exception):
    def __init__(self, step: NginxStep, message: str, output: str | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.message = message
        self.output = output


def _first_error(outcome: CommandOutcome) -> str:
    """nginx's ``[emerg]`` line when there is one, else how the command ended."""
    for line in outcome.output.splitlines():
        if "[emerg]" in line or "[crit]" in line:
            return line.strip()
    return outcome.describe()


# -- planning the operations ------------------------------------------------------------------


def _plan_ops(changes: Sequence[FileChange]) -> tuple[list[_Op], list[str]]:
    """The writes for ``changes`` that change something, and why the run must be refused."""
    ops: list[_Op] = []
    problems: list[str] = []
    seen: set[Path] = set()
    for change in changes:
        if not change.changed:
            continue
        path = change.path
        if not path.is_absolute():
            problems.append(f"{path}: not an absolute path")
            continue
        if path in seen:
            problems.append(f"{path}: planned twice")
            continue
        seen.add(path)
        if change.before is None:
            if os.path.lexists(path):
                what = "a symbolic link" if path.is_symlink() else "a file"
                problems.append(f"{path}: {what} is there now, planned as a new file")
                continue
            ops.append(_Op(path, path, encode(change.after), mode=change.mode))
            continue
        try:
            state = read_state(path)
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
            continue
        if state is None:
            problems.append(f"{path}: removed since it was planned")
            continue
        if not _same_text(state.data, change.before):
            problems.append(f"{path}: changed since it was planned (plan again)")
            continue
        # A configuration file reached through a link (sites-enabled/x -> ../sites-available/x)
        # is written where the link points: replacing the link would break the user's layout.
        target = Path(os.path.realpath(path))
        ops.append(_Op(path, target, encode(change.after)))
    return ops, problems


def _same_text(data: bytes, planned: str) -> bool:
    if data == encode(planned):
        return True
    # The planner may have read the file in text mode (CRLF became LF).
    text = data.decode("utf-8", "surrogateescape")
    return text.replace("\r\n", "\n").replace("\r", "\n") == planned


def _dirs_to_create(ops: Sequence[_Op]) -> list[Path]:
    dirs: list[Path] = []
    for op in ops:
        if op.data is not None:
            for directory in missing_directories(op.target):
                if directory not in dirs:
                    dirs.append(directory)
    return dirs


# -- the transaction --------------------------------------------------------------------------


def apply_nginx(
    changes: Sequence[FileChange],
    control: NginxControl,
    *,
    backups: Path,
    probe: Probe | None = None,
    confirm_reload: Confirm | None = None,
    audit: SetupAudit | None = None,
    progress: ProgressFn | None = None,
    probe_window: float = 10.0,
    new_log: Path | None = None,
) -> NginxApplyResult:
    """Write ``changes`` into the real configuration, test it, reload nginx, probe it.

    Refused (nothing written) when a file differs from its ``FileChange.before`` (someone
    edited it since the plan) or something now stands where a new file goes. Otherwise a
    backup set is made under ``backups`` first; every failure after that restores it.
    ``confirm_reload`` is asked once ``nginx -t`` passed (``None``: yes); ``probe`` is polled
    for at most ``probe_window`` seconds after the reload. ``new_log`` (the plan's new token
    log) is created empty and private before ``nginx -t``, which would otherwise create it
    with nginx's umask; a failed run removes it again while it is still empty.
    """
    run = _Run(progress)
    with exclusive(backups) as busy:
        if busy is not None:
            return _busy(run, audit, "nginx-apply", control, busy)
        return _apply_locked(
            changes, control, backups, probe, confirm_reload, audit, run, probe_window, new_log
        )


def _busy(
    run: _Run, audit: SetupAudit | None, action: str, control: NginxControl, why: str
) -> NginxApplyResult:
    message = f"refused, nothing written: {why}"
    run.emit(NginxStep.CHECK, "failed", message)
    return _audit(audit, action, control, [], _result(run, NginxResult.REFUSED, message))


def _apply_locked(
    changes: Sequence[FileChange],
    control: NginxControl,
    backups: Path,
    probe: Probe | None,
    confirm_reload: Confirm | None,
    audit: SetupAudit | None,
    run: _Run,
    probe_window: float,
    new_log: Path | None = None,
) -> NginxApplyResult:
    ops, problems = _plan_ops(changes)
    if problems:
        message = "refused, nothing written: " + "; ".join(problems)
        run.emit(NginxStep.CHECK, "failed", message)
        return _audit(
            audit, "nginx-apply", control, ops, _result(run, NginxResult.REFUSED, message)
        )
    if not ops:
        run.emit(NginxStep.CHECK, "skipped", "every planned file already holds its new text")
        return _audit(audit, "nginx-apply", control, ops, _result(run, NginxResult.UNCHANGED))
    run.emit(NginxStep.CHECK, "ok", f"{len(ops)} file(s) to write, none changed since planned")
    return _transaction(
        ops,
        _dirs_to_create(ops),
        [],
        control,
        kind="apply",
        backups=backups,
        probe=probe,
        confirm_reload=confirm_reload,
        audit=audit,
        run=run,
        probe_window=probe_window,
        new_log=new_log,
    )


def rollback(
    backup: Path,
    control: NginxControl,
    *,
    probe: Probe | None = None,
    audit: SetupAudit | None = None,
    progress: ProgressFn | None = None,
    force: bool = False,
    probe_window: float = 10.0,
) -> NginxApplyResult:
    """Put back the files a kept backup set saved, test, reload (and probe when given).

    Itself a transaction with its own backup set (next to ``backup``), so a rollback that
    fails its test is undone and can be rolled back in turn. Refused when a file is neither
    as the set left it nor as it was before (edited since: ``force`` overrides); files that
    are already as before are left alone. An interrupted apply (manifest ``in-progress``)
    rolls back the same way.
    """
    run = _Run(progress)
    with exclusive(backup.parent) as busy:
        if busy is not None:
            return _busy(run, audit, "nginx-rollback", control, busy)
        return _rollback_locked(backup, control, probe, audit, run, force, probe_window)


def _rollback_locked(
    backup: Path,
    control: NginxControl,
    probe: Probe | None,
    audit: SetupAudit | None,
    run: _Run,
    force: bool,
    probe_window: float,
) -> NginxApplyResult:
    try:
        saved = read_backup_set(backup)
    except ValueError as exc:
        message = f"refused: {exc}"
        run.emit(NginxStep.CHECK, "failed", message)
        return _audit(
            audit, "nginx-rollback", control, [], _result(run, NginxResult.REFUSED, message)
        )
    ops: list[_Op] = []
    problems: list[str] = []
    for entry in saved.files:
        try:
            state = read_state(entry.target)
        except OSError as exc:
            problems.append(f"{entry.target}: {exc.strerror or exc}")
            continue
        current = sha256(state.data) if state is not None else None
        if current == entry.sha256_before:
            continue
        if current != entry.sha256_after and not force:
            problems.append(f"{entry.target}: changed since the backup was made (force overrides)")
            continue
        if not entry.existed:
            ops.append(_Op(entry.path, entry.target, None))
            continue
        try:
            data = saved.copy_data(entry)
        except (OSError, ValueError) as exc:
            problems.append(f"{entry.target}: {exc}")
            continue
        keep = None
        if entry.mode is not None and entry.uid is not None and entry.gid is not None:
            keep = (entry.mode, entry.uid, entry.gid)
        ops.append(_Op(entry.path, entry.target, data, mode=entry.mode or 0o644, keep=keep))
    if problems:
        message = "refused, nothing written: " + "; ".join(problems)
        run.emit(NginxStep.CHECK, "failed", message)
        return _audit(
            audit, "nginx-rollback", control, ops, _result(run, NginxResult.REFUSED, message)
        )
    remove_dirs = [d for d in saved.created_dirs if d.is_dir() and not d.is_symlink()]
    if not ops:
        run.emit(NginxStep.CHECK, "skipped", "every file is already as it was before")
        for directory in sorted(remove_dirs, key=lambda d: len(d.parts), reverse=True):
            with contextlib.suppress(OSError):
                directory.rmdir()
        return _audit(audit, "nginx-rollback", control, ops, _result(run, NginxResult.UNCHANGED))
    run.emit(NginxStep.CHECK, "ok", f"{len(ops)} file(s) to put back from {backup}")
    return _transaction(
        ops,
        [],
        remove_dirs,
        control,
        kind="rollback",
        backups=backup.parent,
        probe=probe,
        confirm_reload=None,
        audit=audit,
        run=run,
        probe_window=probe_window,
        rolls_back=str(backup),
        action="nginx-rollback",
    )


def _transaction(
    ops: list[_Op],
    make_dirs: list[Path],
    remove_dirs: list[Path],
    control: NginxControl,
    *,
    kind: str,
    backups: Path,
    probe: Probe | None,
    confirm_reload: Confirm | None,
    audit: SetupAudit | None,
    run: _Run,
    probe_window: float,
    rolls_back: str | None = None,
    action: str = "nginx-apply",
    new_log: Path | None = None,
) -> NginxApplyResult:
    run.emit(NginxStep.BACKUP, "start", f"saving the current files under {backups}")
    try:
        saved = create_backup_set(
            backups,
            [PlannedFile(op.path, op.target, op.data) for op in ops],
            kind=kind,
            config=str(control.config) if control.config is not None else None,
            created_dirs=make_dirs,
            removed_dirs=remove_dirs,
            rolls_back=rolls_back,
        )
    except (OSError, ValueError) as exc:
        message = f"backup failed, nothing written: {_reason(exc)}"
        run.emit(NginxStep.BACKUP, "failed", message)
        result = _result(run, NginxResult.FAILED_UNCHANGED, message)
        return _audit(audit, action, control, ops, result)
    run.emit(NginxStep.BACKUP, "ok", f"backup set {saved.directory}")

    try:
        outcome = _forward(
            ops, make_dirs, remove_dirs, control, probe, confirm_reload, run, probe_window, new_log
        )
    except _Failed as failed:
        declined = failed.step is NginxStep.CONFIRM
        run.emit(failed.step, "skipped" if declined else "failed", failed.message)
        restored, restore_message = _undo(saved, control, run, reload=run.reload_sent)
        if declined and restored:
            result_kind = NginxResult.DECLINED
        else:
            result_kind = (
                NginxResult.FAILED_RESTORED if restored else NginxResult.FAILED_RESTORE_FAILED
            )
        result = _result(
            run,
            result_kind,
            failed.message,
            backup=saved.directory,
            nginx_output=failed.output,
            probe=_last_probe(failed),
            restore=None if restored else restore_message,
        )
        return _finish(saved, audit, action, control, ops, result, run)
    except BaseException:
        # An interrupt (Ctrl-C at the prompt) or a bug: the old configuration goes back
        # before the exception does; the manifest says so.
        _undo(saved, control, run, reload=run.reload_sent)
        with contextlib.suppress(OSError):
            finish(saved, "interrupted", "interrupted; files restored")
        raise
    result = _result(run, NginxResult.APPLIED, backup=saved.directory, probe=outcome)
    return _finish(saved, audit, action, control, ops, result, run)


class _ProbeFailed(_Failed):
    def __init__(self, outcome: ProbeOutcome, message: str) -> None:
        super().__init__(NginxStep.PROBE, message)
        self.outcome = outcome


def _last_probe(failed: _Failed) -> ProbeOutcome | None:
    return failed.outcome if isinstance(failed, _ProbeFailed) else None


def _forward(
    ops: list[_Op],
    make_dirs: list[Path],
    remove_dirs: list[Path],
    control: NginxControl,
    probe: Probe | None,
    confirm_reload: Confirm | None,
    run: _Run,
    probe_window: float,
    new_log: Path | None = None,
) -> ProbeOutcome | None:
    """Write, test, confirm, reload, probe; raise ``_Failed`` at the first failure."""
    run.emit(NginxStep.WRITE, "start", f"writing {len(ops)} file(s)")
    try:
        for directory in make_dirs:
            make_directory(directory)
        for op in ops:
            _write(op)
        for directory in sorted(remove_dirs, key=lambda d: len(d.parts), reverse=True):
            directory.rmdir()
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _Failed(NginxStep.WRITE, f"writing failed: {where}{_reason(exc)}") from exc
    run.emit(NginxStep.WRITE, "ok", ", ".join(str(op.target) for op in ops))
    if new_log is not None:
        _create_log(new_log, run)

    run.emit(NginxStep.TEST, "start", shlex.join(control.test))
    tested = control.run_test()
    if not tested.ok:
        raise _Failed(NginxStep.TEST, f"nginx -t failed: {_first_error(tested)}", tested.output)
    # nginx -t passes with warnings (a conflicting server name, ignored directives): the
    # reload would too, so they are shown before the user is asked, not swallowed.
    for line in tested.output.splitlines():
        if "[warn]" in line:
            run.emit(NginxStep.TEST, "warn", line.strip())
    run.emit(NginxStep.TEST, "ok", "the configuration test passed")

    if confirm_reload is not None:
        question = (
            f"nginx -t accepts the configuration with {len(ops)} changed file(s). "
            f"Reload nginx now ({shlex.join(control.reload)})?"
        )
        if not confirm_reload(question):
            raise _Failed(NginxStep.CONFIRM, "reload declined: the previous files are back")
        run.emit(NginxStep.CONFIRM, "ok", "reload confirmed")

    run.emit(NginxStep.RELOAD, "start", shlex.join(control.reload))
    run.reload_sent = True
    reloaded = control.run_reload()
    if not reloaded.ok:
        raise _Failed(NginxStep.RELOAD, f"reload failed: {_first_error(reloaded)}", reloaded.output)
    run.emit(NginxStep.RELOAD, "ok", "nginx was told to reload")

    if probe is None:
        run.emit(NginxStep.PROBE, "skipped", "no probe given")
        return None
    run.emit(NginxStep.PROBE, "start", f"waiting up to {probe_window:g} s for the new workers")
    outcome = _poll(probe, probe_window)
    if not outcome.ok:
        reasons = "; ".join(outcome.failures) or "the probe did not pass"
        raise _ProbeFailed(outcome, f"probe failed after the reload: {reasons}")
    run.emit(NginxStep.PROBE, "ok", "; ".join(outcome.passed) or "the probe passed")
    for line in outcome.preexisting:
        run.emit(NginxStep.PROBE, "warn", line)
    return outcome


def _create_log(path: Path, run: _Run) -> None:
    """The token log, before ``nginx -t`` opens (and so creates) it with nginx's umask."""
    try:
        note = create_log_file(path)
    except FileExistsError:
        run.emit(NginxStep.WRITE, "skipped", f"{path}: already there, left as it is")
        return
    except FileNotFoundError:
        # Its directory is missing: nginx -t says so, with nginx's own words.
        run.emit(NginxStep.WRITE, "skipped", f"{path}: its directory does not exist")
        return
    except OSError as exc:
        raise _Failed(NginxStep.WRITE, f"creating {path} failed: {_reason(exc)}") from exc
    run.created_log = path
    run.emit(NginxStep.WRITE, "ok", f"{path}: created empty, mode 0640")
    if note is not None:
        run.emit(NginxStep.WRITE, "warn", note)


def _remove_created_log(run: _Run) -> None:
    path = run.created_log
    if path is None:
        return
    try:
        removed = remove_if_empty(path)
    except OSError as exc:
        run.emit(NginxStep.RESTORE, "warn", f"{path}: not removed: {_reason(exc)}")
        return
    if removed:
        run.emit(NginxStep.RESTORE, "ok", f"{path}: the token log this run created is removed")
    else:
        run.emit(NginxStep.RESTORE, "warn", f"{path}: kept, nginx wrote to it meanwhile")


def _poll(probe: Probe, window: float) -> ProbeOutcome:
    """Probe until it passes or ``window`` seconds are over: nginx reloads asynchronously,
    and until the old workers finish, some requests still meet the old configuration."""
    deadline = time.monotonic() + max(window, 0.0)
    while True:
        try:
            outcome = probe()
        except Exception as exc:
            outcome = ProbeOutcome(False, failures=(f"the probe raised {_reason(exc)}",))
        left = deadline - time.monotonic()
        if outcome.ok or left <= 0:
            return outcome
        time.sleep(min(_PROBE_INTERVAL, left))


def _write(op: _Op) -> None:
    if op.data is None:
        remove_path(op.target)
        return
    current = None if op.target.is_symlink() else read_state(op.target)
    if current is None:
        # New: O_EXCL | O_NOFOLLOW, so a link planted since the check is refused.
        if op.keep is not None:
            create_new(op.target, op.data, mode=op.keep[0], owner=(op.keep[1], op.keep[2]))
        else:
            create_new(op.target, op.data, mode=op.mode)
        return
    mode, uid, gid = op.keep if op.keep is not None else (current.mode, current.uid, current.gid)
    replace_file(op.target, op.data, mode=mode, uid=uid, gid=gid)


def _undo(saved: BackupSet, control: NginxControl, run: _Run, *, reload: bool) -> tuple[bool, str]:
    """Restore the files; when nginx was told to reload, test and reload them again.

    Returns (restored, what is left and how to finish by hand when it was not).
    """
    run.emit(NginxStep.RESTORE, "start", f"putting back the files from {saved.directory}")
    problems = restore_files(saved)
    manual = (
        f"the backup set is {saved.directory}; run `token-inspector setup rollback "
        f"{shlex.quote(str(saved.directory))}` or copy the files back by hand, then "
        f"`{control.describe()}`"
    )
    if problems:
        message = "restore incomplete: " + "; ".join(problems) + f"; {manual}"
        run.emit(NginxStep.RESTORE, "failed", message)
        return False, message
    run.emit(NginxStep.RESTORE, "ok", "every file is byte for byte as before")
    if not reload:
        _remove_created_log(run)
        return True, "files restored"
    run.emit(NginxStep.RESTORE_TEST, "start", shlex.join(control.test))
    tested = control.run_test()
    if not tested.ok:
        message = (
            "the previous files are back but nginx -t fails on them, so nginx was not "
            f"reloaded and may still run the new configuration: {_first_error(tested)}; "
            f"fix the configuration, then `{control.describe()}`"
        )
        run.emit(NginxStep.RESTORE_TEST, "failed", message)
        return False, message
    run.emit(NginxStep.RESTORE_TEST, "ok", "the previous configuration tests fine")
    run.emit(NginxStep.RESTORE_RELOAD, "start", shlex.join(control.reload))
    reloaded = control.run_reload()
    if not reloaded.ok:
        message = (
            "the previous files are back and test fine, but reloading nginx failed, so it "
            f"may still run the new configuration: {_first_error(reloaded)}; "
            f"reload by hand: `{shlex.join(control.reload)}`"
        )
        run.emit(NginxStep.RESTORE_RELOAD, "failed", message)
        return False, message
    run.emit(NginxStep.RESTORE_RELOAD, "ok", "nginx was told to reload the previous configuration")
    # Only now: while the new configuration might still run, nginx may hold the file open.
    _remove_created_log(run)
    return True, "files restored and reloaded"


def _result(
    run: _Run,
    result: NginxResult,
    failure: str | None = None,
    *,
    backup: Path | None = None,
    nginx_output: str | None = None,
    probe: ProbeOutcome | None = None,
    restore: str | None = None,
) -> NginxApplyResult:
    return NginxApplyResult(
        result=result,
        steps=tuple(run.events),
        backup=backup,
        failure=failure,
        nginx_output=nginx_output,
        probe=probe,
        restore=restore,
    )


def _finish(
    saved: BackupSet,
    audit: SetupAudit | None,
    action: str,
    control: NginxControl,
    ops: Sequence[_Op],
    result: NginxApplyResult,
    run: _Run,
) -> NginxApplyResult:
    """Record the result in the manifest and the audit file (failures become warnings)."""
    warnings: list[str] = []
    try:
        finish(saved, result.result.value, result.restore or result.failure)
    except OSError as exc:
        warning = f"could not record the result in {saved.manifest}: {_reason(exc)}"
        run.emit(NginxStep.RECORD, "warn", warning)
        warnings.append(warning)
    result = _with(result, run, warnings)
    return _audit(audit, action, control, ops, result, saved=saved)


def _with(result: NginxApplyResult, run: _Run, warnings: list[str]) -> NginxApplyResult:
    return NginxApplyResult(
        result=result.result,
        steps=tuple(run.events),
        backup=result.backup,
        failure=result.failure,
        nginx_output=result.nginx_output,
        probe=result.probe,
        restore=result.restore,
        warnings=(*result.warnings, *warnings),
    )


def _audit(
    audit: SetupAudit | None,
    action: str,
    control: NginxControl,
    ops: Sequence[_Op],
    result: NginxApplyResult,
    *,
    saved: BackupSet | None = None,
) -> NginxApplyResult:
    """Append the audit line; a failed write becomes a warning on the result."""
    if audit is None:
        return result
    if saved is not None:
        files = tuple(
            AuditedFile(str(f.target), f.sha256_before, f.sha256_after) for f in saved.files
        )
    else:
        files = tuple(AuditedFile(str(op.target), None, sha256(op.data)) for op in ops)
    record = SetupAuditRecord(
        time=now_iso(),
        os_user=os_user(),
        action=action,
        config=str(control.config) if control.config is not None else None,
        files=files,
        backup=str(saved.directory) if saved is not None else None,
        result=result.result.value,
        failure=result.restore or result.failure,
    )
    try:
        audit.append(record)
    except OSError as exc:
        warning = f"could not write the audit file {audit.path}: {_reason(exc)}"
        return NginxApplyResult(
            result=result.result,
            steps=(*result.steps, SetupProgress(NginxStep.RECORD.value, "warn", warning)),
            backup=result.backup,
            failure=result.failure,
            nginx_output=result.nginx_output,
            probe=result.probe,
            restore=result.restore,
            warnings=(*result.warnings, warning),
        )
    return result


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
