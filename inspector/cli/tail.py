"""``token-inspector tail``: print parsed access-log records as they are written.

Records go to standard output (one compact line each, or JSON with ``--json``); follow
events (``# ...``) and parse failures go to standard error, so the output stays clean for
pipes. Authorization values are redacted unless ``--show-token``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from inspector.cli.configure import settings_from_args
from inspector.cli.help import HelpFormatter, examples
from inspector.cli.options import add_config_option, add_log_selection, add_output_options
from inspector.logs.follow import FollowEvent, StartAt
from inspector.logs.selection import iter_records, select_logs, start_from
from inspector.schema_version import SCHEMA_VERSION
from parsers.printable import printable
from parsers.records import LogRecord, ParseFailure
from parsers.redaction import redact_authorization, redact_credential, redact_text

# Fields that carry credentials besides the Authorization header itself: redacted whole.
_SECRET_FIELD_MARKERS = ("authorization", "cookie", "token", "secret", "api-key", "apikey")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``tail`` sub-command."""
    parser = subparsers.add_parser(
        "tail",
        help="print access-log records as nginx writes them (headless)",
        description="Follow nginx access logs and print one parsed record per line. "
        "Follow events and parse failures go to standard error. LOG may be '-' to read "
        "standard input.",
        epilog=examples(
            "token-inspector tail   # follow the log nginx.conf names",
            "token-inspector tail --no-follow --json samples/extended.log | jq .authorization",
            "ssh web1 tail -F /var/log/nginx/extended.log | token-inspector tail -",
        ),
        formatter_class=HelpFormatter,
    )
    add_log_selection(parser)
    add_output_options(parser)
    add_config_option(parser)
    parser.add_argument(
        "--no-follow",
        action="store_true",
        help="stop at the end of the files (reads from the start unless --last is given)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print records until interrupted (or until the end with ``--no-follow``).

    Ctrl-C ends a follow the way it ends every command (exit 130), after the summary.
    """
    err = sys.stderr
    logs = settings_from_args(args).logs
    selection = select_logs(logs)
    start = start_from(logs, default=StartAt("start") if args.no_follow else StartAt("end"))
    print(f"# reading {', '.join(selection.paths)} with {selection.how}", file=err)
    for warning in selection.warnings:
        print(f"# warning: {warning}", file=err)
    if args.show_token:
        print("# warning: --show-token prints full bearer tokens; they are credentials", file=err)
    counts: Counter[str] = Counter()
    out = sys.stdout
    interrupted = False
    try:
        records = iter_records(selection, start, follow=not args.no_follow, poll=args.poll)
        try:
            for item in records:
                if isinstance(item, LogRecord):
                    counts["records"] += 1
                    line = (
                        json.dumps(record_as_dict(item, show_token=args.show_token))
                        if args.json
                        else format_record(item, show_token=args.show_token)
                    )
                    print(line, file=out, flush=True)
                elif isinstance(item, ParseFailure):
                    counts["failures"] += 1
                    print(format_failure(item), file=err, flush=True)
                else:
                    _count_event(counts, item)
                    print(f"# {printable(redact_text(item.message))}", file=err, flush=True)
        finally:
            records.close()
    except KeyboardInterrupt:
        interrupted = True
    _print_summary(counts, err)
    if interrupted:
        return 130
    if args.no_follow and (counts["error"] or counts["permission"]):
        return 1
    return 0


def record_as_dict(record: LogRecord, *, show_token: bool = False) -> dict[str, Any]:
    """The ``tail --json`` shape of one record (credentials redacted unless asked).

    Tokens end up anywhere a client puts them (``?access_token=``, the user agent, a
    malformed header), so every free-text field goes through ``redact_text``.
    """
    text = _shown(show_token)
    return {
        "schema_version": SCHEMA_VERSION,
        "file": record.source.file,
        "line": record.source.line or None,
        "offset": record.source.offset,
        "time": record.time.isoformat() if record.time is not None else None,
        "remote_addr": text(record.remote_addr),
        "method": text(record.method),
        "path": text(record.path),
        "protocol": text(record.protocol),
        "status": record.status,
        "user_agent": text(record.user_agent),
        "authorization": _auth(record.authorization, show_token),
        "fields": _fields(record.fields, show_token),
        "truncated": record.truncated,
        "best_effort": record.best_effort,
    }


def format_record(record: LogRecord, *, show_token: bool = False) -> str:
    """One compact human line; control characters are escaped (log lines are hostile)."""
    when = record.time.isoformat(timespec="seconds") if record.time is not None else "-"
    text = _shown(show_token)
    request = " ".join(
        text(part) or "" for part in (record.method, record.path, record.protocol) if part
    )
    auth = _auth(record.authorization, show_token)
    user_agent = text(record.user_agent)
    parts = [
        when,
        text(record.remote_addr) or "-",
        f'"{request}"' if request else "-",
        str(record.status) if record.status is not None else "-",
        f'ua="{user_agent}"' if user_agent is not None else "ua=-",
        f'auth="{auth}"' if auth is not None else "auth=-",
    ]
    if record.truncated:
        parts.append("[line cut]")
    where = record.source.file
    if record.source.line:
        where += f":{record.source.line}"
    return printable(f"{where} " + " ".join(parts))


def format_failure(failure: ParseFailure) -> str:
    """``file:line: cannot parse: reason | excerpt`` on one line."""
    where = failure.source.file
    where += f":{failure.source.line}" if failure.source.line else f"@{failure.source.offset}"
    # The excerpt is redacted by the parser already; the reason may quote the line too.
    return printable(redact_text(f"{where}: cannot parse: {failure.reason} | {failure.excerpt}"))


def _auth(value: str | None, show_token: bool) -> str | None:
    return value if show_token else redact_authorization(value)


def _shown(show_token: bool) -> Callable[[str | None], str | None]:
    return _as_is if show_token else _redacted


def _as_is(value: str | None) -> str | None:
    return value


def _redacted(value: str | None) -> str | None:
    return None if value is None else redact_text(value)


def _fields(fields: Mapping[str, str | None], show_token: bool) -> dict[str, str | None]:
    if show_token:
        return dict(fields)
    return {name: _redact_field(name, value) for name, value in fields.items()}


def _redact_field(name: str, value: str | None) -> str | None:
    if value is None or value == "-":
        return value
    lowered = name.lower()
    if "authorization" in lowered:
        return redact_authorization(value)
    if any(marker in lowered for marker in _SECRET_FIELD_MARKERS):
        return redact_credential(value)
    return redact_text(value)


def _count_event(counts: Counter[str], event: FollowEvent) -> None:
    counts[event.kind] += 1


def _print_summary(counts: Counter[str], err: TextIO) -> None:
    parts = [f"{counts['records']} records", f"{counts['failures']} parse failures"]
    for kind in ("rotated", "truncated", "deleted", "permission", "error"):
        if counts[kind]:
            parts.append(f"{counts[kind]} {kind}")
    print(f"# {', '.join(parts)}", file=err, flush=True)
