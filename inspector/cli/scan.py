"""``token-inspector scan [LOG ...]``: read logs once and judge every connector attempt.

An attempt is a line with an Authorization header or a 401/403 status (``--all``: every
line). ``--json`` prints one JSON object per attempt (JSON Lines); otherwise a report
grouped by cause. Exit status: 0 when no attempt has an error verdict, 1 when one has,
2 on usage or I/O errors.

This module parses the flags and wires the engine (``inspector.judge.scan``, whose fast
path for ``--json`` is ``inspector.judge.fastpath``) to the report.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from inspector.cli.configure import settings_from_args
from inspector.cli.help import HelpFormatter, examples
from inspector.cli.options import (
    add_config_option,
    add_expectation_options,
    add_key_options,
    add_log_selection,
    add_ords_config_options,
    add_output_options,
)
from inspector.cli.report import render_report
from inspector.judge.engine import build_analyzer
from inspector.judge.scan import ScanOptions, scan_logs
from inspector.judge.tally import ScanReport
from inspector.logs.batchgc import batch_gc
from inspector.logs.follow import StartAt
from inspector.logs.selection import select_logs, start_from
from inspector.settings import InspectorError

EPILOG = examples(
    "token-inspector scan /var/log/nginx/extended.log   # report grouped by cause, with fixes",
    "token-inspector scan --json --since 2h | jq 'select(.outcome == \"fail\")'",
    "token-inspector scan -n 5000 --only-failures --expect-aud api://mcp-app",
    notes="An attempt is a line with an Authorization header or a 401/403 status. --since "
    "takes an ISO 8601 time (2026-03-01T12:00, local time without an offset) or a relative "
    "one (30s, 10m, 2h, 1d). 'token-inspector rules CODE' explains a verdict code. Exit "
    "status: 0 no attempt has an error verdict, 1 one has, 2 usage or I/O error.",
)

_RELATIVE = re.compile(r"\s*(\d+)\s*([smhdw])\s*", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def register(subparsers: Any) -> None:
    """Add the ``scan`` sub-command."""
    parser = subparsers.add_parser(
        "scan",
        help="judge every connector attempt in access logs",
        description="Read nginx access logs once, decode and verify every bearer token, "
        "and say why ORDS accepts or rejects each attempt.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    add_log_selection(parser)
    parser.add_argument("--all", action="store_true", help="judge every line, not only attempts")
    parser.add_argument(
        "--only-failures", action="store_true", help="show only attempts with an error verdict"
    )
    parser.add_argument("--since", metavar="TIME", help="skip lines before TIME (ISO or 10m/2h/1d)")
    add_key_options(parser)
    add_expectation_options(parser)
    add_ords_config_options(parser)
    add_config_option(parser)
    add_output_options(parser)
    parser.set_defaults(func=run)


class ScanInputError(InspectorError, ValueError):
    """A flag scan cannot use (``--since``), or the logs cannot be opened."""


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``10m``/``2h``/``1d``/``1w`` before ``now``, or an ISO 8601 time (naive = local)."""
    match = _RELATIVE.fullmatch(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return (now or datetime.now(UTC)) - timedelta(seconds=amount * _UNITS[unit])
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ScanInputError(
            f"--since {value!r}: not an ISO 8601 time or a relative time like 10m, 2h, 1d"
        ) from None
    return when if when.tzinfo else when.astimezone()


def run(args: argparse.Namespace) -> int:
    """Entry point for the command line."""
    return scan(args, sys.stdout, sys.stderr)


def scan(
    args: argparse.Namespace, out: TextIO, err: TextIO, *, processes: int | None = None
) -> int:
    """Scan with parsed ``args``, writing results to ``out`` and problems to ``err``.

    ``processes`` bounds the forked workers a big file is split over (default: every CPU).
    """
    settings = settings_from_args(args)
    since = parse_since(args.since) if args.since else None
    try:
        analyzer = build_analyzer(settings)
        selection = select_logs(settings.logs)
    except OSError as exc:
        raise ScanInputError(str(exc)) from None
    start = start_from(settings.logs, default=StartAt("start"))
    for warning in selection.warnings:
        err.write(f"token-inspector scan: warning: {warning}\n")
    options = ScanOptions(
        judge_all=bool(args.all),
        only_failures=bool(args.only_failures),
        as_json=bool(args.json),
        show_token=bool(args.show_token),
        since=since,
        poll=settings.logs.poll,
    )
    report = ScanReport(files=set(selection.paths))
    # Everything built so far lives until the end: the collector need not look at it again.
    with batch_gc():
        result = scan_logs(
            analyzer, selection, start, options, report, out, err, processes=processes
        )
        if not options.as_json:
            render_report(report, out, only_failures=options.only_failures)
        elif report.failures:
            err.write(
                f"token-inspector scan: {sum(report.failures.values())} lines did not match "
                f"the log format ({selection.how})\n"
            )
    out.flush()
    if result.io_error:
        return 2
    return 1 if result.any_error else 0
