"""``setup rollback [BACKUP]`` and ``setup history``: the nginx backups setup keeps.

Every apply (and every rollback) leaves a backup set: the files as they were, a manifest
saying what was written and how the run ended. ``history`` lists them newest first;
``rollback`` puts one set's files back, tests and reloads nginx (itself undone when that
fails).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inspector.cli.profile_apply import confirm
from inspector.cli.profile_steps import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_RESTORE_FAILED,
    CommandError,
    config_of,
    emit,
)
from inspector.cli.setup_steps import nginx_control
from inspector.schema_version import SCHEMA_VERSION
from inspector.setup.audit import SetupAudit
from inspector.setup.backups import BackupSet, default_backup_dir, list_backups
from inspector.setup.model import SetupProgress
from inspector.setup.nginx_apply import NginxResult, rollback
from inspector.setup.plan_output import line


def _backups(args: argparse.Namespace) -> tuple[Path, list[BackupSet]]:
    config = config_of(args)
    where = config.setup.backup_dir or default_backup_dir()
    return where, list_backups(where)


def _summary(backup: BackupSet) -> dict[str, object]:
    return {
        "backup": backup.directory.name,
        "time": backup.time,
        "kind": backup.kind,
        "result": backup.result,
        "config": backup.config,
        "files": [str(f.path) for f in backup.files],
        "failure": backup.failure,
        "rolls_back": backup.rolls_back,
    }


def run_history(args: argparse.Namespace) -> int:
    """List the backup sets, newest first."""
    where, found = _backups(args)
    if args.json:
        doc = {"schema_version": SCHEMA_VERSION, "backups": [_summary(b) for b in found]}
        emit(json.dumps(doc, indent=2, ensure_ascii=True))
        return EXIT_OK
    if not found:
        emit(f"no setup backups in {line(str(where))}")
        return EXIT_OK
    for backup in found:
        files = ", ".join(str(f.path) for f in backup.files)
        extra = f" (rolls back {backup.rolls_back})" if backup.rolls_back else ""
        emit(
            line(f"{backup.directory.name}  {backup.kind} {backup.result}{extra}: {files}")
            + (f"\n    {line(backup.failure)}" if backup.failure else "")
        )
    return EXIT_OK


def _chosen(args: argparse.Namespace, found: list[BackupSet], where: Path) -> BackupSet:
    if args.backup is None:
        # The newest run that changed something: a rollback undoes the last apply.
        usable = [b for b in found if b.result in (NginxResult.APPLIED.value, "in-progress")]
        if not usable:
            raise CommandError(f"no applied setup to roll back in {where}")
        return usable[0]
    for backup in found:
        if backup.directory.name == args.backup:
            return backup
    raise CommandError(f"no backup {args.backup!r} in {where} (see: token-inspector setup history)")


def _show(event: SetupProgress) -> None:
    if event.status != "start":
        emit(f"  [{event.step}] {event.status}: {line(event.message)}", err=True)


def run_rollback(args: argparse.Namespace) -> int:
    """Put back the files of a backup set (the newest applied one by default)."""
    config = config_of(args)
    where, found = _backups(args)
    backup = _chosen(args, found, where)
    if backup.config is None:
        raise CommandError(f"backup {backup.directory.name} does not name its configuration")
    files = ", ".join(str(f.path) for f in backup.files)
    emit(f"rolling back {line(backup.directory.name)} ({line(backup.kind)}): {line(files)}")
    if args.dry_run:
        emit("dry run: nothing changed", err=True)
        return EXIT_OK
    if not args.yes and not confirm("Put these files back and reload nginx? [y/N] "):
        emit("not rolled back", err=True)
        return EXIT_FAILED
    done = rollback(
        backup.directory,
        nginx_control(config, Path(backup.config)),
        audit=SetupAudit(args.audit_file),
        progress=None if args.json else _show,
    )
    if args.json:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "backup": backup.directory.name,
            "result": done.result.value,
            "new_backup": str(done.backup) if done.backup else None,
            "failure": done.failure,
            "restore": done.restore,
        }
        emit(json.dumps(doc, indent=2, ensure_ascii=True))
    else:
        emit(f"rollback: {done.result.value}" + (f": {line(done.failure)}" if done.failure else ""))
        if done.nginx_output:
            emit(f"nginx said: {line(done.nginx_output)}", err=True)
        if done.restore:
            emit(f"restore: {line(done.restore)}", err=True)
    if done.ok:
        return EXIT_OK
    return EXIT_RESTORE_FAILED if done.result is NginxResult.FAILED_RESTORE_FAILED else EXIT_FAILED
