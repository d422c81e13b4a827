"""doctor step 5 with ``--ords-config`` in POOL mode: the pool's profile takes the schema's
place, so a schema without a profile is never ``no-profile``."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

from inspector.demo.idp import LocalIdP
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.profile_step import check_profile
from inspector.doctor.tokens_step import check_tokens
from inspector.judge.ords_objects import JwtProfile
from parsers.ords_config import merge
from tests.support.command_run import write_bearer_log

URL = "https://mcp.example.com/ords/hr/mcp"
POOL = {
    "security.jwt.profile.mode": "POOL",
    "security.jwt.profile.issuer": "https://login.example/t/v2.0",
    "security.jwt.profile.audience": "api-app-id",
    "security.jwt.profile.jwk.url": "https://login.example/t/discovery/v2.0/keys",
}


def drain(
    steps: Generator[Finding, None, JwtProfile | None],
) -> tuple[list[Finding], JwtProfile | None]:
    found: list[Finding] = []
    while True:
        try:
            found.append(next(steps))
        except StopIteration as stop:
            return found, stop.value


def test_pool_mode_never_reports_no_profile() -> None:
    def empty_schema() -> JwtProfile | None:
        return None

    plain = DoctorOptions(URL, profile_loader=empty_schema)
    assert [f.code for f in drain(check_profile(plain, None))[0]] == ["no-profile"]
    pooled = DoctorOptions(URL, profile_loader=empty_schema, ords_config=merge({}, POOL))
    findings, profile = drain(check_profile(pooled, None))
    assert [f.code for f in findings] == ["profile-pool"]
    assert findings[0].status is Status.PASS and "reportedly ignored" in findings[0].message
    assert profile is not None and profile.audience == "api-app-id"


def test_a_pool_profile_missing_values_fails() -> None:
    config = merge({"security.jwt.profile.mode": "pool"}, {})
    findings, profile = drain(check_profile(DoctorOptions(URL, ords_config=config), None))
    assert [(f.code, f.status) for f in findings] == [("profile-pool", Status.FAIL)]
    assert "security.jwt.profile.issuer" in findings[0].message and profile is None


def test_doctor_judges_logged_tokens_with_the_ords_settings(tmp_path: Path) -> None:
    idp = LocalIdP()  # never started: it only signs
    log = write_bearer_log(tmp_path, idp.mint(idp.entra_v2_claims()))
    config = merge({"security.jwt.profile.enabled": "false"}, {})
    profile = JwtProfile(issuer=idp.issuer_v2, audience=idp.api_app_id, jwk_url=idp.jwks_uri)
    options = DoctorOptions(URL, logs=(log.log,), nginx_conf=log.nginx_conf, timeout=0.5)
    plain = [f.code for f in check_tokens(options, profile, None)]
    assert "token-ords-profiles-disabled" not in plain
    with_settings = replace(options, ords_config=config)
    found = {f.code: f for f in check_tokens(with_settings, profile, None)}
    assert found["token-ords-profiles-disabled"].status is Status.FAIL
