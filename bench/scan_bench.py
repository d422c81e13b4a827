"""Benchmark: ``scan --json`` on a 300,000-line extended log against a naive loop.

The log (a third bearer lines, 50 distinct tokens of realistic size, signed with an RSA key
generated here) is written by ``bench.synthetic.write_extended_log``; signatures are
verified against an offline JWKS file. The naive baseline, measured in the same run, is
what a quick script would do: a regex per line, then base64-decode and ``json.loads``
every token's payload, with no verification and no cache. Goal: the full scan (every
verdict computed, JSON Lines written to /dev/null) at least 2x the naive throughput.

Run: ``python -m bench.scan_bench [--lines N]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.synthetic import EXTENDED_TEMPLATE, write_extended_log
from inspector.cli import build_parser
from inspector.commands.scan import scan
from inspector.config import load_config
from inspector.follow import StartAt
from inspector.local_idp import LocalIdP
from inspector.logsource import iter_records, select_logs

ROOT = Path(__file__).resolve().parent.parent
# What a quick script matches each line with: the extended format's fields, by regex.
_LINE = re.compile(
    r'(?P<addr>\S+) - (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+) referer:"(?P<referer>[^"]*)" ua:"(?P<ua>[^"]*)" '
    r'content-type:"(?P<ctype>[^"]*)" authorization:"(?P<auth>[^"]*)" '
    r'mcp-protocol-version:"(?P<mcp>[^"]*)"'
)
# The fastest possible baseline: only look for the token.
_BEARER = re.compile(r'authorization:"Bearer ([^"]+)"')


def signed_tokens(idp: LocalIdP, issued: float, count: int = 50) -> list[str]:
    """``count`` distinct Entra-v2-shaped tokens of 1.2-1.6 KB, really signed.

    Most stay valid for the whole log (as in a healthy deployment); every tenth expires
    ten minutes in, so failure verdicts are part of the work measured.
    """
    tokens = []
    for i in range(count):
        iat = int(issued) - i
        lifetime = 600 if i % 10 == 9 else 6 * 3600
        claims = idp.entra_v2_claims(
            now=iat,
            exp=iat + lifetime,
            oid=f"{i:08d}-0000-4000-8000-000000000000",
            pad="x" * (300 + 8 * i),
        )
        tokens.append(idp.mint(claims))
    return tokens


def naive(path: Path) -> tuple[float, int]:
    """The baseline: regex-match each line, decode each bearer payload; (seconds, tokens)."""
    started = time.perf_counter()
    found = 0
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            match = _LINE.match(line)
            if match is None:
                continue
            auth = match.group("auth")
            if not auth.startswith("Bearer "):
                continue
            parts = auth[7:].split(".")
            if len(parts) != 3:
                continue
            payload = parts[1] + "=" * (-len(parts[1]) % 4)
            json.loads(base64.urlsafe_b64decode(payload))
            found += 1
    return time.perf_counter() - started, found


def naive_search(path: Path) -> float:
    """A cruder baseline still: search for the token only, ignore the rest of the line."""
    started = time.perf_counter()
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            match = _BEARER.search(line)
            if match is None:
                continue
            parts = match.group(1).split(".")
            if len(parts) == 3:
                json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    return time.perf_counter() - started


def parse_only(argv: list[str]) -> float:
    """Reading and parsing every line with the user's log_format, no analysis (a floor)."""
    args = build_parser().parse_args(argv)
    selection = select_logs(args, load_config(args.config, explicit=True))
    started = time.perf_counter()
    for _ in iter_records(selection, StartAt("start"), follow=False, poll=False):
        pass
    return time.perf_counter() - started


def scan_argv(log: Path, jwks: Path, config: Path) -> list[str]:
    """The command line of the measured scan."""
    return [
        "scan", str(log), "--log-format", EXTENDED_TEMPLATE, "--jwks", str(jwks),
        "--config", str(config), "--json",
    ]  # fmt: skip


def in_process(argv: list[str]) -> tuple[float, int]:
    """Run the scan function with stdout to /dev/null; returns (seconds, exit status)."""
    args = build_parser().parse_args(argv)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        started = time.perf_counter()
        status = scan(args, sink, sys.stderr)
        return time.perf_counter() - started, status


def as_subprocess(argv: list[str]) -> tuple[float, int, float]:
    """The real command in a child process; returns (seconds, exit status, peak RSS MiB)."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "inspector", *argv], cwd=ROOT, stdout=sink, check=False
        )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, done.returncode, peak


def main() -> int:
    """Write the log, run both contenders, print the figures; exit 1 if a scan broke."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        root = Path(tmp)
        idp = LocalIdP()
        log, jwks, config = root / "extended.log", root / "jwks.json", root / "empty.toml"
        start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
        tokens = signed_tokens(idp, start.timestamp() - 60)
        size = write_extended_log(log, opts.lines, 1 / 3, tokens, start=start)
        jwks.write_text(json.dumps(idp.jwks()))
        config.write_text("")
        print(f"log: {opts.lines:,} lines, {size / 2**20:.1f} MiB, 50 distinct signed tokens")

        naive_s, found = naive(log)
        print(f"naive loop      {naive_s:7.2f} s  {opts.lines / naive_s:>10,.0f} lines/s "
              f"(line regex, {found:,} payloads decoded, nothing verified)")  # fmt: skip
        crude_s = naive_search(log)
        print(f"token search    {crude_s:7.2f} s  {opts.lines / crude_s:>10,.0f} lines/s "
              f"(token regex only: a lower bound no parser reaches)")  # fmt: skip

        argv = scan_argv(log, jwks, config)
        parse_s = parse_only(argv)
        print(f"parse only      {parse_s:7.2f} s  {opts.lines / parse_s:>10,.0f} lines/s "
              f"(iter_records with the log_format parser, no analysis)")  # fmt: skip
        scan_s, status = in_process(argv)
        ratio = naive_s / scan_s
        print(f"scan in-process {scan_s:7.2f} s  {opts.lines / scan_s:>10,.0f} lines/s "
              f"(exit {status}, {ratio:.2f}x naive)")  # fmt: skip

        sub_s, sub_status, peak = as_subprocess(argv)
        print(f"scan subprocess {sub_s:7.2f} s  {opts.lines / sub_s:>10,.0f} lines/s "
              f"(exit {sub_status}, {naive_s / sub_s:.2f}x naive, "
              f"peak RSS {peak:.0f} MiB)")  # fmt: skip
        print(f"analysis + JSON output on top of parsing: {scan_s - parse_s:.2f} s "
              f"({(scan_s - parse_s) / max(scan_s, 1e-9):.0%} of the scan)")  # fmt: skip
        goal = "met" if ratio >= 2 else "NOT met"
        print(f"goal (in-process scan >= 2x naive): {goal}")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (naive loop + in-process scan): {own:.0f} MiB")
    # The figures are the result; a failure is a scan that did not run to completion.
    return 0 if status in (0, 1) and sub_status in (0, 1) else 1


if __name__ == "__main__":
    raise SystemExit(main())
