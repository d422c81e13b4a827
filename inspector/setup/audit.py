"""The audit trail of setup: one JSON Lines record per apply or rollback, success or not.

The file (default ``default_state_dir()/setup-audit.jsonl``) is created 0600 through
``inspector.private_files`` (never through a planted link), like the profile audit file:
it names configuration paths and users. It holds hashes of the files, never their text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.ords.audit import now_iso, os_user
from inspector.private_files import append_json_line, read_json_lines
from inspector.settings import default_state_dir

SETUP_AUDIT_FILE_NAME = "setup-audit.jsonl"

__all__ = [
    "SETUP_AUDIT_FILE_NAME",
    "AuditedFile",
    "SetupAudit",
    "SetupAuditRecord",
    "default_setup_audit_path",
    "now_iso",
    "os_user",
]


def default_setup_audit_path() -> Path:
    """``$XDG_STATE_HOME/token-inspector/setup-audit.jsonl``."""
    return default_state_dir() / SETUP_AUDIT_FILE_NAME


@dataclass(frozen=True, slots=True)
class AuditedFile:
    """One file an apply touched: ``sha256_before`` is ``None`` for a new file,
    ``sha256_after`` ``None`` for a file removed (a rollback of a created file)."""

    path: str
    sha256_before: str | None
    sha256_after: str | None


@dataclass(frozen=True, slots=True)
class SetupAuditRecord:
    """One apply or rollback as recorded.

    ``action`` says what ran (``nginx-apply``, ``nginx-rollback``...); ``result`` is the
    applier's result value; ``detail`` holds what a particular applier adds.
    """

    time: str
    os_user: str
    action: str
    config: str | None
    files: tuple[AuditedFile, ...]
    backup: str | None
    result: str
    failure: str | None = None
    detail: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object written to the file."""
        return {
            "time": self.time,
            "os_user": self.os_user,
            "action": self.action,
            "config": self.config,
            "files": [
                {"path": f.path, "sha256_before": f.sha256_before, "sha256_after": f.sha256_after}
                for f in self.files
            ],
            "backup": self.backup,
            "result": self.result,
            "failure": self.failure,
            "detail": dict(self.detail) if self.detail is not None else None,
        }


class SetupAudit:
    """Appends records to a JSON Lines file created 0600 (its directory 0700)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_setup_audit_path()

    def append(self, record: SetupAuditRecord) -> None:
        """Write one whole line in append mode (concurrent runs interleave lines, never
        overwrite each other). Raises ``OSError`` when the file cannot be written."""
        append_json_line(self.path, record.as_dict())

    def read(self) -> list[Mapping[str, Any]]:
        """All records, oldest first."""
        return read_json_lines(self.path)
