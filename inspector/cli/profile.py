"""``token-inspector profile show|sql|apply``: read and create the ORDS JWT profile.

``apply`` goes from "the connector's token showed up in the log" to "ORDS accepts it":
the newest verified token (or one from stdin) becomes a proposed profile, shown as a diff
with pre-checks, risks and the PL/SQL, confirmed, applied with restore on failure, read
back and audited. ``sql`` writes the same change as a script for a DBA; ``show`` prints the
profile, roles and privileges.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inspector.cli.help import HelpFormatter, examples
from inspector.cli.options import (
    add_config_option,
    add_database_options,
    add_expectation_options,
    add_key_options,
    add_log_selection,
    add_ords_config_options,
    add_output_options,
)
from inspector.cli.profile_apply import apply_profile, pool_refusal
from inspector.cli.profile_show import show_profile
from inspector.cli.profile_steps import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    config_of,
    connection_settings,
    emit,
    guarded,
    make_proposal,
    repository,
)
from inspector.ords.audit import default_audit_path
from inspector.ords.database import ROLE_CLAIM_SINCE, parse_ords_version
from inspector.ords.errors import one_line
from inspector.private_files import OutputExistsError, replace_private, write_new

NOTES = (
    "Exit status: 0 done (or nothing to change), 1 refused, declined or failed with the "
    "previous profile restored, 2 usage, configuration or connection error, 3 failed and "
    "the previous profile could NOT be restored (the message says what to run). The "
    "password comes from ORACLE_PASSWORD or a prompt, never from the command line."
)
EPILOG = examples(
    "token-inspector profile show --dsn db_high --user HR",
    "token-inspector profile sql --from-log /var/log/nginx/extended.log -o profile.sql",
    "token-inspector profile apply --dry-run --dsn db_high --user HR --token - < token.txt",
    notes=NOTES,
)
SHOW_EPILOG = examples(
    "token-inspector profile show --dsn db_high --user HR",
    "token-inspector profile show --dsn db_high --user HR --json",
    "token-inspector profile show --dsn db_high --user HR --token - < token.txt",
)
SQL_EPILOG = examples(
    "token-inspector profile sql --from-log /var/log/nginx/extended.log -o profile.sql",
    "token-inspector profile sql --token - --scope-based < token.txt",
    notes=NOTES,
)
APPLY_EPILOG = examples(
    "token-inspector profile apply --dry-run --dsn db_high --user HR --token - < token.txt",
    "token-inspector profile apply --dsn db_high --user HR --from-log /var/log/nginx/extended.log",
    notes=NOTES,
)


# --------------------------------------------------------------------------- parser


def _common(
    parser: argparse.ArgumentParser, *, token_source: bool, proposal_options: bool = True
) -> None:
    add_config_option(parser)
    add_database_options(parser)
    add_ords_config_options(parser)
    parser.add_argument(
        "--schema",
        metavar="NAME",
        help="another REST-enabled schema (uses ORDS_SECURITY_ADMIN, needs "
        "ORDS_ADMINISTRATOR_ROLE; read from the DBA_ORDS_ views)",
    )
    add_output_options(parser)
    if not token_source:
        return
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--from-log",
        metavar="LOG",
        help="use the newest verified token in this access log",
    )
    source.add_argument(
        "--token",
        choices=["-"],
        metavar="-",
        help="read the token from standard input ('-' only: tokens never go on the command line)",
    )
    add_log_selection(parser, positional=False)
    add_key_options(parser)
    add_expectation_options(parser)
    parser.add_argument(
        "--allow-http-jwk-url",
        action="store_true",
        help="DEMO/LAB ONLY: accept an http:// JWK URL (real ORDS refuses it)",
    )
    if not proposal_options:
        return
    group = parser.add_argument_group("proposed profile")
    kind = group.add_mutually_exclusive_group()
    kind.add_argument(
        "--role-claim",
        metavar="POINTER",
        help="role-based profile with this JSON pointer (default /roles when the token has roles)",
    )
    kind.add_argument(
        "--scope-based", action="store_true", help="scope-based profile (scp names privileges)"
    )
    group.add_argument("--jwk-url", metavar="URL", help="p_jwk_url instead of the jwks_uri found")
    group.add_argument("--description", metavar="TEXT", help="p_description")


def register(subparsers: Any) -> None:
    """Add ``profile`` with its ``show``, ``sql`` and ``apply`` sub-commands."""
    parser = subparsers.add_parser(
        "profile",
        help="read the ORDS JWT profile, or create it from an observed token",
        description="Read the ORDS JWT profile, roles and privileges, or create the profile "
        "from a token seen in the access log.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    sub = parser.add_subparsers(dest="profile_command", metavar="ACTION")
    show = sub.add_parser(
        "show",
        help="current profile, roles, privileges, modules (with a token: does it pass?)",
        description="Print the schema's JWT profile, ORDS roles, privileges and the modules "
        "they protect; with a token, say whether ORDS would accept it.",
        epilog=SHOW_EPILOG,
        formatter_class=HelpFormatter,
    )
    _common(show, token_source=True, proposal_options=False)
    show.set_defaults(func=run_show)

    sql = sub.add_parser(
        "sql",
        help="a reviewable PL/SQL script for a DBA (no database needed)",
        description="Write the CREATE_JWT_PROFILE script (ORDS_SECURITY, or OAUTH before "
        "ORDS 24.3) a token calls for, for a DBA to review and run.",
        epilog=SQL_EPILOG,
        formatter_class=HelpFormatter,
    )
    _common(sql, token_source=True)
    sql.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write the script to a new file, mode 0600 (an existing file or link is refused)",
    )
    sql.add_argument(
        "--force",
        action="store_true",
        help="with -o: replace an existing FILE (a symbolic link there is replaced, not followed)",
    )
    sql.add_argument(
        "--ords-version",
        metavar="X.Y",
        help="the ORDS release the script is for (e.g. 24.2: OAUTH.CREATE_JWT_PROFILE before "
        "24.3, ORDS_SECURITY from 24.3); without it (and without --dsn) the script finds "
        "the package when it runs",
    )
    sql.set_defaults(func=run_sql)

    apply = sub.add_parser(
        "apply",
        help="propose, check, confirm, apply with restore on failure, read back",
        description="Propose the profile a token calls for, check it, ask, apply it (the "
        "previous profile is restored on failure) and read it back.",
        epilog=APPLY_EPILOG,
        formatter_class=HelpFormatter,
    )
    _common(apply, token_source=True)
    apply.add_argument("--dry-run", action="store_true", help="show the proposal, change nothing")
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    apply.add_argument(
        "--force-unverified",
        action="store_true",
        help="apply even if the token's signature did not verify or its issuer is not "
        "trusted (dangerous: see the warning it prints)",
    )
    apply.add_argument(
        "--audit-file",
        type=Path,
        metavar="FILE",
        help=f"JSON Lines audit trail (default {default_audit_path()})",
    )
    apply.set_defaults(func=run_apply)
    parser.set_defaults(func=lambda args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


# --------------------------------------------------------------------------- commands


def run_show(args: argparse.Namespace) -> int:
    """``profile show``."""
    return guarded(show_profile, args)


def run_sql(args: argparse.Namespace) -> int:
    """``profile sql``."""
    return guarded(_sql, args)


def _sql(args: argparse.Namespace) -> int:
    config = config_of(args)
    settings = connection_settings(args, config)
    if settings is None:
        proposal, _ = make_proposal(args, config, None)
    else:
        with repository(settings, args) as repo:
            try:
                proposal, _ = make_proposal(args, config, repo)
            except CommandError:
                raise
            except Exception as exc:
                raise CommandError(one_line(exc)) from exc
    _check_role_claim(args, proposal.proposed.role_claim_name)
    refusal = pool_refusal(config, proposal)
    if refusal is not None:
        # The script is what was asked for; say that ORDS would ignore it.
        emit(f"warning: {refusal.removeprefix('not applied: ')}", err=True)
    for risk in proposal.risks:
        emit(f"warning: {risk.message}", err=True)
    if args.output:
        _write_output(args.output, proposal.plsql, force=args.force)
        emit(f"wrote {args.output}", err=True)
    else:
        sys.stdout.write(proposal.plsql)
    return EXIT_OK


def _check_role_claim(args: argparse.Namespace, role_claim: str | None) -> None:
    """A role-based profile for a release before 25.1 would fail (PLS-00306): refused."""
    if role_claim is None or args.ords_version is None:
        return
    if parse_ords_version(args.ords_version) < ROLE_CLAIM_SINCE:
        raise CommandError(
            f"--ords-version {args.ords_version}: p_role_claim_name needs ORDS 25.1 or "
            "later; use --scope-based (scp names the privileges)"
        )


def _write_output(path: Path, text: str, *, force: bool) -> None:
    """``-o FILE``: a new private file, or (``--force``) an atomic replacement."""
    try:
        if force:
            replace_private(path, text)
        else:
            write_new(path, text)
    except OutputExistsError as exc:
        what = "is a symbolic link" if exc.link else "exists"
        raise CommandError(f"{path} {what}: not overwritten (--force replaces it)") from None
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def run_apply(args: argparse.Namespace) -> int:
    """``profile apply``."""
    return guarded(apply_profile, args)
