"""WWW-Authenticate parsing: RFC 9110 grammar, several challenges, escapes, token68."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.challenge import Challenge, ChallengeSyntaxError, parse_challenges, quote


def test_reference_nginx_challenge() -> None:
    value = (
        'Bearer resource_metadata="https://h/.well-known/oauth-protected-resource",'
        'scope="api://1234/mcp:connect"'
    )
    [challenge] = parse_challenges(value)
    assert challenge.is_scheme("bearer")
    assert challenge.param("resource_metadata") == "https://h/.well-known/oauth-protected-resource"
    assert challenge.scopes == ("api://1234/mcp:connect",)


def test_ords_challenge_and_rewrite_in_one_joined_field() -> None:
    value = (
        'Bearer realm="Oracle REST Data Services", error="invalid_token", '
        'Bearer resource_metadata="https://h/x"'
    )
    first, second = parse_challenges(value)
    assert first.param("realm") == "Oracle REST Data Services"
    assert first.param("error") == "invalid_token"
    assert second.param("resource_metadata") == "https://h/x"
    assert second.param("realm") is None


def test_several_fields_are_parsed_separately() -> None:
    challenges = parse_challenges(['Basic realm="a"', "Bearer scope=read"])
    assert [c.scheme for c in challenges] == ["Basic", "Bearer"]
    assert challenges[1].param("scope") == "read"


def test_rfc9110_example_with_escapes() -> None:
    value = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'
    newauth, basic = parse_challenges(value)
    assert newauth.params == {"realm": "apps", "type": "1", "title": 'Login to "apps"'}
    assert basic.params == {"realm": "simple"}


def test_token68_then_another_challenge() -> None:
    negotiate, bearer = parse_challenges("Negotiate abc+/def==, Bearer")
    assert negotiate.token68 == "abc+/def=="
    assert negotiate.params == {}
    assert bearer == Challenge("Bearer")


def test_parameter_names_are_case_insensitive_and_bws_allowed() -> None:
    [c] = parse_challenges('Bearer  Scope = "a b" ,  Error=invalid_token')
    assert c.scopes == ("a", "b")
    assert c.param("ERROR") == "invalid_token"


def test_duplicate_parameter_keeps_first_and_is_reported() -> None:
    [c] = parse_challenges('Bearer scope="a", scope="b"')
    assert c.param("scope") == "a"
    assert c.duplicates == ("scope",)


def test_empty_elements_and_bare_schemes() -> None:
    assert [c.scheme for c in parse_challenges(" , Basic , , Bearer ,")] == ["Basic", "Bearer"]
    assert parse_challenges("") == []


@pytest.mark.parametrize(
    "value",
    [
        'Bearer realm="unterminated',
        'Bearer scope="a", error=',
        'Bearer realm="x" junk',
        "=Bearer",
        'Bearer realm="a\\',
        "Bearer a b c",
    ],
)
def test_malformed_values_raise_syntax_error(value: str) -> None:
    with pytest.raises(ChallengeSyntaxError):
        parse_challenges(value)


@given(st.text(max_size=80))
def test_arbitrary_text_never_raises_anything_else(value: str) -> None:
    try:
        challenges = parse_challenges(value)
    except ChallengeSyntaxError as exc:
        assert 0 <= exc.position <= len(value)
    else:
        assert all(c.scheme for c in challenges)


_PARAM_VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), _PARAM_VALUE, max_size=4))
def test_quoted_values_round_trip(params: dict[str, str]) -> None:
    value = "Bearer " + ", ".join(f"{k}={quote(v)}" for k, v in params.items())
    [c] = parse_challenges(value)
    assert dict(c.params) == params
