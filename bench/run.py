"""Run every benchmark script in this folder, one after another, and print their figures.

Each benchmark measures its own baseline in the same run, so figures from different
machines are comparable by their ratios, not by absolute numbers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The pipeline's order: start-up, reading, parsing, keys, the scan, the screen; any other
# bench follows.
ORDER = ("startup_bench", "follow_bench", "parser_bench", "keys_bench", "scan_bench", "tui_bench")


def bench_names() -> list[str]:
    """Every ``*_bench.py`` in this folder, in pipeline order."""
    found = {p.stem for p in HERE.glob("*_bench.py")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def main() -> int:
    """Run the known benchmarks that exist; exit non-zero if any of them failed."""
    failed = []
    for name in bench_names():
        print(f"== {name}", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
