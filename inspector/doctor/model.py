"""Records of a doctor run: findings with stable codes, grouped by step, and the options."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.judge.ords_objects import JwtProfile
from inspector.judge.verdicts import Severity
from inspector.settings import MCP_REVISIONS
from parsers.ords_config import OrdsConfig

if TYPE_CHECKING:
    from inspector.judge.expectations import Expectations
    from inspector.keys.store import KeyStore
    from inspector.ords.schema import SchemaAuthorization

# The MCP revision the doctor judges against unless told otherwise: the newest.
MCP_REVISION = MCP_REVISIONS[0]
# Kept for callers that name the probe's version; the probe sends the judged revision.
MCP_PROTOCOL_VERSION = MCP_REVISION


class Status(StrEnum):
    """Outcome of one check. ``skip`` means it could not run (say why in the message)."""

    PASS = "pass"  # noqa: S105 - a status name, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


_RANK = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2}

# One severity vocabulary for verdicts and findings: a failed check is an error (it breaks
# the connection, as an error verdict makes ORDS reject the request), a passed or skipped
# one only informs.
_SEVERITY = {
    Status.FAIL: Severity.ERROR,
    Status.WARN: Severity.WARN,
    Status.PASS: Severity.INFO,
    Status.SKIP: Severity.INFO,
}


def severity_of(status: Status) -> Severity:
    """A finding's status in the verdicts' words: fail is error, warn warn, pass/skip info."""
    return _SEVERITY[status]


def worst(statuses: Iterable[Status]) -> Status:
    """The status that matters most: fail over warn over pass; all-skip stays skip."""
    seen = list(statuses)
    if not seen:
        return Status.SKIP
    if all(s is Status.SKIP for s in seen):
        return Status.SKIP
    return max((s for s in seen if s is not Status.SKIP), key=_RANK.__getitem__)


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result: a stable kebab-case ``code``, what was seen, and the fix."""

    code: str
    status: Status
    message: str
    observed: str | None = None
    fix: str | None = None
    step: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for ``doctor --json``."""
        return {
            "code": self.code,
            "status": self.status.value,
            "severity": severity_of(self.status).value,
            "message": self.message,
            "observed": self.observed,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class StepReport:
    """The findings of one step, in the order they were made."""

    id: str
    number: int
    title: str
    findings: tuple[Finding, ...]

    @property
    def status(self) -> Status:
        """The worst status among the findings."""
        return worst(f.status for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for ``doctor --json``."""
        return {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "status": self.status.value,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Every step of one run against ``url``."""

    url: str
    steps: tuple[StepReport, ...]
    allow_http: bool = False
    # The MCP specification revision the run judged against (the findings depend on it).
    mcp_revision: str | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        """All findings, step after step."""
        return tuple(f for step in self.steps for f in step.findings)

    @property
    def status(self) -> Status:
        """The worst status of the whole run."""
        return worst(f.status for f in self.findings)

    @property
    def failed(self) -> bool:
        """True when any check failed (the command then exits 1)."""
        return any(f.status is Status.FAIL for f in self.findings)

    def codes(self, status: Status | None = None) -> tuple[str, ...]:
        """Finding codes, optionally only those with ``status``."""
        return tuple(f.code for f in self.findings if status is None or f.status is status)

    def finding(self, code: str) -> Finding | None:
        """The first finding with ``code``, or None."""
        return next((f for f in self.findings if f.code == code), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for ``doctor --json``."""
        return {
            "url": self.url,
            "status": self.status.value,
            "allow_http": self.allow_http,
            "mcp_revision": self.mcp_revision,
            "steps": [s.as_dict() for s in self.steps],
        }


@dataclass(frozen=True, slots=True)
class DoctorOptions:
    """What to check and how.

    ``profile`` is an ORDS profile already read; ``profile_loader`` reads it lazily (from
    the database) when step 5 runs, so a UI can start the run before connecting.
    ``allow_http`` accepts ``http://`` where connectors and ORDS demand https (lab and
    test setups only): those findings become warnings instead of failures.
    ``idp`` is ``auto`` (recognise Entra ID from the authorization server's host),
    ``entra`` or ``generic``. ``key_store`` builds the keys the newest tokens are
    verified with, given what ORDS will enforce (the command's ``[keys]`` and flags);
    without it only the expected issuer's keys are discovered. ``authorization_loader``
    gives the schema's ORDS roles and privileges (called after the profile was read) so
    the newest tokens also get the role and scope checks; when it raises, only those
    checks are lost. ``anchored_issuers`` (trusted and expected issuers) and
    ``allow_private`` widen which addresses the doctor contacts, as for key discovery:
    besides the MCP URL's host, only these issuers' hosts (or, with ``allow_private``,
    every host) may be loopback, private or plain http (``probe.Reach``).
    ``mcp_revision`` is the MCP specification revision judged against (``2025-11-25``,
    the newest, or ``2025-06-18``): it decides what is required and what is advice.
    """

    url: str
    allow_http: bool = False
    timeout: float = 5.0
    idp: str = "auto"
    profile: JwtProfile | None = None
    profile_loader: Callable[[], JwtProfile | None] | None = None
    logs: tuple[Path, ...] = ()
    log_format: str | None = None
    newest_attempts: int = 5
    nginx_conf: Path | None = None
    check_nginx: bool = True
    origin: str = "https://claude.ai"
    # None: the revision being judged (``mcp_revision``) is the version the probe sends.
    protocol_version: str | None = None
    mcp_revision: str = MCP_REVISION
    key_store: Callable[[Expectations], KeyStore] | None = None
    authorization_loader: Callable[[], SchemaAuthorization] | None = None
    anchored_issuers: tuple[str, ...] = ()
    allow_private: bool = False
    # ORDS's own settings (--ords-config): in POOL mode the pool's profile is compared.
    ords_config: OrdsConfig | None = None
