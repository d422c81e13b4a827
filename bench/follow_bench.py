"""Benchmark: the log follower's read-once path and its time to the last lines of a big file.

1. A 300,000-line extended log read with ``LogFollower(follow=False)`` against the
   baseline of plain Python line iteration (``for line in open(path, "rb")``), measured in
   the same run. Goal: well over 200k lines/s, and within 2x of the baseline even though
   every line carries its offset and line number.
2. A large file (1 GB by default) followed with ``--last 1000``: time to the first line and
   to the 1000th, against the time it takes just to count the file's newlines (what exact
   line numbers would cost). Goal: first lines well under 1 s.

Run: ``python -m bench.follow_bench [--lines N] [--big-mb MB]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from inspector.logs.backscan import COUNT_LIMIT
from inspector.logs.follow import LogFollower, RawLine, StartAt


# CPU time, not wall time: on a shared machine the wall clock measures the neighbours.
def read_once(path: Path) -> tuple[float, int]:
    started = time.process_time()
    count = sum(1 for item in LogFollower([str(path)], follow=False) if isinstance(item, RawLine))
    return time.process_time() - started, count


def baseline(path: Path) -> tuple[float, int]:
    started = time.process_time()
    with path.open("rb") as handle:
        count = sum(1 for _ in handle)
    return time.process_time() - started, count


def count_newlines(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(16 << 20):
            chunk.count(b"\n")
    return time.perf_counter() - started


def last_lines(path: Path, n: int) -> tuple[float, float, int | None]:
    started = time.perf_counter()
    follower = LogFollower([str(path)], start=StartAt("last", n))
    first = 0.0
    got = 0
    line_no: int | None = None
    try:
        for item in follower.items(timeout=10):
            if isinstance(item, RawLine):
                got += 1
                if got == 1:
                    first = time.perf_counter() - started
                    line_no = item.line
                if got == n:
                    break
    finally:
        follower.stop()
    return first, time.perf_counter() - started, line_no


def write_log(path: Path, lines: int) -> None:
    """Extended-format lines; every third carries a bearer token of a realistic 1.2 KB."""
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0." + "x" * 1100 + ".c2lnbmF0dXJl"
    with path.open("w") as out:
        for i in range(lines):
            auth = f"Bearer {token}" if i % 3 == 0 else "-"
            out.write(
                f"203.0.113.{i % 250} - - [22/Nov/2026:00:{i // 6000 % 60:02d}:{i // 100 % 60:02d} "
                f'+0000] "POST /ords/mcp/mcp HTTP/1.1" 401 0 referer:"-" ua:"openai-mcp/1.0.0" '
                f'content-type:"application/json" authorization:"{auth}" '
                'mcp-protocol-version:"2025-06-18"\n'
            )


def grow(small: Path, big: Path, megabytes: int) -> None:
    block = small.read_bytes()
    with big.open("wb") as out:
        while out.tell() < megabytes << 20:
            out.write(block)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--big-mb", type=int, default=1024)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "extended.log"
        write_log(log, opts.lines)
        baseline(log)  # warm the page cache for both
        base_s, base_n = baseline(log)
        ours_s, ours_n = read_once(log)
        assert ours_n == base_n
        print(
            f"read-once {ours_n} lines ({log.stat().st_size / 1e6:,.0f} MB): "
            f"{ours_n / ours_s:,.0f} lines/s of CPU time "
            f"(baseline line iteration {base_n / base_s:,.0f} lines/s, "
            f"ratio {base_s / ours_s:.2f})"
        )
        big = Path(tmp) / "big.log"
        grow(log, big, opts.big_mb)
        count_s = count_newlines(big)
        first, thousand, line_no = last_lines(big, 1000)
        size_mb = big.stat().st_size / 1e6
        print(
            f"--last 1000 on {size_mb:,.0f} MB: first line {first * 1000:.1f} ms, "
            f"1000 lines {thousand * 1000:.1f} ms (line number {line_no}: counting the "
            f"{size_mb:,.0f} MB of newlines would take {count_s * 1000:.0f} ms; exact numbers "
            f"only below {COUNT_LIMIT >> 20} MB)"
        )


if __name__ == "__main__":
    main()
