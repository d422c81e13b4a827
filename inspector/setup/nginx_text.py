"""Editing the user's nginx files by one line, and writing values nginx reads as written.

The parsed tree (``parsers.nginx``) says which block serves what; this module finds the
same block again in the file's text (by its tokens: where its ``{`` and ``}`` stand) so an
``include`` line can be added inside it without touching any other line, indented like
its neighbours.

Every value setup writes into nginx configuration comes from the user or from a token:
``quote`` makes it one nginx word whatever it holds; ``refusal`` names what cannot be
written safely at all (control characters; ``$``, which nginx expands as a variable in
``add_header``, ``alias`` and ``access_log``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from parsers.nginx.lexer import CLOSE, OPEN, SEMICOLON, LexError, Token, tokenize
from parsers.nginx.model import Directive

_BARE = re.compile(r"[A-Za-z0-9_./:@%+=,*-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def quote(value: str) -> str:
    """``value`` as one nginx word: bare when plain, else single-quoted with escapes.

    Inside quotes nginx resolves ``\\'`` and ``\\\\`` (and ``\\n``, ``\\t``...), so
    backslashes are doubled and quotes escaped; ``;``, ``{``, ``}`` and ``#`` are plain text
    there. ``$`` still starts a variable where the directive takes variables: callers
    refuse it with ``refusal`` where it matters.
    """
    if _BARE.fullmatch(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def refusal(what: str, value: str, *, dollar: bool = True) -> str | None:
    """Why ``value`` cannot go into nginx configuration (``None``: it can).

    Control characters (a newline ends a directive in a comment, and none belongs in a URL,
    a scope or a path) are refused; so is ``$`` when ``dollar`` (nginx would read a
    variable there).
    """
    bad = _CONTROL.search(value)
    if bad:
        return f"{what} holds a control character ({bad.group()!r}): refused"
    if dollar and "$" in value:
        return f"{what} holds '$', which nginx would read as a variable: refused"
    return None


_Key = tuple[int, str, tuple[str, ...]]
_Child = tuple[str, tuple[str, ...], int]


@dataclass(frozen=True, slots=True)
class BlockSpan:
    """Where a block directive stands in its file (1-based lines).

    ``open_alone``: nothing follows its ``{`` on that line; ``close_alone``: nothing
    precedes its ``}`` on that line. ``children`` are its direct simple directives as
    written (``include`` not expanded): ``(name, args, line)``.
    """

    head_line: int
    open_line: int
    close_line: int
    open_alone: bool
    close_alone: bool
    first_child_line: int | None
    children: tuple[tuple[str, tuple[str, ...], int], ...]


def block_spans(text: str) -> dict[tuple[int, str, tuple[str, ...]], BlockSpan]:
    """Every block in ``text`` keyed by (head line, name, args), as ``Directive`` names them."""
    try:
        tokens = list(tokenize(text))
    except LexError:
        return {}
    spans: dict[tuple[int, str, tuple[str, ...]], BlockSpan] = {}
    # Per open block: head key, index of its "{", direct children.
    stack: list[
        tuple[tuple[int, str, tuple[str, ...]], int, list[tuple[str, tuple[str, ...], int]]]
    ]
    stack = []
    words: list[Token] = []
    for index, tok in enumerate(tokens):
        if tok.kind == SEMICOLON:
            if words and stack:
                stack[-1][2].append(
                    (words[0].value, tuple(w.value for w in words[1:]), words[0].line)
                )
            words = []
        elif tok.kind == OPEN:
            if words:
                key = (words[0].line, words[0].value, tuple(w.value for w in words[1:]))
                stack.append((key, index, []))
            words = []
        elif tok.kind == CLOSE:
            if not stack:
                return spans
            key, open_index, children = stack.pop()
            open_tok = tokens[open_index]
            after = tokens[open_index + 1]
            before = tokens[index - 1]
            first_child = after.line if open_index + 1 < index else None
            spans.setdefault(
                key,
                BlockSpan(
                    key[0],
                    open_tok.line,
                    tok.line,
                    after.line > open_tok.line,
                    before.line < tok.line,
                    first_child,
                    tuple(children),
                ),
            )
            words = []
        else:
            words.append(tok)
    return spans


def first_token_line(text: str) -> int:
    """The line of the first directive in ``text`` (1 when it has none)."""
    try:
        for tok in tokenize(text):
            return tok.line
    except LexError:
        pass
    return 1


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _newline(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n"


@dataclass(frozen=True, slots=True)
class Insertion:
    """A line to add before 0-based line ``index`` of a file (``text`` without newline)."""

    index: int
    text: str


def insertion_in_block(lines: list[str], span: BlockSpan, text: str) -> Insertion | None:
    """Where a line holding ``text`` goes inside the block: after ``{`` or before ``}``.

    Indented like the block's first child (or one step deeper than the block). ``None``
    when both braces share their lines with other directives: no one-line edit fits.
    """
    head = lines[span.head_line - 1] if span.head_line <= len(lines) else ""
    step = "\t" if "\t" in _indent(head) else "    "
    indent = _indent(head) + step
    if span.first_child_line is not None and span.first_child_line <= len(lines):
        child_line = lines[span.first_child_line - 1]
        if span.first_child_line > span.open_line and child_line.strip():
            indent = _indent(child_line)
    if span.open_alone:
        return Insertion(span.open_line, indent + text)
    if span.close_alone:
        return Insertion(span.close_line - 1, indent + text)
    return None


def apply_insertions(text: str, insertions: list[Insertion]) -> str:
    """``text`` with each insertion's line added (the file's own line ending kept)."""
    if not insertions:
        return text
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    for ins in sorted(insertions, key=lambda i: i.index, reverse=True):
        near = lines[min(ins.index, len(lines) - 1)] if lines else "\n"
        lines.insert(ins.index, ins.text + _newline(near))
    return "".join(lines)


def span_of(
    spans: dict[tuple[int, str, tuple[str, ...]], BlockSpan], directive: Directive
) -> BlockSpan | None:
    """The span of a parsed block directive in its file's text."""
    return spans.get((directive.line, directive.name, directive.args))


def includes(span: BlockSpan, target: Path, conf_dir: Path) -> bool:
    """Whether the block already has an ``include`` of ``target`` among its own lines."""
    for name, args, _ in span.children:
        if name == "include" and len(args) == 1:
            path = Path(args[0])
            if not path.is_absolute():
                path = conf_dir / path
            if path == target:
                return True
    return False
