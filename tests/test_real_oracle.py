"""Against a real Oracle Database with ORDS (see docs/oracle-free.md for Oracle Database Free).

Runs when ORACLE_TEST_DSN, ORACLE_TEST_USER and ORACLE_TEST_PASSWORD are set (the user is a
REST-enabled schema; ORDS 23.3+: OAUTH.CREATE_JWT_PROFILE up to 24.2, ORDS_SECURITY from 24.3,
found by the repository; 25.1+ for role claims). ORACLE_TEST_ORDS_VERSION (e.g. 24.2), when
set, is checked against what the repository detects. It replaces the schema's JWT profile
and always puts the original back, but use a test schema anyway.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator

import pytest

from inspector.demo.idp import LocalIdP
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege
from inspector.keys.store import KeyStore
from inspector.ords.apply import Result, apply_proposal, replace_profile
from inspector.ords.connection import ConnectionSettings
from inspector.ords.database import (
    OracleOrdsRepository,
    OrdsRepository,
    jwt_api_for_version,
    parse_ords_version,
)
from inspector.ords.grants import apply_authorization, plan_authorization
from inspector.ords.proposal import ProposalOptions, check_with, propose

REQUIRED = ("ORACLE_TEST_DSN", "ORACLE_TEST_USER", "ORACLE_TEST_PASSWORD")
MISSING = [name for name in REQUIRED if not os.environ.get(name)]

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"real Oracle test needs {', '.join(REQUIRED)} (missing: {', '.join(MISSING)}); "
        "see docs/oracle-free.md",
    ),
]


def _connect() -> OracleOrdsRepository:
    return OracleOrdsRepository.connect(
        ConnectionSettings(
            dsn=os.environ["ORACLE_TEST_DSN"],
            user=os.environ["ORACLE_TEST_USER"],
            password=os.environ["ORACLE_TEST_PASSWORD"],
        )
    )


@pytest.fixture
def repo() -> Iterator[OrdsRepository]:
    """A connection; the schema's original profile is put back afterwards, whatever happens."""
    conn = _connect()
    original = conn.get_profile()
    try:
        yield conn
    finally:
        conn.rollback()
        if conn.get_profile() != original:
            if original is None:
                conn.delete_profile()
                conn.commit()
            else:
                replace_profile(conn, original)
        assert conn.get_profile() == original
        conn.close()


def test_detects_the_jwt_api_the_database_has(repo: OrdsRepository) -> None:
    api = repo.jwt_api()
    assert api is not None, "neither ORDS_SECURITY nor OAUTH has CREATE_JWT_PROFILE (ORDS 23.3+)"
    # Detected once per connection: asking again sends nothing and answers the same.
    assert repo.jwt_api() is api
    version = os.environ.get("ORACLE_TEST_ORDS_VERSION")
    if version:
        assert api is jwt_api_for_version(parse_ords_version(version))


def test_reads_schema_roles_privileges(repo: OrdsRepository) -> None:
    assert repo.current_schema() == os.environ["ORACLE_TEST_USER"].upper()
    for role in repo.roles():
        assert role.name
    for privilege in repo.privileges():
        assert privilege.name


def test_creates_reads_back_and_another_session_sees_it(repo: OrdsRepository) -> None:
    profile = JwtProfile(
        issuer="https://login.example.test/tenant/v2.0",
        audience="api://x'); drop table t; --",
        jwk_url="https://login.example.test/tenant/discovery/v2.0/keys",
        description='token-inspector test: it\'s "quoted" & <odd>',
        allowed_skew=30,
        allowed_age=3600,
    )
    result = replace_profile(repo, profile)
    assert result.result is Result.APPLIED, result.failure
    other = _connect()
    try:
        assert other.get_profile() == profile
    finally:
        other.close()


def test_ords_refusal_restores_the_previous_profile(repo: OrdsRepository) -> None:
    before = JwtProfile("https://before.example.test/", "aud", "https://before.example.test/k")
    assert replace_profile(repo, before).result is Result.APPLIED
    # ORDS requires https://: the create fails after the delete, and the delete is undone.
    result = replace_profile(repo, JwtProfile("https://x/", "aud", "http://x/keys"))
    assert result.result is Result.FAILED_RESTORED, result.steps
    assert result.failure is not None and "ORA-" in result.failure
    assert repo.get_profile() == before


def test_apply_from_a_minted_token(repo: OrdsRepository) -> None:
    with LocalIdP() as idp:
        token = idp.mint(idp.entra_v2_claims())
        analyzer = Analyzer(KeyStore(), Expectations())
        report, _ = analyzer.analyze_token(token)
        proposal = propose(
            repo,
            report,
            # The loopback IdP is http; real ORDS needs https, so point at an https URL.
            options=ProposalOptions(jwk_url="https://login.example.test/keys", scope_based=True),
            check=check_with(analyzer, token),
        )
    api = repo.jwt_api()
    assert api is not None
    # The script shown is for the package this database has.
    assert f"{api.value}.create_jwt_profile(" in proposal.plsql
    assert all(f"begin {api.value}." in sql for sql in proposal.statements)
    result = apply_proposal(repo, proposal)
    assert result.result is Result.APPLIED, result.failure
    assert repo.get_profile() == proposal.proposed


class _FailsAfterDefine(OracleOrdsRepository):
    """The real repository whose first DEFINE_PRIVILEGE runs and then reports a failure
    (the restore's own call, needed when the release committed, succeeds)."""

    failed = False

    def define_privilege(self, privilege: OrdsPrivilege) -> None:
        super().define_privilege(privilege)
        if not self.failed:
            self.failed = True
            raise RuntimeError("injected failure after define_privilege")


def test_role_and_privilege_set_up_applies_and_a_failure_restores(repo: OrdsRepository) -> None:
    assert isinstance(repo, OracleOrdsRepository)
    role_and_privilege_round_trip(repo, _connect)


def role_and_privilege_round_trip(
    repo: OracleOrdsRepository, connect: Callable[[], OracleOrdsRepository]
) -> None:
    """Plan, apply, check from another session, fail after DEFINE_PRIVILEGE and check the
    restore, then clean up. Unique names: a module of our own (ORDS.DEFINE_MODULE), its new
    privilege, two roles, all removed afterwards whatever happens; the profile is not touched.
    The suite also runs this against the stand-in through the same SQL.
    """
    tag = secrets.token_hex(4)
    module, role, second = f"ti_mcp_{tag}", f"TIUsers_{tag}", f"TIOther_{tag}"
    privilege = f"{module}.access"
    statements = {
        "module": "begin ords.define_module(p_module_name => :n, p_base_path => :p); end;",
        "drop_module": "begin ords.delete_module(p_module_name => :n); end;",
    }
    repo._execute(statements["module"], {"n": module, "p": f"/{module}/"})
    repo.commit()
    try:
        plan = plan_authorization(
            repo, role=role, privilege=None, module=None, mcp_path=f"/ords/x/{module}/"
        )
        assert plan.blockers == ()
        assert plan.privilege_after is not None and plan.privilege_after.name == privilege
        result = apply_authorization(repo, plan, proposal=None)
        assert result.result is Result.APPLIED, (result.failure, result.steps)
        other = connect()
        try:
            assert role in {r.name for r in other.roles()}
            (seen,) = [p for p in other.privileges() if p.name == privilege]
            assert (seen.roles, seen.modules) == ((role,), (module,))
        finally:
            other.close()
        # A failure after DEFINE_PRIVILEGE ran: the role and the extension are undone.
        failing = _FailsAfterDefine(repo._conn)
        plan2 = plan_authorization(
            failing, role=second, privilege=None, module=module, mcp_path=None
        )
        failed = apply_authorization(failing, plan2, proposal=None)
        assert failed.result is Result.FAILED_RESTORED, (failed.failure, failed.restore)
        assert second not in {r.name for r in repo.roles()}
        (kept,) = [p for p in repo.privileges() if p.name == privilege]
        assert kept.roles == (role,)
    finally:
        repo.rollback()
        cleanup: list[Callable[[], None]] = [
            lambda: repo.delete_privilege(privilege),
            lambda: repo.delete_role(role),
            lambda: repo.delete_role(second),
            lambda: repo._execute(statements["drop_module"], {"n": module}),
        ]
        for step in cleanup:
            # Each may be absent already (a failure before it was made).
            with contextlib.suppress(Exception):
                step()
        repo.commit()
