"""Applying a profile never leaves a schema without its previous profile.

Real tokens minted by the loopback IdP, verified by the real analyzer and key store; the
in-memory ORDS fails at a chosen step, with and without procedures that commit themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import oracledb
import pytest

from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.keys.store import KeyStore
from inspector.ords.apply import Progress, Result, Step, apply_proposal, replace_profile
from inspector.ords.audit import AuditLog
from inspector.ords.database import database_error
from inspector.ords.proposal import (
    FORCE_UNVERIFIED_WARNING,
    Proposal,
    ProposalOptions,
    build_proposal,
)
from inspector.ords.standin import InMemoryOrds
from tests.support.faulty_ords import FaultyOrds

OLD = JwtProfile(
    issuer="https://sts.windows.net/5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17/",
    audience="api://old",
    jwk_url="https://login.microsoftonline.com/common/discovery/keys",
    description="the profile in place before",
    allowed_skew=30,
)


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    with LocalIdP() as server:
        yield server


def _proposal(
    idp: LocalIdP,
    repo: InMemoryOrds,
    *,
    token: str | None = None,
    options: ProposalOptions | None = None,
) -> tuple[Proposal, str]:
    raw = token or idp.mint(idp.entra_v2_claims())
    # The test IdP is the admin's own: its issuers are trusted (anchored).
    anchors = (idp.issuer_v2, idp.issuer_v1)
    analyzer = Analyzer(KeyStore(trusted_issuers=anchors), Expectations())
    report, _ = analyzer.analyze_token(raw)

    def check(exp: Expectations) -> Any:
        return analyzer.with_expectations(exp).analyze_token(raw)

    proposal = build_proposal(
        report,
        options=options or ProposalOptions(allow_http_jwk_url=True, anchored_issuers=anchors),
        current=repo.get_profile(),
        current_known=True,
        roles=repo.roles(),
        privileges=repo.privileges(),
        check=check,
        client="ChatGPT",
    )
    return proposal, raw


def _standin(**options: Any) -> FaultyOrds:
    repo = FaultyOrds(allow_http_jwk_url=True, **options)
    repo.set_profile(OLD)
    return repo


def test_success_replaces_and_commits(idp: LocalIdP, tmp_path: Path) -> None:
    repo = _standin()
    proposal, raw = _proposal(idp, repo)
    events: list[Progress] = []
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = apply_proposal(repo, proposal, progress=events.append, audit=audit, db_user="DEMO")
    assert result.result is Result.APPLIED and result.ok
    assert repo.committed_profile() == proposal.proposed
    assert result.previous == OLD
    assert result.read_back == proposal.proposed
    steps = [(e.step, e.status) for e in events]
    assert steps == [
        (Step.CHECK, "ok"),
        (Step.READ_CURRENT, "start"),
        (Step.READ_CURRENT, "ok"),
        (Step.DELETE, "start"),
        (Step.DELETE, "ok"),
        (Step.CREATE, "start"),
        (Step.CREATE, "ok"),
        (Step.READ_BACK, "start"),
        (Step.READ_BACK, "ok"),
        (Step.COMMIT, "start"),
        (Step.COMMIT, "ok"),
    ]
    (line,) = audit.read()
    assert line["result"] == "applied"
    assert line["old_profile"]["issuer"] == OLD.issuer
    assert line["new_profile"]["issuer"] == proposal.proposed.issuer
    assert line["token_fingerprint"] == proposal.token_fingerprint
    assert line["db_user"] == "DEMO"
    assert line["schema"] == "DEMO"
    assert raw not in audit.path.read_text()


def test_first_profile_skips_delete(idp: LocalIdP) -> None:
    repo = InMemoryOrds(allow_http_jwk_url=True)
    proposal, _ = _proposal(idp, repo)
    result = apply_proposal(repo, proposal)
    assert result.result is Result.APPLIED
    assert ("delete_profile" in repo.calls) is False
    assert repo.committed_profile() == proposal.proposed


def test_same_profile_again_changes_nothing(idp: LocalIdP) -> None:
    repo = InMemoryOrds(allow_http_jwk_url=True)
    proposal, _ = _proposal(idp, repo)
    apply_proposal(repo, proposal)
    calls_before = len(repo.calls)
    again = apply_proposal(repo, proposal)
    assert again.result is Result.UNCHANGED and again.ok
    assert "delete_profile" not in repo.calls[calls_before:]


@pytest.mark.parametrize("procedures_commit", [False, True], ids=["tx", "autocommit"])
@pytest.mark.parametrize(
    ("operation", "on_call", "failed_step"),
    [
        ("delete_profile", 1, Step.DELETE),
        ("create_profile", 1, Step.CREATE),
        ("get_profile", 2, Step.READ_BACK),  # the current profile is read first
        ("commit", 1, Step.COMMIT),
    ],
)
def test_failure_at_each_step_restores_the_previous_profile(
    idp: LocalIdP,
    tmp_path: Path,
    operation: str,
    on_call: int,
    failed_step: Step,
    procedures_commit: bool,
) -> None:
    repo = _standin(procedures_commit=procedures_commit)
    proposal, _ = _proposal(idp, repo)
    repo.fail(operation, on_call=on_call)
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = apply_proposal(repo, proposal, audit=audit)
    assert result.result is Result.FAILED_RESTORED, result.steps
    assert not result.ok
    assert repo.committed_profile() == OLD
    assert repo.get_profile() == OLD
    assert result.final == OLD
    assert result.failure is not None and "DPY-4011" in result.failure
    assert result.restore is not None
    failed = [e for e in result.steps if e.status == "failed"]
    assert failed[0].step is failed_step
    (line,) = audit.read()
    assert line["result"] == "failed-restored"
    assert line["old_profile"]["issuer"] == OLD.issuer
    assert "DPY-4011" in line["detail"]


def test_read_back_mismatch_restores(idp: LocalIdP) -> None:
    repo = _standin(mangle=lambda p: JwtProfile(p.issuer.rstrip("0") + "/", p.audience, p.jwk_url))
    proposal, _ = _proposal(idp, repo)
    result = apply_proposal(repo, proposal)
    assert result.result is Result.FAILED_RESTORED
    assert "issuer" in result.mismatches
    assert result.failure is not None and "read-back differs" in result.failure
    assert repo.committed_profile() == OLD


def test_autocommitting_release_is_restored_by_re_creating(idp: LocalIdP) -> None:
    repo = _standin(procedures_commit=True)
    proposal, _ = _proposal(idp, repo)
    repo.fail("create_profile")
    result = apply_proposal(repo, proposal)
    assert result.result is Result.FAILED_RESTORED
    assert [e.step for e in result.steps if e.status == "ok"][-1] is Step.RESTORE
    assert repo.committed_profile() == OLD


def test_restore_that_fails_is_reported_with_a_manual_script(idp: LocalIdP) -> None:
    repo = _standin(procedures_commit=True)
    proposal, _ = _proposal(idp, repo)
    repo.fail("create_profile", on_call=1)
    repo.fail("create_profile", on_call=2)
    result = apply_proposal(repo, proposal)
    assert result.result is Result.FAILED_RESTORE_FAILED
    assert result.failure is not None and result.restore is not None
    assert "restoring the previous profile failed" in result.restore
    assert result.restore_script is not None and OLD.issuer in result.restore_script


def test_read_current_failure_writes_nothing(idp: LocalIdP) -> None:
    repo = _standin()
    proposal, _ = _proposal(idp, repo)
    repo.fail("get_profile")
    result = apply_proposal(repo, proposal)
    assert result.result is Result.FAILED_UNCHANGED
    assert "delete_profile" not in repo.calls and "create_profile" not in repo.calls
    assert repo.committed_profile() == OLD


def test_ords_refusal_is_reported_with_its_message(idp: LocalIdP) -> None:
    repo = _standin()
    proposal, _ = _proposal(idp, repo)
    repo.fail("create_profile", error=database_error("ORA-20001: p_jwk_url is invalid", 20001))
    result = apply_proposal(repo, proposal)
    assert result.failure == "create failed: ORA-20001: p_jwk_url is invalid"
    assert repo.committed_profile() == OLD


def test_unverified_token_is_refused_and_audited(idp: LocalIdP, tmp_path: Path) -> None:
    forger = generate_rsa_key(kid=idp.keys[0].kid)
    token = idp.mint(idp.entra_v2_claims(), key=forger)
    repo = _standin()
    proposal, raw = _proposal(idp, repo, token=token)
    assert proposal.verified is False
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = apply_proposal(repo, proposal, audit=audit)
    assert result.result is Result.REFUSED
    assert "create_profile" not in repo.calls
    assert repo.committed_profile() == OLD
    assert audit.read()[0]["result"] == "refused"
    assert raw not in audit.path.read_text()


def test_force_unverified_applies_with_the_warning(idp: LocalIdP, tmp_path: Path) -> None:
    forger = generate_rsa_key(kid=idp.keys[0].kid)
    token = idp.mint(idp.entra_v2_claims(), key=forger)
    repo = _standin()
    proposal, _ = _proposal(idp, repo, token=token)
    events: list[Progress] = []
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = apply_proposal(
        repo, proposal, force_unverified=True, progress=events.append, audit=audit
    )
    assert result.result is Result.APPLIED
    assert FORCE_UNVERIFIED_WARNING in result.warnings
    assert events[0].status == "warn" and "attacker-chosen" in events[0].message
    assert "forced despite: unverified-token" in audit.read()[0]["detail"]


def test_untrusted_issuer_is_refused(idp: LocalIdP) -> None:
    repo = _standin()
    options = ProposalOptions(allow_http_jwk_url=True, trusted_issuers=("https://elsewhere/",))
    proposal, _ = _proposal(idp, repo, options=options)
    assert [r.code for r in proposal.blocking_risks] == ["untrusted-issuer"]
    result = apply_proposal(repo, proposal)
    assert result.result is Result.REFUSED
    assert result.failure is not None and "--trusted-issuer" in result.failure


def test_injection_through_claims_is_stored_verbatim(idp: LocalIdP) -> None:
    hostile_aud = "x'); drop table t; --"
    token = idp.mint(idp.entra_v2_claims(aud=hostile_aud))
    repo = _standin()
    proposal, _ = _proposal(idp, repo, token=token)
    result = apply_proposal(repo, proposal)
    assert result.result is Result.APPLIED
    stored = repo.committed_profile()
    assert stored is not None and stored.audience == hostile_aud


def test_progress_callback_errors_do_not_stop_a_restore(idp: LocalIdP) -> None:
    repo = _standin()
    proposal, _ = _proposal(idp, repo)
    repo.fail("create_profile")

    def broken(_: Progress) -> None:
        raise RuntimeError("display gone")

    result = apply_proposal(repo, proposal, progress=broken)
    assert result.result is Result.FAILED_RESTORED
    assert repo.committed_profile() == OLD


def test_unwritable_audit_file_becomes_a_warning(idp: LocalIdP, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    repo = _standin()
    proposal, _ = _proposal(idp, repo)
    result = apply_proposal(repo, proposal, audit=AuditLog(blocker / "audit.jsonl"))
    assert result.result is Result.APPLIED
    assert any("audit file" in w for w in result.warnings)


def test_replace_profile_for_another_schema_uses_the_admin_path() -> None:
    repo = InMemoryOrds(rest_enabled=("DEMO", "HR"))
    result = replace_profile(repo, OLD, schema="HR")
    assert result.result is Result.APPLIED
    assert repo.committed_profile("HR") == OLD
    assert repo.committed_profile() is None


def test_audit_lines_are_json_with_no_token(idp: LocalIdP, tmp_path: Path) -> None:
    repo = _standin()
    proposal, raw = _proposal(idp, repo)
    audit = AuditLog(tmp_path / "audit.jsonl")
    repo.fail("create_profile")
    apply_proposal(repo, proposal, audit=audit)
    apply_proposal(repo, proposal, audit=audit)
    text = audit.path.read_text()
    assert raw not in text
    assert raw.split(".")[2] not in text
    results = [json.loads(line)["result"] for line in text.splitlines()]
    assert results == ["failed-restored", "applied"]


def test_database_errors_are_real_driver_exceptions() -> None:
    exc = database_error("ORA-20001: x", 20001)
    assert isinstance(exc, oracledb.DatabaseError)
    assert exc.args[0].full_code == "ORA-20001"


def test_empty_description_reads_back_as_null_without_a_false_mismatch() -> None:
    # Oracle stores '' as NULL, and so does the stand-in.
    repo = InMemoryOrds()
    result = replace_profile(repo, replace(OLD, description=""))
    assert result.result is Result.APPLIED
    assert repo.committed_profile() == replace(OLD, description=None)
