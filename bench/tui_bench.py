"""Benchmark: the live screen's latency and its time to first screen on a big log.

1. Latency from a line appended to the log to its row in the table, with the real
   ``watch`` session (log selection, follower, parser, analyzer with an offline JWKS) and
   the app running headless (``run_test``); a writer thread appends lines at a steady
   rate. The baseline, measured in the same run, is the bare follower: line written to
   ``RawLine`` received, with no parsing, analysis or UI. Goal: p95 under 250 ms.
2. Time to first screen on a 1 GB log with the default backfill (the last 1000 lines):
   from creating the app to the first rows in the table, and to the whole backfill.
   Baseline: the follower alone delivering those 1000 lines. The headline figure is the
   one a user sees: ``watch`` started as a new process in a real terminal (tmux), from
   exec (interpreter start and imports included) to the first row painted. Goal: under
   1 s.

Figures are printed, nothing is asserted. Run: ``python -m bench.tui_bench
[--lines N] [--rate PER_SECOND] [--big-mb MB]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.synthetic import write_extended_log
from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.cli.watch import build_session
from inspector.demo.idp import LocalIdP, generate_rsa_key, keys_from
from inspector.logs.follow import LogFollower, RawLine, StartAt
from inspector.settings import Settings
from inspector.tui.app import InspectorApp
from inspector.tui.messages import AttemptsAdded

ISSUER = "https://login.example.test/tenant/v2.0"
ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def line(token: str, n: int) -> str:
    """One extended-format line; ``n`` in the path identifies it."""
    return (
        f'20.171.207.12 - - [22/Nov/2026:10:00:00 +0000] "POST /ords/demo/mcp/?n={n} HTTP/1.1" '
        f'401 0 referer:"-" ua:"ChatGPT-User/1.0" content-type:"application/json" '
        f'authorization:"Bearer {token}" mcp-protocol-version:"2025-06-18"\n'
    )


def writer(path: Path, token: str, count: int, rate: float, stamps: dict[int, float]) -> None:
    """Append ``count`` lines at ``rate`` per second, one write per line like nginx."""
    with path.open("a", encoding="ascii") as handle:
        for n in range(count):
            handle.write(line(token, n))
            handle.flush()
            stamps[n] = time.perf_counter()
            time.sleep(1 / rate)


def summary(name: str, latencies: list[float]) -> str:
    ms = [x * 1000 for x in latencies]
    return (
        f"{name}: n={len(ms)} median {statistics.median(ms):.1f} ms, "
        f"p95 {percentile(ms, 95):.1f} ms, max {max(ms):.1f} ms"
    )


def baseline_latency(path: Path, token: str, count: int, rate: float) -> list[float]:
    """The follower alone: line written -> RawLine received."""
    stamps: dict[int, float] = {}
    seen: dict[int, float] = {}
    follower = LogFollower([str(path)], start=StartAt("end"))
    follower.start()
    time.sleep(0.5)
    thread = threading.Thread(target=writer, args=(path, token, count, rate, stamps))
    thread.start()
    deadline = time.monotonic() + count / rate + 10
    for batch in follower.batches(timeout=count / rate + 10):
        now = time.perf_counter()
        for item in batch:
            if isinstance(item, RawLine):
                n = int(item.data.split(b"?n=", 1)[1].split(b" ", 1)[0])
                seen[n] = now
        if len(seen) >= count or time.monotonic() > deadline:
            break
    follower.stop()
    thread.join()
    return [seen[n] - stamps[n] for n in seen if n in stamps]


def watch_args(*extra: str) -> Any:
    return build_parser().parse_args(["watch", "--no-db", *extra])


async def ui_latency(path: Path, jwks: Path, token: str, count: int, rate: float) -> list[float]:
    """The real watch session in the headless app: line written -> row in the table."""
    stamps: dict[int, float] = {}
    shown: dict[int, float] = {}
    args = watch_args("--jwks", str(jwks), str(path))
    session = build_session(args, settings_from_args(args, base=Settings()))
    app = InspectorApp(session)

    def hook(message: object) -> None:
        if isinstance(message, AttemptsAdded):
            now = time.perf_counter()
            entries = list(app.store)[-message.count :]
            for entry in entries:
                target = entry.attempt.record.path or ""
                if "?n=" in target:
                    shown.setdefault(int(target.split("?n=", 1)[1]), now)

    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        await pilot.pause(0.5)
        thread = threading.Thread(target=writer, args=(path, token, count, rate, stamps))
        thread.start()
        deadline = time.monotonic() + count / rate + 10
        while len(shown) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        thread.join()
        await pilot.press("q")
    return [shown[n] - stamps[n] for n in shown if n in stamps]


def make_big_log(path: Path, megabytes: int) -> int:
    """A log of about ``megabytes`` MB: a synthetic block repeated (fast to write)."""
    block_path = path.with_suffix(".block")
    write_extended_log(block_path, 20_000)
    block = block_path.read_bytes()
    block_path.unlink()
    target = megabytes * 1024 * 1024
    written = 0
    with path.open("wb") as out:
        while written < target:
            out.write(block)
            written += len(block)
    return written


async def first_screen(path: Path, jwks: Path) -> tuple[float, float, float]:
    """(to the first rows, to the whole backfill, baseline follower to 1000 lines)."""
    started = time.perf_counter()
    got = 0
    follower = LogFollower([str(path)], start=StartAt("last", 1000))
    for batch in follower.batches(timeout=30):
        got += sum(1 for item in batch if isinstance(item, RawLine))
        if got >= 1000:
            break
    follower.stop()
    baseline = time.perf_counter() - started

    marks: dict[str, float] = {}
    started = time.perf_counter()
    args = watch_args("--jwks", str(jwks), str(path))
    session = build_session(args, settings_from_args(args, base=Settings()))
    app = InspectorApp(session)

    def hook(message: object) -> None:
        if isinstance(message, AttemptsAdded):
            marks.setdefault("first", time.perf_counter())

    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        deadline = time.monotonic() + 60
        while app.store.counters.lines < 1000 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        marks["all"] = time.perf_counter()
        await pilot.press("q")
    return marks.get("first", float("nan")) - started, marks["all"] - started, baseline


def terminal_first_screen(path: Path, jwks: Path) -> float | None:
    """End to end in a real terminal (tmux): process start, imports, backfill, drawing.

    Polls the pane every 10 ms until a row with a client name is drawn; None without tmux.
    """
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    socket = f"tui-bench-{os.getpid()}"
    command = [sys.executable, "-m", "inspector", "watch", "--no-db", "--jwks", str(jwks),
               "--config", os.devnull, str(path)]  # fmt: skip
    shell = f"unset COLUMNS LINES; cd {shlex.quote(str(ROOT))} && {shlex.join(command)}"
    started = time.perf_counter()
    subprocess.run([tmux, "-L", socket, "new-session", "-d", "-s", "b", "-x", "160", "-y", "48",
                    shell], check=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            screen = subprocess.run(
                [tmux, "-L", socket, "capture-pane", "-p", "-t", "b"],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            if "POST /ords" in screen:
                return time.perf_counter() - started
            time.sleep(0.01)
        return None
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True, check=False)


def run(fn: Callable[..., Any], *args: Any) -> Any:
    return asyncio.run(fn(*args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200, help="lines for the latency test")
    parser.add_argument("--rate", type=float, default=20.0, help="lines per second")
    parser.add_argument("--big-mb", type=int, default=1024, help="size of the big log in MB")
    opts = parser.parse_args()

    key = generate_rsa_key(kid="bench-key")
    idp = LocalIdP(keys=[key])  # only used to sign; never started
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "bench-api", "sub": "bench", "iat": now, "nbf": now,
              "exp": now + 3600, "roles": ["ORDSUsers"], "ver": "2.0"}  # fmt: skip
    token = idp.mint(claims)
    with tempfile.TemporaryDirectory(prefix="tui-bench-") as tmp:
        root = Path(tmp)
        jwks = root / "jwks.json"
        jwks.write_text(json.dumps(keys_from([key])))

        base_log = root / "baseline.log"
        base_log.write_text(line(token, -1))
        base = baseline_latency(base_log, token, opts.lines, opts.rate)
        ui_log = root / "extended.log"
        ui_log.write_text(line(token, -1))
        ui = run(ui_latency, ui_log, jwks, token, opts.lines, opts.rate)
        workload = f"[{opts.lines} lines at {opts.rate:g}/s, 1 distinct token, unique requests]"
        print(f"latency, line written -> visible {workload}:")
        print("  " + summary("baseline (follower only)", base))
        print("  " + summary("row in the table (watch)", ui))
        print("  goal: p95 < 250 ms")

        big = root / "big.log"
        size = make_big_log(big, opts.big_mb)
        first, whole, baseline = run(first_screen, big, jwks)
        print(f"time to first screen [{size / 2**30:.2f} GiB friendly log, 50 distinct tokens; "
              f"backfill: last 1000 lines]:")  # fmt: skip
        print(f"  baseline (follower delivers 1000 lines): {baseline * 1000:.0f} ms")
        print(f"  first rows in the table, app already running in this process (no interpreter "
              f"start): {first * 1000:.0f} ms")  # fmt: skip
        print(f"  whole backfill in the table, same: {whole * 1000:.0f} ms")
        terminal = terminal_first_screen(big, jwks)
        if terminal is None:
            print("  first rows from exec: not measured (needs tmux)")
        else:
            print(f"  first rows painted in a real terminal, from exec (interpreter start and "
                  f"imports included): {terminal * 1000:.0f} ms")  # fmt: skip
        print("  goal (first rows from exec): < 1 s")
        big.unlink()


if __name__ == "__main__":
    main()
