"""``setup``'s run: plan, show, then each part on confirmation, stopping at the first
failure (what failed is already rolled back by its applier)."""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from typing import Any

from inspector.cli.profile_apply import confirm
from inspector.cli.profile_steps import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_RESTORE_FAILED,
    config_of,
    connection_settings,
    emit,
    repository,
)
from inspector.cli.setup_parts import (
    NGINX_DECLINED,
    NGINX_QUESTION,
    ORDS_DECLINED,
    apply_in_order,
    apply_nginx_part,
    ords_question,
)
from inspector.cli.setup_steps import parts_of, plan_for, start
from inspector.ords.apply import Progress, Result
from inspector.ords.audit import AuditLog
from inspector.ords.connection import ConnectionSettings
from inspector.ords.database import OrdsRepository
from inspector.ords.grants import AuthorizationResult, apply_authorization
from inspector.settings import Settings
from inspector.setup.audit import SetupAudit
from inspector.setup.model import SetupProgress
from inspector.setup.nginx_apply import NginxApplyResult, NginxResult
from inspector.setup.plan import SetupPlan
from inspector.setup.plan_output import line, plan_json, render_plan, scrub

_NGINX_STATUS = {
    NginxResult.APPLIED: EXIT_OK,
    NginxResult.UNCHANGED: EXIT_OK,
    NginxResult.FAILED_RESTORE_FAILED: EXIT_RESTORE_FAILED,
}
_ORDS_STATUS = {
    Result.APPLIED: EXIT_OK,
    Result.UNCHANGED: EXIT_OK,
    Result.FAILED_RESTORE_FAILED: EXIT_RESTORE_FAILED,
}


def _show_nginx_step(event: SetupProgress) -> None:
    if event.status != "start":
        emit(f"  [nginx: {event.step}] {event.status}: {line(event.message)}", err=True)


def _show_ords_step(event: Progress) -> None:
    if event.status != "start":
        emit(f"  [ords: {event.step.value}] {event.status}: {line(event.message)}", err=True)


def run_plan(args: argparse.Namespace) -> int:
    """Plan, show, and (unless ``--dry-run``) apply part by part on confirmation."""
    config = config_of(args)
    parts = parts_of(args)
    db = connection_settings(args, config) if "ords" in parts else None
    with ExitStack() as stack:
        repo = stack.enter_context(repository(db, args)) if db is not None else None
        begun = start(args, config, repo)
        plan = plan_for(args, config, begun, repo)
        if not args.json:
            emit(render_plan(plan))
            emit("")
        if args.dry_run:
            if args.json:
                emit(json.dumps(plan_json(plan), indent=2, ensure_ascii=True))
            else:
                emit("dry run: nothing changed", err=True)
            return EXIT_OK
        results: dict[str, Any] = {}
        status = _apply_parts(args, config, plan, repo, db, results)
    if args.json:
        doc = {**plan_json(plan), "results": scrub(results)}
        emit(json.dumps(doc, indent=2, ensure_ascii=True))
    return status


def _asked(args: argparse.Namespace, question: str) -> bool:
    return bool(args.yes) or confirm(question)


def _apply_parts(
    args: argparse.Namespace,
    config: Settings,
    plan: SetupPlan,
    repo: OrdsRepository | None,
    db: ConnectionSettings | None,
    results: dict[str, Any],
) -> int:
    # A blocked part would leave the server half set up: nothing is applied then.
    if plan.blockers:
        for blocker in plan.blockers:
            emit(f"refused: {line(blocker)}", err=True)
        emit("nothing changed: fix what blocks, or leave that part out with --only", err=True)
        results["refused"] = list(plan.blockers)
        return EXIT_FAILED
    if not (plan.nginx_applicable or plan.ords_applicable):
        emit("nothing to change", err=True)
    status = EXIT_OK

    def ords_part() -> bool:
        nonlocal status
        if repo is None or db is None:
            return True
        status = _apply_ords(args, plan, repo, db, results)
        return status == EXIT_OK

    def nginx_part() -> bool:
        nonlocal status
        status = _apply_nginx(args, config, plan, results)
        return status == EXIT_OK

    # ORDS first: see inspector/cli/setup_parts.py for why.
    apply_in_order(plan, ords=ords_part, nginx=nginx_part)
    return status


def _apply_nginx(
    args: argparse.Namespace, config: Settings, plan: SetupPlan, results: dict[str, Any]
) -> int:
    if not _asked(args, f"{NGINX_QUESTION} [y/N] "):
        emit(NGINX_DECLINED, err=True)
        results["nginx"] = {"result": "declined"}
        return EXIT_FAILED
    done = apply_nginx_part(
        config,
        plan,
        confirm_reload=None if args.yes else lambda q: confirm(f"{q} [y/N] "),
        audit=SetupAudit(args.audit_file),
        progress=None if args.json else _show_nginx_step,
    )
    results["nginx"] = _nginx_json(done)
    _report("nginx", done.result.value, done.failure, done.restore, done.nginx_output)
    return EXIT_OK if done.ok else _NGINX_STATUS.get(done.result, EXIT_FAILED)


def _apply_ords(
    args: argparse.Namespace,
    plan: SetupPlan,
    repo: OrdsRepository,
    db: ConnectionSettings,
    results: dict[str, Any],
) -> int:
    assert plan.ords is not None
    profile = plan.profile
    if profile is not None and profile.blocking_risks and not args.force_unverified:
        for risk in profile.blocking_risks:
            emit(f"refused: {line(risk.message)}", err=True)
        emit(
            "refused: the ORDS part would make ORDS trust what this token says; anchor "
            "its issuer (--trusted-issuer) or pass --force-unverified",
            err=True,
        )
        results["ords"] = {"result": "refused"}
        return EXIT_FAILED
    if not _asked(args, f"{ords_question(with_profile=profile is not None)} [y/N] "):
        emit(ORDS_DECLINED, err=True)
        results["ords"] = {"result": "declined"}
        return EXIT_FAILED
    granted = apply_authorization(
        repo,
        plan.ords,
        proposal=profile,
        force_unverified=bool(args.force_unverified),
        progress=None if args.json else _show_ords_step,
        audit=AuditLog(None),
        db_user=db.user,
        database=db.dsn,
    )
    results["ords"] = _ords_json(granted)
    _report("ords", granted.result.value, granted.failure, granted.restore, None)
    if granted.restore_script:
        emit("run this to restore the previous state by hand:", err=True)
        emit(granted.restore_script, err=True)
    return EXIT_OK if granted.ok else _ORDS_STATUS.get(granted.result, EXIT_FAILED)


def _report(
    part: str, result: str, failure: str | None, restore: str | None, output: str | None
) -> None:
    emit(f"{part}: {result}" + (f": {line(failure)}" if failure else ""), err=True)
    if output:
        emit(f"{part}: nginx said: {line(output)}", err=True)
    if restore:
        emit(f"{part}: restore: {line(restore)}", err=True)


def _nginx_json(done: NginxApplyResult) -> dict[str, Any]:
    return {
        "result": done.result.value,
        "backup": str(done.backup) if done.backup else None,
        "failure": done.failure,
        "nginx_output": done.nginx_output,
        "restore": done.restore,
        "probe": None
        if done.probe is None
        else {
            "ok": done.probe.ok,
            "passed": list(done.probe.passed),
            "failures": list(done.probe.failures),
            "preexisting": list(done.probe.preexisting),
        },
        "warnings": list(done.warnings),
        "steps": [{"step": s.step, "status": s.status, "message": s.message} for s in done.steps],
    }


def _ords_json(granted: AuthorizationResult) -> dict[str, Any]:
    return {
        "result": granted.result.value,
        "failure": granted.failure,
        "restore": granted.restore,
        "restore_script": granted.restore_script,
        "warnings": list(granted.warnings),
        "steps": [
            {"step": e.step.value, "status": e.status, "message": e.message} for e in granted.steps
        ],
    }
