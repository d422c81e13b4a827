"""The in-memory ORDS with the failures ``InMemoryOrds.fail`` and ``mangle`` cannot express.

``fail`` makes one call raise and leaves the session usable; ``mangle`` alters every
create. Restore paths also need:

- a session that dies at a chosen call: the database rolls back what was not committed
  (as Oracle does for a dead session) and every later call raises ``DPY-1001``, rollback
  and the verifying read included;
- one chosen create stored differently (the restore's re-create, say), the others intact;
- another session committing a profile right after one of our commits (an admin racing us).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.standin import InMemoryOrds, connection_lost_error

Change = Callable[[JwtProfile], JwtProfile]


@dataclass
class FaultyOrds(InMemoryOrds):
    """``InMemoryOrds`` plus :meth:`drop_session`, :meth:`store_changed` and :meth:`meanwhile`.

    Call numbers count every call of the operation since the stand-in was built, failed
    ones included (like ``fail``'s ``on_call``, but absolute rather than from now).
    """

    _counts: Counter[str] = field(default_factory=Counter)
    _drops: set[tuple[str, int]] = field(default_factory=set)
    _changes: dict[int, Change] = field(default_factory=dict)
    _after_commit: dict[int, Callable[[FaultyOrds], None]] = field(default_factory=dict)

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
                self._pending = None
                self._closed = True
                raise connection_lost_error()
            super()._enter(operation)

    def create_profile(self, profile: JwtProfile, schema: str | None = None) -> None:
        """``CREATE_JWT_PROFILE``, storing a changed profile on the chosen call."""
        with self._lock:
            change = self._changes.get(self._counts["create_profile"] + 1)
            saved = self.mangle
            if change is not None:
                self.mangle = change
            try:
                super().create_profile(profile, schema)
            finally:
                self.mangle = saved

    def commit(self) -> None:
        """Commit, then let the racing session act if its turn has come."""
        with self._lock:
            super().commit()
            action = self._after_commit.pop(self._counts["commit"], None)
            if action is not None:
                action(self)


def committed_elsewhere(
    profile: JwtProfile, schema: str | None = None
) -> Callable[[FaultyOrds], None]:
    """An action for :meth:`FaultyOrds.meanwhile`: another session commits ``profile``."""

    def act(repo: FaultyOrds) -> None:
        repo.set_profile(profile, schema)

    return act
