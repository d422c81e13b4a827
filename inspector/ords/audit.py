"""The audit trail of profile changes: one JSON Lines record per apply, success or not.

Role and privilege set-ups (``inspector.ords.grants``) are recorded in the same file, as
records whose ``kind`` is ``ords-authorization``; profile records have no ``kind``.

The file (default ``default_state_dir()/audit.jsonl``) is created with mode 0600 because it
names issuers, audiences and users. It holds the token's fingerprint, never the token.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege
from inspector.private_files import append_json_line, read_json_lines
from inspector.settings import default_state_dir

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


def privilege_dict(privilege: OrdsPrivilege | None) -> dict[str, Any] | None:
    """A privilege as a JSON object: what ``DEFINE_PRIVILEGE`` takes (``None``: ``null``)."""
    if privilege is None:
        return None
    return {
        "name": privilege.name,
        "label": privilege.label,
        "description": privilege.description,
        "comments": privilege.comments,
        "roles": list(privilege.roles),
        "modules": list(privilege.modules),
        "patterns": list(privilege.patterns),
    }


AUTHORIZATION_KIND = "ords-authorization"


@dataclass(frozen=True, slots=True)
class AuthorizationAuditRecord:
    """One role + privilege (+ profile) set-up as recorded: the role created, the privilege
    before and as requested, the profile before and as requested, and how it ended
    (``result`` as in ``AuditRecord``, plus ``unchanged``)."""

    time: str
    os_user: str
    db_user: str | None
    schema: str | None
    role_created: str | None
    old_privilege: OrdsPrivilege | None
    new_privilege: OrdsPrivilege | None
    old_profile: JwtProfile | None
    new_profile: JwtProfile | None
    token_fingerprint: str | None
    result: str
    detail: str = ""
    database: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object written to the file."""
        return {
            "kind": AUTHORIZATION_KIND,
            "time": self.time,
            "os_user": self.os_user,
            "db_user": self.db_user,
            "database": self.database,
            "schema": self.schema,
            "role_created": self.role_created,
            "old_privilege": privilege_dict(self.old_privilege),
            "new_privilege": privilege_dict(self.new_privilege),
            "old_profile": profile_dict(self.old_profile),
            "new_profile": profile_dict(self.new_profile),
            "token_fingerprint": self.token_fingerprint,
            "result": self.result,
            "detail": self.detail,
        }


def now_iso() -> str:
    """UTC time in ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class AuditLog:
    """Appends records to a JSON Lines file created 0600 (directories 0700)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_audit_path()

    def append(self, record: AuditRecord | AuthorizationAuditRecord) -> None:
        """Write one line; the file is opened in append mode so concurrent runs interleave
        whole lines rather than overwrite each other.
        """
        append_json_line(self.path, record.as_dict())

    def append_or_warning(self, record: AuditRecord | AuthorizationAuditRecord) -> str | None:
        """``append``; a file that cannot be written gives the warning to show instead."""
        try:
            self.append(record)
        except OSError as exc:
            return f"could not write the audit file {self.path}: {exc.strerror}"
        return None

    def read(self) -> list[Mapping[str, Any]]:
        """All records (for tests and ``profile show --audit``-style tools)."""
        return read_json_lines(self.path)


def audit_detail(failure: str | None, restore: str | None, forced: Sequence[str] = ()) -> str:
    """An audit record's detail: the failure, the restore, and the risks a run was forced
    past (``forced``: their codes; empty when nothing was forced or the run was refused)."""
    parts = [x for x in (failure, restore) if x]
    if forced:
        parts.insert(0, "forced despite: " + "; ".join(forced))
    return "; ".join(parts)
