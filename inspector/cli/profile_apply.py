"""``token-inspector profile apply``: propose, check, confirm, apply, read back, audit."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from inspector.cli.profile_output import profile_lines, proposal_json, render_proposal
from inspector.cli.profile_steps import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_RESTORE_FAILED,
    CommandError,
    config_of,
    connection_settings,
    emit,
    make_proposal,
    repository,
)
from inspector.judge.engine import ords_config_from
from inspector.judge.ords_settings import pool_mode_refusal
from inspector.ords.apply import ApplyResult, Progress, Result, apply_proposal
from inspector.ords.audit import AuditLog
from inspector.ords.errors import one_line
from inspector.ords.proposal import (
    FORCE_UNVERIFIED_WARNING,
    Proposal,
    anchor_hint,
    unanchored_warning,
)
from inspector.schema_version import SCHEMA_VERSION
from inspector.settings import Settings
from parsers.printable import printable


def confirm(question: str) -> bool:
    """Ask on the terminal (stdin may hold the token, so fall back to /dev/tty)."""
    if sys.stdin.isatty():
        try:
            return input(question).strip().lower() in ("y", "yes")
        except EOFError:
            return False
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write(question)
            tty.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        raise CommandError("confirmation needs a terminal: run it on one, or pass --yes") from None


def unanchored_refusal(proposal: Proposal) -> str:
    """One line: the issuer is not anchored, and how to anchor it."""
    iss = proposal.proposed.issuer
    return (
        f"issuer {iss!r} is not anchored (not a trusted or expected issuer, nor the current "
        f"profile's); anyone who controls its keys could sign tokens ORDS accepts. "
        f"{anchor_hint(iss)}"
    )


def pool_refusal(config: Settings, proposal: Proposal) -> str | None:
    """Why no schema profile is offered: ORDS's settings say POOL mode (else None)."""
    ords = ords_config_from(config.ords)
    if ords is None or not ords.pool_mode:
        return None
    wanted = proposal.proposed
    return pool_mode_refusal(
        ords,
        config.ords.config_dir,
        issuer=wanted.issuer,
        audience=wanted.audience,
        jwk_url=wanted.jwk_url,
        role_claim=wanted.role_claim_name,
    )


def print_progress(event: Progress) -> None:
    if event.status == "start":
        return
    emit(f"  [{event.step.value}] {event.status}: {event.message}", err=True)


def apply_profile(args: argparse.Namespace) -> int:
    """``profile apply``: see the module's docstring; returns the exit status."""
    config = config_of(args)
    settings = connection_settings(args, config)
    if settings is None:
        raise CommandError(
            "no database: give --dsn and --user, or use `token-inspector profile sql`"
        )
    with repository(settings, args) as repo:
        try:
            proposal, chosen = make_proposal(args, config, repo)
        except CommandError:
            raise
        except Exception as exc:
            raise CommandError(one_line(exc)) from exc
        refusal = pool_refusal(config, proposal)
        if refusal is not None:
            raise CommandError(refusal)
        if args.json and args.dry_run:
            doc = {"schema_version": SCHEMA_VERSION, **proposal_json(proposal)}
            emit(json.dumps(doc, indent=2, ensure_ascii=True))
            return EXIT_OK
        if not args.json:
            emit(render_proposal(proposal, chosen.token, args.show_token))
            emit("")
        blocking = proposal.blocking_risks
        # An unanchored issuer alone may be accepted by a second confirmation on a terminal.
        confirmable = proposal.needs_trust_confirmation
        force = bool(args.force_unverified)
        if blocking and not force and not confirmable:
            for risk in blocking:
                emit(f"refused: {risk.message}", err=True)
            emit(
                "refused: the profile would trust what this token says; pass "
                "--force-unverified only if you know where it came from",
                err=True,
            )
        if blocking and force:
            if confirmable:
                emit(f"WARNING: {unanchored_warning(proposal.proposed.issuer)}", err=True)
            else:
                emit(f"WARNING: {FORCE_UNVERIFIED_WARNING}", err=True)
        if args.dry_run:
            if confirmable and not force:
                emit(f"note: {unanchored_refusal(proposal)}", err=True)
            emit("dry run: nothing changed", err=True)
            return EXIT_OK
        if not proposal.changed:
            emit("the profile is already exactly this one: nothing to do", err=True)
            return EXIT_OK
        if confirmable and not force:
            if args.yes:
                # Refused by the apply itself too, so the audit file records the attempt.
                refused = apply_proposal(
                    repo,
                    proposal,
                    audit=AuditLog(args.audit_file),
                    db_user=settings.user,
                    database=settings.dsn,
                )
                if args.json:
                    report_result(refused, True)
                emit(f"refused: {unanchored_refusal(proposal)}", err=True)
                return EXIT_FAILED
            if not confirm("Apply this profile? [y/N] "):
                emit("not applied", err=True)
                return EXIT_FAILED
            emit(f"WARNING: {unanchored_warning(proposal.proposed.issuer)}", err=True)
            question = (
                f"Trust issuer {proposal.proposed.issuer!r}? ORDS will accept every token "
                "it signs. Type yes to trust it [y/N] "
            )
            if not confirm(printable(question)):
                emit("not applied", err=True)
                return EXIT_FAILED
            force = True
        elif not (blocking and not force) and not args.yes:
            if not confirm("Apply this profile? [y/N] "):
                emit("not applied", err=True)
                return EXIT_FAILED
            if blocking and not confirm("The token is NOT verified/trusted. Really? [y/N] "):
                emit("not applied", err=True)
                return EXIT_FAILED
        result = apply_proposal(
            repo,
            proposal,
            force_unverified=force,
            progress=None if args.json else print_progress,
            audit=AuditLog(args.audit_file),
            db_user=settings.user,
            database=settings.dsn,
        )
    return report_result(result, args.json)


def report_result(result: ApplyResult, as_json: bool) -> int:
    status = {
        Result.APPLIED: EXIT_OK,
        Result.UNCHANGED: EXIT_OK,
        Result.REFUSED: EXIT_FAILED,
        Result.FAILED_UNCHANGED: EXIT_FAILED,
        Result.FAILED_RESTORED: EXIT_FAILED,
        Result.FAILED_RESTORE_FAILED: EXIT_RESTORE_FAILED,
    }[result.result]
    if as_json:
        emit(
            json.dumps(
                {
                    "schema_version": SCHEMA_VERSION,
                    "result": result.result.value,
                    "previous": asdict(result.previous) if result.previous else None,
                    "requested": asdict(result.requested),
                    "read_back": asdict(result.read_back) if result.read_back else None,
                    "failure": result.failure,
                    "restore": result.restore,
                    # When the automatic restore failed: what the schema holds as far as
                    # known, and the PL/SQL that puts the previous profile back by hand.
                    "final": asdict(result.final) if result.final else None,
                    "restore_script": result.restore_script,
                    "warnings": list(result.warnings),
                    "steps": [
                        {"step": e.step.value, "status": e.status, "message": e.message}
                        for e in result.steps
                    ],
                },
                indent=2,
                ensure_ascii=True,
            )
        )
        return status
    for warning in result.warnings:
        already = (FORCE_UNVERIFIED_WARNING, unanchored_warning(result.requested.issuer))
        if warning not in already:
            emit(f"warning: {warning}", err=True)
    if result.ok:
        emit(f"{result.result.value}: the profile now reads back as:")
        emit("\n".join(profile_lines(result.final)))
        return status
    emit(f"{result.result.value}: {result.failure}", err=True)
    if result.restore:
        emit(f"restore: {result.restore}", err=True)
    if result.restore_script:
        emit("run this to restore the previous profile by hand:", err=True)
        emit(result.restore_script, err=True)
    return status
