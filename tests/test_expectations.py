"""Merging expectations from config, flags and the ORDS profile."""

from __future__ import annotations

from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile

SCOPE_BASED = JwtProfile(
    issuer="https://login.microsoftonline.com/tid/v2.0",
    audience="api-guid",
    jwk_url="https://login.microsoftonline.com/tid/discovery/v2.0/keys",
)


def test_flags_win_over_config_where_they_set_a_value() -> None:
    config = Expectations(issuer="a", audience="x", allowed_age=60).with_origin("config")
    flags = Expectations(issuer="b").with_origin("flags")
    merged = config.merged(flags)
    assert (merged.issuer, merged.audience, merged.allowed_age) == ("b", "x", 60)
    assert merged.origin["issuer"] == "flags" and merged.origin["audience"] == "config"


def test_profile_nulls_replace_config_values_because_ords_enforces_the_profile_whole() -> None:
    config = Expectations(
        issuer="https://other/", role_claim="/roles", allowed_age=60, allowed_skew=30
    ).with_origin("config")
    merged = config.merged(Expectations.from_profile(SCOPE_BASED))
    assert merged.issuer == SCOPE_BASED.issuer
    assert merged.role_claim is None  # scope-based, as ORDS will judge
    assert merged.allowed_age is None and merged.allowed_skew is None
    assert merged.profile_state == "present"
    assert merged.origin["issuer"] == "profile"
    assert "allowed_age" not in merged.origin or merged.origin["allowed_age"] == "profile"


def test_user_role_and_scope_expectations_survive_a_profile() -> None:
    config = Expectations(roles=("ORDSUsers",), scopes=("mcp",), require_upn=True)
    merged = config.merged(Expectations.from_profile(SCOPE_BASED))
    assert merged.roles == ("ORDSUsers",) and merged.scopes == ("mcp",) and merged.require_upn


def test_schema_without_profile_keeps_config_expectations() -> None:
    config = Expectations(issuer="a", allowed_age=60)
    merged = config.merged(Expectations.from_schema(None))
    assert merged.issuer == "a" and merged.allowed_age == 60
    assert merged.profile_state == "absent"
