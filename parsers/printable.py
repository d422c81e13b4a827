"""Attacker-controlled text made safe for a terminal: the one helper every display uses.

Log lines and token claims are written by whoever sends the request. A terminal obeys
escape sequences (ESC, and the 8-bit C1 introducers such as U+009B CSI) that retitle the
window, move the cursor or rewrite what was printed earlier; bidi overrides and isolates
(U+202E…) make text read differently from what it is; a lone surrogate cannot even be
encoded to UTF-8. Rich's ``Text`` strips none of these. ``printable`` escapes each as a
visible Python-style escape (``\\x1b``, ``\\u202e``, ``\\ud800``), so the value is still
readable and two different values never look the same.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline (kept only on request), DEL, C1; invisible format
# characters that reorder or hide text (bidi marks, embeddings, overrides, isolates, the
# Arabic letter mark, zero-width space and joiners' cousins, word joiner and invisible
# operators, the BOM, interlinear annotation, the tag block); line/paragraph separators;
# lone surrogates.
_UNSAFE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f"
)
_UNSAFE = re.compile(f"[\t\n{_UNSAFE_CLASS}]")
_UNSAFE_KEEP_TAB = re.compile(f"[\n{_UNSAFE_CLASS}]")
_UNSAFE_KEEP_LINES = re.compile(f"[{_UNSAFE_CLASS}]")


def escape_char(char: str) -> str:
    """``\\x1b``, ``\\u202e`` or ``\\U000e0001``: one character as a visible escape."""
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(
    text: str, *, limit: int | None = None, keep_tab: bool = False, keep_newline: bool = False
) -> str:
    """``text`` with every terminal-unsafe character escaped, cut to ``limit`` characters.

    Tab and newline are escaped too unless asked for (a one-line display must stay one
    line; ``keep_newline`` keeps tab as well). The cut happens after escaping and ends
    with ``…``: cutting can shorten an escape, never let a raw character through.
    """
    if keep_newline:
        pattern = _UNSAFE_KEEP_LINES
    elif keep_tab:
        pattern = _UNSAFE_KEEP_TAB
    else:
        pattern = _UNSAFE
    cleaned = pattern.sub(lambda m: escape_char(m.group()), text)
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[: max(limit - 1, 0)] + "…"
    return cleaned


def is_printable(text: str) -> bool:
    """True when ``printable`` would leave ``text`` unchanged (no limit)."""
    return _UNSAFE.search(text) is None
