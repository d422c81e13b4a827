"""Cutting a byte stream into lines: offsets, line numbers, over-long and partial lines.

Pure bookkeeping with no I/O, shared by the file follower and the standard-input reader.
Bytes pass through untouched (binary junk included): the log parser decides what a line
means.
"""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_MAX_LINE = 64 * 1024


class RawLine(NamedTuple):
    """One complete line as read: no newline, cut to ``max_line`` bytes when ``truncated``.

    ``line`` is the 1-based line number, or None when it was too costly to work out
    (following from the end of a large file). ``offset`` is the byte offset of the line
    start (in the uncompressed stream for gzip files).

    Immutable like a frozen dataclass, but a NamedTuple: one is built per log line, and
    building a tuple costs about a third of a frozen dataclass (whose ``__init__`` goes
    through ``object.__setattr__`` per field), which is most of the read-once budget.
    """

    file: str
    line: int | None
    offset: int
    data: bytes
    truncated: bool


class LineSplitter:
    """Turns successive chunks of one stream into ``RawLine`` values.

    An unterminated tail is kept until its newline arrives, so half lines are never
    emitted while a writer is mid-line. A line longer than ``max_line`` is emitted once,
    cut and flagged, and the rest of it is skipped up to its newline.
    """

    __slots__ = ("file", "line", "line_start", "max_line", "pending", "pos", "skipping")

    def __init__(
        self, file: str, *, pos: int = 0, line: int | None = 1, max_line: int = DEFAULT_MAX_LINE
    ) -> None:
        self.file = file
        self.max_line = max_line
        self.pos = pos  # stream offset of the next byte to be fed
        self.line_start = pos  # offset of the first byte of `pending`
        self.line = line  # number of the next line emitted
        self.pending = b""
        self.skipping = False

    def reset(self, pos: int = 0, line: int | None = 1) -> None:
        """Forget any partial line and restart at ``pos`` (after truncation or a new file)."""
        self.pos = self.line_start = pos
        self.line = line
        self.pending = b""
        self.skipping = False

    def feed(self, data: bytes, out: list[RawLine]) -> None:
        """Append the complete lines found in ``data`` (the next bytes of the stream)."""
        if not data:
            return
        if self.skipping:
            newline = data.find(b"\n")
            if newline < 0:
                self.pos += len(data)
                return
            self.pos += newline + 1
            data = data[newline + 1 :]
            self.skipping = False
            self.line_start = self.pos
        self.pos += len(data)
        buf = self.pending + data if self.pending else data
        parts = buf.split(b"\n")
        tail = parts.pop()
        file = self.file
        limit = self.max_line
        offset = self.line_start
        line = self.line
        append = out.append
        if line is None:
            for part in parts:
                size = len(part)
                if size > limit:
                    append(RawLine(file, None, offset, part[:limit], True))
                else:
                    append(RawLine(file, None, offset, part, False))
                offset += size + 1
        else:
            for part in parts:
                size = len(part)
                if size > limit:
                    append(RawLine(file, line, offset, part[:limit], True))
                else:
                    append(RawLine(file, line, offset, part, False))
                offset += size + 1
                line += 1
        if len(tail) > limit:
            append(RawLine(file, line, offset, tail[:limit], True))
            if line is not None:
                line += 1
            self.skipping = True
            tail = b""
        self.pending = tail
        self.line_start = offset
        self.line = line

    def finish(self, out: list[RawLine]) -> None:
        """The stream ended: emit an unterminated last line, if any, as it is."""
        if self.pending:
            out.append(RawLine(self.file, self.line, self.line_start, self.pending, False))
            self.line_start += len(self.pending)
            if self.line is not None:
                self.line += 1
            self.pending = b""
