"""Writing the server's configuration files: whole or not at all, never through a planted link.

An existing file is replaced by a rename from a temporary file in its own directory (a
reader, nginx included, sees the old text or the new one, never half), keeping its mode and
owner. A new file is created with ``O_EXCL | O_NOFOLLOW``: a name that something took since
the plan, a symbolic link above all, is refused instead of written through (both through
``inspector/private_files.py``). Texts are encoded with ``surrogateescape`` so a file read
with that handler (bytes that are no UTF-8) is written back byte for byte.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from inspector.private_files import create_new, replace_whole

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


def replace_file(path: Path, data: bytes, *, mode: int, uid: int, gid: int) -> None:
    """Put ``data`` under ``path`` in one rename, with the given mode and owner (the owner
    only where we may give it): ``private_files.replace_whole``."""
    replace_whole(path, data, mode=mode, owner=(uid, gid))


def create_private_copy(path: Path, data: bytes) -> None:
    """A backup copy: a new file, mode 0600 (configuration files may hold secrets).

    Refused (``OutputExistsError``, a ``FileExistsError``) when anything has the name.
    """
    create_new(path, data)


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

    Never through a link (``create_new``: ``FileExistsError`` when anything is there).
    Returns a note when the group could not be set.
    """
    group = path.parent.stat().st_gid
    if create_new(path, b"", mode=LOG_MODE, owner=(-1, group)):
        return None
    return (
        f"{path}: kept group {os.getegid()}: not allowed to give it the group "
        f"{group} of its directory"
    )


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
