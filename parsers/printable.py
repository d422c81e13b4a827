"""Attacker-controlled text made safe for a terminal: the one helper every display uses.

Log lines and token claims are written by whoever sends the request. A terminal obeys
escape sequences (ESC, and the 8-bit C1 introducers such as U+009B CSI) that retitle the
window, move the cursor or rewrite what was printed earlier; bidi overrides and isolates
(U+202E…) make text read differently from what it is; invisible characters (zero-width
joiners, the soft hyphen, variation selectors, tags) make two different issuers look the
same; a lone surrogate cannot even be encoded to UTF-8. Rich's ``Text`` strips none of
these. ``printable`` escapes each as a visible Python-style escape (``\\x1b``,
``\\u202e``, ``\\ud800``), so the value is still readable and two different values never
look the same.
"""

from __future__ import annotations

import re

# What is escaped, besides tab and newline (kept only on request):
# - C0 controls, DEL, C1 controls (NEL U+0085 among them);
# - every format character (Unicode category Cf: bidi marks, embeddings, overrides and
#   isolates, zero-width space, joiners and non-joiner, the soft hyphen, word joiner and
#   invisible operators, the BOM, Arabic and Syriac number signs, Egyptian hieroglyph and
#   musical format controls, shorthand format controls, the tag block);
# - the rest of Unicode's Default_Ignorable_Code_Point (rendered as nothing: the combining
#   grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian and ordinary
#   variation selectors, reserved ignorables up to U+E0FFF);
# - separators other than the ASCII space (no-break and typographic spaces look like a
#   space; line and paragraph separators break lines), and the blank Braille pattern;
# - lone surrogates, private-use characters and noncharacters (no agreed glyph).
# tests/test_printable.py checks every Cc, Cf, Cs, Co, Zl, Zp and Zs code point of the
# running Python's Unicode database against this list.
UNSAFE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\xa0\xad"
    "\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f"
    "\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164"
    "\ud800-\uf8ff\ufdd0-\ufdef\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ufffe\uffff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff\U000f0000-\U0010ffff"
)
_UNSAFE = re.compile(f"[\t\n{UNSAFE_CLASS}]")
_UNSAFE_KEEP_TAB = re.compile(f"[\n{UNSAFE_CLASS}]")
_UNSAFE_KEEP_LINES = re.compile(f"[{UNSAFE_CLASS}]")


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
