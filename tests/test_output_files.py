"""Output files: created 0600, never through a planted symbolic link, never overwritten silently.

The attack: output names are predictable (``ords_jwt_profile_<fingerprint>.sql``) and go to
directories others may write, so a link planted under the name would make the tool write
into whatever file it points to (here: a "victim" the user can write).
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.demo.idp import LocalIdP
from inspector.ords.audit import AuditLog, AuditRecord, now_iso
from inspector.private_files import (
    OutputExistsError,
    create_new,
    free_name,
    replace_private,
    write_new,
)
from inspector.setup.config_files import create_log_file, create_private_copy

PRECIOUS = "precious: must survive\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text(PRECIOUS)
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# ---- the helpers -------------------------------------------------------------------------------


def test_write_new_creates_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "out.sql"
    old = os.umask(0)  # a permissive umask must not widen the mode
    try:
        write_new(target, "begin null; end;\n")
    finally:
        os.umask(old)
    assert target.read_text() == "begin null; end;\n"
    assert mode_of(target) == 0o600


@pytest.mark.parametrize("dangling", [False, True])
def test_write_new_refuses_a_planted_link(tmp_path: Path, victim: Path, dangling: bool) -> None:
    target = tmp_path / "out.sql"
    pointed = tmp_path / "not-yet-there" if dangling else victim
    target.symlink_to(pointed)
    with pytest.raises(OutputExistsError) as caught:
        write_new(target, "overwritten\n")
    assert caught.value.link
    assert victim.read_text() == PRECIOUS
    assert not (tmp_path / "not-yet-there").exists()  # a dangling link creates nothing either
    assert target.is_symlink()


def test_write_new_refuses_an_existing_file(tmp_path: Path, victim: Path) -> None:
    with pytest.raises(OutputExistsError) as caught:
        write_new(victim, "overwritten\n")
    assert not caught.value.link
    assert victim.read_text() == PRECIOUS


def test_write_new_leaves_nothing_when_the_text_cannot_be_written(tmp_path: Path) -> None:
    target = tmp_path / "out.sql"
    with pytest.raises(UnicodeEncodeError):
        write_new(target, "lone \ud800 surrogate")
    assert not os.path.lexists(target)


def test_replace_private_replaces_the_link_not_its_target(tmp_path: Path, victim: Path) -> None:
    target = tmp_path / "out.sql"
    target.symlink_to(victim)
    replace_private(target, "new script\n")
    assert victim.read_text() == PRECIOUS
    assert not target.is_symlink()
    assert target.read_text() == "new script\n"
    assert mode_of(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.sql", "victim.txt"]


def test_replace_private_refuses_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out.sql").mkdir()
    with pytest.raises(IsADirectoryError):
        replace_private(tmp_path / "out.sql", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["out.sql"]  # no temporary file left


def test_create_new_sets_mode_and_group_before_writing(tmp_path: Path) -> None:
    target = tmp_path / "token.log"
    old = os.umask(0o077)  # a strict umask must not narrow the mode asked for either
    try:
        given = create_new(target, b"x", mode=0o640, owner=(-1, os.getegid()))
    finally:
        os.umask(old)
    assert given and target.read_bytes() == b"x" and mode_of(target) == 0o640


def test_create_new_reports_an_owner_it_may_not_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    target = tmp_path / "nginx.conf"
    assert create_new(target, b"x", mode=0o644, owner=(0, 0)) is False
    assert target.read_bytes() == b"x" and mode_of(target) == 0o644


@pytest.mark.parametrize("dangling", [False, True])
def test_setup_config_files_refuse_a_link_like_output_files(
    tmp_path: Path, victim: Path, dangling: bool
) -> None:
    # Setup's new configuration files, backup copies and token log go through the same
    # creation as output files: a planted link is refused with the same error.
    for make in (
        lambda path: create_private_copy(path, b"copy"),
        lambda path: create_log_file(path),
    ):
        link = tmp_path / "planted"
        link.unlink(missing_ok=True)
        link.symlink_to(tmp_path / "nowhere" if dangling else victim)
        with pytest.raises(OutputExistsError) as caught:
            make(link)
        assert caught.value.link
        assert victim.read_text() == PRECIOUS and link.is_symlink()


def test_free_name_skips_files_and_links(tmp_path: Path, victim: Path) -> None:
    wanted = tmp_path / "p.sql"
    assert free_name(wanted) == wanted
    wanted.symlink_to(victim)
    (tmp_path / "p-2.sql").write_text("")
    assert free_name(wanted) == tmp_path / "p-3.sql"


def test_the_audit_trail_still_refuses_a_link(tmp_path: Path, victim: Path) -> None:
    trail = tmp_path / "audit.jsonl"
    trail.symlink_to(victim)
    record = AuditRecord(now_iso(), "u", None, None, None, None, None, "refused")
    with pytest.raises(OSError, match="symbolic link"):
        AuditLog(trail).append(record)
    assert victim.read_text() == PRECIOUS


# ---- profile sql -o ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Minted:
    token: str
    issuer: str


@pytest.fixture
def token(idp: LocalIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Minted]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("TOKEN_INSPECTOR_DB", raising=False)
    yield Minted(idp.mint(idp.entra_v2_claims()), idp.issuer_v2)


def sql_to(
    target: Path, token: Minted, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, str]:
    """``profile sql --token - -o TARGET``, in process; (exit status, standard error)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(token.token))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    argv = ["profile", "sql", "--token", "-", "--trusted-issuer", token.issuer,
            "--allow-http-jwk-url", "-o", str(target), *extra]  # fmt: skip
    status = main(argv)
    assert out.getvalue() == ""
    return status, err.getvalue()


def test_sql_o_writes_a_new_private_file(
    tmp_path: Path, token: Minted, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "profile.sql"
    status, err = sql_to(target, token, monkeypatch)
    assert status == 0, err
    assert "create_jwt_profile" in target.read_text().lower()
    assert mode_of(target) == 0o600


def test_sql_o_refuses_a_planted_link(
    tmp_path: Path, victim: Path, token: Minted, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "profile.sql"
    target.symlink_to(victim)
    status, err = sql_to(target, token, monkeypatch)
    assert status == 2
    assert "symbolic link" in err and "--force" in err
    assert victim.read_text() == PRECIOUS


def test_sql_o_refuses_an_existing_file_without_force(
    tmp_path: Path, victim: Path, token: Minted, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, err = sql_to(victim, token, monkeypatch)
    assert status == 2
    assert "exists" in err and "--force" in err
    assert victim.read_text() == PRECIOUS


def test_sql_o_force_replaces_the_link_itself(
    tmp_path: Path, victim: Path, token: Minted, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "profile.sql"
    target.symlink_to(victim)
    status, err = sql_to(target, token, monkeypatch, "--force")
    assert status == 0, err
    assert victim.read_text() == PRECIOUS
    assert not target.is_symlink()
    assert "create_jwt_profile" in target.read_text().lower()
    assert mode_of(target) == 0o600


def test_sql_o_force_replaces_an_existing_file(
    tmp_path: Path, victim: Path, token: Minted, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, err = sql_to(victim, token, monkeypatch, "--force")
    assert status == 0, err
    assert "create_jwt_profile" in victim.read_text().lower()
    assert mode_of(victim) == 0o600
