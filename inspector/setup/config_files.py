"""Writing the server's configuration files: whole or not at all, never through a planted link.

An existing file is replaced by a rename from a temporary file in its own directory (a
reader, nginx included, sees the old text or the new one, never half), keeping its mode and
owner. A new file is created with ``O_EXCL | O_NOFOLLOW``: a name that something took since
the plan, a symbolic link above all, is refused instead of written through (compare
``inspector/private_files.py``). Texts are encoded with ``surrogateescape`` so a file read
with that handler (bytes that are no UTF-8) is written back byte for byte.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

DIRECTORY_MODE = 0o755
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def encode(text: str) -> bytes:
    """The bytes a planned text stands for."""
    return text.encode("utf-8", "surrogateescape")


def sha256(data: bytes | None) -> str | None:
    """Hex SHA-256 of ``data`` (``None`` for a file that does not exist)."""
    return None if data is None else hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class FileState:
    """A regular file as found on disk: content, permission bits and owner."""

    data: bytes
    mode: int
    uid: int
    gid: int


def read_state(path: Path) -> FileState | None:
    """The file at ``path`` (a symbolic link followed), or ``None`` when nothing is there.

    Raises ``OSError`` for anything but a regular file or a missing one.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        chunks: list[bytes] = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return FileState(b"".join(chunks), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _chown(fd: int, uid: int, gid: int) -> None:
    # Only root may give a file away; an unprivileged user's files are theirs anyway.
    with contextlib.suppress(PermissionError):
        os.fchown(fd, uid, gid)


def _sync_directory(directory: Path) -> None:
    # The rename is durable once the directory entry is: a crash must not bring back the
    # old name after we reported success (best effort: some filesystems refuse).
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replace_file(path: Path, data: bytes, *, mode: int, uid: int, gid: int) -> None:
    """Put ``data`` under ``path`` in one rename, with the given mode and owner.

    The temporary file (``.name.XXXX.tmp``, which no ``include *.conf`` matches) is
    written and synced before the rename and removed on any failure.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            _chown(fd, uid, gid)
            os.fchmod(fd, mode)  # after chown, which may clear set-id bits
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def create_file(path: Path, data: bytes, *, mode: int) -> None:
    """Create ``path`` holding ``data``; refuse any name already taken (a link above all).

    Raises ``FileExistsError`` (with a message naming a link when it is one) or
    ``OSError``. A half-written file we created is removed before the error goes up.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        what = "a symbolic link" if path.is_symlink() else "something"
        raise FileExistsError(
            errno.EEXIST, f"{what} is already there (refused, not written through)", str(path)
        ) from None
    try:
        os.fchmod(fd, mode)
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    _sync_directory(path.parent)


def create_private_copy(path: Path, data: bytes) -> None:
    """A backup copy: a new file, mode 0600 (configuration files may hold secrets)."""
    create_file(path, data, mode=0o600)


def missing_directories(path: Path) -> list[Path]:
    """The ancestors of ``path`` that do not exist yet, outermost first."""
    missing: list[Path] = []
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    return list(reversed(missing))


def make_directory(path: Path) -> None:
    """``mkdir`` with mode 0755 whatever the umask (nginx's workers must read into it)."""
    path.mkdir(mode=DIRECTORY_MODE)
    path.chmod(DIRECTORY_MODE)


def remove_path(path: Path) -> None:
    """Remove the file (or the link itself) at ``path``; nothing there is fine."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


LOG_MODE = 0o640


def create_log_file(path: Path) -> str | None:
    """Create the empty log file ``path``: mode 0640, owned by us, in the group of its
    directory when we may give it that group (Debian's ``/var/log/nginx`` is ``root:adm``,
    and logrotate recreates the logs ``0640 www-data adm``).

    Never through a link (``O_EXCL | O_NOFOLLOW``: ``FileExistsError`` when anything is
    there). Returns a note when the group could not be set.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC
    fd = os.open(path, flags, 0o600)
    note = None
    try:
        group = path.parent.stat().st_gid
        try:
            os.fchown(fd, -1, group)
        except PermissionError:
            note = (
                f"{path}: kept group {os.getegid()}: not allowed to give it the group "
                f"{group} of its directory"
            )
        os.fchmod(fd, LOG_MODE)  # after chown, which may clear set-id bits
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    _sync_directory(path.parent)
    return note


def remove_if_empty(path: Path) -> bool:
    """Remove the regular file ``path`` when it is still empty; True when removed."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size:
        return False
    path.unlink()
    return True
