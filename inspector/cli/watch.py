"""``token-inspector watch [LOG ...]``: the live TUI (also what ``token-inspector`` runs).

Everything is decided and checked before the screen opens (logs, format, keys,
expectations, the database password prompt), so problems print as one clear line; the
slow parts (tailing, key fetches, connecting) then run in the app's workers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inspector.cli.options import (
    add_config_option,
    add_database_options,
    add_expectation_options,
    add_key_options,
    add_log_selection,
)

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
    )
    add_log_selection(parser)
    add_key_options(parser)
    add_expectation_options(parser)
    add_database_options(parser)
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


def _fail(message: str) -> int:
    print(f"token-inspector watch: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Prepare the session, then run the app until the user quits."""
    from inspector.logs.selection import LogSelectionError
    from inspector.ords.connection import DatabaseSettingsError
    from inspector.settings import ConfigError, load_config

    if args.max_attempts < 1:
        return _fail("--max-attempts must be at least 1")
    if "-" in (args.logs or []):
        # The screen reads the keyboard from standard input, so it cannot also be the log.
        return _fail(
            "standard input cannot be followed by the live screen (it reads the keyboard); "
            "use `token-inspector tail -` or let the stream write to a file and watch that"
        )
    try:
        config = load_config(args.config, explicit=args.config is not None)
        output_dir = output_directory(args, config)
        session = build_session(args, config)
    except (ConfigError, LogSelectionError, DatabaseSettingsError, ValueError) as exc:
        return _fail(str(exc))

    from inspector.tui.app import InspectorApp

    app = InspectorApp(session, max_attempts=args.max_attempts, output_dir=output_dir)
    app.run()
    return app.return_code or 0


def output_directory(args: argparse.Namespace, config: Any) -> Path:
    """Where ``s`` saves scripts: ``--output-dir``, ``[output] dir``, else the working
    directory. Raises ``ValueError`` when the choice is not an existing directory."""
    chosen = args.output_dir
    where = "--output-dir"
    if chosen is None:
        configured = config.section("output").get("dir")
        if configured is not None and not isinstance(configured, str):
            raise ValueError("[output] dir must be a string (a directory path)")
        chosen = Path(configured) if configured else None
        where = "[output] dir"
    if chosen is None:
        return Path.cwd()
    directory = Path(chosen).expanduser()
    if not directory.is_dir():
        raise ValueError(f"{where} {directory}: not an existing directory")
    return directory


def build_session(args: argparse.Namespace, config: Any) -> Any:
    """An ``EngineSession`` from the flags and the config (raises one-line errors)."""
    from inspector.judge.engine import build_analyzer, trusted_issuers
    from inspector.logs.follow import StartAt
    from inspector.logs.selection import select_logs, start_from_args
    from inspector.ords.connect import open_repository
    from inspector.ords.connection import settings_from
    from inspector.ords.proposal import ProposalOptions
    from inspector.tui.engine_session import EngineSession
    from inspector.tui.records import record_source

    selection = select_logs(args, config)
    start = start_from_args(args, default=StartAt("last", DEFAULT_BACKFILL))
    analyzer = build_analyzer(config, args)
    connect = None
    label = "not connected (--no-db)"
    if not args.no_db:
        settings = settings_from(args, config.section("database"))
        if settings is None:
            label = "not configured (--dsn, or [database] in the config)"
        else:
            label = settings.described

            def connect() -> Any:
                return open_repository(settings)

    session = EngineSession(
        records=record_source(selection, start, poll=args.poll),
        files=selection.paths,
        title=f"{', '.join(selection.paths)} — {selection.how}",
        analyzer=analyzer,
        keys=analyzer.keys,
        connect=connect,
        database_label=label,
        proposal_options=ProposalOptions(
            jwk_url=args.jwk_url, trusted_issuers=trusted_issuers(config, args)
        ),
    )
    if args.mcp_url:
        session.set_doctor(doctor_runner(args, session, config))
    return session


def doctor_runner(args: argparse.Namespace, session: Any, config: Any = None) -> Any:
    """The doctor for the ``d`` screen: the same ``run_doctor`` as ``token-inspector doctor``.

    Its token checks get their keys from the same flags and ``[keys]`` as the screen.
    """
    from pathlib import Path

    from inspector.doctor.model import DoctorOptions, Finding
    from inspector.doctor.runner import run_doctor
    from inspector.judge.engine import (
        allow_private_issuers,
        anchored_issuers,
        key_store_factory,
    )
    from inspector.settings import Config

    config = config if config is not None else Config()
    options = DoctorOptions(
        url=args.mcp_url,
        timeout=args.http_timeout or 5.0,
        profile_loader=session.current_profile if session.has_database else None,
        authorization_loader=session.schema_authorization if session.has_database else None,
        logs=tuple(Path(p) for p in session.files if p != "-"),
        # The screen's own --log-format, else the doctor could not read the log it shows.
        log_format=args.log_format,
        nginx_conf=args.nginx_conf,
        key_store=key_store_factory(config, args),
        # URLs the servers hand out are contacted under the key-discovery address policy.
        anchored_issuers=anchored_issuers(config, args),
        allow_private=allow_private_issuers(config, args),
    )

    def run(emit: Any) -> None:
        def on_event(event: object) -> None:
            if isinstance(event, Finding):
                emit(event.status.value, event.code, event.message)

        run_doctor(options, on_event)

    return run
