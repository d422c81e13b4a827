"""Checks that need the schema's facts: no JWT profile at all, and the ORDS roles.

The facts come from the in-memory ORDS (the reference set-up: role ``ORDSUsers`` holding
privilege ``oracle.example.mcp`` on the MCP module) through ``Expectations``, the way the
live screen feeds them; the analyzer itself never touches a database (its side of this is
in ``test_analyzer.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inspector.judge import checks, rules
from inspector.judge.expectations import Expectations, privilege_protects, role_privileges
from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege, OrdsRole
from inspector.judge.verdicts import Verdict
from inspector.ords.standin import InMemoryOrds

ROLE_BASED = Expectations(role_claim="/roles", profile_state="present")


def codes(verdicts: Iterable[Verdict]) -> list[str]:
    return [v.code for v in verdicts]


def reference_roles(*extra_roles: str) -> dict[str, tuple[str, ...]]:
    """The stand-in's seeded roles and privileges, plus roles that hold nothing."""
    ords = InMemoryOrds()
    for name in extra_roles:
        ords.add_role(name)
    return role_privileges(ords.roles(), ords.privileges())


def under(ords_roles: dict[str, tuple[str, ...]], **fields: Any) -> Expectations:
    return ROLE_BASED.merged(Expectations(ords_roles=ords_roles, **fields))


# --- role_privileges and the Expectations fields ---------------------------------------------


def test_role_privileges_of_the_reference_set_up() -> None:
    assert reference_roles("Reader") == {"ORDSUsers": ("oracle.example.mcp",), "Reader": ()}


def test_a_privilege_protecting_nothing_does_not_count() -> None:
    found = role_privileges(
        [OrdsRole("A"), OrdsRole("B")],
        [
            OrdsPrivilege("p.nothing", roles=("A",)),
            OrdsPrivilege("p.module", roles=("B", "Ghost"), modules=("mcp",)),
            OrdsPrivilege("p.pattern", roles=("B",), patterns=("/x/*",)),
        ],
    )
    # A role only a privilege names (no USER_ORDS_ROLES row) still shows up.
    assert found == {"A": (), "B": ("p.module", "p.pattern"), "Ghost": ("p.module",)}


def test_schema_facts_survive_merging_and_hashing() -> None:
    absent = Expectations.from_schema(None, {"ORDSUsers": ("p",)})
    assert absent.profile_state == "absent"
    profile = JwtProfile(issuer="https://i/", audience="a", jwk_url="https://i/keys")
    assert Expectations.from_schema(profile).profile_state == "present"
    assert Expectations.from_schema(profile).ords_roles is None
    merged = Expectations(issuer="https://cfg/").with_origin("config").merged(absent)
    assert merged.issuer == "https://cfg/"
    assert merged.profile_state == "absent"
    assert merged.ords_roles == {"ORDSUsers": ("p",)}
    # "unknown" (no database asked) never overrides what a database said.
    assert merged.merged(Expectations()).profile_state == "absent"
    assert merged.merged(Expectations()).ords_roles == {"ORDSUsers": ("p",)}
    assert hash(merged) == hash(merged.merged(Expectations()))
    assert merged != merged.merged(Expectations(ords_roles={}))


# --- no-profile -----------------------------------------------------------------------------


def test_no_profile_only_when_the_database_says_so() -> None:
    assert checks.check_profile(Expectations()) == []
    assert checks.check_profile(Expectations(profile_state="present")) == []
    found = checks.check_profile(Expectations(profile_state="absent"), "entra-v2")
    assert codes(found) == ["no-profile"]
    assert "profile apply" in found[0].fix and "press a" in found[0].fix
    assert "accessTokenAcceptedVersion" not in found[0].fix


def test_no_profile_warns_against_building_it_from_a_v1_token() -> None:
    (found,) = checks.check_profile(Expectations(profile_state="absent"), "entra-v1")
    assert found.fix.startswith("This is an Entra ID v1 token")


# --- role-missing / role-without-privilege from the ORDS roles ---------------------------------


def test_a_role_holding_a_privilege_passes() -> None:
    claims = {"roles": ["Other", "ORDSUsers"]}
    assert checks.check_authorization_claims(claims, under(reference_roles())) == []


def test_case_near_miss_names_the_ords_role() -> None:
    (found,) = checks.check_authorization_claims({"roles": ["ordsusers"]}, under(reference_roles()))
    assert found.code == "role-missing"
    assert found.message == (
        'roles ["ordsusers"] lack an ORDS role holding a privilege: "ORDSUsers" '
        '(case differs: "ordsusers" for "ORDSUsers")'
    )
    assert found.fix.startswith('Change the app role value "ordsusers" to exactly "ORDSUsers".')


def test_unknown_role_names_the_roles_that_would_work() -> None:
    (found,) = checks.check_authorization_claims({"roles": ["Reader"]}, under(reference_roles()))
    assert found.code == "role-missing"
    assert '"ORDSUsers"' in found.message
    assert "(no token role is an ORDS role)" in found.message
    assert found.fix.startswith('Assign the user an app role whose value is "ORDSUsers".')


def test_an_empty_roles_array_is_role_missing() -> None:
    (found,) = checks.check_authorization_claims({"roles": []}, under(reference_roles()))
    assert found.code == "role-missing"
    assert found.message.startswith("roles (none) lack")


def test_ords_role_without_privilege_has_its_own_code() -> None:
    (found,) = checks.check_authorization_claims(
        {"roles": ["Reader"]}, under(reference_roles("Reader"))
    )
    assert found.code == "role-without-privilege"
    assert '["Reader"]' in found.message
    assert found.message.endswith('protects a module (roles that do: "ORDSUsers")')
    assert "p_roles" in found.fix


def test_no_ords_role_holds_a_privilege() -> None:
    (found,) = checks.check_authorization_claims({"roles": ["Reader"]}, under({"Admin": ()}))
    assert found.code == "role-missing"
    assert "no ORDS role holds one" in found.message
    assert found.fix == rules.ROLE_MISSING.fix


def test_scope_based_profile_ignores_the_ords_roles() -> None:
    scope_based = Expectations(profile_state="present", ords_roles=reference_roles())
    assert checks.check_authorization_claims({"roles": ["Reader"]}, scope_based) == []


def test_roles_claim_problems_are_reported_once() -> None:
    exp = under(reference_roles())
    assert codes(checks.check_authorization_claims({"groups": ["g"]}, exp)) == [
        "roles-claim-missing"
    ]
    assert codes(checks.check_authorization_claims({"roles": "ORDSUsers"}, exp)) == [
        "roles-not-array"
    ]
    # An expected role from the config that is missing: one role-missing, not two.
    wanted = under(reference_roles(), roles=("Admins",))
    assert codes(checks.check_authorization_claims({"roles": ["Reader"]}, wanted)) == [
        "role-missing"
    ]


def test_hostile_role_names_are_escaped() -> None:
    (found,) = checks.check_authorization_claims(
        {"roles": ["ORDSUser\x1b[2Js", 7]}, under(reference_roles())
    )
    assert "\x1b" not in found.message and "\x1b" not in found.fix
    assert "\\u001b" in found.message


# --- scope-missing from the ORDS privileges (scope-based profile) ------------------------------

SCOPE_BASED = Expectations(profile_state="present")


def reference_privileges(*extra: OrdsPrivilege) -> dict[str, tuple[str, ...]]:
    """The stand-in's seeded privilege (``oracle.example.mcp`` on the MCP module), plus more."""
    ords = InMemoryOrds()
    for privilege in extra:
        ords.add_privilege(privilege)
    return privilege_protects(ords.privileges())


def scope_based(privileges: dict[str, tuple[str, ...]]) -> Expectations:
    return SCOPE_BASED.merged(Expectations(ords_privileges=privileges))


def test_privilege_protects_lists_modules_and_patterns() -> None:
    found = privilege_protects(
        [
            OrdsPrivilege("p.nothing", roles=("A",)),
            OrdsPrivilege("p.both", modules=("mcp",), patterns=("/x/*",)),
        ]
    )
    assert found == {"p.nothing": (), "p.both": ("mcp", "/x/*")}
    assert reference_privileges() == {"oracle.example.mcp": ("mcp", "/mcp/*")}


def test_a_scope_naming_a_protecting_privilege_passes() -> None:
    claims = {"scp": "User.Read oracle.example.mcp"}
    assert checks.check_authorization_claims(claims, scope_based(reference_privileges())) == []


def test_a_scope_that_is_no_privilege_names_the_privileges_that_would_work() -> None:
    (found,) = checks.check_authorization_claims(
        {"scp": "mcp:connect"}, scope_based(reference_privileges())
    )
    assert found.code == "scope-missing"
    assert found.message == (
        'scopes ["mcp:connect"] lack the name of an ORDS privilege that protects a module: '
        '"oracle.example.mcp" (no scope is an ORDS privilege name)'
    )
    assert found.fix.startswith(
        'Rename one of them: the scope "mcp:connect" to "oracle.example.mcp", or the ORDS '
        'privilege "oracle.example.mcp" to "mcp:connect".'
    )


def test_scope_case_near_miss() -> None:
    (found,) = checks.check_authorization_claims(
        {"scp": "Oracle.Example.MCP"}, scope_based(reference_privileges())
    )
    assert found.code == "scope-missing"
    assert '("Oracle.Example.MCP" for "oracle.example.mcp": case differs)' in found.message
    assert found.fix.startswith('Rename one of them: the ORDS privilege "oracle.example.mcp"')


def test_full_scope_uri_as_privilege_name_is_a_near_miss() -> None:
    (found,) = checks.check_authorization_claims(
        {"scp": "mcp.access"}, scope_based({"api://ords-mcp/mcp.access": ("mcp",)})
    )
    assert "after the last '/'" in found.message
    assert found.fix.startswith('Rename the ORDS privilege "api://ords-mcp/mcp.access" to')


def test_a_scope_naming_a_privilege_that_protects_nothing() -> None:
    idle = OrdsPrivilege("mcp.read")
    (found,) = checks.check_authorization_claims(
        {"scope": ["mcp.read"]}, scope_based(reference_privileges(idle))
    )
    assert found.code == "scope-missing"
    assert 'privilege "mcp.read" protects no module or pattern' in found.message
    assert "p_modules or p_patterns" in found.fix


def test_no_scopes_and_no_protecting_privilege() -> None:
    (found,) = checks.check_authorization_claims({}, scope_based({"p.idle": ()}))
    assert found.message.startswith("scopes (none) lack")
    assert "(no ORDS privilege protects one)" in found.message
    assert found.fix == rules.SCOPE_MISSING.fix


def test_scope_privileges_only_under_a_known_scope_based_profile() -> None:
    privileges = reference_privileges()
    claims = {"scp": "mcp:connect", "roles": ["ORDSUsers"]}
    # No database said a profile exists, or the profile is role-based: ORDS reads no scope.
    assert checks.check_authorization_claims(claims, Expectations(ords_privileges=privileges)) == []
    role_based = Expectations(
        role_claim="/roles", profile_state="present", ords_privileges=privileges
    )
    assert checks.check_authorization_claims(claims, role_based) == []
    # Privileges not read: nothing to say.
    assert checks.check_authorization_claims(claims, SCOPE_BASED) == []


def test_expected_scopes_still_judged_and_reported_once() -> None:
    exp = scope_based(reference_privileges()).merged(Expectations(scopes=("mcp:connect",)))
    (found,) = checks.check_authorization_claims({"scp": "other"}, exp)
    assert found.message == 'scopes ["other"] lack ["mcp:connect"]'
    # The expected scope is there, but it is no ORDS privilege.
    (found,) = checks.check_authorization_claims({"scp": "mcp:connect"}, exp)
    assert "oracle.example.mcp" in found.message


def test_schema_privileges_survive_merging_and_hashing() -> None:
    privileges = reference_privileges()
    profile = JwtProfile(issuer="https://i/", audience="a", jwk_url="https://i/keys")
    schema = Expectations.from_schema(profile, None, privileges)
    assert schema.ords_privileges == privileges
    merged = Expectations(issuer="https://cfg/").merged(schema)
    assert merged.ords_privileges == privileges
    assert merged.merged(Expectations()).ords_privileges == privileges
    assert hash(merged) == hash(merged.merged(Expectations()))
    assert merged != merged.merged(Expectations(ords_privileges={}))


def test_hostile_scope_names_are_escaped() -> None:
    (found,) = checks.check_authorization_claims(
        {"scp": "oracle.example.MCP\x1b[2J"}, scope_based(reference_privileges())
    )
    assert "\x1b" not in found.message and "\x1b" not in found.fix
