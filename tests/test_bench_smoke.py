"""Every benchmark still runs (on tiny inputs): a bench that broke unnoticed measures nothing.

Figures are not checked here; speed is judged by running ``make bench`` and reading them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SMALL = {
    "follow_bench": ["--lines", "2000", "--big-mb", "2"],
    "parser_bench": ["--lines", "2000", "--rounds", "1"],
    "keys_bench": [],
    "scan_bench": ["--lines", "3000", "--repeat", "1"],
    "startup_bench": ["--repeat", "1"],
    "tui_bench": ["--lines", "10", "--rate", "200", "--big-mb", "2"],
}


def test_every_benchmark_is_listed() -> None:
    found = {p.stem for p in (ROOT / "bench").glob("*_bench.py")}
    assert found == set(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_benchmark_runs_on_a_small_input(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *SMALL[name]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
