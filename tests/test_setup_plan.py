"""The setup plan agrees with itself: the IdP checklist names the family, audience and
scope the facts, the metadata and the ORDS profile use."""

from __future__ import annotations

from inspector.setup.facts import FactInputs, Observed, ObservedToken, derive_facts
from inspector.setup.idp_checklist import IdpChecklist
from inspector.setup.plan import build_plan

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
