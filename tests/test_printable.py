from __future__ import annotations

import functools
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from parsers.printable import escape_char, is_printable, printable

# What a terminal obeys or what reorders text: none may survive printable().
HOSTILE = [
    *"\x1b\x07\x9b\x9d\x85\x7f\r\x00",
    *"\u202e\u2066\u2069\u200f\u061c\u2028\ufeff\ud800\udfff\U000e0041",
]


def test_every_hostile_character_is_escaped_visibly() -> None:
    for char in HOSTILE:
        out = printable(f"a{char}b")
        assert char not in out
        assert out == f"a{escape_char(char)}b"
    assert printable("\x1b]0;PWNED\x07") == "\\x1b]0;PWNED\\x07"
    assert printable("\u202eevil") == "\\u202eevil"
    assert printable("\ud800") == "\\ud800"


def test_tab_and_newline_only_on_request() -> None:
    assert printable("a\tb\nc") == "a\\x09b\\x0ac"
    assert printable("a\tb\nc", keep_tab=True) == "a\tb\\x0ac"
    assert printable("a\tb\nc\x1b", keep_newline=True) == "a\tb\nc\\x1b"


def test_normal_text_is_untouched_and_limit_cuts() -> None:
    text = "Zoë 日本語 🙂 -> ‘quotes’ e\u0301 user@example.com"
    assert printable(text) == text and is_printable(text)
    assert printable("abcdef", limit=4) == "abc…"
    assert printable("\x1b" * 3, limit=5) == "\\x1b…"


@given(st.text())
def test_output_is_encodable_and_free_of_controls(text: str) -> None:
    out = printable(text)
    out.encode("utf-8")
    assert is_printable(out)
    assert not any(c in out for c in HOSTILE)


# Categories whose characters are invisible, blank, or have no agreed glyph.
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs"}
# Default_Ignorable_Code_Point outside those categories (Unicode DerivedCoreProperties):
# rendered as nothing, so as dangerous as a format character.
_IGNORABLE_RANGES = [
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
]


@functools.cache
def _must_escape() -> list[str]:
    chars = [
        chr(code)
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in _ESCAPED_CATEGORIES and code != 0x20
    ]
    chars += [chr(c) for low, high in _IGNORABLE_RANGES for c in range(low, high + 1)]
    return sorted(set(chars) - {"\t", "\n"})


def test_every_format_control_separator_and_ignorable_is_escaped() -> None:
    # The whole Unicode database of the running Python, not a sample: a new Python with a
    # newly assigned format character fails here until the list in printable.py has it.
    missed = [f"U+{ord(c):04X}" for c in _must_escape() if printable(c) != escape_char(c)]
    assert not missed, f"shown raw: {missed}"


def test_issuers_differing_by_an_invisible_character_never_look_alike() -> None:
    base = "https://login.example.com/tenant/v2.0"
    shown = printable(base)
    for char in _must_escape():
        for at in (8, len(base)):
            spoof = printable(base[:at] + char + base[at:])
            assert spoof != shown, f"U+{ord(char):04X}"
            assert is_printable(spoof)
    assert printable("a\u200cb\u00adc\u200dd\ufe0f") == "a\\u200cb\\xadc\\u200dd\\ufe0f"
    assert printable("no\u00a0break") == "no\\xa0break"


def test_format_characters_from_all_planes_are_escaped() -> None:
    cf = [c for c in _must_escape() if unicodedata.category(c) == "Cf"]
    assert len(cf) >= 160
    for char in cf:
        assert printable(f"x{char}y") == f"x{escape_char(char)}y"
