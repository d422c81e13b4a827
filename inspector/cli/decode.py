"""``token-inspector decode [TOKEN | -]``: the full analysis of one token.

Reading the token from standard input (``-``, or no argument) keeps it out of the shell
history. The output never contains the token itself unless ``--show-token`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from inspector.cli.configure import settings_from_args
from inspector.cli.help import HelpFormatter, examples
from inspector.cli.options import (
    add_config_option,
    add_expectation_options,
    add_key_options,
    add_ords_config_options,
    add_output_options,
)
from inspector.cli.report import describe_claim, verdict_block
from inspector.judge.attempt import redaction_of
from inspector.judge.engine import build_analyzer
from inspector.judge.rules import printable
from inspector.judge.verdicts import Severity, outcome_of
from inspector.schema_version import SCHEMA_VERSION
from inspector.settings import InspectorError
from parsers.authorization import parse_authorization
from parsers.printable import printable as terminal_safe
from parsers.token import MAX_TOKEN_CHARS

_RANK = {Severity.ERROR: 0, Severity.WARN: 1, Severity.INFO: 2}

EPILOG = examples(
    "token-inspector decode -   # paste the token, then Ctrl-D",
    "xclip -o | token-inspector decode - --json",
    "token-inspector decode - --jwks samples/jwks.json --at 2026-03-01T12:00:00+00:00",
    notes="Prefer 'decode -' and paste the token (or pipe it): a token on the command line "
    "lands in the shell history. 'Bearer ...' and 'Authorization: Bearer ...' are accepted "
    "too. Exit status: 0 no error verdict, 1 an error verdict, 2 usage or input error.",
)


def register(subparsers: Any) -> None:
    """Add the ``decode`` sub-command."""
    parser = subparsers.add_parser(
        "decode",
        help="analyse one token (from stdin with '-')",
        description="Decode one bearer token, verify its signature and check it the way "
        "ORDS will, with the cause and fix of every problem.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "token", nargs="?", default="-", metavar="TOKEN", help="the token, or '-' for stdin"
    )
    parser.add_argument(
        "--status", type=int, metavar="CODE", help="the HTTP status the server answered"
    )
    parser.add_argument(
        "--at", metavar="TIME", help="judge times at this ISO 8601 time (default: now)"
    )
    add_key_options(parser)
    add_expectation_options(parser)
    add_ords_config_options(parser)
    add_config_option(parser)
    add_output_options(parser)
    parser.set_defaults(func=run)


class DecodeInputError(InspectorError, ValueError):
    """No usable token on the command line or standard input, or a bad ``--at``."""


def read_token(arg: str, stdin: TextIO) -> str:
    """The credential from ``arg`` or stdin, without a scheme or header name."""
    text = stdin.read(MAX_TOKEN_CHARS * 2) if arg == "-" else arg
    text = text.strip()
    if text.lower().startswith("authorization:"):
        text = text.split(":", 1)[1].strip()
    if not text:
        raise DecodeInputError("no token given (pass it as an argument or on stdin with '-')")
    auth = parse_authorization(text)
    if auth.scheme is not None and auth.credentials is not None:
        if auth.scheme == "Basic":
            raise DecodeInputError("that is a Basic credential (a password), not a bearer token")
        return auth.credentials
    return text


def _parse_at(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise DecodeInputError(f"--at {value!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.astimezone()


def run(args: argparse.Namespace) -> int:
    """Analyse the token; 0 when no error verdict, 1 when one holds, 2 on bad input."""
    analyzer = build_analyzer(settings_from_args(args))
    try:
        token = read_token(args.token, sys.stdin)
    except OSError as exc:
        raise DecodeInputError(f"cannot read the token: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DecodeInputError("cannot read the token: standard input is not text") from None
    at = _parse_at(args.at) if args.at else datetime.now(UTC)
    report, verdicts = analyzer.analyze_token(token, at=at, status=args.status)
    facts = analyzer.facts(token)
    outcome = outcome_of(verdicts)
    out = sys.stdout
    if args.json:
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "token": report.as_dict(),
            "subject": redaction_of(facts.subject, claim=True),
            "verdicts": [
                {**v.as_dict(), "explanation": v.explanation, "fix": v.fix} for v in verdicts
            ],
            "outcome": outcome.value,
        }
        if args.show_token:
            doc["token"]["raw"] = token
        out.write(json.dumps(doc, default=str) + "\n")
    else:
        # Asked for with --show-token: escaped for the terminal, but not redacted.
        shown = (
            terminal_safe(token, limit=len(token) + 1)
            if args.show_token
            else printable(report.redacted, len(report.redacted) + 1)
        )
        out.write(f"token     {shown}\n")
        out.write(f"kind      {report.kind} ({facts.decoded.length} characters)")
        out.write(f", idp {report.idp}\n" if report.idp else "\n")
        if facts.decoded.problem:
            out.write(f"problem   {printable(facts.decoded.problem)}\n")
        out.write(f"signature {_signature_line(report.verified, facts.key.detail)}\n")
        if facts.subject:
            out.write(f"subject   {printable(facts.subject)}\n")
        if report.header:
            out.write("header\n")
            for name, value in report.header.items():
                out.write(f"  {describe_claim(name, value, at)}\n")
        if report.claims:
            out.write("claims\n")
            for name, value in report.claims.items():
                out.write(f"  {describe_claim(name, value, at)}\n")
        out.write("verdicts\n" if verdicts else "verdicts  none: ORDS should accept this token\n")
        for verdict in sorted(verdicts, key=lambda v: _RANK[v.severity]):
            out.write(verdict_block(verdict, indent="  "))
        out.write(f"outcome   {outcome.value.upper()}\n")
    return 1 if any(v.severity is Severity.ERROR for v in verdicts) else 0


def _signature_line(verified: bool | None, detail: str) -> str:
    state = {True: "verified", False: "INVALID", None: "not checked"}[verified]
    return f"{state} ({printable(detail, 200)})" if detail else state
