"""Checks that need the schema's facts: no JWT profile at all, and the ORDS roles.

The facts come from the in-memory ORDS (the reference set-up: role ``ORDSUsers`` holding
privilege ``oracle.example.mcp`` on the MCP module) through ``Expectations``, the way the
live screen feeds them; the analyzer itself never touches a database (its side of this is
in ``test_analyzer.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inspector import checks, rules
from inspector.database import OrdsPrivilege, OrdsRole
from inspector.expectations import Expectations, role_privileges
from inspector.ords_standin import InMemoryOrds
from inspector.profile import JwtProfile
from inspector.verdicts import Verdict

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
