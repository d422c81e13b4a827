"""Checks driven by ORDS's own settings (``--ords-config``): the pool-level profile (POOL
mode never yields ``no-profile``), and each setting that makes ORDS refuse a correct
token, alone and as a suspect named by ``rejected-by-server``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from inspector.judge import checks, rules
from inspector.judge.checks import KeyCheck
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.ords_settings import pool_mode_refusal
from inspector.judge.verdicts import Verdict
from parsers.ords_config import merge

JWKS = "https://login.example/tenant/discovery/v2.0/keys"
VERIFIED = KeyCheck("verified", True, "k1", JWKS, source=JWKS)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T = NOW.timestamp()


def codes(verdicts: Iterable[Verdict]) -> list[str]:
    return [v.code for v in verdicts]


def under(global_entries: dict[str, str], pool: dict[str, str] | None = None) -> Expectations:
    config = merge(global_entries, pool or {})
    return Expectations(issuer="https://i/", audience="aud").with_ords_config(config)


POOL = {
    "security.jwt.profile.mode": "pool",
    "security.jwt.profile.issuer": "https://pool-issuer/",
    "security.jwt.profile.audience": "pool-aud",
    "security.jwt.profile.jwk.url": JWKS,
}


# --- POOL mode -------------------------------------------------------------------------------


def test_pool_mode_takes_the_pool_profile_over_config_and_flags() -> None:
    exp = under({}, POOL)
    assert exp.pool_mode
    assert (exp.issuer, exp.audience, exp.jwk_url, exp.role_claim) == (
        "https://pool-issuer/",
        "pool-aud",
        JWKS,
        None,
    )
    assert exp.origin["issuer"] == "ORDS pool settings (default)"
    claims = {"iss": "https://i/", "aud": "pool-aud"}
    found = checks.check_issuer(claims, exp)
    assert codes(found) == ["issuer-mismatch"]
    assert "ORDS pool settings" in found[0].message


def test_pool_mode_never_reports_no_profile() -> None:
    exp = under({}, POOL).merged(Expectations.from_schema(None))
    assert exp.profile_state == "absent"
    found = checks.check_profile(exp)
    assert "no-profile" not in codes(found)
    assert codes(found) == ["ords-pool-profile"]
    assert "reportedly" in found[0].message
    # Without the ORDS settings the same schema is a no-profile.
    assert codes(checks.check_profile(Expectations.from_schema(None))) == ["no-profile"]


def test_pool_mode_ignores_the_schema_profile() -> None:
    schema = JwtProfile(issuer="https://schema/", audience="schema-aud", jwk_url=JWKS)
    exp = under({}, POOL).merged(Expectations.from_schema(schema))
    assert exp.issuer == "https://pool-issuer/" and exp.audience == "pool-aud"
    assert exp.profile_state == "present"
    assert "ignored" in checks.check_profile(exp)[0].message


def test_pool_mode_without_role_claim_is_scope_based() -> None:
    exp = under({}, POOL)
    assert checks.is_scope_based(exp)
    assert not checks.is_scope_based(
        under({}, {**POOL, "security.jwt.profile.role.claim.name": "/roles"})
    )


def test_schema_mode_keeps_the_expectations() -> None:
    exp = under({"security.jwt.profile.mode": "SCHEMA"})
    assert not exp.pool_mode and exp.issuer == "https://i/"
    assert checks.check_profile(exp) == []


# --- settings that refuse a correct token -----------------------------------------------------


def test_profiles_disabled_is_an_error() -> None:
    found = checks.check_ords_settings(VERIFIED, under({"security.jwt.profile.enabled": "false"}))
    assert codes(found) == ["ords-profiles-disabled"]
    assert "global/settings.xml" in found[0].message
    assert (
        checks.check_ords_settings(VERIFIED, under({"security.jwt.profile.enabled": "true"})) == []
    )


def test_allowed_urls_that_do_not_admit_the_jwk_url() -> None:
    refused = under({"security.jwks.allowed.urls": "https://other.example/,https://x.example/k"})
    found = checks.check_ords_settings(VERIFIED, refused)
    assert codes(found) == ["ords-jwk-url-not-allowed"]
    assert "unconfirmed" in found[0].explanation
    admitted = under({"security.jwks.allowed.urls": "https://login.example/"})
    assert checks.check_ords_settings(VERIFIED, admitted) == []


def test_the_profiles_jwk_url_is_what_must_be_admitted() -> None:
    exp = under({"security.jwks.allowed.urls": "https://login.example/"}, None)
    exp = Expectations(jwk_url="https://elsewhere.example/keys").merged(exp)
    assert codes(checks.check_ords_settings(VERIFIED, exp)) == ["ords-jwk-url-not-allowed"]


def test_jwks_larger_than_ords_reads() -> None:
    big = KeyCheck("verified", True, "k1", JWKS, source=JWKS, jwks_size=100_001)
    found = checks.check_ords_settings(big, under({}))
    assert codes(found) == ["ords-jwks-too-large"]
    assert "100001 bytes" in found[0].message and "default 100000" in found[0].message
    assert checks.check_ords_settings(big, under({"security.jwks.size": "200000"})) == []


def test_jwks_slower_than_ords_waits() -> None:
    slow = KeyCheck("verified", True, "k1", JWKS, source=JWKS, jwks_seconds=2.5)
    assert checks.check_ords_settings(slow, under({})) == []
    found = checks.check_ords_settings(slow, under({"security.jwks.read.timeout": "2s"}))
    assert codes(found) == ["ords-jwks-slow"]
    assert "2.5 s" in found[0].message and "security.jwks.read.timeout=2s" in found[0].message


def test_global_age_applies_when_the_profile_sets_none() -> None:
    claims = {"exp": T + 3600, "iat": T - 900}
    found = checks.check_times(claims, NOW, under({"security.jwt.allowed.age": "600"}))
    assert codes(found) == ["ords-global-age"]
    assert "15m 0s" in found[0].message
    # A profile's own p_allowed_age wins over the global setting.
    own = Expectations(allowed_age=3600).merged(under({"security.jwt.allowed.age": "600"}))
    assert checks.check_times(claims, NOW, own) == []


def test_global_skew_decides_a_near_miss() -> None:
    claims = {"exp": T - 20, "iat": T - 3600}
    strict = under({"security.jwt.allowed.skew": "0"})
    assert codes(checks.check_times(claims, NOW, strict)) == ["expired", "ords-global-skew"]
    lenient = under({"security.jwt.allowed.skew": "30"})
    assert checks.check_times(claims, NOW, lenient) == []
    # Long expired: the skew is not what rejects it.
    old = {"exp": T - 7200, "iat": T - 10800}
    assert codes(checks.check_times(old, NOW, strict)) == ["expired"]


# --- rejected-by-server names the suspects ---------------------------------------------------


def test_rejected_by_server_names_the_ords_suspects() -> None:
    exp = under(
        {
            "security.jwks.allowed.urls": "https://other.example/",
            "security.jwks.refresh.interval": "3600s",
        }
    )
    suspects = checks.check_ords_settings(VERIFIED, exp)
    found = checks.check_status(401, suspects, has_token=True, exp=exp)
    assert codes(found) == ["rejected-by-server"]
    assert "suspects: ords-jwk-url-not-allowed" in found[0].message
    assert "security.jwks.refresh.interval=3600s" in found[0].fix


def test_refresh_interval_is_named_without_other_suspects() -> None:
    exp = under({"security.jwks.refresh.interval": "12h"})
    found = checks.check_status(401, [], has_token=True, exp=exp)
    assert "refresh.interval=12h (global/settings.xml)" in found[0].fix
    assert "suspects" not in found[0].message


def test_without_ords_settings_nothing_changes() -> None:
    exp = Expectations(issuer="https://i/")
    assert checks.check_ords_settings(VERIFIED, exp) == []
    found = checks.check_status(401, [], has_token=True, exp=exp)
    assert "suspects" not in found[0].message and "refresh" not in found[0].fix


def test_every_new_code_is_registered() -> None:
    for code in (
        "ords-pool-profile",
        "ords-profiles-disabled",
        "ords-jwk-url-not-allowed",
        "ords-jwks-too-large",
        "ords-jwks-slow",
        "ords-global-age",
        "ords-global-skew",
    ):
        assert rules.get_rule(code).fix


def test_kid_not_found_names_the_refresh_interval_when_set() -> None:
    missing = KeyCheck("kid-not-found", None, "new-kid", JWKS, source=JWKS)
    found = checks.check_keys(missing, "https://i/")
    exp = under({"security.jwks.refresh.interval": "6h"})
    hinted = checks.with_refresh_hint(found, exp)
    assert codes(hinted) == ["kid-not-found"]
    assert "security.jwks.refresh.interval=6h (global/settings.xml)" in hinted[0].fix
    assert checks.with_refresh_hint(found, under({})) == found


def test_pool_refusal_escapes_what_it_quotes() -> None:
    config = merge({}, {"security.jwt.profile.mode": "pool"})
    hostile = "https://evil/\x1b]0;pwned\x07"
    text = pool_mode_refusal(config, Path("/etc/ords/con fig"), issuer=hostile, audience="aud")
    assert "\x1b" not in text and "\x07" not in text
    assert "security.jwt.profile.issuer" in text and "'/etc/ords/con fig'" in text
    assert "reportedly" in text
