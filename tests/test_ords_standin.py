"""The in-memory ORDS follows ORDS's documented JWT profile semantics."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import oracledb
import pytest

from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege
from inspector.ords.connection import ConnectionSettings
from inspector.ords.database import JwtApi
from inspector.ords.errors import describe
from inspector.ords.standin import RELEASES, InMemoryOrds, make_standin
from tests.support.faulty_ords import FaultyOrds
from tests.support.memory_db import open_memory_dsn, open_repository

PROFILE = JwtProfile(
    issuer="https://login.microsoftonline.com/tid/v2.0",
    audience="0f6c3a8d-2b9e-4f71-8d5c-4a1e9b7c3d20",
    jwk_url="https://login.microsoftonline.com/tid/discovery/v2.0/keys",
    role_claim_name="/roles",
)


def _code(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc.value.args[0].full_code)


def test_create_then_read_back_in_the_same_session() -> None:
    ords = InMemoryOrds()
    assert ords.get_profile() is None
    ords.create_profile(PROFILE)
    assert ords.get_profile() == PROFILE


def test_uncommitted_create_is_invisible_to_others_and_rolled_back() -> None:
    ords = InMemoryOrds()
    ords.create_profile(PROFILE)
    assert ords.committed_profile() is None
    ords.rollback()
    assert ords.get_profile() is None


def test_commit_makes_the_profile_permanent() -> None:
    ords = InMemoryOrds()
    ords.create_profile(PROFILE)
    ords.commit()
    ords.rollback()
    assert ords.committed_profile() == PROFILE


def test_one_profile_per_schema_create_fails_while_one_exists() -> None:
    ords = make_standin(profile=PROFILE)
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(PROFILE)
    assert _code(exc) == "ORA-20001"
    assert "already exists" in str(exc.value)


def test_delete_then_create_replaces_the_profile() -> None:
    ords = make_standin(profile=PROFILE)
    new = JwtProfile("https://other/", "aud", "https://other/keys")
    ords.delete_profile()
    ords.create_profile(new)
    ords.commit()
    assert ords.committed_profile() == new


def test_delete_without_a_profile_is_a_no_op() -> None:
    ords = InMemoryOrds()
    ords.delete_profile()
    assert ords.get_profile() is None


@pytest.mark.parametrize(
    ("profile", "fragment"),
    [
        (JwtProfile("https://i/", "a", "http://i/keys"), "https://"),
        (JwtProfile("", "a", "https://i/keys"), "p_issuer"),
        (JwtProfile("https://i/", "", "https://i/keys"), "p_audience"),
        (JwtProfile("https://i/", "a", "https://k", allowed_skew=61), "p_allowed_skew"),
        (JwtProfile("https://i/", "a", "https://k", role_claim_name="roles"), "JSON pointer"),
    ],
)
def test_create_validates_like_ords(profile: JwtProfile, fragment: str) -> None:
    ords = InMemoryOrds()
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(profile)
    assert fragment in str(exc.value)
    assert ords.get_profile() is None


def test_http_jwk_url_only_when_explicitly_allowed_for_the_demo() -> None:
    ords = InMemoryOrds(allow_http_jwk_url=True)
    profile = JwtProfile("http://127.0.0.1:1/t/v2.0", "a", "http://127.0.0.1:1/keys")
    ords.create_profile(profile)
    assert ords.get_profile() == profile


def test_ords_before_23_3_has_no_ords_security_package() -> None:
    ords = InMemoryOrds(ords_version=(22, 4))
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(PROFILE)
    assert _code(exc) == "ORA-06550"
    assert "PLS-00201" in str(exc.value)


def test_role_claim_needs_ords_25_1() -> None:
    ords = InMemoryOrds(ords_version=(24, 4))
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(PROFILE)
    assert "PLS-00306" in str(exc.value)
    scope_based = JwtProfile(PROFILE.issuer, PROFILE.audience, PROFILE.jwk_url)
    ords.create_profile(scope_based)
    assert ords.get_profile() == scope_based


def test_admin_package_targets_other_rest_enabled_schemas() -> None:
    ords = InMemoryOrds(rest_enabled=("DEMO", "HR"))
    ords.create_profile(PROFILE, schema="hr")
    assert ords.get_profile("HR") == PROFILE
    assert ords.get_profile() is None
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(PROFILE, schema="SCOTT")
    assert "not REST enabled" in str(exc.value)


def test_admin_package_needs_the_administrator_role() -> None:
    ords = InMemoryOrds(rest_enabled=("DEMO", "HR"), admin=False)
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(PROFILE, schema="HR")
    assert _code(exc) == "ORA-01031"


def test_procedures_that_commit_themselves_survive_rollback() -> None:
    ords = make_standin(profile=PROFILE, procedures_commit=True)
    ords.delete_profile()
    ords.rollback()
    assert ords.committed_profile() is None


def test_fail_injects_a_real_driver_error_at_the_chosen_call() -> None:
    ords = FaultyOrds()
    ords.fail("get_profile", on_call=2)
    assert ords.get_profile() is None
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.get_profile()
    # ORA-03113 is turned into DPY-4011 by the driver's own error mapping.
    assert _code(exc) == "DPY-4011"
    assert ords.get_profile() is None


def test_fail_rejects_unknown_operations() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        FaultyOrds().fail("drop_table")


def test_seeded_reference_roles_and_privileges() -> None:
    ords = InMemoryOrds()
    assert [r.name for r in ords.roles()] == ["ORDSUsers"]
    (priv,) = ords.privileges()
    assert priv == OrdsPrivilege(
        name="oracle.example.mcp",
        label="MCP server",
        description="Access to the MCP module",
        roles=("ORDSUsers",),
        modules=("mcp",),
        patterns=("/mcp/*",),
        id=priv.id,
        module_prefixes=("/mcp/",),
    )


def test_closed_session_rolls_back_and_refuses_calls() -> None:
    ords = InMemoryOrds()
    ords.create_profile(PROFILE)
    ords.close()
    assert ords.committed_profile() is None
    with pytest.raises(oracledb.Error):
        ords.get_profile()


def test_memory_dsn_with_a_file_keeps_committed_profiles(tmp_path: Path) -> None:
    state = tmp_path / "ords.json"
    first = open_memory_dsn(f"memory:{state}")
    first.create_profile(PROFILE)
    first.commit()
    assert state.stat().st_mode & 0o777 == 0o600
    second = open_repository(ConnectionSettings(dsn=f"memory:{state}"))
    assert second.get_profile() == PROFILE
    assert json.loads(state.read_text())["profiles"]["DEMO"]["issuer"] == PROFILE.issuer


def test_memory_dsn_without_a_file_starts_empty() -> None:
    repo = open_repository(ConnectionSettings(dsn="memory:"))
    assert repo.get_profile() is None
    assert repo.current_schema() == "DEMO"


# -- releases: which JWT API, views and parameters exist ------------------------------------

# release -> (packages with CREATE_JWT_PROFILE, the one used, DBA_ORDS_ views, role claim)
RELEASE_FACTS = {
    "23.3": ({"OAUTH"}, JwtApi.OAUTH, False, False),
    "24.2": ({"OAUTH"}, JwtApi.OAUTH, False, False),
    "24.4": ({"OAUTH", "ORDS_SECURITY"}, JwtApi.ORDS_SECURITY, True, False),
    "25.1": ({"OAUTH", "ORDS_SECURITY"}, JwtApi.ORDS_SECURITY, True, True),
    "25.2": ({"OAUTH", "ORDS_SECURITY"}, JwtApi.ORDS_SECURITY, True, True),
    "26.x": ({"ORDS_SECURITY"}, JwtApi.ORDS_SECURITY, True, True),
}
SCOPE_BASED = JwtProfile(PROFILE.issuer, PROFILE.audience, PROFILE.jwk_url)


def test_every_release_is_covered() -> None:
    assert tuple(RELEASE_FACTS) == RELEASES


@pytest.mark.parametrize("release", RELEASES)
def test_release_decides_which_packages_exist(release: str) -> None:
    packages, api, _views, _roles = RELEASE_FACTS[release]
    ords = make_standin(release=release, rest_enabled=("DEMO", "HR"))
    assert ords.packages() == {*packages, *(f"{p}_ADMIN" for p in packages)}
    assert ords.jwt_api() is api
    ords.create_profile(SCOPE_BASED)
    ords.delete_profile()
    ords.create_profile(SCOPE_BASED, schema="hr")
    package = api.value.upper()
    assert ords.procedures == [
        f"{package}.CREATE_JWT_PROFILE",
        f"{package}.DELETE_JWT_PROFILE",
        f"{package}_ADMIN.CREATE_JWT_PROFILE",
    ]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("api", list(JwtApi))
@pytest.mark.parametrize("schema", [None, "HR"])
def test_a_package_the_release_lacks_is_pls_00201(
    release: str, api: JwtApi, schema: str | None
) -> None:
    packages = RELEASE_FACTS[release][0]
    ords = make_standin(release=release, rest_enabled=("DEMO", "HR"))
    if api.value.upper() in packages:
        ords.create_profile(SCOPE_BASED, schema, api=api)
        return
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(SCOPE_BASED, schema, api=api)
    package = api.package(schema).upper()
    assert _code(exc) == "ORA-06550"
    info = describe(exc.value)
    assert info.line == f"PLS-00201: identifier '{package}.CREATE_JWT_PROFILE' must be declared"
    # The hint names the releases of that very package, never "older than 23.3".
    assert info.hint is not None and "older than 23.3" not in info.hint
    assert ("24.3" if api is JwtApi.ORDS_SECURITY else "25.2") in info.hint
    assert ords.committed_profile(schema) is None


@pytest.mark.parametrize("release", RELEASES)
def test_dba_views_exist_from_24_4(release: str) -> None:
    ords = make_standin(release=release, rest_enabled=("DEMO", "HR"))
    if RELEASE_FACTS[release][2]:
        assert ords.get_profile("HR") is None
        return
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.get_profile("HR")
    assert _code(exc) == "ORA-00942"
    hint = describe(exc.value).hint
    assert hint is not None and "24.4" in hint
    assert ords.get_profile() is None  # the USER_ view is there


@pytest.mark.parametrize("release", RELEASES)
def test_role_claim_from_25_1_pointer_checked_from_25_2(release: str) -> None:
    ords = make_standin(release=release)
    without_slash = dataclasses.replace(PROFILE, role_claim_name="roles")
    if not RELEASE_FACTS[release][3]:
        with pytest.raises(oracledb.DatabaseError) as exc:
            ords.create_profile(PROFILE)
        assert "PLS-00306" in str(exc.value)
        hint = describe(exc.value).hint
        assert hint is not None and "25.1" in hint
    elif release == "25.1":
        ords.create_profile(without_slash)  # stored as given; fails later, per request
        assert ords.get_profile() == without_slash
    else:
        with pytest.raises(oracledb.DatabaseError) as exc:
            ords.create_profile(without_slash)
        assert "JSON pointer" in str(exc.value)
        ords.create_profile(PROFILE)
        assert ords.get_profile() == PROFILE


def test_release_knob_reads_versions() -> None:
    assert make_standin(release="26.x").ords_version == (26, 1)
    assert make_standin(release="24.2").ords_version == (24, 2)
    with pytest.raises(ValueError):
        make_standin(release="latest")
