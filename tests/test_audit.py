"""The audit trail: one JSON line per apply, private file, never the token."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.audit import AuditLog, AuditRecord, audit_detail, default_audit_path, now_iso
from inspector.setup.audit import SetupAudit, SetupAuditRecord


def _record(result: str = "applied") -> AuditRecord:
    return AuditRecord(
        time=now_iso(),
        os_user="alice",
        db_user="DEMO",
        schema=None,
        old_profile=None,
        new_profile=JwtProfile("https://i/", "a", "https://k"),
        token_fingerprint="0123456789ab",
        result=result,
    )


def test_default_path_is_in_the_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_audit_path() == tmp_path / "token-inspector" / "audit.jsonl"


def test_file_is_created_0600_and_lines_are_appended(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "state" / "audit.jsonl")
    log.append(_record())
    log.append(_record("failed-restored"))
    mode = stat.S_IMODE(log.path.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700
    lines = log.path.read_text().splitlines()
    assert [json.loads(x)["result"] for x in lines] == ["applied", "failed-restored"]
    first = json.loads(lines[0])
    assert set(first) == {
        "time",
        "os_user",
        "db_user",
        "database",
        "schema",
        "old_profile",
        "new_profile",
        "token_fingerprint",
        "result",
        "detail",
    }
    assert first["new_profile"]["issuer"] == "https://i/"
    assert first["old_profile"] is None


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o666])
def test_an_existing_file_ends_private(tmp_path: Path, mode: int) -> None:
    # 0600 is kept; a file an older version (or an admin) left readable is tightened.
    path = tmp_path / "audit.jsonl"
    path.touch()
    path.chmod(mode)
    AuditLog(path).append(_record())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(AuditLog(path).read()) == 1


def test_a_symlink_is_refused_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("untouched\n")
    target.chmod(0o644)
    link = tmp_path / "audit.jsonl"
    link.symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"):
        AuditLog(link).append(_record())
    assert target.read_text() == "untouched\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_fifo_or_directory_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        AuditLog(fifo).append(_record())
    directory = tmp_path / "dir.jsonl"
    directory.mkdir()
    with pytest.raises(OSError):
        AuditLog(directory).append(_record())


def test_both_audit_trails_append_private_json_lines(tmp_path: Path) -> None:
    """The ORDS trail and setup's write through one appender: same file, same lines."""
    trail = tmp_path / "state" / "setup-audit.jsonl"
    record = SetupAuditRecord("t", "alice", "nginx-apply", "/etc/nginx/\udcff.conf", (), None, "ok")
    SetupAudit(trail).append(record)
    SetupAudit(trail).append(record)
    assert stat.S_IMODE(trail.stat().st_mode) == 0o600
    assert stat.S_IMODE(trail.parent.stat().st_mode) == 0o700
    lines = trail.read_bytes().splitlines()
    assert lines[0] == lines[1] and lines[0].isascii() and b"\\udcff" in lines[0]
    assert SetupAudit(trail).read() == [record.as_dict(), record.as_dict()]
    assert SetupAudit(tmp_path / "none.jsonl").read() == []


def test_an_unwritable_trail_is_a_warning_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "dir.jsonl").mkdir()
    log = AuditLog(tmp_path / "dir.jsonl")
    warning = log.append_or_warning(_record())
    assert warning is not None and f"could not write the audit file {log.path}" in warning
    assert AuditLog(tmp_path / "ok.jsonl").append_or_warning(_record()) is None


def test_the_detail_names_what_was_forced_first() -> None:
    assert audit_detail("it failed", "restored", ["unverified-token"]) == (
        "forced despite: unverified-token; it failed; restored"
    )
    assert audit_detail(None, None) == ""
