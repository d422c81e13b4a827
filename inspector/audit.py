"""The audit trail of profile changes: one JSON Lines record per apply, success or not.

The file (default ``default_state_dir()/audit.jsonl``) is created with mode 0600 because it
names issuers, audiences and users. It holds the token's fingerprint, never the token.
"""

from __future__ import annotations

import dataclasses
import errno
import getpass
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inspector.config import default_state_dir
from inspector.profile import JwtProfile

AUDIT_FILE_NAME = "audit.jsonl"


def default_audit_path() -> Path:
    """``$XDG_STATE_HOME/token-inspector/audit.jsonl``."""
    return default_state_dir() / AUDIT_FILE_NAME


def os_user() -> str:
    """The operating-system user running the tool (best effort, never raises)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid()) if hasattr(os, "getuid") else "?"


def profile_dict(profile: JwtProfile | None) -> dict[str, Any] | None:
    """A profile as a JSON object (``None`` stays ``null``)."""
    return None if profile is None else dataclasses.asdict(profile)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One apply as recorded: who, where, what changed, with which token, and how it ended.

    ``result`` is one of ``applied``, ``failed-restored``, ``failed-restore-failed``,
    ``failed-unchanged``, ``refused``.
    """

    time: str
    os_user: str
    db_user: str | None
    schema: str | None
    old_profile: JwtProfile | None
    new_profile: JwtProfile | None
    token_fingerprint: str | None
    result: str
    detail: str = ""
    database: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object written to the file."""
        return {
            "time": self.time,
            "os_user": self.os_user,
            "db_user": self.db_user,
            "database": self.database,
            "schema": self.schema,
            "old_profile": profile_dict(self.old_profile),
            "new_profile": profile_dict(self.new_profile),
            "token_fingerprint": self.token_fingerprint,
            "result": self.result,
            "detail": self.detail,
        }


def now_iso() -> str:
    """UTC time in ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_private_append(path: Path) -> int:
    """A write-append descriptor on ``path``, a regular file left (or made) mode 0600.

    A symbolic link is refused rather than followed (someone who can write the directory
    must not redirect the trail into another file), and so is anything but a regular file
    (a FIFO would block, a device would swallow it). An existing file created 0644 by an
    older version is tightened to 0600. Raises ``OSError`` with a readable ``strerror``.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
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
        if stat.S_IMODE(info.st_mode) != 0o600:
            os.fchmod(fd, 0o600)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class AuditLog:
    """Appends records to a JSON Lines file created 0600 (directories 0700)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_audit_path()

    def append(self, record: AuditRecord) -> None:
        """Write one line; the file is opened in append mode so concurrent runs interleave
        whole lines rather than overwrite each other.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=True) + "\n"
        fd = open_private_append(self.path)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def read(self) -> list[Mapping[str, Any]]:
        """All records (for tests and ``profile show --audit``-style tools)."""
        if not self.path.exists():
            return []
        out: list[Mapping[str, Any]] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out
