"""``token-inspector setup``: configure the server side a connector needs, step by step.

The plan comes first (nginx as a unified diff, ORDS as PL/SQL, the IdP admin's
checklist); nothing changes without a yes (or ``--yes``); ``--dry-run`` only prints it.
``setup rollback [BACKUP]`` puts nginx files back from a backup, ``setup history`` lists
the backups. The work is in ``setup_steps`` (facts and plan) and ``setup_apply``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from inspector.cli.help import HelpFormatter, examples
from inspector.cli.options import (
    add_config_option,
    add_database_options,
    add_key_options,
)
from inspector.cli.profile_steps import EXIT_USAGE, CommandError
from inspector.settings import IDP_CHOICES, MCP_REVISIONS

PARTS = ("ords", "nginx", "idp")
ACTIONS = ("rollback", "history")
NOTES = (
    "ORDS is set up first (the privilege makes ORDS answer 401, which nginx turns into "
    "the challenge), then nginx. Without --yes every change is asked for: the ORDS role, "
    "privilege and profile, the nginx files (then nginx -t), the reload. nginx is not "
    "written while the MCP module answers without a token. A failed test, reload or probe puts "
    "the previous nginx files back and reloads; a failed ORDS step restores the previous "
    "role, privilege and profile. The token log holds tokens without their signature "
    "unless --full-token-log. Exit status: 0 done (or nothing to change), 1 declined, "
    "refused or failed with the previous state restored, 2 usage, configuration or "
    "connection error, 3 failed and the previous state could NOT be restored."
)
EPILOG = examples(
    "token-inspector setup https://mcp.example.com/ords/hr/mcp/server --issuer "
    "https://login.microsoftonline.com/TENANT/v2.0 --role ORDSUsers --dry-run",
    "token-inspector setup --from-log /var/log/nginx/extended.log --dsn db_high --user HR",
    "token-inspector setup rollback",
    notes=NOTES,
)


def register(subparsers: Any) -> None:
    """Add the ``setup`` command (``setup rollback`` and ``setup history`` included)."""
    parser = subparsers.add_parser(
        "setup",
        help="configure nginx, ORDS and the IdP for connectors: plan, confirm, apply",
        description="Plan the server side a connector needs (nginx discovery documents, "
        "the 401 challenge and a token log without signatures; the ORDS role, privilege "
        "and JWT profile; the IdP admin's checklist), show it, and apply it step by step "
        "on confirmation with rollback on failure. 'setup rollback [BACKUP]' restores "
        "nginx files from a backup, 'setup history' lists the backups.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "url",
        nargs="?",
        metavar="MCP_URL|rollback|history",
        help="the MCP URL connectors are given (default: [doctor] url), or an action",
    )
    parser.add_argument(
        "backup", nargs="?", metavar="BACKUP", help="with rollback: the backup (default: newest)"
    )
    facts = parser.add_argument_group("what to set up for")
    facts.add_argument("--issuer", metavar="URL", help="the authorization server's issuer")
    facts.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="S",
        help="scope for the challenge and scopes_supported (repeatable; Entra default: "
        "<MCP URL>/mcp:connect)",
    )
    facts.add_argument("--role", metavar="R", help="the ORDS role the tokens carry")
    facts.add_argument("--privilege", metavar="P", help="the ORDS privilege protecting the module")
    facts.add_argument("--module", metavar="M", help="the ORDS module of the MCP URL")
    facts.add_argument("--idp", choices=IDP_CHOICES, default=None, help="IdP family (default auto)")
    source = facts.add_mutually_exclusive_group()
    source.add_argument(
        "--from-log", metavar="LOG", help="start from the newest verified token in this log"
    )
    source.add_argument(
        "--token",
        choices=["-"],
        metavar="-",
        help="read a token from standard input ('-' only: tokens never go on the command line)",
    )
    nginx = parser.add_argument_group("nginx")
    nginx.add_argument("--nginx-conf", type=Path, metavar="PATH", help="nginx configuration file")
    nginx.add_argument(
        "--snippet-dir",
        type=Path,
        metavar="DIR",
        help="where the new files go (default: [setup] snippet_dir, else beside nginx.conf)",
    )
    nginx.add_argument(
        "--token-log",
        type=Path,
        metavar="PATH",
        help="the token log file (default: [setup] token_log, else beside the log that "
        "records tokens now, else the distribution's log directory)",
    )
    nginx.add_argument(
        "--headers-more-module",
        type=Path,
        metavar="SO",
        help="the headers-more module to load when it is not loaded (default: the "
        "distribution's path)",
    )
    nginx.add_argument(
        "--full-token-log",
        action="store_true",
        help="DEBUGGING ONLY: log whole bearer tokens (replayable credentials) instead of "
        "tokens without their signature",
    )
    run = parser.add_argument_group("how")
    run.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        default=[],
        help="plan and apply only this part (repeatable; default: all)",
    )
    run.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    run.add_argument("--json", action="store_true", help="machine-readable plan and results")
    run.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    run.add_argument(
        "--force-unverified",
        action="store_true",
        help="create the JWT profile even if the token did not verify (dangerous)",
    )
    run.add_argument(
        "--offline",
        action="store_true",
        help="do not request the MCP URL before planning (no challenge or metadata seen)",
    )
    run.add_argument(
        "--allow-http",
        action="store_true",
        help="LAB/TEST ONLY: accept http:// URLs (the probe warns instead of failing)",
    )
    run.add_argument(
        "--mcp-revision", choices=MCP_REVISIONS, default=None, help="MCP revision probed against"
    )
    run.add_argument(
        "--audit-file",
        type=Path,
        metavar="FILE",
        help="JSON Lines audit trail of the nginx changes (default: setup-audit.jsonl in "
        "the state directory; ORDS changes go to profile apply's audit file)",
    )
    add_key_options(parser)
    add_database_options(parser)
    add_config_option(parser)
    # The profile proposal reads these (``profile apply``'s flags); setup takes the defaults.
    parser.set_defaults(
        func=run_setup,
        role_claim=None,
        scope_based=False,
        allowed_skew=None,
        allowed_age=None,
        allow_http_jwk_url=False,
        description=None,
        schema=None,
        jwk_url=None,
    )


def run_setup(args: argparse.Namespace) -> int:
    """Dispatch: the plan (and its apply), ``rollback`` or ``history``."""
    action = args.url if args.url in ACTIONS else None
    if action is None and args.backup is not None:
        raise CommandError(f"unexpected argument {args.backup!r}", EXIT_USAGE)
    if action is not None:
        args.url = None  # not an MCP URL: [doctor] url stays the one configured
    # A lab's http:// URLs: the IdP's JWK URL too (real ORDS refuses it).
    args.allow_http_jwk_url = bool(args.allow_http)
    # Imported here: each path needs only its own modules.
    if action is not None:
        from inspector.cli.setup_backups import run_history, run_rollback

        return run_history(args) if action == "history" else run_rollback(args)
    from inspector.cli.setup_apply import run_plan

    return run_plan(args)
