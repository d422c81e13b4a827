"""Judging in a process of its own, so the screen's process only shows (no Textual here).

Reading, parsing and judging the log (about 0.15-0.3 ms a line) and drawing the screen
shared one interpreter lock: together they topped out near 3,000 lines a second, and a
busy feed delayed every frame. ``watch`` forks a child before any thread starts (fork is
only safe then); the child runs the session's feed loop (``judged``) and sends batches
through a pipe, the screen's process keeps everything else (database, proposal, doctor,
setup, the table and the attempts it shows).

What crosses, child to screen: one pickled ``(Batch, pending, updates, key states)`` per
batch. Attempts cross whole because the detail pane, reveal and apply read them; attempts
waiting for their issuer's keys carry a number (``pending``) by which a later judgement
(``updates``) names them, since object identity does not cross a pipe. Screen to child,
on a second pipe, requests answered in turn: ``start`` (after the profile was read),
``profile`` (a profile read or applied: the child judges by it from then on),
``refresh`` (the ``r`` key). The child stops when that pipe closes (the screen quit or
died) and never writes to the terminal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import multiprocessing
import operator
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from multiprocessing.connection import Connection
from typing import Any, Protocol

from inspector.judge.analyzer import keys_pending
from inspector.judge.attempt import Attempt, TokenReport
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.verdicts import Verdict
from inspector.tui.feed import AttemptUpdate, Batch, FeedProblem, Pump, problem_text
from parsers.records import LogRecord, ParseFailure, Source

# After sending a batch the child lets lines gather this long, so that a busy log goes
# out in batches of dozens (each batch costs a pickle, a write and a wake-up of the screen's
# process) while a quiet one goes out line by line, at most this much later.
GATHER_SECONDS = 0.003
# Attempts waiting for keys that a later judgement may still name (as the session keeps).
MAX_PENDING = 10_000
# How often the child looks whether its key states changed while no line comes.
KEY_STATE_SECONDS = 1.0
# A request (a key refresh waits for every issuer's fetch deadline) gets this long.
REQUEST_SECONDS = 120.0
# On quit the child gets this long to go before it is terminated, then killed.
STOP_SECONDS = 2.0


class Judged(Protocol):
    """What the child runs: the session's feed loop and its key store."""

    def judged(self, stop: threading.Event) -> Iterator[object]:
        """Feed items (attempts judged, updates, other records, events), as in one process."""
        ...

    def key_states(self) -> Mapping[str, str]:
        """Key fetch state per issuer."""
        ...

    def refresh_keys(self) -> str:
        """Refetch every issuer's keys; a one-line summary."""
        ...

    def adopt_profile(self, profile: JwtProfile | None, authorization: object) -> None:
        """Judge following attempts by ``profile`` (read or applied in the screen's process)."""
        ...

    def detach_judge(self) -> None:
        """In the child: judge here (the session's copy still names the child's handle)."""
        ...


class JudgeProcess:
    """The screen's handle on the child judging the log."""

    def __init__(self, session: Judged, *, start: bool = False) -> None:
        """Fork the child; it judges once asked to (``batches``), or at once with
        ``start`` (no database: no profile to wait for), while the screen starts."""
        context = multiprocessing.get_context("fork")
        items_in, items_out = context.Pipe(duplex=False)
        control, child_control = context.Pipe()
        self._process = context.Process(
            target=_child_main,
            args=(session, items_out, child_control, (items_in, control), start),
            name="inspector-judge",
            # Ended with this process whatever happens (multiprocessing's exit handler).
            daemon=True,
        )
        self._process.start()
        items_out.close()
        child_control.close()
        self._items = items_in
        self._control = control
        self._lock = threading.Lock()
        self._stopping = False
        self._key_states: dict[str, str] = {}
        # Pending attempts as this process holds them, by the child's number.
        self._pending: dict[int, Attempt] = {}

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    def alive(self) -> bool:
        """True while the child runs."""
        return self._process.is_alive()

    def key_states(self) -> Mapping[str, str]:
        """The child's key states, as of its last batch."""
        return self._key_states

    def request(self, kind: str, *args: object) -> Any:
        """Send one request and wait for its answer; raises ``RuntimeError`` on failure."""
        with self._lock:
            try:
                self._control.send((kind, *args))
                if not self._control.poll(REQUEST_SECONDS):
                    raise RuntimeError(f"the judging process did not answer {kind!r}")
                status, value = self._control.recv()
            except (EOFError, OSError) as exc:
                raise RuntimeError("the judging process stopped") from exc
        if status != "ok":
            raise RuntimeError(str(value))
        return value

    def refresh_keys(self) -> str:
        """The ``r`` key, run in the child (its key store judges)."""
        summary, states = self.request("refresh")
        self._key_states = states
        return str(summary)

    def set_profile(self, profile: JwtProfile | None, authorization: object) -> None:
        """Have the child judge by ``profile`` from its next attempt on."""
        self.request("profile", profile, authorization)

    def batches(self, stop: threading.Event) -> Iterator[object]:
        """Start the child's feed; its batches (one ``FeedProblem`` if it dies) until it ends."""
        self.request("start")
        while not stop.is_set():
            try:
                if not self._items.poll(0.2):
                    continue
                data = self._items.recv_bytes()
            except (EOFError, OSError):
                if not (self._stopping or stop.is_set()):
                    yield FeedProblem(self._death())
                return
            batch = self._batch(data)
            finished, batch.finished = batch.finished, False
            yield batch
            if finished:
                return

    def _batch(self, data: bytes) -> Batch:
        # Written by our own child, through a pipe only the two processes hold.
        batch, pending, updates, states = pickle.loads(data)  # noqa: S301
        self._key_states = states
        for index, ref in pending:
            self._pending[ref] = batch.attempts[index]
            if len(self._pending) > MAX_PENDING:
                del self._pending[next(iter(self._pending))]
        for ref, new in updates:
            old = self._pending.pop(ref, None)
            if old is not None:
                batch.updates.append(AttemptUpdate(old, new))
        assert isinstance(batch, Batch)
        return batch

    def _death(self) -> str:
        self._process.join(1)
        code = self._process.exitcode
        how = "is stuck" if code is None else f"ended (exit code {code})"
        return (
            f"the process judging the log {how}: the rows shown stay, new lines are not "
            f"judged; restart watch to follow again"
        )

    def stop(self) -> None:
        """End the child: its request pipe closes, then terminate, then kill."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._control.close()
        self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(STOP_SECONDS)
        with contextlib.suppress(OSError):
            self._items.close()


def _by_fields(cls: type[Any]) -> Callable[[Any], tuple[type[Any], tuple[Any, ...]]]:
    """A pickle reducer giving ``cls`` back its fields positionally: the ``__getstate__``
    that ``dataclass(slots=True)`` writes lists the fields again for every object, which
    made pickling most of what sending an attempt cost."""
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields) or len(fields) < 2:
        raise TypeError(f"{cls.__name__}: every field must be an __init__ argument")
    values = operator.attrgetter(*(f.name for f in fields))

    def reduce(obj: Any) -> tuple[type[Any], tuple[Any, ...]]:
        return cls, values(obj)

    return reduce


_REDUCERS = {
    cls: _by_fields(cls) for cls in (Attempt, TokenReport, Verdict, LogRecord, Source, ParseFailure)
}


def dumps(value: object) -> bytes:
    """``value`` pickled with the attempt's records passed by field (``loads`` is
    ``pickle.loads``)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS  # type: ignore[assignment]
    pickler.dump(value)
    return buffer.getvalue()


class _Sender:
    """The child's end of the batch pipe: numbers pending attempts, pickles, sends."""

    def __init__(self, items: Connection, states: Callable[[], Mapping[str, str]]) -> None:
        self._items = items
        self._states = states
        self._lock = threading.Lock()
        self._next = 0
        # id() of a pending attempt -> (its number, the attempt, which keeps the id its own).
        self._refs: dict[int, tuple[int, Attempt]] = {}
        self.last_states: dict[str, str] = {}

    def send(self, batch: Batch) -> None:
        """Send ``batch`` (its updates by number); raises ``OSError`` when nobody reads."""
        with self._lock:
            pending: list[tuple[int, int]] = []
            for index, attempt in enumerate(batch.attempts):
                if keys_pending(attempt):
                    self._refs[id(attempt)] = (self._next, attempt)
                    pending.append((index, self._next))
                    self._next += 1
                    if len(self._refs) > MAX_PENDING:
                        del self._refs[next(iter(self._refs))]
            updates: list[tuple[int, Attempt]] = []
            for update in batch.updates:
                known = self._refs.pop(id(update.old), None)
                if known is not None and known[1] is update.old:
                    updates.append((known[0], update.new))
            batch.updates = []
            self.last_states = dict(self._states())
            try:
                data = dumps((batch, pending, updates, self.last_states))
            except Exception as exc:  # something odd in a batch must not end the feed
                problem = Batch(lines=batch.lines, problems=[f"batch lost: {problem_text(exc)}"])
                data = dumps((problem, [], [], self.last_states))
            self._items.send_bytes(data)

    def send_states_if_changed(self) -> None:
        """An empty batch when the key states moved (a fetch ended while no line came)."""
        if dict(self._states()) != self.last_states:
            self.send(Batch())


def _child_main(
    session: Judged,
    items: Connection,
    control: Connection,
    parents: tuple[Connection, Connection],
    start: bool,
) -> None:
    for end in parents:  # else the pipes would never see the screen's process go
        end.close()
    session.detach_judge()
    # Ctrl+C and the terminal belong to the screen: nothing here may draw on it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _quiet_stdio()
    sender = _Sender(items, session.key_states)
    pump = Pump(session.judged)
    started = threading.Event()
    if start:
        started.set()
    threading.Thread(
        target=_serve, args=(session, control, pump, started, sender), daemon=True
    ).start()
    while not started.wait(0.2):
        if pump.stop_event.is_set():
            return
    if pump.stop_event.is_set():
        return
    threading.Thread(target=_watch_keys, args=(pump, sender), daemon=True).start()

    def emit(batch: Batch) -> None:
        try:
            sender.send(batch)
        except OSError:  # the screen is gone
            pump.stop()
        pump.stop_event.wait(GATHER_SECONDS)

    pump.run(emit)


def _serve(
    session: Judged, control: Connection, pump: Pump, started: threading.Event, sender: _Sender
) -> None:
    """Answer the screen's requests in turn; stop the feed when its pipe closes."""
    while True:
        try:
            kind, *args = control.recv()
        except (EOFError, OSError):
            break
        try:
            value: object = None
            if kind == "start":
                started.set()
            elif kind == "profile":
                session.adopt_profile(args[0], args[1])
            elif kind == "refresh":
                value = (session.refresh_keys(), dict(session.key_states()))
            else:
                raise ValueError(f"unknown request {kind!r}")
            reply: tuple[str, object] = ("ok", value)
        except Exception as exc:  # a failed request is the screen's to report
            reply = ("error", problem_text(exc))
        try:
            control.send(reply)
        except OSError:
            break
    pump.stop()
    started.set()


def _watch_keys(pump: Pump, sender: _Sender) -> None:
    while not pump.stop_event.wait(KEY_STATE_SECONDS):
        try:
            sender.send_states_if_changed()
        except OSError:
            pump.stop()
            return


def _quiet_stdio() -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def can_fork() -> bool:
    """True when forking is safe here: the platform has it and no other thread runs."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
