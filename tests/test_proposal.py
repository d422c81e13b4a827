"""Proposals from real minted tokens: the profile, the diff, the pre-checks and the risks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge.analyzer import Analyzer
from inspector.judge.attempt import TokenReport
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege
from inspector.keys.store import KeyStore
from inspector.ords.proposal import (
    HTTP_JWK_URL_NOTE,
    Proposal,
    ProposalError,
    ProposalOptions,
    build_proposal,
    check_with,
    propose,
)
from inspector.ords.standin import InMemoryOrds, make_standin
from tests.support.https_keys import HttpsKeys, https_keys

HTTP = ProposalOptions(allow_http_jwk_url=True)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    with LocalIdP() as server:
        yield server


@pytest.fixture(scope="module")
def key_host(idp: LocalIdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsKeys]:
    """The IdP's keys at an https:// URL on 127.0.0.1: the pre-check fetches p_jwk_url."""
    with https_keys(idp.keys, tmp_path_factory.mktemp("key-host")) as served:
        yield served


def _analyzed(token: str) -> tuple[Analyzer, TokenReport]:
    # The test IdP on 127.0.0.1 is a lab IdP: discovering it needs the opt-in.
    analyzer = Analyzer(KeyStore(allow_private=True), Expectations())
    report, _ = analyzer.analyze_token(token)
    return analyzer, report


def _propose(
    idp: LocalIdP,
    repo: InMemoryOrds | None = None,
    options: ProposalOptions = HTTP,
    **claims: Any,
) -> Proposal:
    token = idp.mint(idp.entra_v2_claims(**claims))
    analyzer, report = _analyzed(token)
    # The admin expects this IdP's issuer: it is anchored.
    anchored = replace(options, anchored_issuers=(*options.anchored_issuers, idp.issuer_v2))
    return propose(
        repo or InMemoryOrds(),
        report,
        options=anchored,
        check=check_with(analyzer, token),
        client="Claude",
        source="extended.log:7",
        now=NOW,
    )


def test_profile_comes_from_the_token_and_its_metadata(idp: LocalIdP) -> None:
    proposal = _propose(idp)
    assert proposal.proposed.issuer == idp.issuer_v2
    assert proposal.proposed.audience == idp.entra_v2_claims()["aud"]
    assert proposal.proposed.jwk_url == idp.jwks_uri
    assert proposal.proposed.role_claim_name == "/roles"
    assert proposal.proposed.description == (
        f"token-inspector: from token sha256:{proposal.token_fingerprint} (Claude) on 2026-11-22"
    )
    assert proposal.verified is True
    assert proposal.will_pass is True
    assert proposal.source == "extended.log:7"


def test_role_based_precheck_names_roles_privileges_modules_patterns(idp: LocalIdP) -> None:
    proposal = _propose(idp)
    texts = [c.text for c in proposal.prechecks]
    assert "token role 'ORDSUsers' exists in ORDS" in texts
    assert "privilege 'oracle.example.mcp' protects mcp, /mcp/*" in texts
    assert proposal.reached_privileges == ("oracle.example.mcp",)
    assert proposal.reached_modules == ("mcp",)
    assert proposal.reached_patterns == ("/mcp/*",)


def test_role_case_mismatch_is_pointed_out(idp: LocalIdP) -> None:
    proposal = _propose(idp, roles=["ordsusers"])
    texts = [c.text for c in proposal.prechecks]
    assert "token role 'ordsusers' is not an ORDS role (ORDS has 'ORDSUsers': case counts)" in texts
    assert "no-ords-role" in [r.code for r in proposal.risks]
    assert proposal.reached_privileges == ()


def test_scope_based_precheck_matches_scp_to_privilege_names(idp: LocalIdP) -> None:
    repo = make_standin(
        privileges=[OrdsPrivilege("mcp:connect", modules=("mcp",), patterns=("/mcp/*",))]
    )
    options = ProposalOptions(allow_http_jwk_url=True, scope_based=True)
    proposal = _propose(idp, repo, options, scp="mcp:connect offline")
    assert proposal.proposed.role_claim_name is None
    texts = [c.text for c in proposal.prechecks]
    assert "scope 'mcp:connect' names ORDS privilege" in texts
    assert "scope 'offline' names no ORDS privilege" in texts
    assert proposal.reached_patterns == ("/mcp/*",)


def test_role_claim_override_and_pointer_validation(idp: LocalIdP) -> None:
    options = ProposalOptions(allow_http_jwk_url=True, role_claim="/realm_access/roles")
    proposal = _propose(idp, options=options, realm_access={"roles": ["ORDSUsers"]})
    assert proposal.proposed.role_claim_name == "/realm_access/roles"
    assert proposal.will_pass is True
    with pytest.raises(ProposalError) as exc:
        _propose(idp, options=ProposalOptions(allow_http_jwk_url=True, role_claim="roles"))
    assert exc.value.code == "role-claim-pointer"


def test_token_without_roles_gives_a_scope_based_profile(idp: LocalIdP) -> None:
    token = idp.mint({k: v for k, v in idp.entra_v2_claims().items() if k != "roles"})
    analyzer, report = _analyzed(token)
    proposal = build_proposal(report, options=HTTP, check=check_with(analyzer, token))
    assert proposal.proposed.role_claim_name is None


def test_diff_against_the_current_profile(idp: LocalIdP) -> None:
    current = JwtProfile("https://sts.windows.net/t/", "api://x", "https://l/keys", "old", 30)
    proposal = _propose(idp, make_standin(profile=current, allow_http_jwk_url=True))
    rows = {r.parameter: r for r in proposal.diff}
    assert rows["p_issuer"].current == "https://sts.windows.net/t/"
    assert rows["p_issuer"].changed
    assert rows["p_allowed_skew"].current == "30" and rows["p_allowed_skew"].proposed == "NULL"
    assert rows["p_allowed_age"].changed is False
    codes = [r.code for r in proposal.risks]
    assert "issuer-change" in codes and "audience-change" in codes
    # The reviewable script carries the previous profile as a commented restore block.
    assert "-- To go back to the previous profile" in proposal.plsql


def test_skew_and_age_come_from_flags(idp: LocalIdP) -> None:
    options = ProposalOptions(allow_http_jwk_url=True, allowed_skew=30, allowed_age=7200)
    proposal = _propose(idp, options=options)
    assert (proposal.proposed.allowed_skew, proposal.proposed.allowed_age) == (30, 7200)
    with pytest.raises(ProposalError) as exc:
        _propose(idp, options=ProposalOptions(allow_http_jwk_url=True, allowed_skew=90))
    assert exc.value.code == "skew-too-large"


def test_allowed_age_below_the_token_age_fails_the_precheck(idp: LocalIdP) -> None:
    # Issued 30 minutes before the request: fresh, but older than a 60 s age limit.
    token = idp.mint(idp.entra_v2_claims(now=NOW.timestamp() - 1800))
    analyzer, report = _analyzed(token)
    proposal = build_proposal(
        report,
        options=ProposalOptions(allow_http_jwk_url=True, allowed_age=60),
        check=check_with(analyzer, token, at=NOW),
    )
    assert proposal.will_pass is False
    failed = [c.text for c in proposal.prechecks if c.ok is False]
    assert [t.split(":")[0] for t in failed] == ["too-old"]


def test_audience_array_goes_ahead_with_the_expected_element_and_a_risk(
    idp: LocalIdP,
) -> None:
    # No Oracle document says ORDS rejects an aud array: propose, and say what is reported.
    proposal = _propose(
        idp,
        options=replace(HTTP, audience="api://one"),
        aud=["https://idp/userinfo", "api://one"],
    )
    assert proposal.proposed.audience == "api://one"
    [risk] = [r for r in proposal.risks if r.code == "audience-array"]
    assert not risk.blocking
    assert "reported to fail" in risk.message and "api://one" in risk.message
    assert proposal.will_pass is True
    assert [v.code for v in proposal.verdicts if v.code == "audience-array"] == ["audience-array"]


def test_audience_array_without_an_expectation_takes_the_api_not_userinfo(
    idp: LocalIdP,
) -> None:
    # Auth0's array: the API plus its /userinfo, which no API is.
    proposal = _propose(idp, aud=["api://one", "https://idp/userinfo"])
    assert proposal.proposed.audience == "api://one"


def test_audience_array_with_no_element_to_choose_is_refused(idp: LocalIdP) -> None:
    with pytest.raises(ProposalError) as exc:
        _propose(idp, aud=["api://one", "api://two"])
    assert exc.value.code == "audience-array"
    assert "--expect-aud" in exc.value.message
    assert "openid" in exc.value.explanation


def test_http_jwk_url_needs_the_demo_switch_and_is_flagged(idp: LocalIdP) -> None:
    with pytest.raises(ProposalError) as exc:
        _propose(idp, options=ProposalOptions())
    assert exc.value.code == "jwk-url-not-https"
    proposal = _propose(idp)
    assert HTTP_JWK_URL_NOTE in proposal.notes
    assert "WARNING: p_jwk_url is http://" in proposal.plsql


def test_https_jwk_url_override(
    idp: LocalIdP, key_host: HttpsKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_host.trust(monkeypatch)
    options = ProposalOptions(jwk_url=key_host.url)
    proposal = _propose(idp, options=options)
    assert proposal.proposed.jwk_url == key_host.url
    assert "http-jwk-url" not in [r.code for r in proposal.risks]


def test_unverified_token_is_a_blocking_risk(idp: LocalIdP) -> None:
    token = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
    analyzer, report = _analyzed(token)
    options = replace(HTTP, anchored_issuers=(idp.issuer_v2,))
    proposal = build_proposal(report, options=options, check=check_with(analyzer, token))
    assert proposal.verified is False
    assert [r.code for r in proposal.blocking_risks] == ["unverified-token"]
    assert any(c.text.startswith("signature-invalid") for c in proposal.prechecks)


def test_without_a_database_there_is_no_diff_but_a_script(idp: LocalIdP) -> None:
    token = idp.mint(idp.entra_v2_claims())
    analyzer, report = _analyzed(token)
    proposal = propose(None, report, options=HTTP, check=check_with(analyzer, token))
    assert proposal.current_known is False and proposal.changed
    assert "ORDS roles and privileges not read (no database, or another schema)" in [
        c.text for c in proposal.prechecks
    ]
    # No database, no --ords-version: the script finds ORDS_SECURITY or OAUTH when it runs.
    assert "from all_procedures" in proposal.plsql
    assert "'begin ' || l_package || '.create_jwt_profile(" in proposal.plsql


def test_proposal_has_no_raw_token(idp: LocalIdP) -> None:
    token = idp.mint(idp.entra_v2_claims())
    analyzer, report = _analyzed(token)
    proposal = build_proposal(report, options=HTTP, check=check_with(analyzer, token))
    assert token not in repr(proposal)
    assert token.split(".")[2] not in proposal.plsql


def test_another_schema_does_not_borrow_the_connected_schemas_roles(idp: LocalIdP) -> None:
    repo = InMemoryOrds(rest_enabled=("DEMO", "HR"), allow_http_jwk_url=True)
    options = ProposalOptions(allow_http_jwk_url=True, schema="HR")
    proposal = _propose(idp, repo, options)
    assert proposal.schema == "HR"
    assert proposal.reached_privileges == ()
    assert "ORDS roles and privileges not read (no database, or another schema)" in [
        c.text for c in proposal.prechecks
    ]
    assert "ords_security_admin.create_jwt_profile(\n    p_schema => 'HR'" in proposal.plsql


def test_statements_sent_carry_bind_names_not_values(idp: LocalIdP) -> None:
    current = JwtProfile("https://old/", "api://old", "https://old/keys")
    proposal = _propose(idp, make_standin(profile=current, allow_http_jwk_url=True))
    delete, create = proposal.statements
    assert delete == "begin ords_security.delete_jwt_profile; end;"
    assert create.startswith("begin ords_security.create_jwt_profile(p_issuer => :issuer,")
    assert proposal.proposed.issuer not in create


# -- issuer anchoring (review finding H1) ----------------------------------------------


def test_verified_token_from_an_unanchored_issuer_needs_trust_confirmation(
    idp: LocalIdP,
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    analyzer, report = _analyzed(token)
    proposal = build_proposal(report, options=HTTP, check=check_with(analyzer, token))
    assert proposal.verified is True and proposal.anchored is False
    assert [r.code for r in proposal.blocking_risks] == ["unanchored-issuer"]
    assert proposal.needs_trust_confirmation
    risk = proposal.blocking_risks[0]
    assert risk.confirmable
    assert repr(idp.issuer_v2) in risk.message
    assert f"--trusted-issuer {idp.issuer_v2}" in risk.message
    assert "can sign tokens ORDS accepts" in risk.message
    assert proposal.signature_state() == "signature matches keys published by its own issuer"


@pytest.mark.parametrize("how", ["trusted", "expected", "current-profile"])
def test_anchored_issuer_is_no_risk(idp: LocalIdP, how: str) -> None:
    token = idp.mint(idp.entra_v2_claims())
    analyzer, report = _analyzed(token)
    current = None
    options = HTTP
    if how == "trusted":
        options = replace(HTTP, trusted_issuers=(idp.issuer_v2,))
    elif how == "expected":
        options = replace(HTTP, anchored_issuers=(idp.issuer_v2,))
    else:
        current = JwtProfile(issuer=idp.issuer_v2, audience="old", jwk_url=idp.jwks_uri)
    proposal = build_proposal(
        report,
        options=options,
        current=current,
        current_known=True,
        check=check_with(analyzer, token),
    )
    assert proposal.anchored is True
    assert proposal.blocking_risks == ()
    assert proposal.signature_state() == "signature verified"


def test_a_profile_from_another_issuer_does_not_anchor_a_new_one(idp: LocalIdP) -> None:
    token = idp.mint(idp.entra_v2_claims())
    analyzer, report = _analyzed(token)
    current = JwtProfile(
        issuer="https://login.microsoftonline.com/real-tenant/v2.0",
        audience="api://ords",
        jwk_url="https://login.microsoftonline.com/real-tenant/discovery/v2.0/keys",
    )
    proposal = build_proposal(
        report, options=HTTP, current=current, current_known=True, check=check_with(analyzer, token)
    )
    codes = [r.code for r in proposal.risks]
    assert "issuer-change" in codes and "unanchored-issuer" in codes
    assert [r.code for r in proposal.blocking_risks] == ["unanchored-issuer"]
