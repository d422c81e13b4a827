"""``token-inspector watch [LOG ...]``: the live TUI (also what ``token-inspector`` runs).

Everything is decided and checked before the screen opens (logs, format, keys,
expectations, the database password prompt), so problems print as one clear line; the
slow parts (tailing, key fetches, connecting) then run in the app's workers.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.cli.configure import settings_from_args
from inspector.cli.help import HelpFormatter, examples
from inspector.cli.options import (
    add_config_option,
    add_database_options,
    add_expectation_options,
    add_key_options,
    add_log_selection,
    add_ords_config_options,
)

if TYPE_CHECKING:
    from inspector.settings import Settings

# Lines read back from the end of each log when the screen opens (--last N overrides).
DEFAULT_BACKFILL = 1000
DEFAULT_MAX_ATTEMPTS = 10_000


def register(subparsers: Any) -> None:
    """Add the ``watch`` sub-command."""
    parser = subparsers.add_parser(
        "watch",
        help="live TUI: follow the access log and explain every connector attempt",
        description="Follow nginx's access log and show every MCP connector attempt live: "
        "token, verdicts with fixes, the ORDS profile, and apply it with one key.",
        epilog=examples(
            "token-inspector watch   # the log nginx.conf says records $http_authorization",
            "token-inspector watch --no-db --jwks samples/jwks.json samples/extended.log",
            "token-inspector watch -n 1000 --dsn db_high --user HR /var/log/nginx/extended.log",
        ),
        formatter_class=HelpFormatter,
    )
    add_log_selection(parser)
    add_key_options(parser)
    add_expectation_options(parser)
    add_database_options(parser)
    add_ords_config_options(parser)
    add_config_option(parser)
    parser.add_argument(
        "--no-db", action="store_true", help="do not connect to the database (no apply)"
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=DEFAULT_MAX_ATTEMPTS,
        metavar="N",
        help=f"attempts kept on screen; older ones are dropped and counted "
        f"(default {DEFAULT_MAX_ATTEMPTS:,})",
    )
    parser.add_argument(
        "--jwk-url",
        metavar="URL",
        help="p_jwk_url for a profile applied from the screen (default: the issuer's "
        "jwks_uri; needed when the keys come from a --jwks file without --oidc-metadata)",
    )
    parser.add_argument(
        "--mcp-url",
        metavar="URL",
        help="the MCP endpoint URL, for the doctor screen (key d)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="where key s proposes to save PL/SQL scripts (default: [output] dir in the "
        "config, else the current directory); existing files are never overwritten",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prepare the session, then run the app until the user quits."""
    from inspector.settings import UsageError

    if args.max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    if "-" in (args.logs or []):
        # The screen reads the keyboard from standard input, so it cannot also be the log.
        raise UsageError(
            "standard input cannot be followed by the live screen (it reads the keyboard); "
            "use `token-inspector tail -` or let the stream write to a file and watch that"
        )
    settings = settings_from_args(args)
    output_dir = output_directory(settings)
    session = build_session(args, settings)
    # Judging in a child process leaves this one to the screen (they shared one interpreter
    # lock). Forked now, before Textual or the feed start a thread; when that is not
    # possible the log is judged here, as before.
    session.start_judge_process()

    from inspector.tui.app import InspectorApp

    app = InspectorApp(session, max_attempts=args.max_attempts, output_dir=output_dir)
    app.run()
    return app.return_code or 0


def output_directory(settings: Settings) -> Path:
    """Where ``s`` saves scripts: ``--output-dir``, ``[output] dir``, else the working
    directory. Raises ``ConfigError`` when the choice is not an existing directory."""
    from inspector.settings import ConfigError

    chosen = settings.output.dir
    if chosen is None:
        return Path.cwd()
    directory = chosen.expanduser()
    if not directory.is_dir():
        raise ConfigError(f"{settings.output.dir_from} {directory}: not an existing directory")
    return directory


def build_session(args: argparse.Namespace, settings: Settings) -> Any:
    """An ``EngineSession`` from the settings (flags laid over the files; raises one-line
    errors). ``args`` only says what the screen itself does (``--no-db``)."""
    from inspector.judge.engine import build_analyzer
    from inspector.logs.follow import StartAt
    from inspector.logs.selection import select_logs, start_from
    from inspector.ords.connect import open_repository
    from inspector.ords.connection import settings_from
    from inspector.ords.proposal import ProposalOptions
    from inspector.tui.engine_session import EngineSession
    from inspector.tui.records import record_source

    selection = select_logs(settings.logs)
    start = start_from(settings.logs, default=StartAt("last", DEFAULT_BACKFILL))
    analyzer = build_analyzer(settings)
    connect = None
    label = "not connected (--no-db)"
    if not args.no_db:
        connection = settings_from(settings.database)
        if connection is None:
            label = "not configured (--dsn, or [database] in the config)"
        else:
            label = connection.described

            def connect() -> Any:
                return open_repository(connection)

    session = EngineSession(
        records=record_source(selection, start, poll=settings.logs.poll),
        files=selection.paths,
        title=f"{', '.join(selection.paths)} — {selection.how}",
        analyzer=analyzer,
        keys=analyzer.keys,
        connect=connect,
        database_label=label,
        proposal_options=ProposalOptions(
            jwk_url=settings.ords.jwk_url,
            trusted_issuers=settings.keys.trusted_issuers,
            audience=settings.expect.audience,
        ),
    )
    if settings.doctor.url:
        session.set_doctor(doctor_runner(settings, session))
        # The doctor dialog's setup action: the same planners and appliers as `setup`.
        from inspector.cli.setup_tui import TuiSetup

        setup = TuiSetup(settings, connect)
        session.set_setup(setup.plan, setup.apply)
    return session


def doctor_runner(settings: Settings, session: Any) -> Any:
    """The doctor for the ``d`` screen: the same ``run_doctor`` as ``token-inspector doctor``.

    Its token checks get their keys from the same flags and ``[keys]`` as the screen.
    """
    from pathlib import Path

    from inspector.doctor.model import Finding
    from inspector.doctor.runner import run_doctor
    from inspector.doctor.settings import options_from_settings
    from inspector.judge.engine import anchored_issuers, key_store_factory

    options = options_from_settings(
        settings.doctor,
        profile_loader=session.current_profile if session.has_database else None,
        authorization_loader=session.schema_authorization if session.has_database else None,
        logs=tuple(Path(p) for p in session.files if p != "-"),
        # The screen's own --log-format, else the doctor could not read the log it shows.
        log_format=settings.logs.log_format,
        nginx_conf=settings.logs.nginx_conf,
        key_store=key_store_factory(settings.keys),
        # URLs the servers hand out are contacted under the key-discovery address policy.
        anchored_issuers=anchored_issuers(settings),
        allow_private=settings.keys.allow_private_issuers,
    )

    def run(emit: Any) -> None:
        def on_event(event: object) -> None:
            if isinstance(event, Finding):
                emit(event.status.value, event.code, event.message)

        run_doctor(options, on_event)

    return run
