"""Role and scope checks follow the request: the privilege protecting the requested module
or pattern counts, not any privilege in the schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inspector.demo.idp import LocalIdP
from inspector.judge import checks
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import (
    Expectations,
    privilege_paths,
    privilege_protects,
    role_privileges,
)
from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege, OrdsRole
from inspector.ords.database import OracleOrdsRepository
from inspector.ords.schema import SchemaAuthorization
from inspector.ords.standin import InMemoryOrds
from parsers.records import LogRecord, Source
from tests.support.sql_standin import SqlStandin

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRIVILEGES = [
    OrdsPrivilege(
        "oracle.example.mcp",
        roles=("ORDSUsers",),
        modules=("mcp",),
        module_prefixes=("/mcp/",),
    ),
    OrdsPrivilege("hr.admin", roles=("Admins",), patterns=("/admin/*",)),
]
ROLES = [OrdsRole("ORDSUsers"), OrdsRole("Admins")]


def _exp(idp: LocalIdP, *, role_based: bool) -> Expectations:
    profile = JwtProfile(
        issuer=idp.issuer_v2,
        audience=idp.api_app_id,
        jwk_url="https://idp.example/keys",
        role_claim_name="/roles" if role_based else None,
    )
    return (
        SchemaAuthorization.of(ROLES, PRIVILEGES)
        .expectations()
        .merged(Expectations.from_profile(profile))
    )


def _record(token: str, path: str) -> LogRecord:
    return LogRecord(
        source=Source("extended.log", 1, 0),
        time=WHEN,
        remote_addr="192.0.2.7",
        method="POST",
        path=path,
        protocol="HTTP/1.1",
        status=401,
        user_agent="openai-mcp/1.0.0",
        authorization=f"Bearer {token}",
    )


def _codes(analyzer: Analyzer, token: str, path: str) -> list[str]:
    return [v.code for v in analyzer.analyze(_record(token, path)).verdicts]


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


def _token(idp: LocalIdP, **claims: Any) -> str:
    return idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), **claims))


def test_the_privilege_protecting_the_requested_module_is_the_one_that_counts() -> None:
    paths = privilege_paths(PRIVILEGES)
    assert paths == {"oracle.example.mcp": ("/mcp/*",), "hr.admin": ("/admin/*",)}
    assert checks.protecting_privileges("/ords/hr/mcp/tools?x=1", paths) == frozenset(
        {"oracle.example.mcp"}
    )
    assert checks.protecting_privileges("/ords/hr/admin/users", paths) == {"hr.admin"}
    assert checks.protecting_privileges("/ords/hr/public/x", paths) == frozenset()
    # A module's base path without its trailing slash is the module too.
    assert checks.protecting_privileges("/ords/hr/mcp", paths) == {"oracle.example.mcp"}


def test_a_scope_for_another_module_does_not_let_the_request_in(idp: LocalIdP) -> None:
    # The scope names a real, protecting privilege, but not the one protecting /mcp/.
    analyzer = Analyzer(None, _exp(idp, role_based=False))
    token = _token(idp, scp="hr.admin")
    assert "scope-missing" in _codes(analyzer, token, "/ords/hr/mcp/")
    assert "scope-missing" not in _codes(analyzer, token, "/ords/hr/admin/users")
    # Nothing protects this path: no privilege is needed.
    assert "scope-missing" not in _codes(analyzer, token, "/ords/hr/public/x")
    verdict = next(
        v
        for v in analyzer.analyze(_record(token, "/ords/hr/mcp/")).verdicts
        if v.code == "scope-missing"
    )
    assert "oracle.example.mcp" in verdict.message


def test_a_role_for_another_module_does_not_let_the_request_in(idp: LocalIdP) -> None:
    analyzer = Analyzer(None, _exp(idp, role_based=True))
    token = _token(idp, roles=["Admins"])
    assert "role-without-privilege" in _codes(analyzer, token, "/ords/hr/mcp/")
    assert _codes(analyzer, token, "/ords/hr/admin/x").count("role-without-privilege") == 0
    ok = _token(idp, roles=["ORDSUsers"])
    assert "role-without-privilege" not in _codes(analyzer, ok, "/ords/hr/mcp/")
    assert "role-missing" not in _codes(analyzer, ok, "/ords/hr/mcp/")


def test_without_a_request_any_protecting_privilege_still_counts(idp: LocalIdP) -> None:
    analyzer = Analyzer(None, _exp(idp, role_based=False))
    _, verdicts = analyzer.analyze_token(_token(idp, scp="hr.admin"), at=WHEN)
    assert "scope-missing" not in [v.code for v in verdicts]
    _, verdicts = analyzer.analyze_token(_token(idp, scp="nothing"), at=WHEN)
    assert "scope-missing" in [v.code for v in verdicts]


def test_the_stand_in_privilege_knows_its_module_base_path() -> None:
    [privilege] = InMemoryOrds().privileges()
    assert privilege.modules == ("mcp",) and privilege.module_prefixes == ("/mcp/",)
    assert privilege_protects(PRIVILEGES)["oracle.example.mcp"] == ("mcp",)
    assert role_privileges(ROLES, PRIVILEGES)["Admins"] == ("hr.admin",)


def test_the_repository_reads_module_base_paths_from_user_ords_modules() -> None:
    conn = SqlStandin(InMemoryOrds())
    [privilege] = OracleOrdsRepository(conn).privileges()
    assert privilege.module_prefixes == ("/mcp/",)
    assert any("from user_ords_modules" in sql for sql, _ in conn.executed)
