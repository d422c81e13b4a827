"""Text that no rule can change is returned at once: claim text (``opaque=False``) without
any credential shape, and free text whose "=" can start no credential parameter (a
path's ``?request_id=…``). Each shortcut gives the same text as the full redaction, for
every string."""

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
    "?request_id=", "&n=", "CODE=", "x_token=", "Sig=", "api_key=", "apikey=", "pwd=",
    "passwd=", "client_secret=", "client_assertion=", "JWT=", "abcDEF0123456789ghijKLMN",
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


def old_may_hold_credential(text: str) -> bool:
    """The pre-filter as it was: any "=" took the full path, words found by lower()."""
    if "=" in text or text.count(".") >= 2 or redaction._LONG_RUN.search(text):
        return True
    lowered = text.lower()
    return any(word in lowered for word in redaction._HINT_WORDS)


def free_text_as_before(text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Free text as redacted before the shortcuts."""
    with monkeypatch.context() as patch:
        patch.setattr(redaction, "_may_hold_credential", old_may_hold_credential)
        return redact_text(text)


@settings(max_examples=3000, deadline=None)
@given(text=text_strategy)
def test_the_parameter_shortcut_changes_no_result(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        assert redact_text(text) == free_text_as_before(text, patch)


@pytest.mark.parametrize(
    "text",
    ["/p?access_token=abcdefgh", "/p?ID_TOKEN=x", "/p?code=1&x=2", '/p?x="a"', "/p?sig=zz",
     "/ords/demo/mcp/?request_id=0000012345", "/p Bearer abc", "/p BASIC abc", "/aUtHoRiZaTiOn"],
)  # fmt: skip
def test_paths_with_parameters_are_redacted_as_before(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert redact_text(text) == free_text_as_before(text, monkeypatch)


@settings(max_examples=500, deadline=None)
@given(text=text_strategy, limit=st.sampled_from([8, 120]))
def test_verdict_text_is_memoised_without_changing_it(text: str, limit: int) -> None:
    from inspector.judge import rules
    from parsers.printable import printable as terminal_safe

    expected = terminal_safe(redact_text(text, opaque=False), limit=limit)
    assert rules.printable(text, limit) == expected
    assert rules.printable(text, limit) == expected  # from the memo
    assert (text, limit) in rules._PRINTABLE


def redacted_json_as_before(value: object) -> object:
    """The claim redaction as it was: redact_text on every string, nothing memoised."""
    if isinstance(value, str):
        return redact_text(value, opaque=False)
    if isinstance(value, dict):
        return {
            redact_text(str(k), opaque=False): redacted_json_as_before(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redacted_json_as_before(item) for item in value]
    return value


claims_strategy = st.recursive(
    st.one_of(text_strategy, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(text_strategy, inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(claims=st.dictionaries(text_strategy, claims_strategy, max_size=6))
def test_claims_are_redacted_as_before_twice_over(claims: dict[str, object]) -> None:
    from inspector.judge.attempt import redacted_json

    expected = redacted_json_as_before(claims)
    assert redacted_json(claims) == expected
    assert redacted_json(claims) == expected  # memoised texts
