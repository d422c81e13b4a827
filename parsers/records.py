"""Records produced by parsing one access-log line, shared by every consumer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Source:
    """Where a line came from: file path (``-`` for standard input), 1-based line, byte offset."""

    file: str
    line: int
    offset: int


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One access-log line parsed with the user's ``log_format``.

    Well-known fields are lifted out of ``fields`` so consumers need not know variable
    names; ``fields`` keeps every variable by name, with ``None`` where nginx logged ``-``.
    """

    source: Source
    time: datetime | None
    remote_addr: str | None
    method: str | None
    path: str | None
    protocol: str | None
    status: int | None
    user_agent: str | None
    authorization: str | None
    fields: Mapping[str, str | None] = field(default_factory=dict)
    truncated: bool = False
    # escape=none formats cannot be split unambiguously; values are a best effort.
    best_effort: bool = False


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A line that did not match its format: counted and inspectable, never raised.

    ``excerpt`` is redacted (bearer credentials replaced) and shortened, because the raw
    line is attacker-controlled and may carry a token.
    """

    source: Source
    reason: str
    excerpt: str
