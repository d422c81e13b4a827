"""Throughput of the generic log_format parser against a hand-written regex, same run.

Run from the repository root: ``python -m bench.parser_bench`` (or ``python
bench/parser_bench.py``). Writes a 300,000-line synthetic ``extended`` log to a temporary
directory, then reads it (binary, line by line, as the tailer hands lines over) with:

(a) ``compile_format(extended)``: every line into a ``LogRecord`` (time, request split,
    status, unescaped values);
(b) a single regex written by hand for exactly this format, producing the same field dict
    (``-`` -> None, ``\\xHH`` unescaped), without building records.

The headline ratio (goal: a / b >= 0.9) times parsing only: both sides get the same lines
already read into memory, each paired with its ``Source`` as the tailer hands them over.
A second figure reads the file inside the loop (and builds each ``Source`` for (a)).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import EXTENDED_TEMPLATE, write_extended_log
from parsers.nginx.escape import unescape_default
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.records import LogRecord, Source

T = TypeVar("T")

HAND_WRITTEN = re.compile(
    r"(?P<remote_addr>\S+) - (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<body_bytes_sent>\d+) '
    r'referer:"(?P<http_referer>[^"]*)" '
    r'ua:"(?P<http_user_agent>[^"]*)" '
    r'content-type:"(?P<http_content_type>[^"]*)" '
    r'authorization:"(?P<http_authorization>[^"]*)" '
    r'mcp-protocol-version:"(?P<http_mcp_protocol_version>[^"]*)"'
)


Inputs = list[tuple[bytes, Source]]


def load(path: Path) -> Inputs:
    """The lines as the tailer hands them over: raw bytes plus where each came from."""
    name = str(path)
    out: Inputs = []
    offset = 0
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            out.append((line, Source(name, number, offset)))
            offset += len(line)
    return out


def run_generic(inputs: Inputs) -> int:
    parser = compile_format(parse_log_format_string(EXTENDED_TEMPLATE, name="extended"))
    parse = parser.parse
    records = 0
    for line, source in inputs:
        if isinstance(parse(line, source), LogRecord):
            records += 1
    return records


def run_generic_with_sources(path: Path) -> int:
    """Same, reading the file and building each ``Source`` inside the timed loop."""
    parser = compile_format(parse_log_format_string(EXTENDED_TEMPLATE, name="extended"))
    parse = parser.parse
    name = str(path)
    records = 0
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if isinstance(parse(line, Source(name, number, 0)), LogRecord):
                records += 1
    return records


def run_hand_written(inputs: Inputs) -> int:
    match = HAND_WRITTEN.fullmatch
    records = 0
    for line, _source in inputs:
        m = match(line.decode("utf-8", "replace").rstrip("\n"))
        if m is None:
            continue
        fields: dict[str, str | None] = m.groupdict()
        for key, value in fields.items():
            if value == "-":
                fields[key] = None
            elif value is not None and "\\" in value:
                fields[key] = unescape_default(value)
        records += 1
    return records


def run_hand_written_from_file(path: Path) -> int:
    """Same, reading the file inside the timed loop."""
    match = HAND_WRITTEN.fullmatch
    records = 0
    with path.open("rb") as lines:
        for line in lines:
            m = match(line.decode("utf-8", "replace").rstrip("\n"))
            if m is None:
                continue
            fields: dict[str, str | None] = m.groupdict()
            for key, value in fields.items():
                if value == "-":
                    fields[key] = None
                elif value is not None and "\\" in value:
                    fields[key] = unescape_default(value)
            records += 1
    return records


def timed(run: Callable[[T], int], arg: T, lines: int) -> float:
    started = time.process_time()
    parsed = run(arg)
    elapsed = time.process_time() - started
    if parsed != lines:
        raise SystemExit(f"{run.__name__} parsed {parsed} of {lines} lines")
    return lines / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extended.log"
        size = write_extended_log(path, args.lines, token_ratio=1 / 3)
        print(f"log: {args.lines} lines, {size / 1e6:.1f} MB (a third with bearer tokens)")
        inputs = load(path)
        rates: dict[str, float] = {}
        # Interleaved rounds, best of each: both sides see the same machine state.
        for _ in range(args.rounds):
            for label, rate in (
                ("generic", timed(run_generic, inputs, args.lines)),
                ("hand", timed(run_hand_written, inputs, args.lines)),
                ("generic_file", timed(run_generic_with_sources, path, args.lines)),
                ("hand_file", timed(run_hand_written_from_file, path, args.lines)),
            ):
                rates[label] = max(rates.get(label, 0.0), rate)
    ratio = rates["generic"] / rates["hand"]
    print("parsing lines already in memory (bytes + Source, as the tailer hands them over):")
    print(f"  generic compile_format(extended) -> LogRecord: {rates['generic']:>10,.0f} lines/s")
    print(f"  hand-written regex -> field dict:              {rates['hand']:>10,.0f} lines/s")
    print(f"  ratio generic / hand-written: {ratio:.2f} (goal >= 0.90)")
    file_ratio = rates["generic_file"] / rates["hand_file"]
    print("reading the file in the loop too (generic also builds each Source):")
    print(f"  generic: {rates['generic_file']:>10,.0f} lines/s")
    print(f"  hand:    {rates['hand_file']:>10,.0f} lines/s")
    print(f"  ratio:   {file_ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
