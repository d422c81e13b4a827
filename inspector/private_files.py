"""Files the tool writes for the user: private (0600), never through a planted link.

Output names are predictable (``ords_jwt_profile_<fingerprint>.sql``) and the directories
they go to (the working directory, ``/tmp``) may be writable by others, so whoever can
write there can plant a symbolic link under the name we are about to use. Opening by name
would then write through the link into any file the user can write. Everything here opens
with ``O_NOFOLLOW``; new files are created with ``O_EXCL`` (an existing file or link is
refused, never overwritten), and a forced replacement writes a fresh temporary file beside
the target and renames it over the name, which replaces a link itself, not what it points
to.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PRIVATE_MODE = 0o600
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class OutputExistsError(FileExistsError):
    """The target name is taken (a file, a directory or a symbolic link): nothing written."""

    def __init__(self, path: Path, *, link: bool) -> None:
        what = "a symbolic link" if link else "there"
        super().__init__(errno.EEXIST, f"{what} already: not overwritten", str(path))
        self.link = link


def _exists_error(path: Path) -> OutputExistsError:
    return OutputExistsError(path, link=path.is_symlink())


def open_private_append(path: Path) -> int:
    """A write-append descriptor on ``path``, a regular file left (or made) mode 0600.

    A symbolic link is refused rather than followed (someone who can write the directory
    must not redirect the file elsewhere), and so is anything but a regular file (a FIFO
    would block, a device would swallow it). An existing file created 0644 by an older
    version is tightened to 0600. Raises ``OSError`` with a readable ``strerror``.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC
    try:
        fd = os.open(path, flags, PRIVATE_MODE)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise OSError(exc.errno, "it is a symbolic link (refused)", str(path)) from None
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads (O_NONBLOCK kept us from waiting)
            raise OSError(exc.errno, "it is not a regular file (refused)", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file (refused)", str(path))
        if stat.S_IMODE(info.st_mode) != PRIVATE_MODE:
            os.fchmod(fd, PRIVATE_MODE)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def append_json_line(path: Path, value: Mapping[str, Any]) -> None:
    """Append ``value`` as one JSON line to ``path`` (0600; its directory made 0700).

    One write in append mode: concurrent writers interleave whole lines, never overwrite
    each other. ASCII JSON: values from tokens, fetched documents or paths may hold a lone
    surrogate, which no UTF-8 writer accepts; escaped, every value is recorded exactly and
    the line is always written. Raises ``OSError`` when the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps(value, ensure_ascii=True, sort_keys=True) + "\n"
    fd = open_private_append(path)
    try:
        _write_all(fd, line.encode("ascii"))
    finally:
        os.close(fd)


def read_json_lines(path: Path) -> list[Mapping[str, Any]]:
    """Every JSON line of ``path``, oldest first (none when the file is not there)."""
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def sync_directory(directory: Path) -> None:
    """Make a new or renamed entry of ``directory`` durable (best effort).

    A crash must not bring back the old name (or lose the new file) after we reported
    success; some filesystems refuse, which is ignored.
    """
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _give(fd: int, owner: tuple[int, int] | None) -> bool:
    # Only root may give a file away (-1 keeps that id); refused, the file stays ours.
    if owner is None:
        return True
    try:
        os.fchown(fd, *owner)
    except PermissionError:
        return False
    return True


def create_new(
    path: Path, data: bytes, *, mode: int = PRIVATE_MODE, owner: tuple[int, int] | None = None
) -> bool:
    """Create ``path`` holding ``data``; refuse any name that is already taken.

    Opened ``O_CREAT | O_EXCL | O_NOFOLLOW`` with mode 0600 (nobody else can open it while
    it is written), then given ``owner`` (uid, gid; -1 keeps one) and ``mode`` whatever the
    umask, written, synced, and its directory entry synced. Returns False when ``owner``
    could not be given (not allowed: the file stays ours), else True.

    Raises ``OutputExistsError`` when a file, directory or symbolic link (even a dangling
    one) has the name, and ``OSError`` for the rest (missing directory, permission). A
    half-written file we created is removed before the error goes up.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC
    try:
        fd = os.open(path, flags, PRIVATE_MODE)
    except FileExistsError:
        raise _exists_error(path) from None
    try:
        given = _give(fd, owner)
        os.fchmod(fd, mode)  # after chown, which may clear set-id bits
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        # We created it (O_EXCL): a half-written script or configuration must not stay.
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    sync_directory(path.parent)
    return given


def write_new(path: Path, text: str) -> None:
    """Create ``path`` (mode 0600) holding ``text``; refuse any name that is already taken.

    Raises ``OutputExistsError`` when a file, directory or symbolic link (even a dangling
    one) has the name, and ``OSError`` for the rest (missing directory, permission).
    ``text`` is encoded before the file is created, so an unencodable text leaves nothing.
    """
    create_new(path, text.encode("utf-8"))


def replace_whole(
    path: Path, data: bytes, *, mode: int = PRIVATE_MODE, owner: tuple[int, int] | None = None
) -> None:
    """Put ``data`` under ``path`` in one rename, with ``mode`` (and ``owner`` when allowed).

    The data goes to a new temporary file in the same directory (``.name.XXXX.tmp``,
    which no ``include *.conf`` matches), written and synced, then a rename puts it under
    the name: a symbolic link there is replaced, never followed, and a reader sees the old
    file or the new one, never half of it. A directory is refused (``IsADirectoryError``).
    The temporary file is removed on any failure.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            _give(fd, owner)
            os.fchmod(fd, mode)  # after chown, which may clear set-id bits
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        Path(temporary).replace(path)  # rename(2): onto a directory, IsADirectoryError
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def replace_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (mode 0600), replacing what is there in one rename
    (``replace_whole``)."""
    replace_whole(path, text.encode("utf-8"))


def free_name(path: Path, *, tries: int = 100) -> Path:
    """``path``, or ``stem-2.ext``, ``stem-3.ext``... : the first name nothing holds yet.

    Only a suggestion for a prompt: ``write_new`` still refuses a name taken meanwhile.
    """
    if not os.path.lexists(path):
        return path
    for n in range(2, tries + 2):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not os.path.lexists(candidate):
            return candidate
    return path
