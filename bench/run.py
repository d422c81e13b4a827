"""Run every benchmark script in this folder, one after another, and print their figures.

Each benchmark measures its own baseline in the same run, so figures from different
machines are comparable by their ratios, not by absolute numbers.

The scan bench runs once per workload: the friendly log (``--lines``, 300,000 by default),
the realistic ones with distinct tokens at 1%, 5% and 50% of lines (``--diverse-lines``,
100,000 by default, one run each) and the issue's goal workload (300,000 lines with 10,000
distinct tokens), sized so the whole run stays within a few minutes on two cores.
``token_cost`` (the CPU cost of one new token against a bare RS256 verification) runs
before the scan bench. The TUI bench's memory figure comes from a short run (60 s, which
it says); the issue's 10 minutes: ``python -m bench.tui_bench --duration 600``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The pipeline's order: start-up, reading, parsing, keys, the scan, the screen; any other
# bench follows.
ORDER = (
    "startup_bench", "follow_bench", "parser_bench", "keys_bench", "token_cost", "scan_bench",
    "tui_bench",
)  # fmt: skip
# Benches whose file name does not end in _bench (run all the same).
NAMED = ("token_cost",)
# The realistic shapes beside the friendly one (bench.synthetic.WORKLOADS).
DIVERSE = ("tokens-1pct", "tokens-5pct", "tokens-50pct")
# The goal's shape: 10,000 distinct tokens in 300,000 lines.
GOAL = ("tokens-10k", 300_000)


def bench_names() -> list[str]:
    """Every ``*_bench.py`` in this folder, in pipeline order."""
    found = {p.stem for p in HERE.glob("*_bench.py")}
    found |= {name for name in NAMED if (HERE / f"{name}.py").exists()}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def runs(name: str, lines: int | None, diverse_lines: int) -> list[list[str]]:
    """The argument lists ``name`` is run with: one per workload for the scan bench."""
    if name != "scan_bench":
        return [[]]
    friendly = ["--workload", "friendly"] + (["--lines", str(lines)] if lines else [])
    goal, goal_lines = GOAL
    return (
        [friendly]
        + [["--workload", w, "--lines", str(diverse_lines), "--repeat", "1"] for w in DIVERSE]
        + [["--workload", goal, "--lines", str(goal_lines), "--repeat", "1"]]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the known benchmarks that exist; exit non-zero if any of them failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, help="lines of the friendly scan log (300,000)")
    parser.add_argument(
        "--diverse-lines", type=int, default=100_000, help="lines of each realistic scan log"
    )
    parser.add_argument("--only", nargs="*", help="run only these benches (e.g. scan_bench)")
    opts = parser.parse_args(argv)
    failed = []
    for name in bench_names():
        if opts.only and name not in opts.only:
            continue
        for extra in runs(name, opts.lines, opts.diverse_lines):
            print(f"== {name} {' '.join(extra)}".rstrip(), flush=True)
            result = subprocess.run(
                [sys.executable, "-m", f"bench.{name}", *extra], cwd=HERE.parent
            )
            if result.returncode != 0:
                failed.append(" ".join([name, *extra]))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
