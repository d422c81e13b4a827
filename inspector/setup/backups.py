"""Backup sets: what every file looked like before setup changed it, and how to go back.

A set is a directory (0700) under the backups directory, named after its time, holding a
copy of each file that existed (0600, since configuration may hold secrets) and
``manifest.json``. The manifest is written before any configuration file changes, with
the result ``in-progress``, and rewritten with the result at the end: a run killed
halfway leaves a set that ``restore_files`` (``setup rollback``) can still undo, because it
lists every file and directory the run was about to create or change.

A manifest says which file to write, with which mode and owner: as root, whoever could
plant one could write any file. So a set is read only when its directory, manifest and
copies belong to the running user (or root) and nobody else can write them, and a mode
with a setuid, setgid or sticky bit is refused (setup never writes one).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inspector.private_files import open_private_append, replace_private
from inspector.settings import default_state_dir
from inspector.setup.audit import os_user
from inspector.setup.config_files import (
    FileState,
    create_private_copy,
    make_directory,
    read_state,
    remove_path,
    replace_file,
    sha256,
)

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
MANIFEST_VERSION = 1
IN_PROGRESS = "in-progress"


def default_backup_dir() -> Path:
    """``$XDG_STATE_HOME/token-inspector/setup-backups``."""
    return default_state_dir() / "setup-backups"


@dataclass(frozen=True, slots=True)
class BackedUpFile:
    """One file of a set.

    ``path`` is the name the plan used, ``target`` the file actually written (an existing
    configuration file reached through a symbolic link is written where the link points,
    so the link stays). ``existed`` False means the run created it (restore removes it);
    otherwise ``copy`` names its copy in the set and ``mode``/``uid``/``gid`` are restored
    with it. ``sha256_after`` is ``None`` when the run removes the file.
    """

    path: Path
    target: Path
    existed: bool
    copy: str | None
    mode: int | None
    uid: int | None
    gid: int | None
    sha256_before: str | None
    sha256_after: str | None


@dataclass(frozen=True, slots=True)
class BackupSet:
    """A backup set as its manifest describes it (``result`` is ``in-progress`` until the
    run that made it ends; such a set after the run is gone means it was interrupted)."""

    directory: Path
    time: str
    kind: str
    config: str | None
    os_user: str
    files: tuple[BackedUpFile, ...]
    created_dirs: tuple[Path, ...] = ()
    removed_dirs: tuple[Path, ...] = ()
    result: str = IN_PROGRESS
    failure: str | None = None
    finished: str | None = None
    rolls_back: str | None = None

    @property
    def manifest(self) -> Path:
        """Where the manifest is."""
        return self.directory / MANIFEST_NAME

    def copy_data(self, entry: BackedUpFile) -> bytes:
        """The saved content of ``entry``, checked against its recorded hash.

        The copy is read like the manifest: through the checked directory, never through
        a link, and only when the user (or root) owns it and nobody else can write it.
        """
        if entry.copy is None:
            raise ValueError(f"{entry.path} did not exist before: no copy")
        dir_fd = _open_set_directory(self.directory)
        try:
            data = _read_trusted(dir_fd, entry.copy, self.directory)
        finally:
            os.close(dir_fd)
        if data is None:
            raise FileNotFoundError(f"the backup copy of {entry.path} is missing")
        if sha256(data) != entry.sha256_before:
            raise ValueError(f"the backup copy of {entry.path} does not match its hash")
        return data

    def as_dict(self) -> dict[str, Any]:
        """The manifest's JSON object."""
        return {
            "version": MANIFEST_VERSION,
            "time": self.time,
            "kind": self.kind,
            "config": self.config,
            "os_user": self.os_user,
            "files": [
                {
                    "path": str(f.path),
                    "target": str(f.target),
                    "existed": f.existed,
                    "copy": f.copy,
                    "mode": f.mode,
                    "uid": f.uid,
                    "gid": f.gid,
                    "sha256_before": f.sha256_before,
                    "sha256_after": f.sha256_after,
                }
                for f in self.files
            ],
            "created_dirs": [str(d) for d in self.created_dirs],
            "removed_dirs": [str(d) for d in self.removed_dirs],
            "result": self.result,
            "failure": self.failure,
            "finished": self.finished,
            "rolls_back": self.rolls_back,
        }


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """What a run is about to do to one file (input to ``create_backup_set``)."""

    path: Path
    target: Path
    after: bytes | None


@contextlib.contextmanager
def exclusive(backups: Path) -> Iterator[str | None]:
    """Hold the backups directory's lock while the block runs.

    Yields ``None`` when held, else (at once, without waiting) why not: another run holds
    it, or the directory cannot be made. Two runs writing the same files would each back
    up the other's half-written state; the lock goes with the process, so a killed run
    leaves none behind.
    """
    try:
        backups.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = open_private_append(backups / LOCK_NAME)
    except OSError as exc:
        yield f"cannot use the backup directory {backups}: {exc.strerror or exc}"
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield f"another setup run holds {backups / LOCK_NAME}"
            return
        yield None
    finally:
        os.close(fd)


def _now() -> datetime:
    return datetime.now(UTC)


def _new_directory(backups: Path, stamp: datetime, kind: str) -> Path:
    backups.mkdir(parents=True, exist_ok=True, mode=0o700)
    base = f"{stamp.strftime('%Y%m%dT%H%M%S.%fZ')}-{kind}"
    for n in range(1, 100):
        candidate = backups / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir(mode=0o700)
        except FileExistsError:
            continue
        candidate.chmod(0o700)
        return candidate
    raise FileExistsError(f"no free backup directory name under {backups}")


def create_backup_set(
    backups: Path,
    planned: Sequence[PlannedFile],
    *,
    kind: str,
    config: str | None,
    created_dirs: Sequence[Path] = (),
    removed_dirs: Sequence[Path] = (),
    rolls_back: str | None = None,
) -> BackupSet:
    """Copy every existing target and write the manifest (result ``in-progress``).

    Raises ``OSError``/``ValueError`` when any of it fails; the partial set is removed then,
    since it is of no use and would look like an interrupted run.
    """
    stamp = _now()
    directory = _new_directory(backups, stamp, kind)
    try:
        entries: list[BackedUpFile] = []
        for index, item in enumerate(planned):
            state: FileState | None = read_state(item.target)
            copy = None
            if state is not None:
                copy = f"{index:03d}-{item.target.name}"
                create_private_copy(directory / copy, state.data)
            entries.append(
                BackedUpFile(
                    path=item.path,
                    target=item.target,
                    existed=state is not None,
                    copy=copy,
                    mode=None if state is None else state.mode,
                    uid=None if state is None else state.uid,
                    gid=None if state is None else state.gid,
                    sha256_before=None if state is None else sha256(state.data),
                    sha256_after=sha256(item.after),
                )
            )
        backup = BackupSet(
            directory=directory,
            time=stamp.isoformat(timespec="seconds"),
            kind=kind,
            config=config,
            os_user=os_user(),
            files=tuple(entries),
            created_dirs=tuple(created_dirs),
            removed_dirs=tuple(removed_dirs),
            rolls_back=rolls_back,
        )
        write_manifest(backup)
    except BaseException:
        _remove_tree(directory)
        raise
    return backup


def _remove_tree(directory: Path) -> None:
    with contextlib.suppress(OSError):
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()


def write_manifest(backup: BackupSet) -> None:
    """(Re)write the manifest in one rename (0600)."""
    text = json.dumps(backup.as_dict(), ensure_ascii=True, indent=2, sort_keys=True) + "\n"
    replace_private(backup.manifest, text)


def finish(backup: BackupSet, result: str, failure: str | None) -> BackupSet:
    """Record how the run ended; a manifest that cannot be written is the caller's warning."""
    done = dataclasses.replace(
        backup, result=result, failure=failure, finished=_now().isoformat(timespec="seconds")
    )
    write_manifest(done)
    return done


def _path_or_none(value: object) -> Path | None:
    return Path(value) if isinstance(value, str) else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _untrusted(info: os.stat_result) -> str | None:
    """Why a file or directory of a set cannot be trusted, or ``None``."""
    if info.st_uid not in (os.geteuid(), 0):
        return f"belongs to uid {info.st_uid}, neither this user nor root"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"others can write it ({stat.filemode(info.st_mode)})"
    return None


def _open_set_directory(directory: Path) -> int:
    """A descriptor on the set's directory, once it is known to be trustworthy."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(directory, flags)
    except OSError as exc:
        raise ValueError(f"{directory}: not a readable directory ({_reason(exc)})") from exc
    problem = _untrusted(os.fstat(fd))
    if problem is not None:
        os.close(fd)
        raise ValueError(f"{directory} {problem}: refused")
    return fd


def _read_trusted(dir_fd: int, name: str, directory: Path) -> bytes | None:
    """The file ``name`` of the set (``None`` when missing); ``ValueError`` when untrusted."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise ValueError(f"{directory / name} is a symbolic link: refused") from exc
        raise ValueError(f"{directory / name}: {_reason(exc)}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{directory / name} is not a regular file: refused")
        problem = _untrusted(info)
        if problem is not None:
            raise ValueError(f"{directory / name} {problem}: refused")
        chunks: list[bytes] = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _mode_or_none(value: object, where: Path) -> int | None:
    mode = _int_or_none(value)
    # Setup copies permission bits only: a setuid, setgid or sticky bit (or anything
    # beyond them) never comes from one of its runs.
    if mode is not None and not 0 <= mode <= 0o777:
        raise ValueError(f"{where}: mode {mode:#o} is not plain permission bits: refused")
    return mode


def read_backup_set(directory: Path) -> BackupSet:
    """The set in ``directory``; ``ValueError`` when its manifest is missing or malformed,
    or when the directory, the manifest or a copy is not the user's (or root's) alone."""
    dir_fd = _open_set_directory(directory)
    try:
        manifest = _read_trusted(dir_fd, MANIFEST_NAME, directory)
        if manifest is None:
            raise ValueError(f"{directory} holds no {MANIFEST_NAME}")
        try:
            raw = json.loads(manifest.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{directory} holds no readable {MANIFEST_NAME}: {exc}") from exc
        backup = _parse_manifest(directory, raw)
        for entry in backup.files:
            if entry.copy is not None:
                _read_trusted(dir_fd, entry.copy, directory)
    finally:
        os.close(dir_fd)
    return backup


def _parse_manifest(directory: Path, raw: object) -> BackupSet:
    if not isinstance(raw, Mapping) or raw.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{directory / MANIFEST_NAME} is not a setup backup manifest")
    files: list[BackedUpFile] = []
    for item in raw.get("files") or []:
        path = _path_or_none(item.get("path")) if isinstance(item, Mapping) else None
        target = _path_or_none(item.get("target")) if isinstance(item, Mapping) else None
        if path is None or target is None or not target.is_absolute():
            raise ValueError(f"{directory / MANIFEST_NAME} lists a file without a full path")
        existed = item.get("existed") is True
        copy = _str_or_none(item.get("copy"))
        # A copy name is ours ("000-name"): never a path that leaves the set.
        if existed and (copy is None or "/" in copy or copy in ("", ".", "..")):
            raise ValueError(f"{directory / MANIFEST_NAME}: bad copy name for {path}")
        files.append(
            BackedUpFile(
                path=path,
                target=target,
                existed=existed,
                copy=copy if existed else None,
                mode=_mode_or_none(item.get("mode"), directory / MANIFEST_NAME),
                uid=_int_or_none(item.get("uid")),
                gid=_int_or_none(item.get("gid")),
                sha256_before=_str_or_none(item.get("sha256_before")),
                sha256_after=_str_or_none(item.get("sha256_after")),
            )
        )
    return BackupSet(
        directory=directory,
        time=str(raw.get("time", "")),
        kind=str(raw.get("kind", "")),
        config=_str_or_none(raw.get("config")),
        os_user=str(raw.get("os_user", "")),
        files=tuple(files),
        created_dirs=tuple(Path(d) for d in raw.get("created_dirs") or [] if isinstance(d, str)),
        removed_dirs=tuple(Path(d) for d in raw.get("removed_dirs") or [] if isinstance(d, str)),
        result=str(raw.get("result", IN_PROGRESS)),
        failure=_str_or_none(raw.get("failure")),
        finished=_str_or_none(raw.get("finished")),
        rolls_back=_str_or_none(raw.get("rolls_back")),
    )


def list_backups(backups: Path) -> list[BackupSet]:
    """Every readable set under ``backups``, newest first (unreadable ones are skipped)."""
    if not backups.is_dir():
        return []
    found: list[BackupSet] = []
    for child in backups.iterdir():
        if child.is_dir() and not child.is_symlink():
            with contextlib.suppress(ValueError):
                found.append(read_backup_set(child))
    # Directory names start with the time to the microsecond: they sort as the runs did.
    return sorted(found, key=lambda b: b.directory.name, reverse=True)


def restore_files(backup: BackupSet) -> list[str]:
    """Put every file of the set back as it was; returns what could not be (empty: all).

    Existing files get their copy back with their mode and owner (skipped when already
    identical), created files are removed, directories the run created are removed when
    empty (deepest first) and those it removed are made again. Afterwards every file is
    read back and compared with its recorded hash.
    """
    problems: list[str] = []
    for directory in backup.removed_dirs:
        if not os.path.lexists(directory):
            try:
                make_directory(directory)
            except OSError as exc:
                problems.append(f"{directory}: cannot create it again: {exc.strerror or exc}")
    # A directory the run was to create that is a symbolic link now was planted by someone
    # else: nothing of ours is behind it, and removing "our" files through it would delete
    # whatever the link points at. The link itself goes (nothing stood there before).
    planted = {d for d in backup.created_dirs if d.is_symlink()}
    for entry in reversed(backup.files):
        if not entry.existed and planted.intersection(entry.target.parents):
            continue
        try:
            _restore_one(backup, entry)
        except (OSError, ValueError) as exc:
            problems.append(f"{entry.target}: {_reason(exc)}")
    for directory in sorted(backup.created_dirs, key=lambda d: len(d.parts), reverse=True):
        try:
            if directory in planted:
                directory.unlink()
            else:
                directory.rmdir()
        except FileNotFoundError:
            pass
        except OSError as exc:
            problems.append(f"{directory}: cannot remove the directory: {exc.strerror or exc}")
    for entry in backup.files:
        problem = _verify(entry)
        if problem is not None and not any(p.startswith(f"{entry.target}:") for p in problems):
            problems.append(f"{entry.target}: {problem}")
    return problems


def _restore_one(backup: BackupSet, entry: BackedUpFile) -> None:
    if not entry.existed:
        remove_path(entry.target)
        return
    data = backup.copy_data(entry)
    mode = entry.mode if entry.mode is not None else 0o644
    if entry.target.is_symlink():
        # Only a link someone planted since: ours are resolved before the set is made.
        remove_path(entry.target)
    current = read_state(entry.target)
    if (
        current is not None
        and current.data == data
        and current.mode == mode
        and (entry.uid is None or current.uid == entry.uid)
    ):
        return
    uid = entry.uid if entry.uid is not None else os.getuid()
    gid = entry.gid if entry.gid is not None else os.getgid()
    replace_file(entry.target, data, mode=mode, uid=uid, gid=gid)


def _verify(entry: BackedUpFile) -> str | None:
    if not entry.existed:
        return "still there after the restore" if os.path.lexists(entry.target) else None
    try:
        state = read_state(entry.target)
    except OSError as exc:
        return _reason(exc)
    if state is None:
        return "missing after the restore"
    if sha256(state.data) != entry.sha256_before:
        return "differs from the backup after the restore"
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)
