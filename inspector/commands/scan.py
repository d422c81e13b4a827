"""``token-inspector scan [LOG ...]``: read logs once and judge every connector attempt.

An attempt is a line with an Authorization header or a 401/403 status (``--all``: every
line). ``--json`` prints one JSON object per attempt (JSON Lines); otherwise a report
grouped by cause. Exit status: 0 when no attempt has an error verdict, 1 when one has,
2 on usage or I/O errors.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from inspector.attempt import Attempt
from inspector.config import ConfigError, load_config
from inspector.expectations_config import build_analyzer
from inspector.follow import FollowEvent, StartAt
from inspector.logsource import LogSelectionError, iter_records, select_logs, start_from_args
from inspector.options import (
    add_config_option,
    add_expectation_options,
    add_key_options,
    add_log_selection,
    add_output_options,
)
from inspector.scan_report import ScanReport
from inspector.verdicts import Outcome
from parsers.authorization import parse_authorization
from parsers.records import LogRecord, ParseFailure

EPILOG = """\
An attempt is a line with an Authorization header or a 401/403 status.
--since takes an ISO 8601 time (2026-03-01T12:00, local time without an offset) or a
relative one (30s, 10m, 2h, 1d). Verdict codes: docs/verdicts.md.
Exit status: 0 no attempt has an error verdict, 1 one has, 2 usage or I/O error."""

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
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_log_selection(parser)
    parser.add_argument("--all", action="store_true", help="judge every line, not only attempts")
    parser.add_argument(
        "--only-failures", action="store_true", help="show only attempts with an error verdict"
    )
    parser.add_argument("--since", metavar="TIME", help="skip lines before TIME (ISO or 10m/2h/1d)")
    add_key_options(parser)
    add_expectation_options(parser)
    add_config_option(parser)
    add_output_options(parser)
    parser.set_defaults(func=run)


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``10m``/``2h``/``1d``/``1w`` before ``now``, or an ISO 8601 time (naive = local)."""
    match = _RELATIVE.fullmatch(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return (now or datetime.now(UTC)) - timedelta(seconds=amount * _UNITS[unit])
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--since {value!r}: not an ISO 8601 time or a relative time like 10m, 2h, 1d"
        ) from None
    return when if when.tzinfo else when.astimezone()


def is_attempt(record: LogRecord) -> bool:
    """A connector attempt: credentials were sent, or the server refused access."""
    return record.authorization is not None or record.status in (401, 403)


def attempt_json(attempt: Attempt, *, show_token: bool, token: str | None) -> str:
    """One JSON Lines object (``Attempt.as_dict``), with ``token.raw`` only if asked."""
    doc = attempt.as_dict()
    if show_token and token is not None and doc.get("token") is not None:
        doc["token"]["raw"] = token
    return json.dumps(doc, default=str)


def run(args: argparse.Namespace) -> int:
    """Entry point for the command line."""
    return scan(args, sys.stdout, sys.stderr)


def scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Scan with parsed ``args``, writing results to ``out`` and problems to ``err``."""
    try:
        config = load_config(args.config, explicit=args.config is not None)
        analyzer = build_analyzer(config, args)
        since = parse_since(args.since) if args.since else None
        selection = select_logs(args, config)
        start = start_from_args(args, default=StartAt("start"))
    except (ConfigError, LogSelectionError, ValueError, OSError) as exc:
        err.write(f"token-inspector scan: {exc}\n")
        return 2
    for warning in selection.warnings:
        err.write(f"token-inspector scan: warning: {warning}\n")
    report = ScanReport(files=set(selection.paths))
    io_error = False
    any_error = False
    judge_all, only_failures = args.all, args.only_failures
    as_json, show_token = args.json, args.show_token
    write = out.write
    for item in iter_records(selection, start, follow=False, poll=bool(args.poll)):
        if isinstance(item, LogRecord):
            report.lines += 1
            if not judge_all and not is_attempt(item):
                continue
            if since is not None and item.time is not None and item.time < since:
                continue
            attempt = analyzer.analyze(item)
            # FAIL is exactly "an error verdict holds" (outcome_of).
            failed = attempt.outcome is Outcome.FAIL
            any_error = any_error or failed
            if only_failures and not failed:
                continue
            if as_json:
                token = _credential(item.authorization) if show_token else None
                write(attempt_json(attempt, show_token=show_token, token=token) + "\n")
            else:
                report.add(attempt)
        elif isinstance(item, ParseFailure):
            report.lines += 1
            report.add_failure(item)
        elif isinstance(item, FollowEvent) and item.kind in ("error", "permission"):
            io_error = True
            err.write(f"token-inspector scan: {item.message}\n")
    if not as_json:
        report.render(out, only_failures=only_failures)
    elif report.failures:
        err.write(
            f"token-inspector scan: {sum(report.failures.values())} lines did not match the "
            f"log format ({selection.how})\n"
        )
    out.flush()
    if io_error:
        return 2
    return 1 if any_error else 0


def _credential(authorization: str | None) -> str | None:
    return parse_authorization(authorization).credentials
