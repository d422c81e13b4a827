"""Benchmark: ``scan --json`` on a 300,000-line extended log against a naive loop.

The log (a third bearer lines, 50 distinct tokens of realistic size, signed with an RSA key
generated here) is written by ``bench.synthetic.write_extended_log``; signatures are
verified against an offline JWKS file. The naive baseline, measured in the same run, is
what a quick script would do: a regex per line, then base64-decode and ``json.loads``
every token's payload, with no verification and no cache. Goal: the full scan (every
verdict computed, JSON Lines written to /dev/null) at least 2x the naive throughput.

The scan reads regular files through ``inspector.logs.bulkscan`` and splits big ones over the
CPUs, so it is measured on one process and on all of them; CPU seconds (this process and
its workers) are printed next to wall time, since a busy machine slows the parallel scan
without changing the work done. Peak memory is given per process: the bench itself
(naive loop plus in-process scans), the largest forked worker, the subprocess scan.

Each contender runs ``--repeat`` times and its best wall time (and least CPU) is shown:
other work on the machine only ever adds time.

``--workload`` picks the log's shape (``bench.synthetic.WORKLOADS``): ``friendly`` (the
above: every cache hits) or ``tokens-1pct`` / ``tokens-5pct`` / ``tokens-50pct``, where
distinct signed tokens number that share of the lines, every request line is unique and
the timestamp moves every line (a second of log time). For those, a 1-process scan of a
friendly log of the same length is timed too, and the difference divided by the extra
distinct tokens is printed as the cost of one new token. Every figure line starts with the
workload's description, counted from the generated file.

Run: ``python -m bench.scan_bench [--lines N] [--processes N] [--repeat N] [--workload W]``.
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

from bench.synthetic import EXTENDED_TEMPLATE, WORKLOADS, Workload, describe, write_extended_log
from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.cli.scan import scan
from inspector.demo.idp import LocalIdP
from inspector.logs import bulkscan
from inspector.logs.follow import StartAt
from inspector.logs.selection import iter_records, select_logs
from parsers.nginx.log_format import LineParser

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


def signed_tokens(
    idp: LocalIdP, issued: float, count: int = 50, *, lifetime_s: int = 6 * 3600
) -> list[str]:
    """``count`` distinct Entra-v2-shaped tokens of 1.2-1.6 KB, really signed.

    Most stay valid for ``lifetime_s`` (the whole log, as in a healthy deployment); every
    tenth expires ten minutes in, so failure verdicts are part of the work measured.
    """
    tokens = []
    for i in range(count):
        iat = int(issued) - i % 3600
        lifetime = 600 if i % 10 == 9 else lifetime_s
        claims = idp.entra_v2_claims(
            now=iat,
            exp=iat + lifetime,
            oid=f"{i:08d}-0000-4000-8000-000000000000",
            pad="x" * (300 + 8 * (i % 50)),
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
    selection = select_logs(settings_from_args(args).logs)
    started = time.perf_counter()
    for _ in iter_records(selection, StartAt("start"), follow=False, poll=False):
        pass
    return time.perf_counter() - started


class _Discard:
    """A ``bulkscan.Part`` that drops what it is given: block parsing alone."""

    def take(self, items: bulkscan.Items, lines: int) -> None:
        del items, lines


def bulk_parse_only(argv: list[str]) -> float:
    """Reading and parsing with ``parse_block`` (records for attempts only), no analysis."""
    args = build_parser().parse_args(argv)
    selection = select_logs(settings_from_args(args).logs)
    keep = bulkscan.Selection(present=("http_authorization",), statuses=("401", "403"))
    started = time.perf_counter()
    for path in selection.paths:
        parser = selection.parsers[path]
        assert isinstance(parser, LineParser)
        bulkscan.scan_file(path, parser, _Discard(), keep, processes=1)
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """User + system time of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def scan_argv(log: Path, jwks: Path, config: Path) -> list[str]:
    """The command line of the measured scan."""
    return [
        "scan", str(log), "--log-format", EXTENDED_TEMPLATE, "--jwks", str(jwks),
        "--config", str(config), "--json",
    ]  # fmt: skip


def in_process(argv: list[str], processes: int) -> tuple[float, float, int]:
    """Run the scan function with stdout to /dev/null; (seconds, CPU seconds, exit status)."""
    args = build_parser().parse_args(argv)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        cpu = cpu_seconds()
        started = time.perf_counter()
        status = scan(args, sink, sys.stderr, processes=processes)
        return time.perf_counter() - started, cpu_seconds() - cpu, status


def best(argv: list[str], processes: int, repeat: int) -> tuple[float, float, int]:
    """``in_process`` ``repeat`` times: (least seconds, least CPU seconds, last status)."""
    wall = cpu = float("inf")
    status = 0
    for _ in range(repeat):
        took, used, status = in_process(argv, processes)
        wall, cpu = min(wall, took), min(cpu, used)
    return wall, cpu, status


def as_subprocess(argv: list[str]) -> tuple[float, float, int, float]:
    """The real command in a child process: (seconds, CPU seconds, exit status, peak MiB).

    The peak is the largest of the command and its workers (``RUSAGE_CHILDREN`` keeps the
    maximum over every waited-for descendant), measured before anything larger ran.
    """
    cpu = cpu_seconds()
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "inspector", *argv], cwd=ROOT, stdout=sink, check=False
        )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, cpu_seconds() - cpu, done.returncode, peak


def write_workload(
    root: Path, idp: LocalIdP, workload: Workload, lines: int, start: datetime
) -> tuple[Path, int]:
    """Sign the workload's tokens and write its log under ``root``; (path, bytes)."""
    log = root / f"{workload.name}.log"
    # Long enough for the whole log's time span, so expiry stays the tenth token's doing.
    span = int(lines * workload.seconds_per_line) + 3600
    tokens = signed_tokens(
        idp,
        start.timestamp() - 60,
        workload.distinct_tokens(lines),
        lifetime_s=max(6 * 3600, span),
    )
    size = write_extended_log(
        log,
        lines,
        workload.token_ratio(),
        tokens,
        start=start,
        unique_requests=workload.unique_requests,
        seconds_per_line=workload.seconds_per_line,
        every_token=workload.token_share is not None,
    )
    return log, size


def main() -> int:
    """Write the log, run both contenders, print the figures; exit 1 if a scan broke."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument(
        "--processes", type=int, default=bulkscan.cpu_count(), help="scan processes (all CPUs)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (best)")
    parser.add_argument(
        "--workload", choices=sorted(WORKLOADS), default="friendly", help="the log's shape"
    )
    opts = parser.parse_args()
    workload = WORKLOADS[opts.workload]
    repeat = max(1, opts.repeat)
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        root = Path(tmp)
        idp = LocalIdP()
        jwks, config = root / "jwks.json", root / "empty.toml"
        start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
        log, size = write_workload(root, idp, workload, opts.lines, start)
        jwks.write_text(json.dumps(idp.jwks()))
        config.write_text("")
        label = describe(log, workload.name)

        def say(text: str) -> None:
            print(f"{label} {text}", flush=True)

        say(f"log: {size / 2**20:.1f} MiB, tokens signed by the bench's offline key; "
            f"{bulkscan.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")  # fmt: skip

        naive_s = naive_cpu = float("inf")
        for _ in range(repeat):
            cpu = cpu_seconds()
            took, found = naive(log)
            naive_s, naive_cpu = min(naive_s, took), min(naive_cpu, cpu_seconds() - cpu)
        say(f"(best of {repeat} runs each)")
        say(f"naive loop        {naive_s:7.2f} s  {opts.lines / naive_s:>10,.0f} lines/s "
              f"(cpu {naive_cpu:.2f} s; line regex, {found:,} payloads decoded, "
              f"nothing verified)")  # fmt: skip
        crude_s = naive_search(log)
        say(f"token search      {crude_s:7.2f} s  {opts.lines / crude_s:>10,.0f} lines/s "
              f"(token regex only, no line validated)")  # fmt: skip

        argv = scan_argv(log, jwks, config)
        parse_s = parse_only(argv)
        say(f"parse, generic    {parse_s:7.2f} s  {opts.lines / parse_s:>10,.0f} lines/s "
              f"(iter_records: a record per line, no analysis)")  # fmt: skip
        bulk_s = bulk_parse_only(argv)
        say(f"parse, bulk       {bulk_s:7.2f} s  {opts.lines / bulk_s:>10,.0f} lines/s "
              f"(parse_block: every line matched, records for attempts only)")  # fmt: skip

        one_s, one_cpu, status = best(argv, 1, repeat)
        say(f"scan, 1 process   {one_s:7.2f} s  {opts.lines / one_s:>10,.0f} lines/s "
              f"(cpu {one_cpu:.2f} s, exit {status}, {naive_s / one_s:.2f}x naive)")  # fmt: skip
        ratio = naive_s / one_s
        if opts.processes > 1:
            many_s, many_cpu, status = best(argv, opts.processes, repeat)
            ratio = naive_s / many_s
            say(f"scan, {opts.processes} processes {many_s:7.2f} s  "
                  f"{opts.lines / many_s:>10,.0f} lines/s (cpu {many_cpu:.2f} s, exit {status}, "
                  f"{ratio:.2f}x naive)")  # fmt: skip
            # What the split itself costs: work done twice (tokens met by several
            # processes, counting newlines, the shared-token pass), forks, copies.
            say(f"split overhead    cpu {many_cpu - one_cpu:+.2f} s ({opts.processes} "
                f"processes vs 1: {many_cpu / max(one_cpu, 1e-9) - 1:+.0%})")  # fmt: skip
        worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        sub_s, sub_cpu, sub_status, peak = as_subprocess(argv)
        say(f"scan subprocess   {sub_s:7.2f} s  {opts.lines / sub_s:>10,.0f} lines/s "
              f"(cpu {sub_cpu:.2f} s, exit {sub_status}, {naive_s / sub_s:.2f}x naive; "
              f"interpreter start and imports included)")  # fmt: skip
        say(f"analysis + JSON output on top of bulk parsing: {one_s - bulk_s:.2f} s "
              f"({(one_s - bulk_s) / max(one_s, 1e-9):.0%} of the 1-process scan)")  # fmt: skip
        goal = "met" if ratio >= 2 else "NOT met"
        say(f"goal (in-process scan >= 2x naive): {goal} ({ratio:.2f}x); "
              f"load average now {os.getloadavg()[0]:.2f}")  # fmt: skip
        if workload.token_share is not None:
            friendly = WORKLOADS["friendly"]
            plain, _ = write_workload(root, idp, friendly, opts.lines, start)
            plain_s, plain_cpu, _ = best(scan_argv(plain, jwks, config), 1, repeat)
            extra = max(
                1, workload.distinct_tokens(opts.lines) - friendly.distinct_tokens(opts.lines)
            )
            # CPU seconds as well as wall: on a shared machine wall time also counts waiting.
            say(f"friendly log of the same length, 1 process {plain_s:.2f} s (cpu "
                f"{plain_cpu:.2f} s); per extra distinct token "
                f"{(one_s - plain_s) / extra * 1000:.3f} ms wall, "
                f"{(one_cpu - plain_cpu) / extra * 1000:.3f} ms cpu "
                f"((scan - friendly scan) / {extra:,}; unique requests and per-second "
                f"timestamps included)")  # fmt: skip
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        say(f"peak RSS: this process {own:.0f} MiB (naive loop + in-process scans), "
              f"largest scan worker {worker_peak:.0f} MiB, subprocess scan "
              f"{max(peak, worker_peak):.0f} MiB (largest of it and its workers)")  # fmt: skip
    # The figures are the result; a failure is a scan that did not run to completion.
    return 0 if status in (0, 1) and sub_status in (0, 1) else 1


if __name__ == "__main__":
    raise SystemExit(main())
