"""``setup``'s runs: the plan, then each part on confirmation; ``rollback``; ``history``."""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack

from inspector.cli.profile_steps import (
    EXIT_OK,
    CommandError,
    config_of,
    connection_settings,
    emit,
    repository,
)
from inspector.cli.setup_steps import parts_of, start
from inspector.setup.plan import SetupPlan, plan_json, render_plan


def run_plan(args: argparse.Namespace) -> int:
    """Plan, show, and (unless ``--dry-run``) apply part by part on confirmation."""
    config = config_of(args)
    parts = parts_of(args)
    db = connection_settings(args, config) if "ords" in parts else None
    with ExitStack() as stack:
        repo = stack.enter_context(repository(db, args)) if db is not None else None
        begun = start(args, config, repo)
        skipped = {}
        if "ords" in parts and repo is None:
            skipped["ords"] = "no database: give --dsn and --user"
        plan = SetupPlan(begun.facts, parts, skipped)
        if args.json:
            emit(json.dumps(plan_json(plan), indent=2, ensure_ascii=True))
        else:
            emit(render_plan(plan))
        if args.dry_run:
            if not args.json:
                emit("dry run: nothing changed", err=True)
            return EXIT_OK
    raise CommandError("applying is not available yet: use --dry-run")


def run_rollback(args: argparse.Namespace) -> int:
    """``setup rollback [BACKUP]``."""
    raise CommandError("setup rollback is not available yet")


def run_history(args: argparse.Namespace) -> int:
    """``setup history``."""
    raise CommandError("setup history is not available yet")
