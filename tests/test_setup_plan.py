"""The setup plan agrees with itself: the IdP checklist names the family, audience and
scope the facts, the metadata and the ORDS profile use."""

from __future__ import annotations

import pytest

from inspector.judge.attempt import TokenReport
from inspector.judge.ords_objects import OrdsModule, OrdsRole
from inspector.ords.proposal import ProposalOptions, judged_against, propose
from inspector.ords.standin import InMemoryOrds
from inspector.setup.facts import FactInputs, Observed, ObservedToken, derive_facts
from inspector.setup.idp_checklist import IdpChecklist
from inspector.setup.plan import OrdsChoices, build_plan
from inspector.setup.plan_output import render_plan

MCP = "https://mcp.example.com/ords/hr/mcp/server"
CUSTOM = "https://login.example.com/0b6f5c1e-0000-4000-8000-000000000001/v2.0"
APP = "0f6c3a8d-2b9e-4f71-8d5c-4a1e9b7c3d20"


def _token(**claims: object) -> Observed:
    return Observed(token=ObservedToken(claims, True, "extended.log:3"))


def _values(checklist: IdpChecklist, field: str) -> list[str]:
    return [v for item in checklist.items for f, v in item.values if f == field]


def test_idp_entra_on_a_custom_host_gets_entras_checklist_with_the_plans_values() -> None:
    seen = _token(iss=CUSTOM, aud=APP, scp="mcp:connect", roles=["ORDSUsers"])
    facts = derive_facts(FactInputs(MCP, idp="entra"), seen)
    checklist = build_plan(facts, ("idp",)).checklist
    assert checklist is not None and facts.entra
    assert checklist.family == "entra"
    assert _values(checklist, "ORDS profile p_audience") == [facts.audience]
    (scope,) = facts.scopes
    assert _values(checklist, "Full scope (requested by clients)") == [scope]
    assert _values(checklist, "Scope name") == [scope.rpartition("/")[2]]


def test_idp_generic_for_an_entra_issuer_gets_the_generic_checklist() -> None:
    entra = "https://login.microsoftonline.com/0b6f5c1e-0000-4000-8000-000000000001/v2.0"
    facts = derive_facts(FactInputs(MCP, issuer=entra, idp="generic", scopes=("mcp.read",)))
    checklist = build_plan(facts, ("idp",)).checklist
    assert checklist is not None and checklist.family == "generic"
    assert _values(checklist, "Scope") == ["mcp.read"]


def test_a_generic_checklist_names_the_tokens_audience_and_the_advertised_scope() -> None:
    issuer = "https://idp.example.net/"
    seen = _token(iss=issuer, aud="api://mcp-orders", scope="mcp.read", roles=["ORDSUsers"])
    facts = derive_facts(FactInputs(MCP), seen)
    checklist = build_plan(facts, ("idp",)).checklist
    assert checklist is not None and checklist.family == "generic"
    assert _values(checklist, "ORDS profile p_audience") == ["api://mcp-orders"]
    assert _values(checklist, "Audience") == ["api://mcp-orders"]
    assert _values(checklist, "Scope") == list(facts.scopes) == ["mcp.read"]


# --- The profile is judged against the schema the plan leaves ------------------------------


def _report(roles: list[str]) -> TokenReport:
    claims = {"iss": CUSTOM, "aud": APP, "roles": roles, "scp": "mcp:connect", "sub": "u1"}
    return TokenReport(
        fingerprint="fp:1",
        kind="jws",
        idp="entra-v2",
        header={"alg": "RS256", "kid": "k1"},
        claims=claims,
        verified=True,
        jwks_uri="https://login.example.com/keys",
    )


def _schema() -> InMemoryOrds:
    repo = InMemoryOrds()
    repo._roles = [OrdsRole("Auditors", 1)]
    repo._privileges = []
    repo._modules = [OrdsModule("mcp", "/mcp/", 7)]
    return repo


@pytest.mark.parametrize(("role", "warned"), [("ORDSUsers", False), ("Other", True)])
def test_the_profile_is_judged_against_the_role_the_plan_creates(role: str, warned: bool) -> None:
    repo = _schema()
    options = ProposalOptions(trusted_issuers=(CUSTOM,))
    profile = propose(repo, _report(["ORDSUsers"]), options=options)
    # As the schema is now: the role does not exist yet.
    assert "no-ords-role" in {r.code for r in profile.risks}
    url = "https://mcp.example.com/ords/hr/mcp/server"
    facts = derive_facts(FactInputs(url, issuer=CUSTOM, idp="entra", role=role))
    plan = build_plan(facts, ("ords",), repo=repo, ords=OrdsChoices(module="mcp"), profile=profile)
    assert plan.ords is not None and plan.ords.role_to_create == role and plan.profile
    codes = {r.code for r in plan.profile.risks}
    assert ("no-ords-role" in codes) is warned
    reached = "the user will reach the listed modules and patterns"
    assert any(p.text == reached for p in plan.profile.prechecks) is not warned
    assert plan.profile.reached_modules == (() if warned else ("mcp",))
    text = render_plan(plan)
    assert ("none of the token's roles is an ORDS role" in text) is warned


def test_a_profile_whose_schema_was_not_read_is_not_judged_again() -> None:
    options = ProposalOptions(trusted_issuers=(CUSTOM,))
    unread = propose(None, _report(["ORDSUsers"]), options=options)
    assert judged_against(unread, [OrdsRole("ORDSUsers")], []) is unread
