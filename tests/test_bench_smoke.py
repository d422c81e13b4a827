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
    "keys_bench": ["--flood", "500", "--minutes", "2.5"],
    "scan_bench": ["--lines", "3000", "--repeat", "1"],
    "startup_bench": ["--repeat", "1"],
    "tui_bench": [
        "--seconds",
        "0.5",
        "--throughput-rate",
        "400",
        "--throughput-seconds",
        "0.5",
        "--burst",
        "200",
        "--duration",
        "2",
        "--big-mb",
        "2",
    ],
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


@pytest.mark.parametrize("workload", ["tokens-1pct", "tokens-5pct", "tokens-50pct"])
def test_scan_bench_runs_each_realistic_workload_and_labels_every_figure(workload: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.scan_bench", "--lines", "1000", "--repeat", "1",
         "--processes", "1", "--workload", workload],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines
    assert all(line.startswith(f"[{workload}: 1,000 lines, ") for line in lines), lines
    assert "1,000 distinct requests" in lines[0]
    assert "per extra distinct token" in done.stdout


def test_realistic_workloads_have_the_promised_diversity(tmp_path: Path) -> None:
    from bench.synthetic import WORKLOADS, describe, fake_tokens, write_extended_log

    for name, share in (("tokens-1pct", 0.01), ("tokens-5pct", 0.05), ("tokens-50pct", 0.5)):
        shape = WORKLOADS[name]
        log = tmp_path / f"{name}.log"
        tokens = fake_tokens(shape.distinct_tokens(2000))
        write_extended_log(
            log, 2000, shape.token_ratio(), tokens, unique_requests=shape.unique_requests,
            seconds_per_line=shape.seconds_per_line, every_token=True,
        )  # fmt: skip
        expected = round(2000 * share)
        assert describe(log, name) == (
            f"[{name}: 2,000 lines, {expected:,} distinct tokens, 2,000 distinct requests, "
            f"2,000 distinct timestamps]"
        )


def test_run_gives_the_scan_bench_every_workload() -> None:
    from bench.run import runs

    workloads = [args[args.index("--workload") + 1] for args in runs("scan_bench", None, 500)]
    assert workloads == ["friendly", "tokens-1pct", "tokens-5pct", "tokens-50pct", "tokens-10k"]
    goal = runs("scan_bench", None, 500)[-1]
    assert goal[goal.index("--lines") + 1] == "300000"
    assert runs("keys_bench", None, 500) == [[]]


def test_keys_bench_counts_the_refreshes_of_a_flood_over_simulated_minutes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.keys_bench", "--flood", "300", "--minutes", "3.5"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "over 3.5 simulated min" in done.stdout
    assert "then 3 (at most 3: one per 60 s)" in done.stdout


def test_tui_bench_times_rows_painted_on_a_terminal_and_labels_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.tui_bench", "--seconds", "0.5", "--skip", "throughput",
         "memory", "--big-mb", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    workload = "[100 lines at 200/s, each with a new signed token"
    assert f"latency, line written -> visible {workload}" in out
    assert "row painted (watch on a terminal), n=" in out
    assert "first rows [" in out and "from exec (interpreter start and imports included)" in out
    assert "nothing painted" not in out
