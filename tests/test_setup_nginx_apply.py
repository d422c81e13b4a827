"""The nginx applier of ``setup`` against a real nginx: write, test, reload, probe, restore.

Every scenario plans the way the planner does (the main file gains an ``include`` line, a
snippet goes into a new directory) and then checks what a user would: the files on disk
byte for byte, and what nginx answers over HTTP.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.setup import backups as backups_module
from inspector.setup.audit import SetupAudit
from inspector.setup.backups import exclusive, list_backups, read_backup_set
from inspector.setup.model import FileChange, Probe, ProbeOutcome, SetupProgress
from inspector.setup.nginx_apply import NginxResult, apply_nginx, rollback
from inspector.setup.nginx_control import NginxControl
from tests.support.nginx import NGINX, NginxServer, http_conf, requires_nginx

MARKER = "# token-inspector: setup includes go here"
OLD_SITE = f"""
server {{
    listen 127.0.0.1:@PORT@;
    location / {{ return 200 "old\\n"; }}
    {MARKER}
}}
"""
NEW_SNIPPET = 'location = /new { return 200 "new\\n"; }\n'

pytestmark = requires_nginx


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _status(server: NginxServer, path: str) -> tuple[int, bytes]:
    status, _, body = server.request(path)
    return status, body


def _serves(server: NginxServer, path: str, body: bytes) -> Probe:
    """A probe as doctor's steps would do it: one real HTTP request per call."""

    def probe() -> ProbeOutcome:
        status, got = _status(server, path)
        if status == 200 and got == body:
            return ProbeOutcome(True, passed=(f"{path} answers",))
        return ProbeOutcome(False, failures=(f"{path} answered {status} {got!r}",))

    return probe


class Site:
    """A running nginx with the old configuration, and the plan the tests apply to it."""

    def __init__(self, server: NginxServer, tmp_path: Path) -> None:
        self.server = server
        self.conf = server.conf_path
        self.snippet_dir = server.prefix / "conf" / "token-inspector"
        self.snippet = self.snippet_dir / "mcp.conf"
        self.backups = tmp_path / "backups"
        self.audit = SetupAudit(tmp_path / "state" / "setup-audit.jsonl")
        self.control = NginxControl.for_config(
            self.conf, prefix=server.prefix, binary=NGINX, error_log=server.error_log
        )
        self.conf.chmod(0o640)
        if os.geteuid() == 0:  # an owner of its own, to see it kept (only root can give away)
            os.chown(self.conf, 65534, 65534)
        self.owner = (self.conf.stat().st_uid, self.conf.stat().st_gid)
        self.before = self.conf.read_bytes()

    def plan(self, snippet: str = NEW_SNIPPET) -> tuple[FileChange, ...]:
        text = self.conf.read_text()
        return (
            FileChange(self.conf, text, text.replace(MARKER, f"include {self.snippet};")),
            FileChange(self.snippet, None, snippet, purpose="the new location"),
        )

    def assert_old_files(self) -> None:
        assert self.conf.read_bytes() == self.before
        assert stat.S_IMODE(self.conf.stat().st_mode) == 0o640
        assert (self.conf.stat().st_uid, self.conf.stat().st_gid) == self.owner
        assert not self.snippet.exists()
        assert not self.snippet_dir.exists()

    def serves_old(self) -> bool:
        return _status(self.server, "/new") == (200, b"old\n")

    def serves_new(self) -> bool:
        return _status(self.server, "/new") == (200, b"new\n")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with NginxServer(tmp_path / "nginx") as server:
        server.start(http_conf(OLD_SITE))
        yield Site(server, tmp_path)


def test_good_change_is_tested_reloaded_probed_backed_up_and_audited(site: Site) -> None:
    events: list[SetupProgress] = []
    asked: list[str] = []
    changes = site.plan()
    result = apply_nginx(
        changes,
        site.control,
        backups=site.backups,
        probe=_serves(site.server, "/new", b"new\n"),
        confirm_reload=lambda q: asked.append(q) or True,
        audit=site.audit,
        progress=events.append,
    )
    assert result.result is NginxResult.APPLIED, result
    assert result.ok and result.failure is None and result.probe is not None and result.probe.ok
    # The probe passed on a new worker; old ones may still answer until they finish.
    _wait_for(site.serves_new, "every worker to serve the new configuration")
    assert site.conf.read_text() == changes[0].after
    # An existing file keeps its mode and owner.
    assert stat.S_IMODE(site.conf.stat().st_mode) == 0o640
    assert (site.conf.stat().st_uid, site.conf.stat().st_gid) == site.owner
    assert site.snippet.read_text() == NEW_SNIPPET
    assert stat.S_IMODE(site.snippet.stat().st_mode) == 0o644
    assert stat.S_IMODE(site.snippet_dir.stat().st_mode) == 0o755
    assert len(asked) == 1 and "reload" in asked[0].lower()
    assert [e.step for e in events if e.status == "ok"] == [
        "check",
        "backup",
        "write",
        "nginx -t",
        "confirm",
        "reload",
        "probe",
    ]
    assert tuple(events) == result.steps

    assert result.backup is not None
    assert stat.S_IMODE(result.backup.stat().st_mode) == 0o700
    manifest = json.loads((result.backup / "manifest.json").read_text())
    assert stat.S_IMODE((result.backup / "manifest.json").stat().st_mode) == 0o600
    assert manifest["result"] == "applied"
    assert manifest["created_dirs"] == [str(site.snippet_dir)]
    by_path = {f["path"]: f for f in manifest["files"]}
    assert by_path[str(site.snippet)]["existed"] is False
    saved = by_path[str(site.conf)]
    assert saved["existed"] is True and saved["mode"] == 0o640
    assert (result.backup / saved["copy"]).read_bytes() == site.before

    [record] = site.audit.read()
    assert stat.S_IMODE(site.audit.path.stat().st_mode) == 0o600
    assert record["result"] == "applied" and record["action"] == "nginx-apply"
    assert record["config"] == str(site.conf) and record["backup"] == str(result.backup)
    files = {f["path"]: f for f in record["files"]}
    assert files[str(site.snippet)]["sha256_before"] is None
    assert files[str(site.conf)]["sha256_before"] == saved["sha256_before"]

    [listed] = list_backups(site.backups)
    assert listed.directory == result.backup and listed.result == "applied"


def test_broken_include_fails_the_test_restores_every_file_and_never_reloads(site: Site) -> None:
    result = apply_nginx(
        site.plan("location = /new { no_such_directive on; }\n"),
        site.control,
        backups=site.backups,
        probe=_serves(site.server, "/new", b"new\n"),
        audit=site.audit,
    )
    assert result.result is NginxResult.FAILED_RESTORED, result
    assert result.failure is not None and result.failure.startswith("nginx -t failed:")
    assert "no_such_directive" in result.failure
    assert result.nginx_output is not None and "no_such_directive" in result.nginx_output
    assert not any(s.step == "reload" for s in result.steps)
    site.assert_old_files()
    assert site.serves_old()
    assert site.audit.read()[0]["result"] == "failed-restored"
    assert read_backup_set(result.backup or Path()).result == "failed-restored"


def test_failing_probe_restores_and_reloads_the_old_configuration(site: Site) -> None:
    result = apply_nginx(
        site.plan('location = /new { return 200 "wrong\\n"; }\n'),
        site.control,
        backups=site.backups,
        probe=_serves(site.server, "/new", b"new\n"),
        probe_window=1.0,
    )
    assert result.result is NginxResult.FAILED_RESTORED, result
    assert result.probe is not None and not result.probe.ok
    assert result.failure is not None and "probe failed" in result.failure
    assert "answered" in result.failure
    assert [s.step for s in result.steps if s.status == "ok"][-2:] == [
        "restore: nginx -t",
        "restore: reload",
    ]
    site.assert_old_files()
    _wait_for(site.serves_old, "the old configuration to answer again")


def test_declined_reload_restores_the_files_and_changes_nothing(site: Site) -> None:
    result = apply_nginx(
        site.plan(), site.control, backups=site.backups, confirm_reload=lambda _q: False
    )
    assert result.result is NginxResult.DECLINED, result
    assert not result.ok
    assert not any(s.step == "reload" for s in result.steps)
    site.assert_old_files()
    assert site.serves_old()


def test_file_edited_since_planned_is_refused_and_nothing_written(site: Site) -> None:
    changes = site.plan()
    edited = site.conf.read_text() + "# the admin's own edit\n"
    site.conf.write_text(edited)
    result = apply_nginx(changes, site.control, backups=site.backups, audit=site.audit)
    assert result.result is NginxResult.REFUSED, result
    assert result.failure is not None and "changed since it was planned" in result.failure
    assert site.conf.read_text() == edited
    assert not site.snippet_dir.exists()
    assert list_backups(site.backups) == []
    assert site.audit.read()[0]["result"] == "refused"


def test_rollback_of_an_applied_change_brings_back_the_old_configuration(site: Site) -> None:
    applied = apply_nginx(
        site.plan(),
        site.control,
        backups=site.backups,
        probe=_serves(site.server, "/new", b"new\n"),
        audit=site.audit,
    )
    assert applied.result is NginxResult.APPLIED and applied.backup is not None
    result = rollback(
        applied.backup,
        site.control,
        probe=_serves(site.server, "/new", b"old\n"),
        audit=site.audit,
    )
    assert result.result is NginxResult.APPLIED, result
    site.assert_old_files()
    _wait_for(site.serves_old, "every worker to serve the old configuration again")
    newest, oldest = list_backups(site.backups)
    assert newest.kind == "rollback" and newest.rolls_back == str(applied.backup)
    assert oldest.directory == applied.backup
    assert [r["action"] for r in site.audit.read()] == ["nginx-apply", "nginx-rollback"]
    # Once rolled back, there is nothing left to do.
    again = rollback(applied.backup, site.control)
    assert again.result is NginxResult.UNCHANGED


def test_symlink_planted_where_a_new_file_goes_is_refused(site: Site, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    changes = site.plan()
    site.snippet_dir.mkdir()
    site.snippet.symlink_to(victim)
    result = apply_nginx(changes, site.control, backups=site.backups)
    assert result.result is NginxResult.REFUSED, result
    assert result.failure is not None and "symbolic link" in result.failure
    assert victim.read_text() == "keep me\n"
    assert site.conf.read_bytes() == site.before


def test_symlink_planted_after_the_check_is_not_written_through(site: Site, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")

    site.snippet_dir.mkdir()

    def plant(event: SetupProgress) -> None:
        # The race: between the check and the write, someone plants a link.
        if event.step == "backup" and event.status == "ok":
            site.snippet.symlink_to(victim)

    result = apply_nginx(site.plan(), site.control, backups=site.backups, progress=plant)
    assert result.result is NginxResult.FAILED_RESTORED, result
    assert result.failure is not None and "symbolic link" in result.failure
    assert victim.read_text() == "keep me\n"
    assert site.conf.read_bytes() == site.before
    assert not site.snippet.is_symlink() and not site.snippet.exists()
    assert site.serves_old()


def test_directory_link_planted_after_the_check_is_neither_written_nor_emptied(
    site: Site, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mcp.conf").write_text("someone else's file\n")

    def plant(event: SetupProgress) -> None:
        if event.step == "backup" and event.status == "ok":
            site.snippet_dir.symlink_to(elsewhere, target_is_directory=True)

    result = apply_nginx(site.plan(), site.control, backups=site.backups, progress=plant)
    assert result.result is NginxResult.FAILED_RESTORED, result
    # The restore removes what the run created, never what a planted link leads to.
    assert (elsewhere / "mcp.conf").read_text() == "someone else's file\n"
    assert not site.snippet_dir.is_symlink()
    site.assert_old_files()


def test_reload_failing_once_restores_and_reloads_the_old_files(site: Site, tmp_path: Path) -> None:
    flag = tmp_path / "failed-once"
    script = tmp_path / "reload.sh"
    script.write_text(
        f'#!/bin/sh\nif [ ! -e "{flag}" ]; then : > "{flag}"; echo "reload refused" >&2; '
        f'exit 1; fi\nexec "$@"\n'
    )
    script.chmod(0o755)
    control = NginxControl(
        site.control.test, (str(script), *site.control.reload), site.control.config
    )
    result = apply_nginx(site.plan(), control, backups=site.backups)
    assert result.result is NginxResult.FAILED_RESTORED, result
    assert result.failure == "reload failed: exit status 1: reload refused"
    assert result.nginx_output == "reload refused"
    site.assert_old_files()
    assert site.serves_old()


def test_reload_always_failing_leaves_the_old_files_and_says_what_to_do(site: Site) -> None:
    control = NginxControl(site.control.test, ("false",), site.control.config)
    result = apply_nginx(site.plan(), control, backups=site.backups)
    assert result.result is NginxResult.FAILED_RESTORE_FAILED, result
    assert result.restore is not None and "reload by hand" in result.restore
    site.assert_old_files()
    assert site.serves_old()


def test_nothing_to_change_is_unchanged(site: Site) -> None:
    text = site.conf.read_text()
    result = apply_nginx((FileChange(site.conf, text, text),), site.control, backups=site.backups)
    assert result.result is NginxResult.UNCHANGED and result.ok
    assert list_backups(site.backups) == []


def test_an_interrupt_at_the_prompt_restores_before_it_goes_up(site: Site) -> None:
    def interrupted(_question: str) -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apply_nginx(site.plan(), site.control, backups=site.backups, confirm_reload=interrupted)
    site.assert_old_files()
    [saved] = list_backups(site.backups)
    assert saved.result == "interrupted"


def test_an_interrupted_apply_can_be_rolled_back_from_its_manifest(
    site: Site, tmp_path: Path
) -> None:
    """The manifest is on disk before anything changes: a run killed with the new files in
    place (here: at the prompt) is undone by ``rollback`` from its backup set alone."""
    crashed = tmp_path / "crashed"
    disk: dict[Path, bytes] = {}

    def kill_here(_question: str) -> bool:
        # What a kill -9 at this moment leaves: the set as it is and the files as they are.
        [in_progress] = list_backups(site.backups)
        assert in_progress.result == "in-progress"
        shutil.copytree(in_progress.directory, crashed)
        disk.update({p: p.read_bytes() for p in (site.conf, site.snippet)})
        return False

    apply_nginx(site.plan(), site.control, backups=site.backups, confirm_reload=kill_here)
    site.snippet_dir.mkdir()
    for path, data in disk.items():
        path.write_bytes(data)

    result = rollback(crashed, site.control)
    assert result.result is NginxResult.APPLIED, result
    site.assert_old_files()


def test_a_second_run_meanwhile_is_refused(site: Site) -> None:
    with exclusive(site.backups) as busy:
        assert busy is None
        result = apply_nginx(site.plan(), site.control, backups=site.backups)
    assert result.result is NginxResult.REFUSED, result
    assert result.failure is not None and "another setup run" in result.failure
    site.assert_old_files()


def test_a_linked_configuration_file_is_written_where_the_link_points(
    site: Site, tmp_path: Path
) -> None:
    """Debian's sites-enabled/x -> ../sites-available/x: the link stays a link."""
    available = site.server.prefix / "conf" / "sites-available"
    available.mkdir()
    real = available / "site.conf"
    real.write_text("# site\n")
    link = site.server.prefix / "conf" / "enabled.conf"
    link.symlink_to(real)
    change = FileChange(link, "# site\n", "# site, changed\n")
    result = apply_nginx((change,), site.control, backups=site.backups)
    assert result.result is NginxResult.APPLIED, result
    assert link.is_symlink() and real.read_text() == "# site, changed\n"
    undone = rollback(result.backup or Path(), site.control)
    assert undone.result is NginxResult.APPLIED, undone
    assert link.is_symlink() and real.read_text() == "# site\n"


def test_a_backup_that_cannot_be_made_stops_everything(site: Site, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    result = apply_nginx(site.plan(), site.control, backups=blocker / "backups")
    assert result.result is NginxResult.REFUSED, result
    assert result.failure is not None and "cannot use the backup directory" in result.failure
    site.assert_old_files()


def test_a_set_whose_copy_name_leaves_it_is_refused(site: Site) -> None:
    applied = apply_nginx(site.plan(), site.control, backups=site.backups)
    assert applied.backup is not None
    manifest = applied.backup / "manifest.json"
    raw = json.loads(manifest.read_text())
    for item in raw["files"]:
        if item["existed"]:
            item["copy"] = "../../elsewhere"
    manifest.write_text(json.dumps(raw))
    result = rollback(applied.backup, site.control)
    assert result.result is NginxResult.REFUSED, result
    assert site.snippet.exists()  # nothing was touched


def test_control_for_config_names_the_real_configuration(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    control = NginxControl.for_config(
        conf, prefix=tmp_path, binary="/opt/nginx", error_log=tmp_path / "e.log"
    )
    where = ("-p", str(tmp_path), "-e", str(tmp_path / "e.log"))
    assert control.test == ("/opt/nginx", "-t", *where, "-c", str(conf))
    assert control.reload == ("/opt/nginx", "-s", "reload", *where, "-c", str(conf))
    assert control.config == conf
    plain = NginxControl.for_config(conf, binary="/opt/nginx")
    assert plain.test == ("/opt/nginx", "-t", "-c", str(conf))


def test_a_backup_copy_that_fails_leaves_no_set_and_writes_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(backups_module, "create_private_copy", disk_full)
    result = apply_nginx(site.plan(), site.control, backups=site.backups, audit=site.audit)
    assert result.result is NginxResult.FAILED_UNCHANGED, result
    assert result.failure == "backup failed, nothing written: No space left on device"
    site.assert_old_files()
    assert list_backups(site.backups) == []
    assert [p.name for p in site.backups.iterdir()] == [".lock"]
    assert site.audit.read()[0]["result"] == "failed-unchanged"


def test_warnings_of_a_passing_test_are_shown_before_the_reload(site: Site) -> None:
    text = site.conf.read_text()
    # Two servers named "twin" on one port: nginx -t passes and warns.
    twin = f"server {{ listen 127.0.0.1:{site.server.port}; server_name twin; }}\n"
    end_of_http = text.rindex("}")
    after = text[:end_of_http] + twin + twin + text[end_of_http:]
    events: list[SetupProgress] = []
    at_prompt: list[SetupProgress] = []

    def decline(_question: str) -> bool:
        at_prompt.extend(events)
        return False

    result = apply_nginx(
        (FileChange(site.conf, text, after),),
        site.control,
        backups=site.backups,
        confirm_reload=decline,
        progress=events.append,
    )
    assert result.result is NginxResult.DECLINED, result
    warned = [e for e in at_prompt if e.step == "nginx -t" and e.status == "warn"]
    assert warned and "conflicting server name" in warned[0].message


def test_bytes_that_are_no_utf8_and_crlf_lines_survive_a_change_and_its_restore(
    site: Site,
) -> None:
    extra = site.server.prefix / "conf" / "legacy.conf"
    original = b"# caf\xe9 (latin-1)\r\n# line two\r\n"
    extra.write_bytes(original)
    # Read as the planner does: surrogate escapes, line endings kept.
    before = original.decode("utf-8", "surrogateescape")
    after = before + "# added\r\n"
    applied = apply_nginx((FileChange(extra, before, after),), site.control, backups=site.backups)
    assert applied.result is NginxResult.APPLIED, applied
    assert extra.read_bytes() == original + b"# added\r\n"
    undone = rollback(applied.backup or Path(), site.control)
    assert undone.result is NginxResult.APPLIED, undone
    assert extra.read_bytes() == original


def test_a_restore_that_fails_says_what_is_left_and_rollback_finishes_it(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(path: Path, data: bytes, **_: int) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(backups_module, "replace_file", read_only)
    result = apply_nginx(
        site.plan("location = /new { no_such_directive on; }\n"),
        site.control,
        backups=site.backups,
    )
    assert result.result is NginxResult.FAILED_RESTORE_FAILED, result
    assert result.failure is not None and result.failure.startswith("nginx -t failed:")
    assert result.restore is not None and result.backup is not None
    assert f"{site.conf}: Read-only file system" in result.restore
    assert f"token-inspector setup rollback {result.backup}" in result.restore
    assert read_backup_set(result.backup).result == "failed-restore-failed"

    monkeypatch.undo()
    finished = rollback(result.backup, site.control)
    assert finished.result is NginxResult.APPLIED, finished
    site.assert_old_files()
    assert site.serves_old()


def test_the_new_token_log_is_created_private_before_nginx_opens_it(site: Site) -> None:
    logs = site.server.prefix / "logs"
    if os.geteuid() == 0:  # the directory's group is given to it (Debian: root:adm)
        os.chown(logs, -1, 65534)
    log = logs / "mcp-tokens.log"
    snippet = f'access_log {log};\nlocation = /new {{ return 200 "new\\n"; }}\n'
    result = apply_nginx(
        site.plan(snippet), site.control, backups=site.backups, new_log=log, probe_window=0
    )
    assert result.result is NginxResult.APPLIED, result
    info = log.lstat()
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o640
    assert (info.st_uid, info.st_gid) == (os.geteuid(), logs.stat().st_gid)
    _wait_for(site.serves_new, "the new configuration")
    _wait_for(lambda: log.stat().st_size > 0, "nginx writing the token log")
    assert stat.S_IMODE(log.stat().st_mode) == 0o640  # nginx kept the file as it was


def test_a_failed_apply_removes_the_empty_token_log_it_created(site: Site) -> None:
    log = site.server.prefix / "logs" / "mcp-tokens.log"
    events: list[SetupProgress] = []
    result = apply_nginx(
        site.plan(f"access_log {log};\nno_such_directive on;\n"),
        site.control,
        backups=site.backups,
        new_log=log,
        progress=events.append,
    )
    assert result.result is NginxResult.FAILED_RESTORED, result
    assert not log.exists()
    assert any("created empty, mode 0640" in e.message for e in events)
    site.assert_old_files()


def test_a_token_log_planted_as_a_link_is_not_written_through(site: Site, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    log = site.server.prefix / "logs" / "mcp-tokens.log"
    log.symlink_to(elsewhere)
    result = apply_nginx(
        site.plan(), site.control, backups=site.backups, new_log=log, probe_window=0
    )
    assert result.result is NginxResult.APPLIED, result
    assert log.is_symlink() and not elsewhere.exists()
    assert any("already there, left as it is" in s.message for s in result.steps)
