"""Claim text that no rule can change is returned at once (``redact_text(opaque=False)``):
the shortcut gives the same text as the full redaction, for every string."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import redaction
from parsers.redaction import redact_text

# Pieces that make rules fire (or nearly): escapes, parameters, schemes, JOSE headers,
# dots, long runs, Unicode case variants of the scheme words.
_PIECES = (
    ".", "..", "%2E", "%", "\\", "\\x2e", "=", '"', "access_token=", "token=", "Bearer ",
    "basic ", "DPoP ", "negotiate ", "authorization:\"", "AUTHORIZATION", "ſ", "K",
    "eyJhbGciOiJSUzI1NiJ9", "eyJzdWIiOiIxIn0", "abcDEF123", "x" * 40, "AbC1" * 10,
    "https://login.microsoftonline.com/t/v2.0", " ", "/", "-", "_", "é", "…[sha256:",
)  # fmt: skip
text_strategy = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=10).map(
    "".join
)


def full(text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The redaction as it was without the shortcut: every string takes the full path."""
    with monkeypatch.context() as patch:
        patch.setattr(redaction, "_claim_is_quiet", lambda text: False)
        return redact_text(text, opaque=False)


@settings(max_examples=3000, deadline=None)
@given(text=text_strategy)
def test_the_claim_shortcut_changes_no_result(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        assert redact_text(text, opaque=False) == full(text, patch)


@pytest.mark.parametrize(
    "text",
    ["Bearer abcdefghijklmnopqrstuvwxyz012345", "beareR x", "bearſr token=abc", "a%2eb.c",
     "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", 'x "token": "abc"', "authorization:\"abc\""],
)  # fmt: skip
def test_text_with_a_credential_shape_still_takes_the_full_path(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert redact_text(text, opaque=False) == full(text, monkeypatch)
