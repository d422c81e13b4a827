"""ORDS side of ``setup``: the role the tokens carry, the privilege on the MCP module, the profile.

Plans (new role and privilege, an existing privilege extended and kept whole, nothing to do,
the module found by path, scope-based naming, unknown modules), the preview script, and the
apply: in the stand-in and through the real repository's SQL (bind variables only), with a
failure injected at every step (restored exactly), a restore that fails (a manual script),
refusals and audit records.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import oracledb
import pytest

from inspector.judge.ords_objects import JwtProfile, OrdsModule, OrdsPrivilege, OrdsRole
from inspector.ords.apply import Result, Step
from inspector.ords.audit import AuditLog
from inspector.ords.database import (
    OracleOrdsRepository,
    OrdsRepository,
    database_error,
    define_privilege_statement,
)
from inspector.ords.grants import (
    AuthorizationPlan,
    AuthorizationResult,
    apply_authorization,
    authorization_script,
    merged,
    module_for_path,
    plan_authorization,
)
from inspector.ords.proposal import Proposal, Risk, diff_rows
from inspector.ords.standin import InMemoryOrds, make_standin
from tests.support.faulty_ords import FaultyOrds
from tests.support.memory_db import open_memory_dsn
from tests.support.sql_standin import SqlStandin
from tests.test_real_oracle import role_and_privilege_round_trip

OLD = JwtProfile("https://old.example/", "api://old", "https://old.example/keys")
NEW = JwtProfile(
    "https://login.example/tenant/v2.0",
    "api://mcp",
    "https://login.example/tenant/discovery/v2.0/keys",
    role_claim_name="/roles",
)
HOSTILE = "x'); drop table t; --"
REFUSED = database_error("ORA-20001: refused by the test", 20001)

EXISTING = OrdsPrivilege(
    name="oracle.example.mcp",
    label="MCP server",
    description="Access to the MCP module",
    roles=("ORDSUsers", "Auditors"),
    modules=("mcp", "reports"),
    patterns=("/mcp/*", "/legacy/*"),
    comments="set up by hand in 2025",
)
MODULES = [
    OrdsModule("mcp", "/mcp/", 1),
    OrdsModule("mcp_admin", "/mcp/admin/", 2),
    OrdsModule("reports", "/reports/", 3),
    OrdsModule("hr", "/hr/", 4),
]


def _standin(
    *,
    roles: tuple[str, ...] = ("ORDSUsers", "Auditors"),
    privileges: tuple[OrdsPrivilege, ...] = (EXISTING,),
    profile: JwtProfile | None = OLD,
    **options: object,
) -> FaultyOrds:
    repo = FaultyOrds(**options)  # type: ignore[arg-type]
    repo._roles = [OrdsRole(name, 100 + i) for i, name in enumerate(roles)]
    repo._privileges = list(privileges)
    repo._modules = list(MODULES)
    repo.set_profile(profile)
    return repo


def _proposal(
    proposed: JwtProfile = NEW, current: JwtProfile | None = OLD, risks: tuple[Risk, ...] = ()
) -> Proposal:
    return Proposal(
        proposed=proposed,
        current=current,
        current_known=True,
        schema=None,
        diff=diff_rows(current, proposed),
        prechecks=(),
        will_pass=True,
        verdicts=(),
        risks=risks,
        plsql="-- the profile script\n",
        token_fingerprint="fp:1234",
        verified=True,
    )


def _plan(repo: OrdsRepository, role: str | None = "MCPUsers", **kw: object) -> AuthorizationPlan:
    options: dict[str, object] = {"privilege": None, "module": None, "mcp_path": "/ords/demo/mcp/"}
    options.update(kw)
    return plan_authorization(repo, role=role, **options)  # type: ignore[arg-type]


Committed = tuple[set[str], list[tuple[object, ...]], JwtProfile | None]


def _committed(repo: InMemoryOrds) -> Committed:
    """What another session sees, as ORDS keeps it: lists compared as sets (the views return
    them in their own order)."""
    roles, privileges = repo.committed_authorization()
    kept = [
        (p.name, p.label, p.description, p.comments, *(frozenset(x) for x in _lists(p)))
        for p in privileges
    ]
    return {r.name for r in roles}, kept, repo.committed_profile()


def _lists(p: OrdsPrivilege) -> tuple[tuple[str, ...], ...]:
    return p.roles, p.modules, p.patterns


# -- planning --------------------------------------------------------------------------------


def test_new_role_and_new_privilege_for_an_unprotected_module() -> None:
    repo = _standin(privileges=())
    plan = _plan(repo)
    assert plan.blockers == ()
    assert plan.role_to_create == "MCPUsers"
    assert plan.privilege_before is None
    assert plan.module == MODULES[0]
    after = plan.privilege_after
    assert after is not None
    assert (after.name, after.roles, after.modules, after.patterns) == (
        "mcp.access",
        ("MCPUsers",),
        ("mcp",),
        (),
    )
    assert plan.changed
    assert any("a new one, 'mcp.access'" in note for note in plan.notes)


def test_existing_privilege_gets_the_role_and_keeps_everything_it_had() -> None:
    repo = _standin()
    plan = _plan(repo)
    assert plan.privilege_before == EXISTING
    assert plan.privilege_after == OrdsPrivilege(
        name="oracle.example.mcp",
        label="MCP server",
        description="Access to the MCP module",
        roles=("ORDSUsers", "Auditors", "MCPUsers"),
        modules=("mcp", "reports"),
        patterns=("/mcp/*", "/legacy/*"),
        comments="set up by hand in 2025",
    )
    assert plan.role_to_create == "MCPUsers"


def test_existing_role_already_granted_is_unchanged_and_apply_writes_nothing() -> None:
    repo = _standin()
    plan = _plan(repo, role="ORDSUsers")
    assert not plan.changed
    assert plan.role_to_create is None
    assert any("nothing to change" in note for note in plan.notes)
    result = apply_authorization(repo, plan, proposal=_proposal(OLD, OLD))
    assert result.result is Result.UNCHANGED
    assert repo.procedures == []
    assert "nothing to change" in authorization_script(plan)


def test_merge_keeps_order_and_drops_duplicates() -> None:
    assert merged(("b", "a"), ("a", "c", "c")) == ("b", "a", "c")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ords/demo/mcp/", "mcp"),
        ("/mcp/", "mcp"),
        ("/mcp", "mcp"),
        ("https://db.example/ords/demo/mcp/admin/sse?x=1", "mcp_admin"),
        ("/ords/demo/hr/employees/", "hr"),
        ("/ords/demo/mcpx/", None),
        ("/other/", None),
    ],
)
def test_module_is_found_by_the_path_it_serves(path: str, expected: str | None) -> None:
    found = module_for_path(MODULES, path)
    assert (found.name if found else None) == expected


def test_module_by_name_and_unknown_module_or_path_block() -> None:
    repo = _standin()
    assert _plan(repo, module="reports", mcp_path=None).module == MODULES[2]
    by_name = _plan(repo, module="nope", mcp_path=None)
    assert by_name.privilege_after is None
    assert by_name.blockers[0].startswith("no REST module named 'nope' (modules: hr (/hr/),")
    by_path = _plan(repo, mcp_path="/ords/demo/unknown/")
    assert by_path.blockers[0].startswith("no REST module's base path serves")
    neither = _plan(repo, mcp_path=None)
    assert neither.blockers == ("name the MCP module or give the MCP URL's path",)
    assert not neither.changed


def test_scope_based_profile_names_the_privilege_after_the_scope() -> None:
    repo = _standin()
    plan = _plan(repo, role=None, scope="mcp.read")
    after = plan.privilege_after
    assert after is not None
    assert (after.name, after.roles, after.modules) == ("mcp.read", (), ("mcp",))
    assert plan.role_to_create is None
    assert any("tokens must carry the scope 'mcp.read'" in note for note in plan.notes)
    # The module stays protected by the existing privilege too: said, not hidden.
    assert any("'oracle.example.mcp'" in w for w in plan.warnings)
    wrong = _plan(repo, role=None, scope="mcp.read", privilege="oracle.example.mcp")
    assert "the privilege must be named 'mcp.read', not 'oracle.example.mcp'" in wrong.blockers[0]


def test_role_or_scope_is_required() -> None:
    plan = _plan(_standin(), role=None)
    assert plan.blockers == (
        "name the ORDS role the tokens carry (role-based profile) or the scope (scope-based)",
    )


def test_unreadable_schema_is_a_blocker() -> None:
    repo = _standin()
    repo.fail("modules", error=REFUSED)
    plan = _plan(repo)
    assert plan.blockers == (
        "could not read the schema's ORDS roles, privileges and modules: "
        "ORA-20001: refused by the test",
    )


def test_role_differing_only_in_case_is_warned_about() -> None:
    plan = _plan(_standin(), role="ordsusers")
    assert plan.role_to_create == "ordsusers"
    assert any("the schema has the role 'ORDSUsers'" in w for w in plan.warnings)


# -- preview ---------------------------------------------------------------------------------


def test_script_quotes_every_value_and_appends_the_profile_script() -> None:
    repo = _standin()
    plan = _plan(repo, role=HOSTILE)
    script = authorization_script(plan, _proposal())
    assert "  ords.create_role(p_role_name => 'x''); drop table t; --');" in script
    assert "  l_roles(3) := 'x''); drop table t; --';" in script
    assert "  l_patterns(2) := '/legacy/*';" in script
    assert "    p_privilege_name => 'oracle.example.mcp'," in script
    assert "    p_comments => 'set up by hand in 2025');" in script
    assert script.index("ords.create_role") < script.index("ords.define_privilege")
    assert script.endswith("\n-- then the JWT profile\n-- the profile script\n")


# -- apply -----------------------------------------------------------------------------------


def test_apply_creates_role_extends_privilege_and_replaces_profile_in_one_commit() -> None:
    repo = _standin()
    plan = _plan(repo)
    result = apply_authorization(repo, plan, proposal=_proposal())
    assert result.result is Result.APPLIED, result.failure
    roles, _, profile = _committed(repo)
    assert roles == {"ORDSUsers", "Auditors", "MCPUsers"}
    (privilege,) = repo.committed_authorization()[1]
    assert set(privilege.roles) == {"ORDSUsers", "Auditors", "MCPUsers"}
    assert set(privilege.modules) == {"mcp", "reports"}
    assert set(privilege.patterns) == {"/mcp/*", "/legacy/*"}
    assert privilege.comments == "set up by hand in 2025"
    assert profile == NEW
    assert repo.calls.count("commit") == 1
    assert [(e.step, e.status) for e in result.steps if e.status != "start"] == [
        (Step.CHECK, "ok"),
        (Step.READ_CURRENT, "ok"),
        (Step.CREATE_ROLE, "ok"),
        (Step.DEFINE_PRIVILEGE, "ok"),
        (Step.DELETE, "ok"),
        (Step.CREATE, "ok"),
        (Step.READ_BACK, "ok"),
        (Step.READ_BACK, "ok"),
        (Step.COMMIT, "ok"),
    ]


def test_apply_without_a_profile_proposal_sets_up_role_and_new_privilege() -> None:
    repo = _standin(privileges=())
    result = apply_authorization(repo, _plan(repo), proposal=None)
    assert result.result is Result.APPLIED
    roles, _, profile = _committed(repo)
    assert "MCPUsers" in roles
    assert [(p.name, p.roles, p.modules) for p in repo.committed_authorization()[1]] == [
        ("mcp.access", ("MCPUsers",), ("mcp",))
    ]
    assert profile == OLD
    assert "get_profile" not in repo.calls


def test_through_the_real_repository_every_value_is_a_bind() -> None:
    ords = _standin()
    conn = SqlStandin(ords)
    repo = OracleOrdsRepository(conn)
    plan = _plan(repo, role=HOSTILE, label=HOSTILE)
    result = apply_authorization(repo, plan, proposal=_proposal())
    assert result.result is Result.APPLIED, result.failure
    roles, _, _ = _committed(ords)
    assert HOSTILE in roles
    assert HOSTILE in ords.committed_authorization()[1][0].roles
    sent = [sql for sql, _ in conn.executed]
    assert not [sql for sql in sent if "drop table" in sql or "MCP server" in sql]
    bound = [binds for sql, binds in conn.executed if "ords.define_privilege(" in sql]
    assert bound[0]["role_3"] == HOSTILE
    assert bound[0]["comments"] == "set up by hand in 2025"
    assert ("begin ords.create_role(p_role_name => :role_name); end;", {"role_name": HOSTILE}) in (
        conn.executed
    )


class _OtherSession(SqlStandin):
    """A second connection to the same stand-in (it sees what was committed); closing it
    leaves the first one open."""

    def close(self) -> None:
        return None


@pytest.mark.parametrize("procedures_commit", [False, True])
def test_real_database_round_trip_runs_against_the_standin(procedures_commit: bool) -> None:
    # The env-gated test's body, through the same SQL: proves it is sound where it cannot run.
    ords = make_standin(procedures_commit=procedures_commit)
    before = _committed(ords)
    conn = SqlStandin(ords)
    role_and_privilege_round_trip(
        OracleOrdsRepository(conn), lambda: OracleOrdsRepository(_OtherSession(ords))
    )
    assert _committed(ords) == before
    assert [m.name for m in ords.modules()] == ["mcp"]
    assert any("ords.define_privilege(" in sql for sql, _ in conn.executed)


def test_define_privilege_statement_holds_names_and_counts_only() -> None:
    sql, binds = define_privilege_statement(
        OrdsPrivilege("p", "L", None, roles=("r1", "r2"), modules=("m",), patterns=())
    )
    assert sql.splitlines()[5:8] == [
        "  l_roles(1) := :role_1;",
        "  l_roles(2) := :role_2;",
        "  l_modules(1) := :module_1;",
    ]
    assert "'" not in sql
    assert binds == {
        "privilege_name": "p",
        "label": "L",
        "description": None,
        "comments": None,
        "role_1": "r1",
        "role_2": "r2",
        "module_1": "m",
    }


# Each write step and each read-back read, failing once: (operation, its call number counted
# from the apply's first call, the step reported failed).
FAILURES = [
    ("create_role", 1, Step.CREATE_ROLE),
    ("define_privilege", 1, Step.DEFINE_PRIVILEGE),
    ("delete_profile", 1, Step.DELETE),
    ("create_profile", 1, Step.CREATE),
    ("get_profile", 2, Step.READ_BACK),
    ("roles", 2, Step.READ_BACK),
    ("privileges", 2, Step.READ_BACK),
    ("commit", 1, Step.COMMIT),
]


@pytest.mark.parametrize("procedures_commit", [False, True], ids=["transactional", "autocommit"])
@pytest.mark.parametrize(("operation", "on_call", "step"), FAILURES)
def test_failure_at_each_step_restores_roles_privilege_and_profile_exactly(
    operation: str, on_call: int, step: Step, procedures_commit: bool
) -> None:
    repo = _standin(procedures_commit=procedures_commit)
    plan = _plan(repo)
    before = _committed(repo)
    repo.fail(operation, error=REFUSED, on_call=on_call)
    result = apply_authorization(repo, plan, proposal=_proposal())
    assert result.result is Result.FAILED_RESTORED, (result.failure, result.restore)
    failed = [e for e in result.steps if e.status == "failed"]
    assert failed[0].step is step
    assert failed[0].message.endswith("ORA-20001: refused by the test")
    assert _committed(repo) == before
    assert result.restore_script is None
    # A release whose procedures commit needs the explicit restore; otherwise the rollback.
    restored = [e for e in result.steps if e.step is Step.RESTORE and e.status == "ok"]
    assert bool(restored) == (procedures_commit and operation != "create_role")


class _PatternsDropped(FaultyOrds):
    """A database that keeps a defined privilege without its patterns (once)."""

    def define_privilege(self, privilege: OrdsPrivilege) -> None:
        changed = self.calls.count("define_privilege") == 0
        super().define_privilege(
            OrdsPrivilege(**{**_fields(privilege), "patterns": ()}) if changed else privilege
        )


def _fields(privilege: OrdsPrivilege) -> dict[str, object]:
    return {f: getattr(privilege, f) for f in OrdsPrivilege.__slots__}  # type: ignore[attr-defined]


@pytest.mark.parametrize("procedures_commit", [False, True])
def test_privilege_read_back_that_differs_is_restored(procedures_commit: bool) -> None:
    repo = _PatternsDropped(procedures_commit=procedures_commit)
    repo._privileges = [EXISTING]
    repo._roles = [OrdsRole("ORDSUsers"), OrdsRole("Auditors")]
    repo._modules = list(MODULES)
    plan = _plan(repo)
    before = _committed(repo)
    result = apply_authorization(repo, plan, proposal=None)
    assert result.result is Result.FAILED_RESTORED
    assert result.failure == "read-back differs from what was sent in: privilege patterns"
    assert _committed(repo) == before


def test_restore_that_fails_is_reported_with_a_manual_script() -> None:
    # The release commits inside its procedures and the commit then fails: the rollback
    # cannot undo anything, and the explicit restore fails at the role's deletion.
    repo = _standin(procedures_commit=True)
    plan = _plan(repo)
    repo.fail("commit", error=REFUSED)
    repo.fail("delete_role", error=REFUSED)
    result = apply_authorization(repo, plan, proposal=_proposal())
    assert result.result is Result.FAILED_RESTORE_FAILED
    assert result.restore == "restoring the previous state failed: ORA-20001: refused by the test"
    script = result.restore_script
    assert script is not None
    assert "  l_roles(1) := 'ORDSUsers';\n  l_roles(2) := 'Auditors';\n" in script
    assert "  l_roles(3)" not in script
    assert script.index("ords.define_privilege(") < script.index(
        "ords.delete_role(p_role_name => 'MCPUsers');"
    )
    assert "-- then the previous JWT profile\n" in script
    assert "p_issuer => 'https://old.example/'" in script


def test_new_privilege_restore_script_deletes_it() -> None:
    repo = _standin(privileges=(), procedures_commit=True)
    plan = _plan(repo)
    repo.fail("commit", error=REFUSED)
    repo.fail("delete_privilege", error=REFUSED)
    result = apply_authorization(repo, plan, proposal=None)
    assert result.result is Result.FAILED_RESTORE_FAILED
    assert result.restore_script is not None
    assert "  ords.delete_privilege(p_name => 'mcp.access');" in result.restore_script
    assert "JWT profile" not in result.restore_script


def test_lost_session_is_rolled_back_by_the_database_but_cannot_be_verified() -> None:
    repo = _standin()
    plan = _plan(repo)
    before = _committed(repo)
    repo.drop_session("define_privilege")
    result = apply_authorization(repo, plan, proposal=_proposal())
    assert result.result is Result.FAILED_RESTORE_FAILED
    assert result.restore is not None
    assert result.restore.startswith("could not verify the previous state is in place: DPY-1001")
    assert result.restore_script is not None
    # What the database did on its own: nothing of ours survived.
    repo._closed = False
    assert _committed(repo) == before


def test_blocking_risk_refuses_unless_forced(tmp_path: Path) -> None:
    risk = Risk("token-unverified", "the token's signature was not verified", blocking=True)
    repo = _standin()
    plan = _plan(repo)
    audit = AuditLog(tmp_path / "audit.jsonl")
    refused = apply_authorization(repo, plan, proposal=_proposal(risks=(risk,)), audit=audit)
    assert refused.result is Result.REFUSED
    assert refused.failure == (
        "refused: the token's signature was not verified (override: --force-unverified)"
    )
    assert repo.procedures == []
    forced = apply_authorization(
        repo, plan, proposal=_proposal(risks=(risk,)), force_unverified=True, audit=audit
    )
    assert forced.result is Result.APPLIED
    assert forced.warnings and "force" in forced.warnings[-1].lower()
    records = audit.read()
    assert [r["result"] for r in records] == ["refused", "applied"]
    assert records[1]["detail"] == "forced despite: token-unverified"


def test_blocked_plan_is_refused_and_writes_nothing() -> None:
    repo = _standin()
    plan = _plan(repo, module="nope", mcp_path=None)
    result = apply_authorization(repo, plan, proposal=_proposal())
    assert result.result is Result.REFUSED
    assert result.failure is not None and "no REST module named 'nope'" in result.failure
    assert repo.procedures == []


def test_state_changed_since_the_plan_writes_nothing() -> None:
    repo = _standin()
    plan = _plan(repo)
    repo.add_role("MCPUsers")
    result = apply_authorization(repo, plan, proposal=_proposal())
    assert result.result is Result.FAILED_UNCHANGED
    assert (
        result.failure == "the roles or the privilege changed since the plan was made: plan again"
    )
    assert repo.procedures == []


def test_profile_for_another_schema_is_refused() -> None:
    repo = _standin()
    proposal = _proposal()
    other = Proposal(
        **{**{f: getattr(proposal, f) for f in Proposal.__dataclass_fields__}, "schema": "HR"}
    )
    result = apply_authorization(repo, _plan(repo), proposal=other)
    assert result.result is Result.REFUSED
    assert repo.procedures == []


def test_audit_record_is_private_json_with_before_and_after(tmp_path: Path) -> None:
    repo = _standin()
    audit = AuditLog(tmp_path / "state" / "audit.jsonl")
    result: AuthorizationResult = apply_authorization(
        repo, _plan(repo), proposal=_proposal(), audit=audit, db_user="demo", database="db1"
    )
    assert result.result is Result.APPLIED
    (record,) = audit.read()
    assert stat.S_IMODE(os.stat(audit.path).st_mode) == 0o600
    assert record["kind"] == "ords-authorization"
    assert record["schema"] == "DEMO"
    assert record["role_created"] == "MCPUsers"
    assert record["old_privilege"]["roles"] == ["ORDSUsers", "Auditors"]
    assert record["new_privilege"]["roles"] == ["ORDSUsers", "Auditors", "MCPUsers"]
    assert record["old_profile"]["issuer"] == OLD.issuer
    assert record["new_profile"]["issuer"] == NEW.issuer
    assert record["token_fingerprint"] == "fp:1234"
    assert record["result"] == "applied"


# -- the stand-in follows ORDS's semantics -------------------------------------------------


def test_standin_role_and_privilege_semantics() -> None:
    repo = make_standin()
    with pytest.raises(oracledb.DatabaseError, match="ORDSUsers already exists"):
        repo.create_role("ORDSUsers")
    with pytest.raises(oracledb.DatabaseError, match="role Ghost does not exist"):
        repo.define_privilege(OrdsPrivilege("p", roles=("Ghost",)))
    with pytest.raises(oracledb.DatabaseError, match="module ghost does not exist"):
        repo.define_privilege(OrdsPrivilege("p", modules=("ghost",)))
    with pytest.raises(
        oracledb.DatabaseError, match=r"is granted privileges: oracle\.example\.mcp"
    ):
        repo.delete_role("ORDSUsers")
    # define_privilege replaces: the seeded pattern and role are gone.
    repo.create_role("Other")
    repo.define_privilege(OrdsPrivilege("oracle.example.mcp", roles=("Other",), modules=("mcp",)))
    (privilege,) = repo.privileges()
    assert (privilege.roles, privilege.patterns, privilege.module_prefixes) == (
        ("Other",),
        (),
        ("/mcp/",),
    )
    # Uncommitted: another session sees the seeded state; rollback undoes it.
    assert [r.name for r in repo.committed_authorization()[0]] == ["ORDSUsers"]
    repo.rollback()
    assert [r.name for r in repo.roles()] == ["ORDSUsers"]
    assert repo.privileges()[0].roles == ("ORDSUsers",)
    with pytest.raises(oracledb.DatabaseError, match="privilege nope does not exist"):
        repo.delete_privilege("nope")


def test_memory_file_keeps_roles_and_privileges_between_commands(tmp_path: Path) -> None:
    # ``--dsn memory:FILE``: a later command (another process) sees the set-up.
    dsn = f"memory:{tmp_path / 'ords.json'}"
    first = open_memory_dsn(dsn)
    plan = _plan(first, role="MCPUsers", mcp_path="/mcp/")
    assert apply_authorization(first, plan, proposal=None).result is Result.APPLIED
    second = open_memory_dsn(dsn)
    assert {r.name for r in second.roles()} == {"ORDSUsers", "MCPUsers"}
    (privilege,) = second.privileges()
    assert privilege.roles == ("MCPUsers", "ORDSUsers")
    assert privilege.module_prefixes == ("/mcp/",)
    assert not _plan(second, role="MCPUsers", mcp_path="/mcp/").changed
