"""The in-memory ORDS stand-in with failure injection, for restore-on-failure tests.

The product's ``InMemoryOrds`` (``inspector.ords.standin``) injects nothing. Here ``fail``
makes one call raise and leaves the session usable; ``mangle`` alters every create (a
read-back that differs from what was sent). Restore paths also need:

- a session that dies at a chosen call: the database rolls back what was not committed
  (as Oracle does for a dead session) and every later call raises ``DPY-1001``, rollback
  and the verifying read included;
- one chosen create stored differently (the restore's re-create, say), the others intact;
- another session committing a profile right after one of our commits (an admin racing us).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.database import JwtApi
from inspector.ords.standin import InMemoryOrds, connection_lost_error

Change = Callable[[JwtProfile], JwtProfile]
OPERATIONS = (
    "current_schema",
    "get_profile",
    "create_profile",
    "delete_profile",
    "roles",
    "privileges",
    "modules",
    "create_role",
    "delete_role",
    "define_privilege",
    "delete_privilege",
    "commit",
    "rollback",
)


@dataclass
class _Fault:
    remaining: int
    error: Exception


@dataclass
class FaultyOrds(InMemoryOrds):
    """``InMemoryOrds`` plus :meth:`fail`, ``mangle``, :meth:`drop_session`,
    :meth:`store_changed` and :meth:`meanwhile`.

    Call numbers count every call of the operation since the stand-in was built, failed
    ones included (like ``fail``'s ``on_call``, but absolute rather than from now).
    """

    mangle: Change | None = None
    _faults: dict[str, list[_Fault]] = field(default_factory=dict)
    _counts: Counter[str] = field(default_factory=Counter)
    _drops: set[tuple[str, int]] = field(default_factory=set)
    _changes: dict[int, Change] = field(default_factory=dict)
    _after_commit: dict[int, Callable[[FaultyOrds], None]] = field(default_factory=dict)

    def fail(self, operation: str, *, error: Exception | None = None, on_call: int = 1) -> None:
        """Make the ``on_call``-th next call of ``operation`` raise ``error``.

        The default error is a dropped connection, the most common way a step fails midway.
        """
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")
        with self._lock:
            self._faults.setdefault(operation, []).append(
                _Fault(remaining=on_call, error=error or connection_lost_error())
            )

    def drop_session(self, operation: str, *, on_call: int = 1) -> None:
        """The ``on_call``-th call of ``operation`` loses the connection (``DPY-4011``)."""
        self._drops.add((operation, on_call))

    def store_changed(self, change: Change, *, on_call: int) -> None:
        """The ``on_call``-th ``create_profile`` stores ``change(profile)``."""
        self._changes[on_call] = change

    def meanwhile(self, action: Callable[[FaultyOrds], None], *, after_commit: int) -> None:
        """Run ``action`` (another session's work) once the ``after_commit``-th commit is done."""
        self._after_commit[after_commit] = action

    def _enter(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1
            if not self._closed and (operation, self._counts[operation]) in self._drops:
                self.calls.append(operation)
                # The server rolls back a dead session's transaction; the client sees only
                # the error, then "not connected" on every later call.
                self._discard()
                self._closed = True
                raise connection_lost_error()
            super()._enter(operation)
            # An armed fault for this operation, if its turn has come.
            faults = self._faults.get(operation, [])
            for fault in faults:
                fault.remaining -= 1
            due = next((f for f in faults if f.remaining <= 0), None)
            if due is not None:
                faults.remove(due)
                raise due.error

    def _stored(self, profile: JwtProfile) -> JwtProfile:
        return self.mangle(profile) if self.mangle else profile

    def create_profile(
        self, profile: JwtProfile, schema: str | None = None, *, api: JwtApi | None = None
    ) -> None:
        """``CREATE_JWT_PROFILE``, storing a changed profile on the chosen call."""
        with self._lock:
            change = self._changes.get(self._counts["create_profile"] + 1)
            saved = self.mangle
            if change is not None:
                self.mangle = change
            try:
                super().create_profile(profile, schema, api=api)
            finally:
                self.mangle = saved

    def commit(self) -> None:
        """Commit, then let the racing session act if its turn has come."""
        with self._lock:
            super().commit()
            action = self._after_commit.pop(self._counts["commit"], None)
            if action is not None:
                action(self)


def faulty(repo: InMemoryOrds) -> FaultyOrds:
    """A ``FaultyOrds`` in ``repo``'s state (e.g. one ``--dsn memory:FILE`` opened)."""
    state = {f.name: getattr(repo, f.name) for f in fields(InMemoryOrds)}
    return FaultyOrds(**state)


def committed_elsewhere(
    profile: JwtProfile, schema: str | None = None
) -> Callable[[FaultyOrds], None]:
    """An action for :meth:`FaultyOrds.meanwhile`: another session commits ``profile``."""

    def act(repo: FaultyOrds) -> None:
        repo.set_profile(profile, schema)

    return act
