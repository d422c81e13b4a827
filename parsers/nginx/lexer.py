"""Tokens of nginx's configuration language, the way ``ngx_conf_read_token`` splits them.

Kept apart from the directive tree so the quoting rules (which decide what a log format
really contains) can be read and tested on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

WORD = "word"
SEMICOLON = ";"
OPEN = "{"
CLOSE = "}"

_SPACE = " \t\r\n"
# Escapes nginx resolves inside words (quoted or not); any other backslash stays as is.
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


class LexError(Exception):
    """A quoting error, with the 1-based line where nginx would report it."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is WORD, ``;``, ``{`` or ``}``; ``quoted`` for '..' and ".." words."""

    kind: str
    value: str
    line: int
    quoted: bool = False


def tokenize(text: str) -> Iterator[Token]:
    """Split configuration text into tokens; comments are dropped.

    Raises ``LexError`` for an unterminated quote or a quote glued to the next word
    (nginx: ``unexpected "x"``).
    """
    i = 0
    n = len(text)
    line = 1
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            if ch == "\n":
                line += 1
            i += 1
            continue
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in ";{}":
            yield Token(ch, ch, line)
            i += 1
            continue
        start_line = line
        if ch in "\"'":
            value, i, line = _quoted(text, i, line)
            if i < n and text[i] not in _SPACE and text[i] not in ";{)":
                raise LexError(f'unexpected "{text[i]}"', line)
            yield Token(WORD, value, start_line, quoted=True)
            continue
        value, i, line = _bare(text, i, line)
        yield Token(WORD, value, start_line)


def _quoted(text: str, i: int, line: int) -> tuple[str, int, int]:
    quote = text[i]
    start_line = line
    out: list[str] = []
    i += 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "\n":
                line += 1
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1, line
        if ch == "\n":
            line += 1
        out.append(ch)
        i += 1
    raise LexError(f"unexpected end of file, unterminated {quote} string", start_line)


def _bare(text: str, i: int, line: int) -> tuple[str, int, int]:
    out: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "\n":
                line += 1
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        # "${name}" keeps its brace: only "{" right after "$" belongs to the word.
        if ch == "{" and out and out[-1] == "$":
            out.append(ch)
            i += 1
            continue
        if ch in _SPACE or ch == ";" or ch == "{":
            break
        out.append(ch)
        i += 1
    return "".join(out), i, line
