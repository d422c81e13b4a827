"""``rules``: look a verdict or doctor code up, in the words of docs/verdicts.md and doctor.md.

Both registries ship with the package, so a host with only the installed tool can explain
a code it finds in a log, a ``scan --json`` line or a doctor report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any, TextIO

from inspector.cli.help import HelpFormatter, examples
from inspector.doctor.registry import Check, all_checks, find_check
from inspector.judge.rules import Rule, all_rules, get_rule
from inspector.schema_version import SCHEMA_VERSION
from parsers.printable import printable

EPILOG = examples(
    "token-inspector rules   # every verdict and doctor code, one a line",
    "token-inspector rules issuer-mismatch   # what it means and how to fix it",
    "token-inspector rules prm-resource-mismatch --json",
)


def register(subparsers: Any) -> None:
    """Add the ``rules`` sub-command."""
    parser = subparsers.add_parser(
        "rules",
        help="explain a verdict or doctor code (all codes without one)",
        description="Print what a verdict code (scan, tail, decode, the TUI) or a doctor "
        "finding code means and how to fix it, the same text as docs/verdicts.md and "
        "docs/doctor.md. Without CODE, list every code.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("code", nargs="?", metavar="CODE", help="a verdict or doctor code")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def rule_dict(rule: Rule) -> dict[str, Any]:
    """A verdict rule as ``rules --json`` writes it."""
    return {
        "kind": "verdict",
        "code": rule.code,
        "severity": rule.severity.value,
        "title": rule.title,
        "message": rule.message,
        "explanation": rule.explanation,
        "fix": rule.fix,
    }


def check_dict(check: Check) -> dict[str, Any]:
    """A doctor check as ``rules --json`` writes it."""
    return {
        "kind": "doctor",
        "code": check.code,
        "severity": check.severity.value,
        "step": check.section,
        "status": check.status,
        "meaning": check.meaning,
        "fix": check.fix,
    }


def lookup(code: str) -> list[dict[str, Any]]:
    """Every entry for ``code``: a verdict, a doctor check, or both (empty when unknown)."""
    found: list[dict[str, Any]] = []
    with contextlib.suppress(KeyError):
        found.append(rule_dict(get_rule(code)))
    check = find_check(code)
    if check is not None:
        found.append(check_dict(check))
    return found


def everything() -> list[dict[str, Any]]:
    """Every verdict, then every doctor check."""
    return [rule_dict(r) for r in all_rules()] + [check_dict(c) for c in all_checks()]


def _text(entry: dict[str, Any]) -> str:
    if entry["kind"] == "verdict":
        return "\n".join(
            [
                f"{entry['code']} (verdict, {entry['severity']}): {entry['title']}",
                f"  message: {entry['message']}",
                f"  {entry['explanation']}",
                f"  fix: {entry['fix']}",
            ]
        )
    lines = [
        f"{entry['code']} (doctor, {entry['severity']}; status {entry['status']}): "
        f"step {entry['step']}",
    ]
    if entry["meaning"]:
        lines.append(f"  {entry['meaning']}")
    if entry["fix"]:
        lines.append(f"  fix: {entry['fix']}")
    return "\n".join(lines)


def _summary(entry: dict[str, Any]) -> str:
    what = entry["title"] if entry["kind"] == "verdict" else entry["meaning"] or entry["status"]
    return f"{entry['code']:<42} {entry['kind']:<8} {entry['severity']:<6} {what}"


def run(args: argparse.Namespace) -> int:
    """Print one code's entries, or every code; an unknown code is one line and exit 2."""
    return show(args.code, as_json=args.json, out=sys.stdout, err=sys.stderr)


def show(code: str | None, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    """The command's body, with its streams passed in."""
    entries = everything() if code is None else lookup(code)
    if not entries:
        shown = printable(code or "", limit=80)
        print(f"token-inspector: unknown code '{shown}' (see 'token-inspector rules')", file=err)
        return 2
    if as_json:
        doc = {"schema_version": SCHEMA_VERSION, "rules": entries}
        print(json.dumps(doc, ensure_ascii=False, indent=None if code is None else 2), file=out)
    elif code is None:
        print("\n".join(_summary(e) for e in entries), file=out)
    else:
        print("\n\n".join(_text(e) for e in entries), file=out)
    return 0
