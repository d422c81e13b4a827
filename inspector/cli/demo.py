"""``token-inspector demo``: the live screen on a replayed first connection, self-contained.

A loopback IdP (TLS, key generated at start), a temporary log in the reference
``extended`` format, and an in-memory ORDS: no nginx, IdP or database needed, no network
beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inspector.cli.help import HelpFormatter, examples


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="try the live TUI on a replayed connector session (no nginx, IdP or database)",
        description="Replay a connector's first connection against a local IdP and an "
        "in-memory ORDS, and open the live TUI on it. Every token is refused until the "
        "schema has a JWT profile (no-profile). Press a on the last attempt (the right "
        "token) to apply the profile: that token's following attempts turn green, while "
        "the other user's retries stay red (role-missing: app role 'ordsusers' is not the "
        "ORDS role 'ORDSUsers') and so does a cached v1 token (issuer-mismatch).",
        epilog=examples(
            "token-inspector demo",
            "token-inspector demo --speed 4   # a replay in about 15 seconds",
            "token-inspector demo --no-tui   # only write the log and print its path",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="N",
        help="replay N times faster (default 1: about a minute)",
    )
    parser.add_argument(
        "--no-tui",
        action="store_true",
        help="write the first connection's log, print its path and exit (keeps the files)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory after quitting"
    )
    parser.set_defaults(func=run)


def demo_session(env: Any) -> Any:
    """The session the demo's screen runs on (also used by the tests)."""
    from inspector.logs.follow import StartAt
    from inspector.logs.selection import LogSelection
    from inspector.tui.engine_session import EngineSession
    from inspector.tui.records import record_source

    path = str(env.log_path)
    selection = LogSelection(
        paths=(path,),
        parsers={path: env.parser},
        format_name="extended",
        how="demo log in the reference 'extended' format",
        looked_at=(path,),
    )
    return EngineSession(
        records=record_source(selection, StartAt("start"), poll_interval=0.2),
        files=(path,),
        title=f"replaying a first connection into {path}",
        analyzer=env.analyzer,
        keys=env.keys,
        repository=env.repository,
        database_label="in-memory ORDS stand-in, schema DEMO",
        proposal_options=env.proposal_options(),
        audit=env.audit,
        demo=True,
    )


def run(args: argparse.Namespace) -> int:
    """Start the environment, replay, show the app; always stop the IdP on the way out."""
    from inspector.demo.environment import start_demo
    from inspector.settings import UsageError

    if args.speed <= 0:
        raise UsageError("--speed must be positive")
    env = start_demo(speed=args.speed, keep_files=args.keep or args.no_tui)
    try:
        if args.no_tui:
            env.replayer.write_first_connection()
            print(env.log_path)
            return 0
        from inspector.tui.app import InspectorApp

        app = InspectorApp(demo_session(env))
        env.replayer.on_error = lambda message: app.call_from_thread(app.report_problem, message)
        env.replayer.start()
        app.run()
        if args.keep:
            print(f"demo files kept in {env.directory}", file=sys.stderr)
        return app.return_code or 0
    finally:
        env.close()
