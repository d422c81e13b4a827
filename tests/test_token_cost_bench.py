"""``bench/token_cost.py`` runs (on few tokens), labels its figures, and is part of
``make bench``: the per-token cost is a figure the issue asks for on every run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_token_cost_runs_and_labels_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.token_cost", "--tokens", "40", "--repeat", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    label = "[token cost: 40 distinct RS256 tokens of "
    assert lines and all(line.startswith(label) for line in lines), lines
    assert all("KB, median of 1] " in line for line in lines), lines
    out = done.stdout
    assert "bare RS256 verification (cryptography)" in out
    assert "x a bare verification" in out
    assert "goal (new token < 0.15 ms)" in out
    assert "known token, expired, at a new second" in out
    assert "known token, another status (401)" in out
    assert "WRONG" not in out


def test_make_bench_runs_token_cost() -> None:
    from bench.run import bench_names, runs

    names = bench_names()
    assert "token_cost" in names
    assert names.index("token_cost") < names.index("scan_bench")
    assert runs("token_cost", None, 500) == [[]]


def test_million_tokens_bench_runs_on_a_small_log_and_reuses_it(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench.million_tokens", "--tokens", "60", "--dir",
               str(tmp_path), "--processes", "1", "--modes", "json", "report"]  # fmt: skip
    first = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert first.returncode == 0, first.stderr[-2000:]
    lines = first.stdout.strip().splitlines()
    assert all(line.startswith("[60 lines, 60 distinct signed tokens]") for line in lines)
    assert "generated in" in lines[0]
    assert "scan --json:" in first.stdout and "scan (report):" in first.stdout
    assert sum(1 for _ in (tmp_path / "million.log").open()) == 60
    again = subprocess.run(
        command[:-1], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "reused from an earlier run" in again.stdout
