"""Entra ID texts as Entra behaves now: the resource rule, both manifest names, AADSTS codes."""

from __future__ import annotations

import pytest

from inspector.judge import checks, rules
from inspector.judge.expectations import Expectations
from inspector.judge.verdicts import Severity


def test_no_verdict_recommends_the_guid_app_id_uri_scope() -> None:
    # api://{app-id}/mcp:connect with the app id as resource fails with AADSTS9010010 now.
    for rule in rules.all_rules():
        assert "api://{app-id}/mcp:connect" not in rule.fix, rule.code
        assert "api://{app-id}/mcp:connect" not in rule.explanation, rule.code


@pytest.mark.parametrize("code", ["no-token", "opaque-token", "graph-token"])
def test_scope_fixes_name_the_working_pattern(code: str) -> None:
    fix = rules.get_rule(code).fix
    assert "<MCP URL>/mcp:connect" in fix
    assert "App ID URI" in fix and "verified domain" in fix


@pytest.mark.parametrize(
    ("code", "errors"),
    [
        ("no-token", ("AADSTS9010010", "AADSTS90095", "AADSTS650053")),
        ("graph-token", ("AADSTS650053",)),
        ("opaque-token", ("AADSTS9010010",)),
    ],
)
def test_field_errors_are_named_where_they_apply(code: str, errors: tuple[str, ...]) -> None:
    rule = rules.get_rule(code)
    for error in errors:
        assert error in rule.explanation + rule.fix, (code, error)


def test_the_manifest_property_is_named_both_ways() -> None:
    rule = rules.get_rule("entra-v1-token")
    for text in (rule.explanation, rule.fix):
        assert "api.requestedAccessTokenVersion" in text
        assert "accessTokenAcceptedVersion" in text
    [verdict] = checks.check_profile(Expectations(profile_state="absent"), "entra-v1")
    assert "api.requestedAccessTokenVersion" in verdict.fix
    assert "accessTokenAcceptedVersion" in verdict.fix


TID = "5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17"
V1 = {"iss": f"https://sts.windows.net/{TID}/", "ver": "1.0", "appid": "c", "tid": TID}
V2 = {"iss": f"https://login.microsoftonline.com/{TID}/v2.0", "ver": "2.0", "azp": "c", "tid": TID}


def test_a_v1_profile_accepting_v1_tokens_is_not_a_failure() -> None:
    found = checks.check_issuer(V1, Expectations(issuer=V1["iss"]), "entra-v1")
    assert [v.code for v in found] == ["entra-v1-token"]
    assert found[0].severity is Severity.INFO
    assert "the profile accepts v1.0 tokens" in found[0].message


def test_a_v2_token_against_a_v1_profile_says_what_the_profile_accepts() -> None:
    [verdict] = checks.check_issuer(V2, Expectations(issuer=V1["iss"]), "entra-v2")
    assert verdict.code == "issuer-mismatch"
    assert "the profile accepts only v1.0 tokens" in verdict.message
