"""Start-up time of the command line, against ``python -c pass`` in the same run.

Run from the repository root: ``python -m bench.startup_bench`` (``--root DIR`` measures
another checkout, e.g. a ``git worktree`` of an older commit). Each case starts a fresh
interpreter ``--repeat`` times (``python -m inspector ...`` with the checkout as working
directory, so its code is the one imported) and prints the median and best wall time, the
time over the bare interpreter, and which heavy libraries the case imported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("baseline: python -c pass", ("-c", "pass")),
    ("token-inspector --version", ("-m", "inspector", "--version")),
    ("token-inspector --help", ("-m", "inspector", "--help")),
    ("token-inspector scan --help", ("-m", "inspector", "scan", "--help")),
)

# Libraries that --version and --help have no use for.
HEAVY = ("cryptography", "requests", "jwt", "oracledb", "textual")


def wall_times(args: tuple[str, ...], root: Path, repeat: int) -> list[float]:
    """Seconds each of ``repeat`` fresh interpreters took to run ``args``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, *args], cwd=root, capture_output=True, check=True, timeout=120
        )
        times.append(time.perf_counter() - start)
    return times


def heavy_imports(args: tuple[str, ...], root: Path) -> list[str]:
    """The heavy top-level packages ``args`` imports, read from ``-X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = set()
    for line in done.stderr.splitlines():
        name = line.rsplit("|", 1)[-1].strip()
        top = name.split(".", 1)[0]
        if top in HEAVY:
            found.add(top)
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per case (default 15)")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to measure")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    print(f"checkout: {root}")
    base: float | None = None
    for label, case in CASES:
        times = wall_times(case, root, args.repeat)
        median = statistics.median(times)
        if base is None:
            base = median
            print(f"{label:<30} median {median * 1000:7.1f} ms  best {min(times) * 1000:7.1f} ms")
            continue
        heavy = ", ".join(heavy_imports(case, root)) or "none"
        print(
            f"{label:<30} median {median * 1000:7.1f} ms  best {min(times) * 1000:7.1f} ms"
            f"  (+{(median - base) * 1000:.1f} ms over python)  heavy imports: {heavy}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
