"""When the restore itself goes wrong, apply says so exactly and hands over a manual script.

The step failures before a restore are covered in ``test_apply_profile.py``; here the undo
fails: the rollback raises, the session is gone so nothing can be verified, the re-created
profile reads back different, a racing session leaves a profile where there was none, the
re-create fails and the clean-up rollback fails after it. Each outcome is the exact result,
the exact step messages and the exact manual script, and ``profile apply`` exits 3.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.demo.idp import LocalIdP
from inspector.judge.ords_objects import JwtProfile
from inspector.ords import plsql
from inspector.ords.apply import ApplyResult, Result, Step, replace_profile
from inspector.ords.database import database_error
from tests.support.faulty_ords import FaultyOrds, committed_elsewhere

OLD = JwtProfile(
    issuer="https://sts.windows.net/5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17/",
    audience="api://old",
    jwk_url="https://login.microsoftonline.com/common/discovery/keys",
    description="the profile in place before",
    allowed_skew=30,
)
NEW = JwtProfile(
    issuer="https://login.microsoftonline.com/5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17/v2.0",
    audience="api://new",
    jwk_url="https://login.microsoftonline.com/5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17/discovery/v2.0/keys",
    role_claim_name="/roles",
)
OTHER = JwtProfile("https://racer.example/", "api://racer", "https://racer.example/keys")

LOST = (
    "DPY-4011: the database or network closed the connection (the database or network "
    "closed the connection: retry, check the network)"
)
NOT_CONNECTED = "DPY-1001: not connected to database"
REFUSED = database_error("ORA-20001: p_jwk_url is invalid", 20001)
ROLLED_BACK = database_error("ORA-02091: transaction rolled back", 2091)
MANUAL_RESTORE_OLD = plsql.script(OLD, header=["restore the previous JWT profile"])


def _standin(previous: JwtProfile | None = OLD, **options: object) -> FaultyOrds:
    repo = FaultyOrds(**options)  # type: ignore[arg-type]
    if previous is not None:
        repo.set_profile(previous)
    return repo


def _from_failure(result: ApplyResult) -> list[tuple[Step, str, str]]:
    """The events from the first failure on: what the undo did."""
    events = [(e.step, e.status, e.message) for e in result.steps]
    first = next(i for i, (_, status, _) in enumerate(events) if status == "failed")
    return events[first:]


# -- the rollback fails ---------------------------------------------------------------------


def test_failed_rollback_on_a_live_session_is_verified_and_repaired() -> None:
    # The rollback raises but the session lives: the delete is still pending, so the
    # verification sees no profile and the previous one is re-created and committed.
    repo = _standin()
    repo.fail("create_profile", error=REFUSED)
    repo.fail("rollback", error=ROLLED_BACK)
    result = replace_profile(repo, NEW)
    assert result.result is Result.FAILED_RESTORED
    assert _from_failure(result) == [
        (Step.CREATE, "failed", "create failed: ORA-20001: p_jwk_url is invalid"),
        (Step.ROLLBACK, "start", "rolling back"),
        (Step.ROLLBACK, "failed", "rollback failed: ORA-02091: transaction rolled back"),
        (Step.VERIFY_RESTORE, "start", "checking the previous profile is in place"),
        (Step.VERIFY_RESTORE, "warn", "the rollback did not restore it: re-creating it"),
        (Step.RESTORE, "start", "re-creating the previous profile"),
        (Step.RESTORE, "ok", "previous profile re-created"),
    ]
    assert result.failure == "create failed: ORA-20001: p_jwk_url is invalid"
    assert result.restore == "previous profile re-created"
    assert result.final == OLD and result.restore_script is None
    assert repo.committed_profile() == OLD
    # Nothing to delete (the pending delete stands), then create, commit, read back.
    assert repo.calls[-5:] == ["rollback", "get_profile", "create_profile", "commit", "get_profile"]


@pytest.mark.parametrize(
    ("procedures_commit", "left_behind"),
    [(False, OLD), (True, None)],
    ids=["tx-rolled-back-by-the-server", "autocommit-delete-stayed"],
)
def test_lost_session_cannot_be_verified_and_the_script_is_handed_over(
    procedures_commit: bool, left_behind: JwtProfile | None
) -> None:
    # The connection drops during the create: rollback and verification both fail. Whether
    # the old profile survived depends on the release, so apply must not claim either way.
    repo = _standin(procedures_commit=procedures_commit)
    repo.drop_session("create_profile")
    result = replace_profile(repo, NEW)
    unverified = (
        f"could not verify the previous profile is in place: {NOT_CONNECTED}; "
        "check with `token-inspector profile show`"
    )
    assert result.result is Result.FAILED_RESTORE_FAILED and not result.ok
    assert _from_failure(result) == [
        (Step.CREATE, "failed", f"create failed: {LOST}"),
        (Step.ROLLBACK, "start", "rolling back"),
        (Step.ROLLBACK, "failed", f"rollback failed: {NOT_CONNECTED}"),
        (Step.VERIFY_RESTORE, "start", "checking the previous profile is in place"),
        (Step.VERIFY_RESTORE, "failed", unverified),
    ]
    assert result.restore == unverified
    assert result.final is None  # unknown, not "the previous one"
    assert result.previous == OLD
    assert result.restore_script == MANUAL_RESTORE_OLD
    assert repo.committed_profile() == left_behind


# -- the restored profile reads back different ----------------------------------------------


def _someone_elses(profile: JwtProfile) -> JwtProfile:
    return replace(profile, audience="api://someone-else", allowed_skew=0)


@pytest.mark.parametrize("how", ["autocommit-release", "failed-rollback"])
def test_restored_profile_that_reads_back_different_is_not_called_restored(how: str) -> None:
    repo = _standin(procedures_commit=how == "autocommit-release")
    repo.fail("create_profile", error=REFUSED)
    if how == "failed-rollback":
        repo.fail("rollback", error=ROLLED_BACK)
    repo.store_changed(_someone_elses, on_call=2)  # the restore's re-create
    result = replace_profile(repo, NEW)
    assert result.result is Result.FAILED_RESTORE_FAILED
    assert _from_failure(result)[-3:] == [
        (Step.VERIFY_RESTORE, "warn", "the rollback did not restore it: re-creating it"),
        (Step.RESTORE, "start", "re-creating the previous profile"),
        (Step.RESTORE, "failed", "restore read-back differs: audience, allowed_skew"),
    ]
    assert result.restore == "restore read-back differs: audience, allowed_skew"
    assert result.final == _someone_elses(OLD) == repo.committed_profile()
    assert result.restore_script == MANUAL_RESTORE_OLD


def test_restore_that_leaves_a_profile_where_there_was_none_is_reported() -> None:
    # No profile before; the release commits inside the create, our commit fails, the undo
    # deletes and commits, and another session commits a profile before we read back.
    repo = _standin(previous=None, procedures_commit=True)
    repo.fail("commit")
    repo.meanwhile(committed_elsewhere(OTHER), after_commit=2)
    result = replace_profile(repo, NEW)
    assert result.result is Result.FAILED_RESTORE_FAILED
    assert _from_failure(result)[0] == (Step.COMMIT, "failed", f"commit failed: {LOST}")
    assert _from_failure(result)[-1] == (
        Step.RESTORE,
        "failed",
        "restore left a profile where there was none",
    )
    assert result.previous is None and result.final == OTHER
    assert result.restore_script == "begin ords_security.delete_jwt_profile; commit; end;\n/\n"


def test_partial_profile_where_there_was_none_is_removed() -> None:
    repo = _standin(previous=None, procedures_commit=True)
    repo.fail("commit")
    result = replace_profile(repo, NEW)
    assert result.result is Result.FAILED_RESTORED
    assert _from_failure(result)[-3:] == [
        (Step.VERIFY_RESTORE, "warn", "the rollback did not restore it: re-creating it"),
        (Step.RESTORE, "start", "re-creating the previous profile"),
        (Step.RESTORE, "ok", "removed the partial profile"),
    ]
    assert result.final is None and result.restore_script is None
    assert repo.committed_profile() is None
    assert repo.calls[-4:] == ["get_profile", "delete_profile", "commit", "get_profile"]


# -- the re-create fails --------------------------------------------------------------------


def test_failed_removal_in_another_schema_gives_the_admin_delete_script() -> None:
    repo = _standin(previous=None, procedures_commit=True, rest_enabled=("DEMO", "HR"))
    repo.fail("commit")
    repo.fail("delete_profile", error=ROLLED_BACK)
    result = replace_profile(repo, NEW, schema="hr")
    assert result.result is Result.FAILED_RESTORE_FAILED
    assert result.restore == (
        "restoring the previous profile failed: ORA-02091: transaction rolled back"
    )
    assert result.restore_script == (
        "begin ords_security_admin.delete_jwt_profile(p_schema => 'HR'); commit; end;\n/\n"
    )
    assert repo.committed_profile("HR") == NEW  # still there: the script is what removes it


def test_failed_re_create_is_reported_even_when_the_clean_up_rollback_fails() -> None:
    repo = _standin(procedures_commit=True)
    repo.fail("create_profile", error=REFUSED)
    repo.fail("create_profile", error=database_error("ORA-20001: second refusal", 20001), on_call=2)
    repo.fail("rollback", error=ROLLED_BACK, on_call=2)
    result = replace_profile(repo, NEW)
    assert result.result is Result.FAILED_RESTORE_FAILED
    message = "restoring the previous profile failed: ORA-20001: second refusal"
    assert result.restore == message
    assert _from_failure(result)[-1] == (Step.RESTORE, "failed", message)
    assert result.failure == "create failed: ORA-20001: p_jwk_url is invalid"
    assert repo.calls.count("rollback") == 2  # the clean-up was tried, its error swallowed
    assert result.restore_script == MANUAL_RESTORE_OLD
    assert repo.committed_profile() is None


# -- profile apply on the command line ------------------------------------------------------


@pytest.fixture
def cli_env(idp: LocalIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config anchoring the loopback IdP, state under ``tmp_path``; returns the audit path."""
    config = tmp_path / "config" / "token-inspector" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[keys]\ntrusted_issuers = ["{idp.issuer_v2}"]\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("TOKEN_INSPECTOR_DB", raising=False)
    return tmp_path / "state" / "token-inspector" / "audit.jsonl"


def _apply_cli(
    repo: FaultyOrds, token: str, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("inspector.cli.profile_steps.open_repository", lambda settings: repo)
    monkeypatch.setattr(sys, "stdin", io.StringIO(token))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    argv = ["profile", "apply", "--dsn", "memory:", "--token", "-", "--allow-http-jwk-url"]
    status = main([*argv, "--yes", *extra])
    return status, out.getvalue(), err.getvalue()


def _changed_restore() -> FaultyOrds:
    repo = _standin(procedures_commit=True)
    repo.fail("create_profile", error=REFUSED)
    repo.store_changed(_someone_elses, on_call=2)
    return repo


def test_cli_exits_3_with_the_restore_failure_and_the_manual_script(
    idp: LocalIdP, cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    status, _, err = _apply_cli(_changed_restore(), token, monkeypatch)
    assert status == 3
    failure = "create failed: ORA-20001: p_jwk_url is invalid"
    restore = "restore read-back differs: audience, allowed_skew"
    expected_tail = (
        f"  [create] failed: {failure}\n"
        "  [rollback] ok: rolled back\n"
        "  [verify-restore] warn: the rollback did not restore it: re-creating it\n"
        f"  [restore] failed: {restore}\n"
        f"failed-restore-failed: {failure}\n"
        f"restore: {restore}\n"
        "run this to restore the previous profile by hand:\n"
        f"{MANUAL_RESTORE_OLD}\n"
    )
    assert err.endswith(expected_tail), err
    assert token not in err
    (line,) = [json.loads(x) for x in cli_env.read_text().splitlines()]
    assert line["result"] == "failed-restore-failed"
    assert line["detail"] == f"{failure}; {restore}"
    assert line["old_profile"]["audience"] == OLD.audience


def test_cli_json_reports_the_failed_restore_with_exit_3(
    idp: LocalIdP, cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    status, out, _ = _apply_cli(_changed_restore(), token, monkeypatch, "--json")
    assert status == 3
    report = json.loads(out)
    assert report["result"] == "failed-restore-failed"
    assert report["failure"] == "create failed: ORA-20001: p_jwk_url is invalid"
    assert report["restore"] == "restore read-back differs: audience, allowed_skew"
    assert report["previous"]["audience"] == OLD.audience
    assert report["steps"][-1] == {
        "step": "restore",
        "status": "failed",
        "message": "restore read-back differs: audience, allowed_skew",
    }
    # A script has what the text output prints: the schema's state and the way back.
    assert report["final"] is not None and report["final"]["audience"] != OLD.audience
    assert "create_jwt_profile" in report["restore_script"].lower()
    assert OLD.audience in report["restore_script"]
