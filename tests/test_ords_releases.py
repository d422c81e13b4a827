"""The real repository on every ORDS release: it finds the JWT API the database has.

``OracleOrdsRepository`` runs its own SQL against the stand-in set to each release (through
``tests/support/sql_standin.py``), so what is tested is the statements the tool sends: the
ALL_PROCEDURES detection with binds, then ``OAUTH`` (23.3 to 24.2) or ``ORDS_SECURITY``.
"""

from __future__ import annotations

import oracledb
import pytest

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.apply import Result, replace_profile
from inspector.ords.database import (
    JwtApi,
    OracleOrdsRepository,
    database_error,
    parse_ords_version,
)
from inspector.ords.errors import describe
from inspector.ords.standin import RELEASES, InMemoryOrds, make_standin
from tests.support.faulty_ords import FaultyOrds
from tests.support.sql_standin import SqlStandin

OLD = JwtProfile("https://old.example/", "old", "https://old.example/keys")
NEW = JwtProfile("https://sts.example/t/v2.0", "api://x'); drop--", "https://sts.example/keys")
ROLE_BASED = JwtProfile(NEW.issuer, NEW.audience, NEW.jwk_url, role_claim_name="/roles")
EXPECTED_API = {
    "23.3": "oauth",
    "24.2": "oauth",
    "24.4": "ords_security",
    "25.1": "ords_security",
    "25.2": "ords_security",
    "26.x": "ords_security",
}


def _repo(release: str, **options: object) -> tuple[OracleOrdsRepository, SqlStandin]:
    ords = make_standin(release=release, rest_enabled=("DEMO", "HR"), **options)
    conn = SqlStandin(ords)
    return OracleOrdsRepository(conn), conn


def _calls(conn: SqlStandin) -> list[str]:
    return [sql for sql, _ in conn.executed if sql.startswith("begin ")]


@pytest.mark.parametrize("release", RELEASES)
def test_replace_profile_calls_the_package_the_release_has(release: str) -> None:
    repo, conn = _repo(release)
    conn.ords.set_profile(OLD)
    result = replace_profile(repo, NEW)
    assert result.result is Result.APPLIED, result.failure
    assert conn.ords.committed_profile() == NEW
    package = EXPECTED_API[release]
    assert _calls(conn) == [
        f"begin {package}.delete_jwt_profile; end;",
        f"begin {package}.create_jwt_profile(p_issuer => :issuer, p_audience => :audience,"
        " p_jwk_url => :jwk_url); end;",
    ]
    # Values only ever travel as binds.
    assert all(NEW.audience not in sql for sql, _ in conn.executed)


@pytest.mark.parametrize("release", RELEASES)
def test_another_schema_uses_the_admin_package_where_the_dba_views_exist(release: str) -> None:
    repo, conn = _repo(release)
    result = replace_profile(repo, NEW, schema="hr")
    if release in ("23.3", "24.2"):
        # No DBA_ORDS_ views before 24.4: nothing is written, and the hint says why.
        assert result.result is Result.FAILED_UNCHANGED
        assert result.failure is not None and "ORA-00942" in result.failure
        assert "24.4" in result.failure
        assert _calls(conn) == []
        return
    assert result.result is Result.APPLIED, result.failure
    assert conn.ords.committed_profile("HR") == NEW
    assert _calls(conn)[0].startswith(
        f"begin {EXPECTED_API[release]}_admin.create_jwt_profile(p_schema => :schema_name,"
    )


@pytest.mark.parametrize("release", RELEASES)
def test_role_claim_and_its_column_follow_the_release(release: str) -> None:
    repo, _conn = _repo(release)
    result = replace_profile(repo, ROLE_BASED)
    if release in ("23.3", "24.2", "24.4"):
        assert result.result is Result.FAILED_RESTORED
        assert result.failure is not None and "PLS-00306" in result.failure
        assert "25.1" in result.failure
        return
    assert result.result is Result.APPLIED, result.failure
    assert repo.get_profile() == ROLE_BASED


@pytest.mark.parametrize("release", RELEASES)
def test_detection_runs_once_per_connection_with_binds_only(release: str) -> None:
    repo, conn = _repo(release)
    assert repo.jwt_api() is JwtApi(EXPECTED_API[release])
    repo.create_profile(NEW)
    repo.delete_profile()
    repo.create_profile(NEW)
    detections = [(sql, b) for sql, b in conn.executed if "all_procedures" in sql]
    assert len(detections) == 1
    sql, binds = detections[0]
    assert "ORDS_SECURITY" not in sql.upper() and "OAUTH" not in sql.upper()
    assert set(binds.values()) == {"ORDS_SECURITY", "OAUTH", "CREATE_JWT_PROFILE"}


def test_without_either_package_the_error_says_jwt_profiles_need_23_3() -> None:
    conn = SqlStandin(InMemoryOrds(ords_version=(23, 2)))
    repo = OracleOrdsRepository(conn)
    assert repo.jwt_api() is None
    with pytest.raises(oracledb.DatabaseError) as exc:
        repo.create_profile(NEW)
    info = describe(exc.value)
    assert "ORDS_SECURITY.CREATE_JWT_PROFILE" in info.line
    assert info.hint is not None and "23.3" in info.hint and "OAUTH" in info.hint


@pytest.mark.parametrize("release", RELEASES)
def test_restore_script_names_the_package_the_database_has(release: str) -> None:
    # No profile before; the release commits inside the create, our commit fails and so
    # does the undo's delete: the DBA is handed a script for this release's package.
    ords = FaultyOrds(ords_version=parse_ords_version(release), procedures_commit=True)
    ords.fail("commit")
    ords.fail("delete_profile", error=database_error("ORA-02091: rolled back", 2091))
    result = replace_profile(OracleOrdsRepository(SqlStandin(ords)), NEW)
    assert result.result is Result.FAILED_RESTORE_FAILED
    package = EXPECTED_API[release]
    assert result.restore_script == f"begin {package}.delete_jwt_profile; commit; end;\n/\n"
