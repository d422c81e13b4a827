"""Reading a regular log file once, fast: big reads, whole-block parsing, both cores.

The generic read-once path (``LogFollower`` then ``LineParser.parse`` per line) builds a
``RawLine`` and a record for every line. ``scan`` only judges attempts, so here a file is
read in large blocks and each block goes through ``LineParser.parse_block``, which
matches every line in place and builds records only for the lines that matter (and for
every failure). Large files are cut at newline boundaries into byte ranges, one per CPU;
forked workers scan the later ranges while this process scans the first one, each
worker counting the newlines before its range so line numbers stay exact.

What the consumer sees is what the generic path gives for the same file: the same records
for the kept lines, the same failures, the same line count. Pipes, standard input, gzip
files and ``--last`` stay on the generic path.

With ``Selection.lazy`` a kept line is not made into a record: a ``Part`` with an
``answer`` method is first offered the line's match and may give the line's output
itself (``scan --json`` does, from its analysis cache); other kept lines reach ``take``
as ``Matched``, which builds the record on demand.
"""

from __future__ import annotations

import bisect
import os
import pickle
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from inspector.logs.linesplit import DEFAULT_MAX_LINE
from parsers.nginx.log_format import LineParser
from parsers.records import LogRecord, ParseFailure, Source

READ_CHUNK = 256 * 1024
# Below this, forking costs more than it saves.
PARALLEL_MIN_BYTES = 20 * 1024 * 1024
# Counting newlines costs about this fraction of scanning the same bytes; later ranges are
# made that much shorter, since their worker first counts the lines before them.
COUNT_COST = 0.08
# Workers beyond this count mostly count newlines.
MAX_PROCESSES = 8
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# What a JWS looks like in a line (a JSON header starts with '{"': "eyJ" in base64url).
# Only a hint of which tokens several ranges share (see shared_lines): a token it misses
# is judged in each process that meets it, as without the hint.
_TOKEN_HINT = re.compile(rb"eyJ[A-Za-z0-9_.-]{20,}")
# Distinct tokens of the later ranges remembered (by hash) while looking for shared ones,
# and lines warmed at most: about what the analysis caches keep (analyzer's cache size).
HINT_LIMIT = 65_536
WARM_LIMIT = 16_384
# The first range is searched until this many tokens in a row were not shared: a log of
# fresh tokens (each on one line) costs a short look, not a pass over the whole range.
HINT_GIVE_UP = 20_000
# Seconds, at most, to wait before forking for threads the warming started (key fetches
# end by their own deadline, 10 s by default).
WARM_THREADS_WAIT = 15.0
# Bytes read at a time by the hint pass.
HINT_CHUNK = 4 * 1024 * 1024
# Judging a token the first time costs about this many lines' scanning (tokens-10k, one
# process: 0.165 ms a new token, 8 us a line); used to cut two ranges of equal work.
TOKEN_LINES = 20.0
# A forked worker's line or token costs about this much more than the parent's (its
# first writes copy the pages it inherited; it writes a file the parent copies on):
# tokens-10k, 2 processes, the worker's range took 1.2x what these counts predict.
WORKER_COST = 1.2
# Buffers one os.writev call may take (POSIX guarantees 16; Linux takes 1024).
try:
    _IOV_MAX = max(16, min(1024, os.sysconf("SC_IOV_MAX")))
except (AttributeError, ValueError, OSError):
    _IOV_MAX = 16


class Matched:
    """A kept line matched but not yet made into a record (``Selection.lazy``).

    A consumer that can answer from the match groups alone (the line's raw field values)
    skips the record; ``record()`` builds exactly what ``parse`` would have given.
    """

    __slots__ = ("build", "file", "line", "match", "offset")

    def __init__(
        self,
        match: re.Match[str],
        file: str,
        line: int,
        offset: int,
        build: Callable[..., LogRecord | ParseFailure],
    ) -> None:
        self.match = match
        self.file = file
        self.line = line
        self.offset = offset
        self.build = build

    def record(self) -> LogRecord | ParseFailure:
        """The line's record (or, should building fail, its failure)."""
        match = self.match
        return self.build(
            match.string, match.start(), match.end(), match, self.file, self.line, self.offset
        )


Builder = Callable[..., LogRecord | ParseFailure]
# A Part's optional ``answer(match, file, line, offset, build)``: the output a kept line
# gives (b"" for none), or None to have it handed over as ``Matched``.
Answer = Callable[[re.Match[str], str, int, int, Builder], bytes | None]
# What a Part is given: records, failures, matched lines and (from ``answer``) output.
Items = list[LogRecord | ParseFailure | Matched | bytes]


class Part(Protocol):
    """Whoever judges the lines of one byte range (one per process).

    It may also have an ``answer`` attribute (an ``Answer``, or None), used when the
    selection is lazy.
    """

    def take(self, items: Items, lines: int) -> None:
        """``lines`` more lines were read; ``items`` are their kept records and failures,
        in line order (with a lazy selection also ``Matched`` lines and answered output).
        """


@dataclass(frozen=True, slots=True)
class Selection:
    """Which records ``parse_block`` keeps (failures are always kept)."""

    present: Collection[str] | None  # variables with a value make a line count; None: all
    statuses: Collection[str] = ()  # ... and so do these ``$status`` values
    # Hand kept ASCII lines over as ``Matched`` (plain LineParsers only).
    lazy: bool = False


class Worker(Protocol):
    """How a forked worker judges its range and hands the result back.

    It may also have a ``warmer()`` method giving a ``Part`` that judges lines without
    output or counts, filling the caches the parent's part and the workers share: before
    the workers are forked it is given the first line of each token that several ranges
    carry, so each such token is judged once, and the workers inherit the judgement."""

    def part(self, output: IO[str]) -> Part:
        """A fresh ``Part`` writing its output (if any) to ``output``."""

    def result(self, part: Part) -> Any:
        """What the parent needs from a finished part (picklable)."""

    def absorb(self, result: Any, output: IO[bytes]) -> None:
        """In the parent, in range order: merge ``result`` and copy ``output`` on."""


def readable_once(path: str) -> bool:
    """Whether ``path`` is a regular, uncompressed file this module can read."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return False
    if not stat.S_ISREG(mode):
        return False
    if path.endswith(".gz"):
        try:
            with open(path, "rb") as handle:
                if handle.read(2) == b"\x1f\x8b":
                    return False
        except OSError:
            return False
    return True


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def scan_file(
    path: str,
    parser: LineParser,
    part: Part,
    selection: Selection,
    *,
    worker: Worker | None = None,
    processes: int | None = None,
    max_line: int = DEFAULT_MAX_LINE,
    parallel_min: int | None = None,
) -> list[str]:
    """Read ``path`` once into ``part``; with ``worker``, split it over ``processes``.

    Returns the I/O problems met, as one-line messages (empty when all went well).
    ``OSError`` from opening the file propagates: callers fall back to the generic path
    for the message it gives.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        count = processes if processes is not None else cpu_count()
        smallest = PARALLEL_MIN_BYTES if parallel_min is None else parallel_min
        if worker is None or count < 2 or size < smallest or not hasattr(os, "fork"):
            return _read_range(fd, path, parser, part, selection, 0, None, 1, max_line)[1]
        ranges = split_ranges(fd, size, count)
        if len(ranges) < 2:
            return _read_range(fd, path, parser, part, selection, 0, None, 1, max_line)[1]
        warm: list[bytes] | None = None
        if len(ranges) == 2 and hasattr(worker, "warmer"):
            try:
                plan = balanced_split(fd)
            except OSError:
                plan = None  # the ranges' own reads say what went wrong
            if plan is not None:
                ranges, warm = plan
        return _scan_parallel(fd, path, parser, part, selection, ranges, worker, max_line, warm)
    finally:
        os.close(fd)


def split_ranges(fd: int, size: int, parts: int) -> list[tuple[int, int | None]]:
    """Up to ``parts`` byte ranges that start at line starts; the last runs to the end.

    Range k's worker first counts the newlines before it, so with scanning cost W and
    counting cost C per byte, range k gets ``len_0 - (C/W) * start_k`` bytes: every
    worker then has the same work. Ranges that would get almost nothing are dropped.
    """
    lengths = [1.0]
    for _ in range(1, min(parts, MAX_PROCESSES)):
        length = 1.0 - COUNT_COST * sum(lengths)
        if length < 0.25:
            break
        lengths.append(length)
    total = sum(lengths)
    cuts = [0]
    acc = 0.0
    for length in lengths[:-1]:
        acc += length / total
        cut = _line_start_after(fd, int(size * acc), size)
        if cut <= cuts[-1] or cut >= size:
            break
        cuts.append(cut)
    return [(start, cuts[i + 1] if i + 1 < len(cuts) else None) for i, start in enumerate(cuts)]


def _line_start_after(fd: int, pos: int, size: int) -> int:
    """The offset just after the first newline at or after ``pos`` (``size`` if none)."""
    while pos < size:
        data = os.pread(fd, 64 * 1024, pos)
        if not data:
            return size
        newline = data.find(b"\n")
        if newline >= 0:
            return pos + newline + 1
        pos += len(data)
    return size


def count_newlines(fd: int, start: int, stop: int) -> int:
    """Newlines in the bytes ``[start, stop)`` of ``fd``."""
    count = 0
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    pos = start
    while pos < stop:
        got = os.preadv(fd, [view[: min(READ_CHUNK, stop - pos)]], pos)
        if not got:
            break
        count += buffer.count(b"\n", 0, got)
        pos += got
    return count


def _read_range(
    fd: int,
    path: str,
    parser: LineParser,
    part: Part,
    selection: Selection,
    start: int,
    stop: int | None,
    line: int,
    max_line: int,
) -> tuple[int, list[str]]:
    """Feed the lines in ``[start, stop)`` (to the end when ``stop`` is None) to ``part``.

    Returns (lines read, problems). ``start`` is a line start and ``stop`` one too (or the
    end), so no line is split between two ranges.
    """
    first = line
    pos = start  # offset of the next byte to read
    # Reads land after the incomplete line carried over (``have`` bytes at the front),
    # and blocks are decoded straight from the buffer: no joining, no slicing copies.
    # What is carried is at most a read (after a newline) or max_line bytes (without).
    buffer = bytearray(2 * READ_CHUNK + max_line)
    view = memoryview(buffer)
    have = 0
    skipping = False  # inside an over-long line, after its cut part was parsed
    take = part.take
    answer: Answer | None = getattr(part, "answer", None) if selection.lazy else None
    while True:
        want = READ_CHUNK if stop is None else min(READ_CHUNK, stop - pos)
        try:
            got = os.preadv(fd, [view[have : have + want]], pos) if want > 0 else 0
        except OSError as exc:
            return line - first, [f"{path}: read failed: {exc.strerror or exc}"]
        at_end = got == 0
        line_start = pos - have
        pos += got
        if skipping:  # nothing is carried while skipping
            newline = buffer.find(b"\n", 0, got)
            if newline < 0 and not at_end:
                continue
            skipping = False
            got = got - newline - 1 if newline >= 0 else 0
            buffer[:got] = buffer[newline + 1 : newline + 1 + got]
            line_start = pos - got
        end = have + got
        if at_end:
            # The last line may lack its newline; it is a line all the same.
            if end:
                items: Items = []
                count = _parse_block(
                    parser, view[:end], path, line, line_start, items, selection, max_line, answer
                )
                take(items, count)
                line += count
            return line - first, []
        cut = buffer.rfind(b"\n", 0, end) + 1
        if cut == 0:
            if end > max_line:
                # The generic splitter's rule: parse the first max_line bytes, cut, and
                # skip the rest of the line up to its newline.
                source = Source(path, line, line_start)
                take([parser.parse(bytes(view[:max_line]), source, True)], 1)
                line += 1
                have = 0
                skipping = True
            else:
                have = end
            continue
        items = []
        count = _parse_block(
            parser, view[:cut], path, line, line_start, items, selection, max_line, answer
        )
        take(items, count)
        line += count
        have = end - cut
        buffer[:have] = buffer[cut:end]


def _parse_block(
    parser: LineParser,
    block: bytes | memoryview,
    path: str,
    line: int,
    offset: int,
    out: Items,
    selection: Selection,
    max_line: int,
    answer: Answer | None = None,
) -> int:
    """Parse the complete lines of ``block``; ASCII stretches in bulk, other lines alone."""
    bulk = _match_block if selection.lazy and lazy_capable(parser) else _records_block
    try:
        text = str(block, "ascii")
    except UnicodeDecodeError:
        block = bytes(block)
    else:
        return bulk(parser, text, path, line, offset, out, selection, max_line, answer)
    first = line
    pos = 0
    size = len(block)
    while pos < size:
        odd = _NON_ASCII.search(block, pos)
        ascii_end = size if odd is None else block.rfind(b"\n", pos, odd.start()) + 1
        if ascii_end > pos:
            line += bulk(
                parser,
                block[pos:ascii_end].decode("ascii"),
                path,
                line,
                offset + pos,
                out,
                selection,
                max_line,
                answer,
            )
        if odd is None:
            break
        # A line with other bytes: decoded (with replacement) and parsed on its own, as
        # the generic path does; the consumer decides whether its record matters.
        start = max(ascii_end, pos)
        stop = block.find(b"\n", start)
        if stop < 0:
            stop = size
        data = block[start:stop]
        source = Source(path, line, offset + start)
        if len(data) > max_line:
            out.append(parser.parse(data[:max_line], source, True))
        else:
            out.append(parser.parse(data, source))
        line += 1
        pos = stop + 1
    return line - first


def lazy_capable(parser: LineParser) -> bool:
    """Whether ``parser`` can hand over ``Matched`` lines: a plain, generated LineParser."""
    return type(parser) is LineParser and parser.parse is getattr(parser, "_generated", None)


def _records_block(
    parser: LineParser,
    text: str,
    path: str,
    line: int,
    offset: int,
    out: Items,
    selection: Selection,
    max_line: int,
    answer: Answer | None,
) -> int:
    del answer  # records for every kept line
    return parser.parse_block(
        text,
        path,
        line,
        offset,
        out,  # type: ignore[arg-type]  # appends records and failures only
        present=selection.present,
        statuses=selection.statuses,
        max_line=max_line,
    )


def _match_block(
    parser: LineParser,
    text: str,
    path: str,
    line: int,
    offset: int,
    out: Items,
    selection: Selection,
    max_line: int,
    answer: Answer | None,
) -> int:
    """``LineParser.parse_block`` that appends ``Matched`` instead of kept records.

    The same line rules: failures and over-long lines as ``parse`` gives them, the same
    choice of kept lines (a ``present`` variable with a value, or a listed status). A
    kept line ``answer`` takes care of (see ``Answer``) becomes its text, if any.
    """
    # The parser's compiled matcher and record builder: what parse_block itself uses.
    groups: dict[str, str] = parser._groups
    fullmatch: Callable[..., re.Match[str] | None] = parser._fullmatch
    build: Builder = parser._from_match
    present = selection.present
    wanted = None if present is None else tuple(groups[n] for n in present if n in groups)
    status_group = groups.get("status") if selection.statuses else None
    statuses = frozenset(selection.statuses)
    # The usual case, one variable ($http_authorization) and $status, in one call.
    pair = (
        (wanted[0], status_group)
        if wanted is not None and len(wanted) == 1 and status_group is not None
        else None
    )
    parse = parser.parse
    find = text.find
    append = out.append
    end = len(text)
    pos = 0
    first = line
    if pair is not None and answer is not None:
        # What scan --json runs for every line: the same loop, with the choices made.
        value_group, status_group = pair
        while pos < end:
            stop = find("\n", pos)
            if stop < 0:
                stop = end
            if stop - pos > max_line:
                append(parse(text[pos : pos + max_line], Source(path, line, offset + pos), True))
            else:
                match = fullmatch(text, pos, stop)
                if match is None:
                    append(parse(text[pos:stop], Source(path, line, offset + pos)))
                else:
                    value, status = match.group(value_group, status_group)
                    if value is not None or status in statuses:
                        said = answer(match, path, line, offset + pos, build)
                        if said is None:
                            append(Matched(match, path, line, offset + pos, build))
                        elif said:
                            append(said)
            line += 1
            pos = stop + 1
        return line - first
    while pos < end:
        stop = find("\n", pos)
        if stop < 0:
            stop = end
        if stop - pos > max_line:
            append(parse(text[pos : pos + max_line], Source(path, line, offset + pos), True))
        else:
            match = fullmatch(text, pos, stop)
            if match is None:
                append(parse(text[pos:stop], Source(path, line, offset + pos)))
            else:
                if pair is not None:
                    value, status = match.group(*pair)
                    keep = value is not None or status in statuses
                elif wanted is None:
                    keep = True
                else:
                    keep = any(match[group] is not None for group in wanted) or (
                        status_group is not None and match[status_group] in statuses
                    )
                if keep:
                    said = (
                        None if answer is None else answer(match, path, line, offset + pos, build)
                    )
                    if said is None:
                        append(Matched(match, path, line, offset + pos, build))
                    elif said:
                        append(said)
        line += 1
        pos = stop + 1
    return line - first


def _scan_parallel(
    fd: int,
    path: str,
    parser: LineParser,
    part: Part,
    selection: Selection,
    ranges: list[tuple[int, int | None]],
    worker: Worker,
    max_line: int,
    warm: list[bytes] | None = None,
) -> list[str]:
    children: list[tuple[int, int, IO[bytes], int, int | None]] = []
    warmer: Callable[[], Part] | None = getattr(worker, "warmer", None)
    if warmer is not None:
        _warm(fd, path, parser, warmer(), selection, ranges, max_line, warm)
    try:
        for start, stop in ranges[1:]:
            output: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed after absorb)
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover (runs in the child; its effects are tested)
                os.close(read_end)
                _child(
                    fd, path, parser, selection, start, stop, worker, output, write_end, max_line
                )
            os.close(write_end)
            children.append((pid, read_end, output, start, stop))
        lines, problems = _read_range(
            fd, path, parser, part, selection, ranges[0][0], ranges[0][1], 1, max_line
        )
        for pid, read_end, output, start, stop in children:
            payload = _read_all(read_end)
            os.close(read_end)
            os.waitpid(pid, 0)
            outcome = _unpickle(payload)
            if outcome is not None and outcome[0] == lines + 1:
                _, got, result, child_problems = outcome
                output.seek(0)
                worker.absorb(result, output)
                lines += got
                problems.extend(child_problems)
            else:
                # The worker died or disagreed about line numbers: read its range here.
                got, more = _read_range(
                    fd, path, parser, part, selection, start, stop, lines + 1, max_line
                )
                lines += got
                problems.extend(more)
            output.close()
        children.clear()
        return problems
    finally:
        for pid, read_end, output, _, _ in children:
            os.close(read_end)
            output.close()
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass


def shared_lines(
    fd: int, ranges: list[tuple[int, int | None]], limit: int = WARM_LIMIT
) -> list[bytes]:
    """The first line in the first range of each token (``_TOKEN_HINT``) a later range
    also carries, in file order, at most ``limit`` of them (complete lines, newline
    included).

    Two cheap passes of a bytes regex: the later ranges' tokens are remembered by hash
    (at most ``HINT_LIMIT``), then the first range is searched for them, until
    ``HINT_GIVE_UP`` tokens in a row were not among them. A hash that collides only warms
    a line the first range judges anyway.
    """
    later: set[int] = set()
    for start, stop in ranges[1:]:
        for block in _blocks(fd, start, stop):
            later.update(map(hash, _TOKEN_HINT.findall(block)))
            if len(later) >= HINT_LIMIT:
                break
        if len(later) >= HINT_LIMIT:
            break
    found: list[bytes] = []
    if not later:
        return found
    done: set[int] = set()
    start, stop = ranges[0]
    quiet = 0  # tokens in a row that no later range carries
    for block in _blocks(fd, start, stop):
        # Tokens come in block order: each is searched for from the one found before.
        cursor = 0
        for token in _TOKEN_HINT.findall(block):
            key = hash(token)
            if key not in later:
                quiet += 1
                if quiet >= HINT_GIVE_UP:
                    return found
                continue
            quiet = 0
            if key in done:
                continue
            done.add(key)
            at = block.find(token, cursor)
            cursor = at + len(token)
            first = block.rfind(b"\n", 0, at) + 1
            end = block.find(b"\n", at)
            found.append(block[first : len(block) if end < 0 else end] + b"\n")
            if len(found) >= limit:
                return found
    return found


def balanced_split(
    fd: int, limit: int = WARM_LIMIT
) -> tuple[list[tuple[int, int | None]], list[bytes]] | None:
    """Two ranges of about equal work, and the lines to warm before the fork; None when
    the file is one block or has more than ``HINT_LIMIT`` distinct tokens (then the
    caller cuts by bytes and ``shared_lines`` looks for shared tokens, as before).

    Ranges equal in bytes are not equal in work: a token is judged once, before the fork
    when both ranges carry it, so what a range costs is its lines plus the tokens it
    carries (see ``choose_cut``). One pass of the token regex over the file, block by
    block (``HINT_CHUNK``), gives each block's lines and the first and last block of
    every token, and the offset of its first line; the cut is at a block boundary (a
    line start), and the lines warmed are the first lines of the tokens on both sides.
    """
    starts: list[int] = []
    lines: list[int] = []
    first: dict[int, int] = {}  # token hash -> offset of its first line
    last: dict[int, int] = {}  # token hash -> last block carrying it
    pos = 0
    for index, block in enumerate(_blocks(fd, 0, None)):
        starts.append(pos)
        lines.append(block.count(b"\n"))
        found = _TOKEN_HINT.findall(block)
        hashes = list(map(hash, found))
        distinct = set(hashes)
        new = distinct.difference(first)
        if new:
            if len(first) + len(new) > HINT_LIMIT:
                return None
            # Tokens come in block order: each is searched for from the one found before.
            cursor = 0
            for token, key in zip(found, hashes, strict=True):
                if key in new:
                    new.discard(key)
                    at = block.find(token, cursor)
                    cursor = at + len(token)
                    first[key] = pos + block.rfind(b"\n", 0, at) + 1
                    if not new:
                        break
        last.update(dict.fromkeys(distinct, index))
        pos += len(block)
    if len(starts) < 2 or pos != os.fstat(fd).st_size:
        return None  # one block, or a line _blocks dropped: offsets would be off
    news = [0] * len(starts)
    ends = [0] * len(starts)
    for offset in first.values():
        news[bisect.bisect_right(starts, offset) - 1] += 1
    for index in last.values():
        ends[index] += 1
    at = choose_cut(lines, news, ends)
    cut = starts[at]
    shared = sorted(offset for key, offset in first.items() if offset < cut and last[key] >= at)
    warm = [_line_at(fd, offset) for offset in shared[:limit]]
    return [(0, cut), (cut, None)], warm


def choose_cut(lines: list[int], news: list[int], ends: list[int]) -> int:
    """The block (1 to len - 1) where the second of two ranges starts, so that both
    processes finish together: for each block, ``lines`` it holds, tokens first seen
    (``news``) and last seen (``ends``) in it.

    The parent judges the first range and, before the fork, the tokens both carry: its
    work is the first range's lines and every token first seen there. The worker's is
    the second range's lines, every token seen there (last seen there or after), and
    counting the lines before it, times ``WORKER_COST``. A token weighs ``TOKEN_LINES``
    lines.
    """
    total_lines = sum(lines)
    total_tokens = sum(ends)
    best, best_cost = 1, float("inf")
    before_lines = lines[0]
    before_news = news[0]
    ended = ends[0]  # tokens whose last block is before the cut
    for cut in range(1, len(lines)):
        parent = before_lines + TOKEN_LINES * before_news
        child = WORKER_COST * (
            total_lines - before_lines
            + TOKEN_LINES * (total_tokens - ended)
            + COUNT_COST * before_lines
        )  # fmt: skip
        cost = max(parent, child)
        if cost < best_cost:
            best, best_cost = cut, cost
        before_lines += lines[cut]
        before_news += news[cut]
        ended += ends[cut]
    return best


def _line_at(fd: int, offset: int) -> bytes:
    """The line starting at ``offset`` (newline included; a mebibyte at most)."""
    data = b""
    while len(data) < 1024 * 1024:
        more = os.pread(fd, 64 * 1024, offset + len(data))
        if not more:
            break
        newline = more.find(b"\n")
        if newline >= 0:
            return data + more[: newline + 1]
        data += more
    return data + b"\n"


def _blocks(fd: int, start: int, stop: int | None) -> Iterator[bytes]:
    """The bytes ``[start, stop)`` of ``fd`` in blocks of whole lines (but a last one)."""
    pos = start
    carry = b""
    while stop is None or pos < stop:
        want = HINT_CHUNK if stop is None else min(HINT_CHUNK, stop - pos)
        data = os.pread(fd, want, pos)
        if not data:
            break
        pos += len(data)
        data = carry + data if carry else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            # An endless line (no newline in a mebibyte) is not carried further.
            carry = data if len(data) <= 1024 * 1024 else b""
            continue
        carry = data[cut:]
        yield data[:cut]
    if carry:
        yield carry


def _warm(
    fd: int,
    path: str,
    parser: LineParser,
    part: Part,
    selection: Selection,
    ranges: list[tuple[int, int | None]],
    max_line: int,
    lines: list[bytes] | None = None,
) -> None:
    """Judge, in ``part``, ``lines`` (by default what ``shared_lines`` finds), a batch
    at a time.

    Their line numbers and offsets are made up: ``part`` writes and counts nothing.
    """
    if lines is None:
        try:
            lines = shared_lines(fd, ranges)
        except OSError:
            return  # the ranges' own reads say what went wrong
    answer: Answer | None = getattr(part, "answer", None) if selection.lazy else None
    running = set(threading.enumerate())
    for first in range(0, len(lines), 1024):
        block = b"".join(lines[first : first + 1024])
        items: Items = []
        count = _parse_block(parser, block, path, 1, 0, items, selection, max_line, answer)
        part.take(items, count)
    # Judging may have started threads (key fetches). The workers are forked next: a
    # thread running then may hold a lock (its own, or the C library's) that no thread
    # of the worker would ever release. Let them end first, each by its deadline.
    deadline = time.monotonic() + WARM_THREADS_WAIT
    for thread in threading.enumerate():
        if thread not in running:
            thread.join(max(0.0, deadline - time.monotonic()))


def _child(
    fd: int,
    path: str,
    parser: LineParser,
    selection: Selection,
    start: int,
    stop: int | None,
    worker: Worker,
    output: IO[bytes],
    write_end: int,
    max_line: int,
) -> None:
    """The forked worker: count the lines before its range, scan the range, report, exit."""
    status = 0
    try:
        with open(
            output.fileno(), "w", encoding="utf-8", closefd=False, buffering=READ_CHUNK
        ) as text:
            part = worker.part(text)
            first = 1 + count_newlines(fd, 0, start)
            got, problems = _read_range(
                fd, path, parser, part, selection, start, stop, first, max_line
            )
            result = worker.result(part)
        payload = pickle.dumps((first, got, result, problems), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view) :]
    except BaseException:  # the parent reads the range itself instead
        status = 1
    finally:
        os._exit(status)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, READ_CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)


def _unpickle(payload: bytes) -> tuple[int, int, Any, list[str]] | None:
    if not payload:
        return None
    try:
        # Our own child wrote it, through a pipe only we hold.
        loaded: tuple[int, int, Any, list[str]] = pickle.loads(payload)  # noqa: S301
    except Exception:
        return None
    return loaded


def write_all(fd: int, pieces: list[bytes]) -> None:
    """Write ``pieces`` to ``fd`` in order, gathered (``os.writev``), resuming short writes."""
    step = _IOV_MAX
    for start in range(0, len(pieces), step):
        batch = pieces[start : start + step]
        done = os.writev(fd, batch)
        total = sum(map(len, batch))
        if done < total:
            rest = memoryview(b"".join(batch))[done:]
            while rest:
                rest = rest[os.write(fd, rest) :]


def copy_output(source: IO[bytes], out: IO[str]) -> None:
    """Append a worker's output file to ``out`` (a text stream)."""
    raw: Any = getattr(out, "buffer", None)
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    direct = raw is not None and encoding in ("utf8", "ascii", "usascii")
    if direct:
        out.flush()
        raw.flush()
        if _sendfile(source, raw):
            return
    while chunk := source.read(READ_CHUNK):
        if direct:
            raw.write(chunk)
        else:
            out.write(chunk.decode("utf-8"))
    if direct:
        raw.flush()


def _sendfile(source: IO[bytes], raw: Any) -> bool:
    """Copy the rest of ``source`` to ``raw`` in the kernel; False when that is not possible.

    A worker's output is about half of everything a big scan writes: copying it through
    user space costs the parent a noticeable part of the time the split saved.
    """
    try:
        src, dst = source.fileno(), raw.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    offset = source.tell()
    end = os.fstat(src).st_size
    try:
        while offset < end:
            sent = os.sendfile(dst, src, offset, end - offset)
            if sent == 0:
                break
            offset += sent
    except OSError:
        if offset == source.tell():
            return False  # nothing sent yet: the plain copy can still do it all
        raise
    source.seek(offset)
    return True
