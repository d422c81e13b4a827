"""Verdicts shared between tokens: ``Rule.verdict`` and ``quoted`` give what they gave
when every verdict was built afresh, for any observed values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inspector.judge import rules

HOSTILE = [
    "https://login.microsoftonline.com/t/v2.0",
    'quote " backslash \\ slash /',
    "é 漢字 \u2028 \x00 \x1b[31m",
    "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl",
    "x" * 2000,
    "",
]


def old_quoted(value: Any, limit: int = rules.MAX_SHOWN_CHARS) -> str:
    """``quoted`` as it was: json.dumps for every value."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return rules.printable(text, limit)


@pytest.mark.parametrize("value", [*HOSTILE, ["a", "b"], 1, True, 1.0, None])
def test_quoted_is_what_json_dumps_gave(value: Any) -> None:
    assert rules.quoted(value) == old_quoted(value)
    assert rules.quoted(value, 20) == old_quoted(value, 20)


def fresh(rule: rules.Rule, hint: str | None, **observed: Any) -> rules.Verdict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules, "_VERDICTS", {})
        patch.setattr(rules, "_VERDICTS_MAX", 0)
        return rule.verdict(hint=hint, **observed)


def test_a_shared_verdict_is_the_verdict_built_afresh() -> None:
    values: list[Any] = [*HOSTILE, 1, True, 1.0, ["x"], None]
    for rule in (rules.PROFILE_ISSUER, rules.EXPIRED, rules.ISSUER_MISMATCH):
        for hint in (None, "use the observed issuer", HOSTILE[2]):
            for value in values:
                for _ in range(2):  # built, then from the memo
                    got = rule.verdict(hint=hint, iss=value, ago=value, expected=value)
                    assert got == fresh(rule, hint, iss=value, ago=value, expected=value)


def test_equal_values_of_other_types_are_not_one_verdict() -> None:
    for value in ("1", 1, True, 1.0, "1"):
        got = rules.EXPIRED.verdict(ago=value, exp="e", skew="0")
        assert got == fresh(rules.EXPIRED, None, ago=value, exp="e", skew="0"), value


def test_a_rule_replaced_under_its_code_gets_its_own_verdict() -> None:
    first = rules.PROFILE_ISSUER.verdict(iss="a")
    other = rules.replace(rules.PROFILE_ISSUER, message="other {iss}")
    assert other.verdict(iss="a").message == "other a" != first.message
