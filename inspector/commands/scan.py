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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from inspector.attempt import Attempt, TokenReport
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
from inspector.verdicts import Outcome, Verdict
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
        description="Read nginx access logs once, decode and verify every bearer token,\n"
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


# The encoder json.dumps itself uses for strings (ensure_ascii), so the text is identical.
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


class JsonLines:
    """``attempt_json`` without re-encoding what repeats: the same object, same text.

    A token report (header, claims: most of each line) and most verdicts are shared by
    thousands of attempts; their JSON is encoded once. Entries keep their object alive,
    so an ``id`` in the cache always names the object it was computed for.
    """

    MAX_ENTRIES = 8192

    def __init__(self) -> None:
        self._tokens: dict[int, tuple[TokenReport, str]] = {}
        self._verdicts: dict[int, tuple[Verdict, str]] = {}
        self._times: dict[datetime, str] = {}
        self._tails: dict[tuple[int, int], tuple[TokenReport | None, tuple[Verdict, ...], str]] = {}

    def encode(self, attempt: Attempt) -> str:
        """The same text as ``json.dumps(attempt.as_dict())``."""
        rec = attempt.record
        when = rec.time
        if when is None:
            time_text = "null"
        else:
            time_text = self._times.get(when) or ""
            if not time_text:
                time_text = _string(when.isoformat())
                if len(self._times) >= self.MAX_ENTRIES:
                    self._times.clear()
                self._times[when] = time_text
        status = "null" if rec.status is None else str(rec.status)
        return (
            f'{{"file": {_string(rec.source.file)}, "line": {rec.source.line}, '
            f'"time": {time_text}, "remote_addr": {_nullable(rec.remote_addr)}, '
            f'"method": {_nullable(rec.method)}, "path": {_nullable(rec.path)}, '
            f'"status": {status}, "client": {_string(attempt.client)}, '
            f'"subject": {_nullable(attempt.subject)}, {self._tail(attempt)}}}'
        )

    def _tail(self, attempt: Attempt) -> str:
        # Token, verdicts and outcome: the same objects (hence text) on most lines.
        report, verdicts = attempt.token, attempt.verdicts
        key = (id(report), id(verdicts))
        hit = self._tails.get(key)
        if hit is not None and hit[0] is report and hit[1] is verdicts:
            return hit[2]
        token = "null" if report is None else self._token(report)
        listed = ", ".join([self._verdict(v) for v in verdicts])
        text = f'"token": {token}, "verdicts": [{listed}], "outcome": "{attempt.outcome.value}"'
        if len(self._tails) >= self.MAX_ENTRIES:
            self._tails.clear()
        self._tails[key] = (report, verdicts, text)
        return text

    def _token(self, report: TokenReport) -> str:
        hit = self._tokens.get(id(report))
        if hit is not None and hit[0] is report:
            return hit[1]
        text = json.dumps(report.as_dict(), default=str)
        if len(self._tokens) >= self.MAX_ENTRIES:
            self._tokens.clear()
        self._tokens[id(report)] = (report, text)
        return text

    def _verdict(self, verdict: Verdict) -> str:
        hit = self._verdicts.get(id(verdict))
        if hit is not None and hit[0] is verdict:
            return hit[1]
        text = json.dumps(verdict.as_dict())
        if len(self._verdicts) >= self.MAX_ENTRIES:
            self._verdicts.clear()
        self._verdicts[id(verdict)] = (verdict, text)
        return text


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
    encoder = JsonLines()
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
            if as_json and show_token:
                token = _credential(item.authorization)
                write(attempt_json(attempt, show_token=True, token=token) + "\n")
            elif as_json:
                write(encoder.encode(attempt) + "\n")
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
