"""Checks on claims the way ORDS applies a JWT profile: issuer, audience, times, roles, upn.

Claim sets follow Microsoft's documented v1.0 and v2.0 access-token examples (from the
LocalIdP) and an Auth0-style token (issuer with trailing slash, ``aud`` array).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inspector.demo.idp import LocalIdP
from inspector.judge import checks
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.verdicts import Severity, Verdict

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())


def codes(verdicts: Iterable[Verdict]) -> list[str]:
    return [v.code for v in verdicts]


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture(scope="module")
def v2(idp: LocalIdP) -> dict[str, Any]:
    return idp.entra_v2_claims(now=T0)


@pytest.fixture(scope="module")
def v1(idp: LocalIdP) -> dict[str, Any]:
    return idp.entra_v1_claims(now=T0)


AUTH0 = {
    "iss": "https://tenant.eu.auth0.com/",
    "sub": "auth0|64f1c0",
    "aud": ["https://mcp.example.com/ords/mcp", "https://tenant.eu.auth0.com/userinfo"],
    "iat": T0,
    "exp": T0 + 86400,
    "scope": "openid profile mcp:connect",
    "azp": "dXNlcg",
}


# --- issuer ---------------------------------------------------------------------------------


def test_no_expectation_reports_what_a_profile_needs(v2: dict[str, Any]) -> None:
    found = checks.check_issuer(v2, Expectations(), "entra-v2")
    assert codes(found) == ["profile-issuer"]
    assert v2["iss"] in found[0].message
    assert found[0].severity is Severity.INFO


def test_trailing_slash_is_named_as_the_difference() -> None:
    exp = Expectations(issuer="https://tenant.eu.auth0.com")
    [verdict] = checks.check_issuer(AUTH0, exp, "auth0")
    assert verdict.code == "issuer-mismatch"
    assert "only the trailing slash differs" in verdict.message
    assert '"https://tenant.eu.auth0.com/"' in verdict.fix


def test_v1_token_against_v2_profile(v1: dict[str, Any], v2: dict[str, Any]) -> None:
    exp = Expectations(issuer=v2["iss"], origin={"issuer": "profile"})
    found = checks.check_issuer(v1, exp, "entra-v1")
    assert codes(found) == ["issuer-mismatch", "entra-v1-token"]
    assert "v1 token where a v2 issuer is expected" in found[0].message
    assert "[expected by profile]" in found[0].message


def test_v1_token_is_flagged_even_when_it_matches(v1: dict[str, Any]) -> None:
    found = checks.check_issuer(v1, Expectations(issuer=v1["iss"]), "entra-v1")
    assert codes(found) == ["entra-v1-token"]
    assert found[0].severity is Severity.WARN


def test_missing_iss() -> None:
    [verdict] = checks.check_issuer({}, Expectations(issuer="https://x"), None)
    assert "has no iss" in verdict.message
    # Even with nothing expected: no profile can match a token without an issuer.
    [verdict] = checks.check_issuer({"iss": ["a"]}, Expectations(), None)
    assert verdict.code == "issuer-mismatch" and "not a string" in verdict.message


# --- audience -------------------------------------------------------------------------------


def test_audience_array_is_rejected_even_when_it_contains_the_audience() -> None:
    exp = Expectations(audience="https://mcp.example.com/ords/mcp")
    [verdict] = checks.check_audience(AUTH0, exp)
    assert verdict.code == "audience-array"
    assert "contains the expected audience" in verdict.fix


def test_audience_array_is_a_warning_that_says_reported_to_fail() -> None:
    # No Oracle document says ORDS rejects arrays: a likely cause, said as such.
    [verdict] = checks.check_audience(AUTH0, Expectations())
    assert verdict.code == "audience-array" and verdict.severity is Severity.WARN
    assert "reported to fail" in verdict.message


def test_audience_array_without_the_expected_audience_is_also_a_mismatch() -> None:
    found = checks.check_audience(AUTH0, Expectations(audience="api://other"))
    assert codes(found) == ["audience-array", "audience-mismatch"]
    assert found[1].severity is Severity.ERROR


def test_v1_app_id_uri_vs_guid(v1: dict[str, Any], idp: LocalIdP) -> None:
    [verdict] = checks.check_audience(v1, Expectations(audience=idp.api_app_id))
    assert verdict.code == "audience-mismatch"
    assert "App ID URI vs application id" in verdict.message


def test_profile_audience_when_nothing_is_expected(v2: dict[str, Any]) -> None:
    [verdict] = checks.check_audience(v2, Expectations())
    assert verdict.code == "profile-audience" and v2["aud"] in verdict.message


def test_matching_audience_is_silent(v2: dict[str, Any]) -> None:
    assert checks.check_audience(v2, Expectations(audience=v2["aud"])) == []


# --- times ----------------------------------------------------------------------------------


def test_expired_at_the_time_of_the_request(v2: dict[str, Any]) -> None:
    at = datetime.fromtimestamp(v2["exp"] + 120, UTC)
    [verdict] = checks.check_times(v2, at, Expectations())
    assert verdict.code == "expired" and "2m 0s" in verdict.message


def test_skew_absorbs_a_recent_expiry(v2: dict[str, Any]) -> None:
    at = datetime.fromtimestamp(v2["exp"] + 30, UTC)
    assert checks.check_times(v2, at, Expectations(allowed_skew=60)) == []
    assert codes(checks.check_times(v2, at, Expectations())) == ["expired"]


def test_skew_above_sixty_is_capped_and_warned(v2: dict[str, Any]) -> None:
    at = datetime.fromtimestamp(v2["exp"] + 90, UTC)
    found = codes(checks.check_times(v2, at, Expectations(allowed_skew=300)))
    assert found == ["skew-too-large", "expired"]


def test_not_yet_valid(v2: dict[str, Any]) -> None:
    at = datetime.fromtimestamp(v2["nbf"] - 600, UTC)
    assert codes(checks.check_times(v2, at, Expectations(allowed_skew=60))) == ["not-yet-valid"]


def test_too_old_for_allowed_age(v2: dict[str, Any]) -> None:
    at = NOW + timedelta(minutes=30)
    found = checks.check_times(v2, at, Expectations(allowed_age=600))
    assert codes(found) == ["too-old"]
    assert "30m 0s" in found[0].message


def test_iat_missing_with_an_age_limit(v2: dict[str, Any]) -> None:
    claims = {k: v for k, v in v2.items() if k != "iat"}
    assert codes(checks.check_times(claims, NOW, Expectations(allowed_age=600))) == ["iat-missing"]


@pytest.mark.parametrize("bad", [None, "tomorrow", True, float("nan"), "1893456000", [1]])
def test_unusable_exp(v2: dict[str, Any], bad: Any) -> None:
    claims = dict(v2, exp=bad)
    assert codes(checks.check_times(claims, NOW, Expectations())) == ["exp-missing"]


def test_exp_without_the_claim_is_missing(v2: dict[str, Any]) -> None:
    claims = {k: v for k, v in v2.items() if k != "exp"}
    assert codes(checks.check_times(claims, None, Expectations())) == ["exp-missing"]


def test_far_future_exp_is_a_time_not_a_missing_claim(v2: dict[str, Any]) -> None:
    # 1e308 is a number JSON allows: a (very) far expiry, not an unusable one.
    assert codes(checks.check_times(dict(v2, exp=1e308), NOW, Expectations())) == []


# --- roles, scopes, upn -----------------------------------------------------------------------


def test_role_based_profile_without_roles_claim(v2: dict[str, Any]) -> None:
    claims = {k: v for k, v in v2.items() if k != "roles"}
    claims["groups"] = ["8f2d1e7a-0000-4000-8000-000000000001"]
    exp = Expectations(role_claim="/roles", roles=("ORDSUsers",))
    [verdict] = checks.check_authorization_claims(claims, exp)
    assert verdict.code == "roles-claim-missing"
    assert "groups" in verdict.message


def test_role_case_counts(v2: dict[str, Any]) -> None:
    [verdict] = checks.check_authorization_claims(v2, Expectations(roles=("ordsusers",)))
    assert verdict.code == "role-missing"
    assert "case differs" in verdict.message


def test_role_present_passes(v2: dict[str, Any]) -> None:
    exp = Expectations(role_claim="/roles", roles=("ORDSUsers",))
    assert checks.check_authorization_claims(v2, exp) == []


def test_pointer_without_slash(v2: dict[str, Any]) -> None:
    exp = Expectations.from_profile(JwtProfile("i", "a", "https://k", role_claim_name="roles"))
    assert codes(checks.check_authorization_claims(v2, exp)) == ["role-claim-pointer"]


def test_nested_pointer_and_non_array() -> None:
    claims = {"realm_access": {"roles": ["ORDSUsers"]}, "r": "ORDSUsers"}
    ok = Expectations(role_claim="/realm_access/roles", roles=("ORDSUsers",))
    assert checks.check_authorization_claims(claims, ok) == []
    bad = Expectations(role_claim="/r", roles=("ORDSUsers",))
    assert codes(checks.check_authorization_claims(claims, bad)) == ["roles-not-array"]


def test_scope_based_profile(v2: dict[str, Any]) -> None:
    exp = Expectations(scopes=("oracle.example.mcp",))
    [verdict] = checks.check_authorization_claims(v2, exp)
    assert verdict.code == "scope-missing"
    assert "mcp:connect" in verdict.message
    assert checks.check_authorization_claims(AUTH0, Expectations(scopes=("mcp:connect",))) == []


def test_upn_missing_on_v2(v2: dict[str, Any], v1: dict[str, Any]) -> None:
    exp = Expectations(require_upn=True)
    [verdict] = checks.check_upn(v2, exp, "entra-v2")
    assert verdict.code == "upn-missing" and "v2.0" in verdict.message
    # ORDS identifies the user by sub: upn is policy, a warning that says so.
    assert verdict.severity is Severity.WARN
    assert "not by ORDS" in verdict.message and "'sub'" in verdict.explanation
    assert checks.check_upn(v1, exp, "entra-v1") == []
    assert checks.check_upn(v2, Expectations(), "entra-v2") == []


def test_jwk_url_must_be_https() -> None:
    found = checks.check_jwk_url(Expectations(jwk_url="http://idp/keys"))
    assert codes(found) == ["jwk-url-not-https"]


# --- end to end through the analyzer ---------------------------------------------------------


def test_auth0_token_end_to_end(idp: LocalIdP) -> None:
    analyzer = Analyzer(None, Expectations(issuer="https://tenant.eu.auth0.com"))
    report, verdicts = analyzer.analyze_token(idp.mint(AUTH0), at=NOW)
    assert report.idp == "auth0"
    assert {"issuer-mismatch", "audience-array"} <= set(codes(verdicts))
