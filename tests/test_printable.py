from __future__ import annotations

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
