"""JSON from strangers with one fixed nesting limit, checked before the parser recurses.

``json.loads`` recurses once per nested array or object, so how deep a document it
accepts depends on how deep the caller's stack already is: the same token decoded in
one command and "malformed" in another, and a 100,000-deep document raising
``RecursionError`` out of code that promises never to raise. :func:`loads` measures the
depth first, without recursion, and refuses anything deeper than :data:`MAX_DEPTH` with
a ``ValueError`` (the exception ``json.loads`` callers already handle), so every caller
gives the same answer for the same bytes.
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any

# Real tokens and IdP documents nest 3 to 5 levels; 64 leaves room for any honest claim.
MAX_DEPTH = 64

# A JSON string literal (possessive: no backtracking on hostile input). Brackets inside
# strings are text, not structure, so strings are removed before brackets are counted.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# Openers count +1, closers -1 (0xFF read as a signed byte).
_STEPS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})


class JsonTooDeep(ValueError):
    """The document nests arrays and objects deeper than the limit."""


def nesting_depth(text: str) -> int:
    """How deeply ``text``'s arrays and objects nest (0 for a scalar), without recursion.

    For text that is not JSON the number is meaningless but finite; the parser says why.
    """
    if "[" not in text and "{" not in text:
        return 0
    structure = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if len(structure) <= 1:
        return len(structure)
    steps = array("b", structure.translate(_STEPS).encode("latin-1"))
    return max(0, max(accumulate(steps)))


def check_depth(text: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`JsonTooDeep` when ``text`` nests deeper than ``max_depth``."""
    # Fewer brackets than the limit cannot nest deeper than it: the common case is free.
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonTooDeep(f"JSON nested {depth} levels deep, more than {max_depth}")


def loads(data: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH, **options: Any) -> Any:
    """``json.loads(data, **options)`` for a document nested at most ``max_depth`` deep.

    Raises ``ValueError`` (:class:`JsonTooDeep`, ``json.JSONDecodeError``) or
    ``UnicodeDecodeError`` for what cannot be read, never ``RecursionError``.
    """
    if isinstance(data, bytes | bytearray):
        # What json.loads itself does with bytes: UTF-8/16/32 by the first bytes.
        text = bytes(data).decode(json.detect_encoding(data), "surrogatepass")
    else:
        text = data
    check_depth(text, max_depth=max_depth)
    try:
        return json.loads(text, **options)
    except RecursionError:
        # Only a caller already at the bottom of its stack gets here: refuse, never raise.
        raise JsonTooDeep(
            f"JSON nested too deeply for the stack left ({max_depth} levels allowed)"
        ) from None
