"""Backup sets are trusted only when nobody but the user (or root) could have written them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from inspector.setup.backups import (
    BackupSet,
    PlannedFile,
    create_backup_set,
    read_backup_set,
    restore_files,
    write_manifest,
)
from inspector.setup.nginx_apply import NginxResult, rollback
from inspector.setup.nginx_control import NginxControl


@pytest.fixture
def backup(tmp_path: Path) -> BackupSet:
    target = tmp_path / "conf" / "site.conf"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o644)
    made = create_backup_set(
        tmp_path / "backups",
        [PlannedFile(target, target, b"new\n")],
        kind="nginx",
        config=None,
    )
    target.write_text("new\n")
    return made


def test_a_set_of_our_own_is_read_and_restored(backup: BackupSet) -> None:
    read = read_backup_set(backup.directory)
    assert read.files == backup.files
    assert restore_files(read) == []
    assert backup.files[0].target.read_text() == "old\n"


@pytest.mark.parametrize(
    "part",
    [
        lambda b: b.directory,
        lambda b: b.manifest,
        lambda b: b.directory / (b.files[0].copy or ""),
    ],
    ids=["directory", "manifest", "copy"],
)
@pytest.mark.parametrize("bits", [0o020, 0o002], ids=["group", "other"])
def test_a_part_others_can_write_is_refused(
    backup: BackupSet, part: Callable[[BackupSet], Path], bits: int
) -> None:
    path = part(backup)
    path.chmod(path.stat().st_mode & 0o777 | bits)
    with pytest.raises(ValueError, match="others can write it"):
        read_backup_set(backup.directory)


@pytest.mark.parametrize(
    "part",
    [
        lambda b: b.directory,
        lambda b: b.manifest,
        lambda b: b.directory / (b.files[0].copy or ""),
    ],
    ids=["directory", "manifest", "copy"],
)
def test_a_part_owned_by_someone_else_is_refused(
    backup: BackupSet, part: Callable[[BackupSet], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = part(backup)
    if os.geteuid() == 0:
        os.chown(path, 12345, 12345)
    else:
        # The files are ours: seen from another user, they are neither theirs nor root's.
        mine = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: mine + 1)
    with pytest.raises(ValueError, match="neither this user nor root"):
        read_backup_set(backup.directory)


def test_links_in_place_of_the_set_are_refused(backup: BackupSet, tmp_path: Path) -> None:
    planted = tmp_path / "planted-manifest.json"
    planted.write_bytes(backup.manifest.read_bytes())
    planted.chmod(0o600)
    backup.manifest.unlink()
    backup.manifest.symlink_to(planted)
    with pytest.raises(ValueError, match="symbolic link"):
        read_backup_set(backup.directory)
    link = tmp_path / "link-to-set"
    link.symlink_to(backup.directory)
    with pytest.raises(ValueError, match="not a readable directory"):
        read_backup_set(link)


@pytest.mark.parametrize("mode", [0o4755, 0o2755, 0o1644, 0o10644, -1])
def test_a_mode_beyond_permission_bits_is_refused(
    backup: BackupSet, mode: int, tmp_path: Path
) -> None:
    entry = dataclasses.replace(backup.files[0], mode=mode)
    write_manifest(dataclasses.replace(backup, files=(entry,)))
    with pytest.raises(ValueError, match="not plain permission bits"):
        read_backup_set(backup.directory)
    # setup rollback refuses it and writes nothing.
    result = rollback(backup.directory, NginxControl(("true",), ("true",)))
    assert result.result is NginxResult.REFUSED
    assert "not plain permission bits" in (result.failure or "")
    target = backup.files[0].target
    assert target.read_text() == "new\n" and target.stat().st_mode & 0o7777 == 0o644
