"""setup's facts: each value from the user, a verified token, doctor's observations or the
resource rule, in that order, with a note saying which; hostile values refused in one line."""

from __future__ import annotations

import pytest

from inspector.setup.facts import (
    FactInputs,
    FactsError,
    Observed,
    ObservedToken,
    derive_facts,
)

MCP = "https://mcp.example.com/ords/hr/mcp/server"
ENTRA = "https://login.microsoftonline.com/0b6f5c1e-0000-4000-8000-000000000001/v2.0"
OKTA = "https://acme.okta.com/oauth2/aus1"


def token(**claims: object) -> ObservedToken:
    return ObservedToken(claims, True, "extended.log:7")


def test_entra_scope_follows_the_resource_rule_when_nothing_names_one() -> None:
    facts = derive_facts(FactInputs(MCP, issuer=ENTRA))
    assert facts.entra
    assert facts.scopes == (f"{MCP}/mcp:connect",)
    assert facts.resource.mcp_url == MCP and facts.resource.authorization_servers == (ENTRA,)
    notes = "\n".join(facts.notes)
    assert "issuer: " + ENTRA + " (--issuer)" in notes
    assert "Entra ID rule" in notes
    assert "audience: unknown" in notes


def test_user_input_beats_the_token_and_the_token_beats_doctor() -> None:
    seen = Observed(
        token=token(iss=OKTA, aud="api://mcp", scope="mcp.read", roles=["ORDSUsers"]),
        challenge_scopes=("from.challenge",),
        metadata_servers=("https://other.example.com",),
    )
    facts = derive_facts(FactInputs(MCP, role="Admins", scopes=("typed",)), seen)
    assert facts.issuer == OKTA  # the token's, not the metadata's
    assert facts.scopes == ("typed",)
    assert facts.role == "Admins"
    assert facts.audience == "api://mcp"
    assert any("the verified token at extended.log:7" in n for n in facts.notes)
    facts = derive_facts(FactInputs(MCP), seen)
    assert facts.scopes == ("from.challenge",) and facts.role == "ORDSUsers"


def test_without_a_token_the_issuer_comes_from_the_served_metadata() -> None:
    seen = Observed(metadata_url="https://x/.well-known/p", metadata_servers=(OKTA,))
    facts = derive_facts(FactInputs(MCP), seen)
    assert facts.issuer == OKTA and not facts.entra and facts.scopes == ()
    assert any("served metadata" in n for n in facts.notes)


def test_an_unverified_token_is_not_used() -> None:
    seen = Observed(token=ObservedToken({"iss": OKTA}, False, "log:1"))
    with pytest.raises(FactsError, match="no issuer"):
        derive_facts(FactInputs(MCP), seen)
    facts = derive_facts(FactInputs(MCP, issuer=OKTA), seen)
    assert any("did not verify" in w for w in facts.warnings)


def test_entra_scopes_observed_on_another_resource_are_moved_to_the_mcp_url() -> None:
    seen = Observed(challenge_scopes=("api://1234/mcp:connect",))
    facts = derive_facts(FactInputs(MCP, issuer=ENTRA), seen)
    assert facts.scopes == (f"{MCP}/mcp:connect",)
    assert any("AADSTS9010010" in w for w in facts.warnings)
    # Typed by the user: kept, with the warning.
    facts = derive_facts(FactInputs(MCP, issuer=ENTRA, scopes=("api://1234/mcp:connect",)))
    assert facts.scopes == ("api://1234/mcp:connect",)
    assert any("AADSTS9010010" in w for w in facts.warnings)


def test_entra_token_scp_names_get_the_mcp_url_as_resource() -> None:
    seen = Observed(token=token(iss=ENTRA, aud="5f0c", scp="mcp:connect"))
    facts = derive_facts(FactInputs(MCP), seen)
    assert facts.scopes == (f"{MCP}/mcp:connect",) and facts.audience == "5f0c"
    # Entra always writes the bare name in scp: a normal token is not a mistake.
    assert facts.warnings == ()
    # The same with --idp entra and an issuer on another host.
    seen = Observed(token=token(iss=OKTA, aud="5f0c", scp="mcp:connect openid"))
    facts = derive_facts(FactInputs(MCP, idp="entra"), seen)
    assert facts.scopes == (f"{MCP}/mcp:connect",) and facts.warnings == ()


def test_entra_scopes_on_another_resource_still_warn_from_every_source() -> None:
    other = "api://1234/mcp:connect"
    for seen in (
        Observed(challenge_scopes=(other,)),
        Observed(metadata_scopes=(other,)),
        Observed(metadata_scopes=("mcp:connect",)),
        Observed(token=token(iss=ENTRA, scp=other)),
    ):
        facts = derive_facts(FactInputs(MCP, issuer=ENTRA), seen)
        assert facts.scopes == (f"{MCP}/mcp:connect",), seen
        (warning,) = facts.warnings
        assert "AADSTS9010010" in warning, seen
    facts = derive_facts(FactInputs(MCP, issuer=ENTRA, scopes=("mcp:connect",)))
    assert facts.scopes == ("mcp:connect",) and "AADSTS9010010" in facts.warnings[0]


def test_several_roles_in_the_token_need_role() -> None:
    facts = derive_facts(FactInputs(MCP, issuer=OKTA), Observed(token=token(roles=["a", "b"])))
    assert facts.role is None
    assert any("several roles" in n and "--role" in n for n in facts.notes)


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        (FactInputs(None, issuer=OKTA), "give the MCP URL"),
        (FactInputs("http://mcp.example.com/ords/x", issuer=OKTA), "must be https"),
        (FactInputs("https://mcp.example.com/", issuer=OKTA), "needs the module's path"),
        (FactInputs(MCP + "?a=1", issuer=OKTA), "must not have a query"),
        (FactInputs(MCP + '";evil', issuer=OKTA), "holds a quote"),
        (FactInputs(MCP + "/$host", issuer=OKTA), "holds a quote"),
        (FactInputs(MCP, issuer="https://a.example.com/}\nlocation"), "holds a quote"),
        (FactInputs(MCP, issuer="https://user:pw@idp.example.com"), "user name or password"),
        (FactInputs(MCP, issuer="ftp://idp.example.com"), "absolute https"),
        (FactInputs(MCP, issuer=OKTA, scopes=("a b",)), "scope"),
        (FactInputs(MCP, issuer=OKTA, scopes=("x'; rm -rf /",)), "scope"),
        (FactInputs(MCP, issuer=OKTA, role="ORDS'Users"), "role"),
        (FactInputs(MCP, issuer=OKTA, role="x\x1b[2J"), "role"),
    ],
)
def test_hostile_or_unusable_values_are_refused_in_one_line(
    inputs: FactInputs, fragment: str
) -> None:
    with pytest.raises(FactsError, match=fragment) as caught:
        derive_facts(inputs)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


def test_hostile_values_from_a_token_are_refused_too() -> None:
    seen = Observed(token=token(iss=OKTA, roles=["x;drop"]))
    with pytest.raises(FactsError, match="role"):
        derive_facts(FactInputs(MCP), seen)
    seen = Observed(challenge_scopes=('a"b',))
    with pytest.raises(FactsError, match="scope"):
        derive_facts(FactInputs(MCP, issuer=OKTA), seen)


def test_http_only_with_allow_http() -> None:
    url = "http://127.0.0.1:8080/ords/hr/mcp/server"
    facts = derive_facts(FactInputs(url, issuer="http://127.0.0.1:9/idp", allow_http=True))
    assert facts.mcp_path == "/ords/hr/mcp/server"


def test_the_resource_note_states_the_rule_not_an_internal_document() -> None:
    facts = derive_facts(FactInputs(MCP, issuer=ENTRA))
    (resource,) = [where for name, where in facts.sources if name == "resource"]
    assert "domain.md" not in " ".join(facts.notes)
    assert resource.startswith(f"{MCP} (the MCP URL: RFC 9728's resource is the URL connectors")
    assert "App ID URI to equal it" in resource


def test_a_v1_entra_issuer_advertises_the_v2_authorization_server() -> None:
    tid = "0b6f5c1e-0000-4000-8000-000000000001"
    v1 = f"https://sts.windows.net/{tid}/"
    seen = Observed(token=token(iss=v1, aud="api://5f0c", scp="mcp:connect", ver="1.0"))
    for facts in (derive_facts(FactInputs(MCP), seen), derive_facts(FactInputs(MCP, issuer=v1))):
        assert facts.entra
        assert facts.resource.authorization_servers == (ENTRA,)
        assert facts.issuer == v1  # the ORDS profile's p_issuer: the tokens issued now
        (note,) = [where for name, where in facts.sources if name == "authorization server"]
        assert f"p_issuer {v1}" in note and "run setup again" in note
    # A v2 issuer is advertised as it is, with no such note.
    facts = derive_facts(FactInputs(MCP, issuer=ENTRA))
    assert facts.resource.authorization_servers == (ENTRA,)
    assert all(name != "authorization server" for name, _ in facts.sources)
