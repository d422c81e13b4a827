"""Records shared by the setup planners, the appliers and the command that drives them."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, slots=True)
class ResourceFacts:
    """What the server side is configured for.

    ``mcp_url`` is the URL connectors are given: the RFC 9728 ``resource`` and, for Entra,
    the App ID URI the scopes hang off (domain.md, sections 4 and 5).
    ``authorization_servers`` are issuer URLs; ``scopes`` go to ``scopes_supported`` and
    the challenge's ``scope=``.
    """

    mcp_url: str
    authorization_servers: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    resource_name: str | None = None


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file setup writes: ``before`` is ``None`` when the file does not exist yet.

    ``mode`` is applied to new files only (an existing file keeps its mode and owner).
    ``purpose`` says in one line why the file changes (shown above its diff).
    """

    path: Path
    before: str | None
    after: str
    mode: int = 0o644
    purpose: str = ""

    @property
    def created(self) -> bool:
        """True when the file is new."""
        return self.before is None

    @property
    def changed(self) -> bool:
        """True when writing it changes something."""
        return self.before != self.after


def unified_diff(changes: Iterable[FileChange]) -> str:
    """One unified diff for every change (new files diff against ``/dev/null``)."""
    out: list[str] = []
    for change in changes:
        if not change.changed:
            continue
        before = [] if change.before is None else change.before.splitlines(keepends=True)
        after = change.after.splitlines(keepends=True)
        old_name = "/dev/null" if change.before is None else f"a{change.path}"
        lines = list(difflib.unified_diff(before, after, old_name, f"b{change.path}"))
        if change.purpose:
            out.append(f"# {change.purpose}\n")
        out.extend(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )
    return "".join(out)


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What a check of the running server found after a change.

    ``ok`` is True when every probed step passed; ``failures`` are one line each.
    ``preexisting`` are failures the check before the change saw too, in a part setup does
    not touch: reported, not counted against the change.
    """

    ok: bool
    passed: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    preexisting: tuple[str, ...] = ()


# Called after a reload to see whether the server now answers as planned.
Probe = Callable[[], ProbeOutcome]
# Asked before each step that changes something; False stops there, nothing else changes.
Confirm = Callable[[str], bool]


ProgressStatus = Literal["start", "ok", "failed", "skipped", "warn"]


@dataclass(frozen=True, slots=True)
class SetupProgress:
    """One step of an apply as it happens, for a live display (CLI lines, TUI log).

    ``step`` names the step (``backup``, ``write``, ``nginx -t``, ``reload``, ``probe``,
    ...); ``status`` is where it stands; ``message`` says what it did or why it failed.
    """

    step: str
    status: ProgressStatus
    message: str = ""
