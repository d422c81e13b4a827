"""The rule registry: required codes, message filling, hostile values, the generated doc."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.judge import rules
from inspector.judge.verdicts import Severity

ROOT = Path(__file__).resolve().parent.parent

REQUIRED = {
    "no-token", "not-bearer", "opaque-token", "encrypted-token", "malformed-token",
    "alg-none", "alg-unsupported", "kid-not-found", "signature-invalid", "jwks-unavailable",
    "graph-token", "expired", "not-yet-valid", "too-old", "issuer-mismatch",
    "audience-mismatch", "audience-array", "entra-v1-token", "roles-claim-missing",
    "role-missing", "scope-missing", "upn-missing", "rejected-by-server",
    "accepted-despite-errors", "profile-issuer", "profile-audience", "no-profile",
    "role-without-privilege",
}  # fmt: skip


def test_every_required_code_is_registered() -> None:
    codes = {r.code for r in rules.all_rules()}
    assert codes >= REQUIRED


def test_codes_are_kebab_case_and_prose_is_complete() -> None:
    for rule in rules.all_rules():
        assert rule.code == rule.code.lower() and " " not in rule.code
        assert rule.explanation and rule.fix and rule.title and rule.message
        assert "\n" not in rule.explanation


def test_profile_verdicts_are_informational() -> None:
    assert rules.get_rule("profile-issuer").severity is Severity.INFO
    assert rules.get_rule("profile-audience").severity is Severity.INFO


def test_verdict_fills_the_message_with_observed_values() -> None:
    verdict = rules.EXPIRED.verdict(ago="5m 0s", exp="2026-01-01T00:00:00Z", skew="0")
    assert verdict.code == "expired"
    assert verdict.message == (
        "token expired 5m 0s before the request (exp 2026-01-01T00:00:00Z, allowed skew 0s)"
    )
    assert verdict.fix == rules.EXPIRED.fix


def test_non_string_values_are_shown_as_json() -> None:
    verdict = rules.AUDIENCE_ARRAY.verdict(aud=["api://a", "https://x/userinfo"])
    assert '["api://a", "https://x/userinfo"]' in verdict.message


def test_hint_comes_before_the_general_fix() -> None:
    verdict = rules.ISSUER_MISMATCH.verdict(iss="a", expected="b", why="", hint="Use 'a'.")
    assert verdict.fix.startswith("Use 'a'. ")
    assert verdict.fix.endswith(rules.ISSUER_MISMATCH.fix)


def test_a_forgotten_value_is_shown_not_raised() -> None:
    verdict = rules.EXPIRED.verdict()
    assert "<ago?>" in verdict.message


def test_control_characters_from_tokens_cannot_reach_the_terminal() -> None:
    verdict = rules.PROFILE_ISSUER.verdict(iss="https://evil/\x1b[2J\x9b31m\u202e")
    assert "\x1b" not in verdict.message and "\x9b" not in verdict.message
    assert "\u202e" not in verdict.message
    assert "\\x1b" in verdict.message


def test_long_values_are_cut() -> None:
    verdict = rules.PROFILE_ISSUER.verdict(iss="x" * 10_000)
    assert len(verdict.message) < 300


def test_braces_in_values_are_not_reinterpreted() -> None:
    verdict = rules.PROFILE_ISSUER.verdict(iss="{ago} {0} {__class__}")
    assert "{ago} {0} {__class__}" in verdict.message


def test_duplicate_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        rules._rule("expired", Severity.ERROR, "t", "m", "e", "f")


def test_docs_list_every_code_and_are_up_to_date() -> None:
    doc = (ROOT / "docs" / "verdicts.md").read_text(encoding="utf-8")
    for rule in rules.all_rules():
        assert f"## {rule.code}\n" in doc
        assert rule.fix in doc
    assert doc == rules.markdown(), "regenerate: python -m inspector.judge.rules > docs/verdicts.md"
