"""Building ``LogRecord`` instances fast enough for the hot parsing loop.

``LogRecord`` is a frozen slots dataclass: its generated ``__init__`` stores each of its
twelve fields through ``object.__setattr__``, which costs about 1.3 µs per record, as much
as matching the whole line. ``_Unfrozen`` has the very same slots, so an instance can be
filled with plain attribute stores and then become a ``LogRecord`` by ``__class__``
assignment (about 0.3 µs). The result is indistinguishable from a normally built record
(equality, hashing, repr, ``dataclasses.replace``); ``tests/test_log_format.py`` checks that.

If ``LogRecord`` ever changes shape (fields added or renamed, a ``__post_init__``), the
check below falls back to the ordinary constructor instead of building broken records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from parsers.records import LogRecord, Source

_EXPECTED = (
    "source",
    "time",
    "remote_addr",
    "method",
    "path",
    "protocol",
    "status",
    "user_agent",
    "authorization",
    "fields",
    "truncated",
    "best_effort",
)


class _Unfrozen:
    __slots__ = _EXPECTED

    def __init__(
        self,
        source: Source,
        time: datetime | None,
        remote_addr: str | None,
        method: str | None,
        path: str | None,
        protocol: str | None,
        status: int | None,
        user_agent: str | None,
        authorization: str | None,
        fields: Mapping[str, str | None],
        truncated: bool,
        best_effort: bool,
    ) -> None:
        self.source = source
        self.time = time
        self.remote_addr = remote_addr
        self.method = method
        self.path = path
        self.protocol = protocol
        self.status = status
        self.user_agent = user_agent
        self.authorization = authorization
        self.fields = fields
        self.truncated = truncated
        self.best_effort = best_effort


def _fast(
    source: Source,
    time: datetime | None,
    remote_addr: str | None,
    method: str | None,
    path: str | None,
    protocol: str | None,
    status: int | None,
    user_agent: str | None,
    authorization: str | None,
    fields: Mapping[str, str | None],
    truncated: bool,
    best_effort: bool,
) -> LogRecord:
    record = _Unfrozen(
        source,
        time,
        remote_addr,
        method,
        path,
        protocol,
        status,
        user_agent,
        authorization,
        fields,
        truncated,
        best_effort,
    )
    record.__class__ = LogRecord  # type: ignore[assignment]
    return record  # type: ignore[return-value]


def _usable() -> bool:
    if tuple(f.name for f in dataclasses.fields(LogRecord)) != _EXPECTED:
        return False
    if getattr(LogRecord, "__slots__", None) != _EXPECTED or hasattr(LogRecord, "__post_init__"):
        return False
    try:
        probe = _fast(
            Source("-", 0, 0), None, None, None, None, None, None, None, None, {}, False, False
        )
    except TypeError:
        return False
    return probe == LogRecord(Source("-", 0, 0), None, None, None, None, None, None, None, None, {})


class _UnfrozenSource:
    __slots__ = ("file", "line", "offset")
    file: str
    line: int
    offset: int


def _source_usable() -> bool:
    if tuple(f.name for f in dataclasses.fields(Source)) != _UnfrozenSource.__slots__:
        return False
    if getattr(Source, "__slots__", None) != _UnfrozenSource.__slots__:
        return False
    if hasattr(Source, "__post_init__"):
        return False
    probe: Any = object.__new__(_UnfrozenSource)
    probe.file, probe.line, probe.offset = "-", 1, 2
    try:
        probe.__class__ = Source
    except TypeError:
        return False
    return bool(probe == Source("-", 1, 2))


# ``Source`` built the same way, for the bulk parser (one per kept line), or None.
SOURCE_SHELL: type[Any] | None = _UnfrozenSource if _source_usable() else None
# Same signature and result as calling LogRecord(...) with every field positionally.
new_record: Callable[..., LogRecord] = _fast if _usable() else LogRecord
# For inlined construction in hot loops: the shell class, or None to use LogRecord(...).
RECORD_SHELL: type[Any] | None = _Unfrozen if new_record is _fast else None
