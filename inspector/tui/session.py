"""What the live screen asks of the engine: one narrow interface, no Textual.

``watch`` and ``demo`` build an ``EngineSession`` (``inspector.tui.engine_session``) over the
real log pipeline, key store, analyzer and ORDS repository; tests may build the same
session over sample files and the in-memory ORDS stand-in. Every method that can block
(network, database, disk) is called by the app from a worker thread, never from the UI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from inspector.judge.attempt import Attempt
from inspector.judge.ords_objects import JwtProfile

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One argument of ``CREATE_JWT_PROFILE``: what the database has, what the token needs."""

    name: str
    current: str | None
    proposed: str | None

    @property
    def changed(self) -> bool:
        """True when applying would change this value."""
        return self.current != self.proposed


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """Everything the apply modal shows before anything is written."""

    current: JwtProfile | None
    proposed: JwtProfile | None
    diff: tuple[DiffRow, ...]
    prechecks: tuple[str, ...]
    risks: tuple[str, ...]
    plsql: str
    verified: bool | None
    # A refusal (e.g. an ``aud`` array) means there is nothing that could be applied.
    refusal: str | None = None
    # The engine's own proposal object, handed back to ``Session.apply``.
    handle: object = field(default=None, compare=False, repr=False)
    # False when the issuer is not trusted, expected or the current profile's.
    anchored: bool = True

    @property
    def needs_second_confirmation(self) -> bool:
        """An unverified token, or one from an issuer nobody anchored, would make ORDS
        trust an attacker-chosen issuer and keys."""
        return self.verified is not True or not self.anchored


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What happened: success with the profile read back, or failure (and the restore)."""

    ok: bool
    summary: str
    details: tuple[str, ...] = ()
    profile: JwtProfile | None = None


@dataclass(frozen=True, slots=True)
class SetupView:
    """The server-side setup plan as the setup screen shows it (from the doctor screen).

    ``text`` is the plan already rendered by the engine (escaped, no token in it);
    ``refusal`` says why nothing can be applied (``None``: the plan may be applied);
    ``handle`` is the engine's plan, handed back to ``Session.setup_apply``.
    """

    text: str
    refusal: str | None = None
    handle: object = field(default=None, compare=False, repr=False)


# (step, status, message): one line per step of a setup apply as it happens.
SetupEmit = Callable[[str, str, str], None]
# A yes/no question asked before a step of a setup apply changes anything (the same ones
# the command asks); blocks until the user answers, False for no.
SetupAsk = Callable[[str], bool]


class Session(Protocol):
    """The engine as the UI sees it."""

    @property
    def title(self) -> str:
        """One line for the header: what is watched (``DEMO`` for the demo)."""
        ...

    @property
    def demo(self) -> bool:
        """True for ``token-inspector demo``: the screen says so."""
        ...

    @property
    def files(self) -> tuple[str, ...]:
        """The log files followed."""
        ...

    def items(self, stop: threading.Event) -> Iterator[object]:
        """Blocking iterator of feed items (attempts, other records, parse failures, events)."""
        ...

    def key_states(self) -> Mapping[str, str]:
        """Key fetch state per issuer, for the status bar."""
        ...

    def refresh_keys(self) -> str:
        """Refetch every issuer's keys now; returns a one-line summary (blocks)."""
        ...

    def database_state(self) -> str:
        """Database state for the status bar: ``not connected``, ``connected as HR``..."""
        ...

    def current_profile(self) -> JwtProfile | None:
        """The ORDS profile in the database (blocks); None without one or without a DB."""
        ...

    def plan(self, attempt: Attempt) -> ApplyPlan:
        """The proposal for ``attempt`` (blocks: reads the database)."""
        ...

    def apply(self, plan: ApplyPlan, progress: Progress) -> ApplyOutcome:
        """Apply ``plan`` with restore on failure; reports steps through ``progress``."""
        ...

    def sql_script(self, attempt: Attempt) -> str:
        """A reviewable PL/SQL script creating the profile ``attempt`` needs."""
        ...

    def doctor(self, emit: Callable[[str, str, str], None]) -> None:
        """Run the doctor, calling ``emit(status, code, message)`` per finding (blocks)."""
        ...

    def setup_plan(self) -> SetupView:
        """The server-side setup plan for the session's MCP URL (blocks: probes, reads)."""
        ...

    def setup_apply(self, view: SetupView, emit: SetupEmit, ask: SetupAsk) -> ApplyOutcome:
        """Apply the plan's ORDS and nginx parts, each step through ``emit``, each part and
        the reload only once ``ask`` said yes (blocks)."""
        ...

    def close(self) -> None:
        """Stop followers, close the database."""
        ...
