"""``token-inspector scan [LOG ...]``: read logs once and judge every connector attempt.

An attempt is a line with an Authorization header or a 401/403 status (``--all``: every
line). ``--json`` prints one JSON object per attempt (JSON Lines); otherwise a report
grouped by cause. Exit status: 0 when no attempt has an error verdict, 1 when one has,
2 on usage or I/O errors.

Regular files are read by ``inspector.logs.bulkscan`` (block parsing, records only for
attempts, big files split over the CPUs by forked workers); standard input, pipes, gzip
files and ``--last`` go through ``iter_records``. With ``--json`` (without
``--show-token``) the bulk path answers most lines from match groups: ``_Answers`` keeps
the JSON of each (Authorization, status, user agent) with the time window over which
``Analyzer.analyze_window`` says it holds. ``tests/test_bulkscan.py`` holds the two paths
to the same output, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import IO, Any, TextIO

from inspector.cli.options import (
    add_config_option,
    add_expectation_options,
    add_key_options,
    add_log_selection,
    add_output_options,
)
from inspector.cli.report import ScanReport
from inspector.judge.analyzer import Analyzer, keys_pending
from inspector.judge.attempt import Attempt, TokenReport, redaction_of
from inspector.judge.engine import build_analyzer
from inspector.judge.rules import printable, quoted
from inspector.judge.verdicts import Outcome, Verdict
from inspector.logs import bulkscan
from inspector.logs.follow import FollowEvent, StartAt
from inspector.logs.selection import LogSelectionError, iter_records, select_logs, start_from_args
from inspector.settings import ConfigError, load_config
from parsers.authorization import parse_authorization
from parsers.nginx.log_format import LineParser
from parsers.nginx.time import parse_msec, parse_time_iso8601, parse_time_local
from parsers.records import LogRecord, ParseFailure, Source

EPILOG = """\
An attempt is a line with an Authorization header or a 401/403 status.
--since takes an ISO 8601 time (2026-03-01T12:00, local time without an offset) or a
relative one (30s, 10m, 2h, 1d). Verdict codes: docs/verdicts.md.
Exit status: 0 no attempt has an error verdict, 1 one has, 2 usage or I/O error."""

_RELATIVE = re.compile(r"\s*(\d+)\s*([smhdw])\s*", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def register(subparsers: Any) -> None:
    """Add the ``scan`` sub-command."""
    parser = subparsers.add_parser(
        "scan",
        help="judge every connector attempt in access logs",
        description="Read nginx access logs once, decode and verify every bearer token,\n"
        "and say why ORDS accepts or rejects each attempt.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_log_selection(parser)
    parser.add_argument("--all", action="store_true", help="judge every line, not only attempts")
    parser.add_argument(
        "--only-failures", action="store_true", help="show only attempts with an error verdict"
    )
    parser.add_argument("--since", metavar="TIME", help="skip lines before TIME (ISO or 10m/2h/1d)")
    add_key_options(parser)
    add_expectation_options(parser)
    add_config_option(parser)
    add_output_options(parser)
    parser.set_defaults(func=run)


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``10m``/``2h``/``1d``/``1w`` before ``now``, or an ISO 8601 time (naive = local)."""
    match = _RELATIVE.fullmatch(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return (now or datetime.now(UTC)) - timedelta(seconds=amount * _UNITS[unit])
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--since {value!r}: not an ISO 8601 time or a relative time like 10m, 2h, 1d"
        ) from None
    return when if when.tzinfo else when.astimezone()


def is_attempt(record: LogRecord) -> bool:
    """A connector attempt: credentials were sent, or the server refused access."""
    return record.authorization is not None or record.status in (401, 403)


def attempt_json(attempt: Attempt, *, show_token: bool, token: str | None) -> str:
    """One JSON Lines object (``Attempt.as_dict``), with ``token.raw`` only if asked."""
    doc = attempt.as_dict()
    if show_token and token is not None and doc.get("token") is not None:
        doc["token"]["raw"] = token
    return json.dumps(doc, default=str)


# The encoder json.dumps itself uses for strings (ensure_ascii), so the text is identical.
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


class JsonLines:
    """``attempt_json`` without re-encoding what repeats: the same object, same text.

    A token report (header, claims: most of each line) and most verdicts are shared by
    thousands of attempts; their JSON is encoded once. Entries keep their object alive,
    so an ``id`` in the cache always names the object it was computed for. Short strings
    (addresses, paths, client names) and times are memoised by value.
    """

    MAX_ENTRIES = 8192

    def __init__(self) -> None:
        self._tokens: dict[int, tuple[TokenReport, str]] = {}
        self._verdicts: dict[int, tuple[Verdict, str]] = {}
        self._times: dict[datetime, str] = {}
        self._tails: dict[int, tuple[tuple[Verdict, ...], Outcome, str]] = {}
        self._strings: dict[str | None, str] = {None: "null"}
        # Free text from the log line and claim text, after redaction_of (what
        # Attempt.as_dict applies to each): two memos, as the two are redacted apart.
        self._redacted: dict[str | None, str] = {None: "null"}
        self._claims: dict[str | None, str] = {None: "null"}
        self._statuses: dict[int | None, str] = {None: "null"}
        self._last_time: datetime | None = None
        self._last_time_text = "null"

    def encode(self, attempt: Attempt) -> str:
        """The same text as ``json.dumps(attempt.as_dict())``."""
        pieces: list[str] = []
        self.encode_into(attempt, pieces)
        return "".join(pieces)[:-1]

    def encode_into(self, attempt: Attempt, pieces: list[str]) -> None:
        """Append the JSON line for ``attempt`` (newline included) to ``pieces``.

        The long shared part goes in as its own piece, so joining the pieces is the only
        copy made of it.
        """
        rec = attempt.record
        when = rec.time
        time_text = self._last_time_text if when is self._last_time else self._time(when)
        pieces.append(
            f'{{"file": {self.string(rec.source.file)}, "line": {rec.source.line}, '
            f'"time": {time_text}, "remote_addr": {self.redacted(rec.remote_addr)}, '
            f"{self.request(rec.method, rec.path)}, "
        )
        self.rest_into(attempt, pieces)

    def rest_into(self, attempt: Attempt, pieces: list[str]) -> None:
        """Append the part of the line from ``"status"`` on (what the analysis decides)."""
        rec = attempt.record
        status = self._statuses.get(rec.status) or self._status(rec.status)
        pieces.append(
            f'"status": {status}, "client": {self.string(attempt.client)}, '
            f'"subject": {self.claim(attempt.subject)}, "token": '
        )
        report = attempt.token
        if report is None:
            pieces.append("null")
        else:
            hit = self._tokens.get(id(report))
            pieces.append(hit[1] if hit is not None and hit[0] is report else self._token(report))
        pieces.append(self._tail(attempt))

    def time_text(self, when: datetime | None) -> str:
        """The JSON value of ``"time"`` for a record's time."""
        return self._last_time_text if when is self._last_time else self._time(when)

    def string(self, value: str | None) -> str:
        """``value`` as a JSON string (or null), memoised."""
        return self._strings.get(value) or self._string(value)

    def redacted(self, value: str | None) -> str:
        """``redaction_of(value)`` as a JSON string (or null), memoised by ``value``."""
        return self._redacted.get(value) or self._redact(value, self._redacted, claim=False)

    def claim(self, value: str | None) -> str:
        """``redaction_of(value, claim=True)`` as a JSON string (or null), memoised."""
        return self._claims.get(value) or self._redact(value, self._claims, claim=True)

    def request(self, method: str | None, path: str | None) -> str:
        """The ``"method": …, "path": …`` members, both redacted as ``as_dict`` does."""
        return f'"method": {self.redacted(method)}, "path": {self.redacted(path)}'

    def _string(self, value: str | None) -> str:
        text = _nullable(value)
        if len(self._strings) >= self.MAX_ENTRIES:
            self._strings.clear()
            self._strings[None] = "null"
        if value is not None and len(value) <= 512:
            self._strings[value] = text
        return text

    def _redact(self, value: str | None, memo: dict[str | None, str], *, claim: bool) -> str:
        text = _nullable(redaction_of(value, claim=claim))
        if len(memo) >= self.MAX_ENTRIES:
            memo.clear()
            memo[None] = "null"
        if value is not None and len(value) <= 512:
            memo[value] = text
        return text

    def _status(self, status: int | None) -> str:
        text = "null" if status is None else str(status)
        if len(self._statuses) < self.MAX_ENTRIES:
            self._statuses[status] = text
        return text

    def _time(self, when: datetime | None) -> str:
        if when is None:
            text = "null"
        else:
            text = self._times.get(when) or ""
            if not text:
                text = _string(when.isoformat())
                if len(self._times) >= self.MAX_ENTRIES:
                    self._times.clear()
                self._times[when] = text
        self._last_time, self._last_time_text = when, text
        return text

    def _tail(self, attempt: Attempt) -> str:
        # Verdicts and outcome: the same objects (hence text) on most lines.
        verdicts, outcome = attempt.verdicts, attempt.outcome
        hit = self._tails.get(id(verdicts))
        if hit is not None and hit[0] is verdicts and hit[1] is outcome:
            return hit[2]
        listed = ", ".join([self._verdict(v) for v in verdicts])
        text = f', "verdicts": [{listed}], "outcome": "{outcome.value}"}}\n'
        if len(self._tails) >= self.MAX_ENTRIES:
            self._tails.clear()
        self._tails[id(verdicts)] = (verdicts, outcome, text)
        return text

    def _token(self, report: TokenReport) -> str:
        hit = self._tokens.get(id(report))
        if hit is not None and hit[0] is report:
            return hit[1]
        text = json.dumps(report.as_dict(), default=str)
        if len(self._tokens) >= self.MAX_ENTRIES:
            self._tokens.clear()
        self._tokens[id(report)] = (report, text)
        return text

    def _verdict(self, verdict: Verdict) -> str:
        hit = self._verdicts.get(id(verdict))
        if hit is not None and hit[0] is verdict:
            return hit[1]
        text = json.dumps(verdict.as_dict())
        if len(self._verdicts) >= self.MAX_ENTRIES:
            self._verdicts.clear()
        self._verdicts[id(verdict)] = (verdict, text)
        return text


def run(args: argparse.Namespace) -> int:
    """Entry point for the command line."""
    return scan(args, sys.stdout, sys.stderr)


# The variables the fast path reads, and the time variables in the order the parser picks
# its record's time from (LineParser._pick_time).
_FAST_FIELDS = ("http_authorization", "status", "http_user_agent", "remote_addr", "request")
_TIME_FIELDS: tuple[tuple[str, Callable[[str], datetime | None]], ...] = (
    ("time_local", parse_time_local),
    ("time_iso8601", parse_time_iso8601),
    ("msec", parse_msec),
)
_MEMO_LIMIT = 8192
# Lines set aside while their issuer's keys are fetched, at most; then they are judged
# waiting for the keys.
MAX_WAITING = 10_000
# What a time text stands for: (timestamp, JSON "time" value, before --since, datetime).
_Moment = tuple[float, str, bool, datetime]
# Characters at the end of an Authorization value that, with its length, find its entry.
_TAIL = 24


def _probe(text: str, begin: int, end: int) -> str | None:
    """The last characters of the group at ``[begin, end)`` (None: it did not take part)."""
    return None if begin < 0 else text[end - _TAIL if end - begin > _TAIL else begin : end]


class _Answers:
    """``scan --json`` lines answered from match groups, without a record or an Attempt.

    ``Analyzer.analyze_window`` says over which times an analysis holds for every line
    with the same Authorization, status and user agent (all ``analyze`` reads besides the
    time); the encoded part of the JSON from ``"status"`` on is kept per such key with
    that window. A line whose key is known, whose time lies in the window and whose other
    raw values (time, request, address) were seen before is written from the groups; any
    other line takes the record path, which teaches the memos. Everything is keyed by
    raw group text: a record's fields are a function of those groups (an escaped value
    is unescaped the same way whatever line it is on). Only the address is written from
    its group as it is, so a line whose address holds an escape takes the record path.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        encoder: JsonLines,
        since: datetime | None,
        only_failures: bool,
        judge_all: bool,
    ) -> None:
        self.analyzer = analyzer
        self.encoder = encoder
        self.since = since
        self.only_failures = only_failures
        self.judge_all = judge_all
        # (last characters and length of the authorization, status, user agent) ->
        # (authorization, (start, end, encoded rest, failed))
        self.hits: dict[
            tuple[str | None, int, str | None, str | None],
            tuple[str | None, tuple[float, float, bytes, bool]],
        ] = {}
        self.times: dict[str | None, _Moment] = {}
        self.statuses: dict[str | None, int | None] = {}  # status text -> record status
        self.agents: dict[str, str | None] = {}  # escaped user agent -> record user agent
        self.requests: dict[str | None, str] = {}  # request line -> method and path members
        self.names: dict[re.Pattern[str], tuple[int, ...] | None] = {}
        self.any_error = False
        # Output pieces answer() gave since the last take (each is one item).
        self.given = 0  # an answered line had an error verdict

    def fields(self, pattern: re.Pattern[str]) -> tuple[int, ...] | None:
        """The group numbers to read, or None when the format lacks one of them."""
        if pattern in self.names:
            return self.names[pattern]
        groups = pattern.groupindex
        clock = next((name for name, _ in _TIME_FIELDS if name in groups), None)
        names = (
            tuple(groups[name] for name in (*_FAST_FIELDS, clock))
            if clock is not None and all(name in groups for name in _FAST_FIELDS)
            else None
        )
        self.names[pattern] = names
        return names

    def bind(self) -> bulkscan.Answer:
        """``answer(match, file, line, offset, build)`` for ``bulkscan`` (an ``Answer``).

        Gives the line's JSON when the memos know it, else None. A line before
        ``--since``, or without an error under ``--only-failures``, gives b"" (nothing
        written). A closure over the memos: it runs for most lines of a log.
        """
        hits_get = self.hits.get
        times_get = self.times.get
        requests_get = self.requests.get
        encoder = self.encoder
        redacted_get = encoder._redacted.get
        redacted = encoder.redacted
        only_failures = self.only_failures
        fields = self.fields
        learn_line = self.learn_line
        learn_time = self.learn_time
        statuses_get = self.statuses.get
        agents_get = self.agents.get
        analyzer = self.analyzer
        judge_all = self.judge_all

        read_clock: Callable[[str], datetime | None] = parse_time_local
        last_pattern: re.Pattern[str] | None = None
        last_names: tuple[int, ...] | None = None
        last_file: str | None = None
        file_text = "null"

        def answer(
            match: re.Match[str], file: str, line: int, offset: int, build: bulkscan.Builder
        ) -> bytes | None:
            nonlocal last_pattern, last_names, last_file, file_text, read_clock
            if match.re is not last_pattern:
                last_pattern, last_names = match.re, fields(match.re)
                if last_names is not None:
                    read_clock = self.clock_reader(match.re)
            if last_names is None:
                return None
            # The Authorization value is long: it is found by its length and last
            # characters, then compared in place, rather than copied out and hashed.
            begin, end = match.span(last_names[0])
            text = match.string
            status, agent, addr, request, clock = match.group(*last_names[1:])
            # _probe, inline.
            tail = None if begin < 0 else text[end - _TAIL if end - begin > _TAIL else begin : end]
            found = hits_get((tail, end - begin, status, agent))
            hit = None
            if found is not None:
                auth, hit = found
                if auth is not None and not text.startswith(auth, begin):
                    hit = None
            when = times_get(clock)
            if when is None and clock is not None:
                # A new second: read as the parser reads it (LineParser._pick_time).
                moment = read_clock(clock)
                if moment is not None:
                    when = learn_time(clock, moment)
            members = requests_get(request)
            if when is None or members is None:
                if hit is None:
                    return None
                # A new request line (or time): the record says what the text means.
                built = build(match.string, match.start(), match.end(), match, file, line, offset)
                if not isinstance(built, LogRecord):
                    return None
                learn_line(match, built)
                when = times_get(clock)
                members = requests_get(request)
                if when is None or members is None:
                    return None
            if addr is not None and "\\" in addr:
                return None
            if when[2]:
                return b""
            if file is not last_file:
                last_file, file_text = file, encoder.string(file)
            if hit is None or not hit[0] <= when[0] < hit[1]:
                rest = judge(match, file, line, offset, (begin, end), status, agent, when)
                if not rest:
                    return rest
            elif hit[3]:
                self.any_error = True
                rest = hit[2]
            elif only_failures:
                return b""
            else:
                rest = hit[2]
            # JSON text is ASCII (ensure_ascii): the head encodes as it is.
            head = (
                f'{{"file": {file_text}, "line": {line}, "time": {when[1]}, '
                f'"remote_addr": {redacted_get(addr) or redacted(addr)}, {members}, '
            )
            self.given += 1
            return head.encode("ascii") + rest

        def judge(
            match: re.Match[str],
            file: str,
            line: int,
            offset: int,
            span: tuple[int, int],
            status: str | None,
            agent: str | None,
            when: _Moment,
        ) -> bytes | None:
            # A line whose analysis is not known (yet, or at this time): judged here
            # from what analyze reads (authorization, status, user agent, time) when
            # those groups are the field values as they are. Gives the JSON from
            # "status" on; b"" for a line that prints nothing, None for the record path.
            code = statuses_get(status)
            auth = None if span[0] < 0 else match.string[span[0] : span[1]]
            if agent is not None and "\\" in agent:
                agent = agents_get(agent, "\\")  # unescaped as a record had it
            if (
                (code is None and status is not None)
                or (auth is not None and "\\" in auth)
                or (agent is not None and "\\" in agent)
            ):
                return None
            record = LogRecord(
                Source(file, line, offset), when[3], None, None, None, None, code, agent, auth
            )
            if not judge_all and not is_attempt(record):
                return b""
            attempt, start, stop = analyzer.analyze_window(record, wait=False)
            if keys_pending(attempt):
                return None  # the record path sets it aside until its keys are here
            pieces: list[str] = []
            encoder.rest_into(attempt, pieces)
            rest = "".join(pieces)
            self.learn_answer(match, attempt, start, stop, rest)
            if attempt.outcome is Outcome.FAIL:
                self.any_error = True
            elif only_failures:
                return b""
            return rest.encode("ascii")

        return answer

    def learn_line(self, match: re.Match[str], record: LogRecord) -> None:
        """Remember the time and request of a line made into ``record``."""
        names = self.fields(match.re)
        if names is None:
            return
        clock, request = match.group(names[5], names[4])
        if record.time is not None and clock not in self.times:
            self.learn_time(clock, record.time)
        status, agent = match.group(names[1], names[2])
        if status not in self.statuses and len(self.statuses) < _MEMO_LIMIT:
            self.statuses[status] = record.status
        if agent is not None and "\\" in agent and agent not in self.agents:
            if len(self.agents) >= _MEMO_LIMIT:
                self.agents.clear()
            self.agents[agent] = record.user_agent
        if request not in self.requests:
            if len(self.requests) >= _MEMO_LIMIT:
                self.requests.clear()
            self.requests[request] = self.encoder.request(record.method, record.path)

    def learn_time(self, clock: str | None, when: datetime) -> _Moment:
        """Remember what the time text ``clock`` stands for."""
        if len(self.times) >= _MEMO_LIMIT:
            self.times.clear()
        found = self.times[clock] = (
            when.timestamp(),
            self.encoder.time_text(when),
            self.since is not None and when < self.since,
            when,
        )
        return found

    def clock_reader(self, pattern: re.Pattern[str]) -> Callable[[str], datetime | None]:
        """How the parser makes a record's time from the time variable's text."""
        groups = pattern.groupindex
        return next(conv for name, conv in _TIME_FIELDS if name in groups)

    def learn_answer(
        self,
        match: re.Match[str],
        attempt: Attempt,
        start: float,
        stop: float,
        rest: str | None = None,
    ) -> None:
        """Remember the analysis of a line for the times ``[start, stop)``.

        ``rest`` is its JSON from ``"status"`` on, when already encoded.
        """
        names = self.fields(match.re)
        if names is None or start >= stop:
            return
        begin, end = match.span(names[0])
        auth, status, agent = match.group(*names[:3])
        key = (_probe(match.string, begin, end), end - begin, status, agent)
        if rest is None:
            pieces: list[str] = []
            self.encoder.rest_into(attempt, pieces)
            rest = "".join(pieces)
        if len(self.hits) >= _MEMO_LIMIT:
            self.hits.clear()
        self.hits[key] = (
            auth,
            (start, stop, rest.encode("ascii"), attempt.outcome is Outcome.FAIL),
        )


class _Judge:
    """What ``scan`` does with each parsed line; one per process when a file is split.

    ``take`` receives lines already counted elsewhere (``lines``) with the records and
    failures among them; records that are not attempts are skipped here whichever path
    read them, so both paths apply the very same rules. Lines handed over as
    ``bulkscan.Matched`` are answered by ``_Answers`` when it can (``--json`` without
    ``--show-token``), else made into records.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        args: argparse.Namespace,
        since: datetime | None,
        report: ScanReport,
        write: Callable[[list[bytes]], None],
    ) -> None:
        self.analyzer = analyzer
        self.since = since
        self.report = report
        self.write = write
        self.judge_all: bool = args.all
        self.only_failures: bool = args.only_failures
        self.as_json: bool = args.json
        self.show_token: bool = args.show_token
        self.encoder = JsonLines()
        self.answers = (
            _Answers(analyzer, self.encoder, since, self.only_failures, self.judge_all)
            if self.as_json and not self.show_token
            else None
        )
        # What bulkscan calls for each kept line before handing it over.
        self.answer: bulkscan.Answer | None = None if self.answers is None else self.answers.bind()
        self._any_error = False
        # Lines whose issuer's keys were being fetched: judged when a fetch completes
        # (the key store's count moves), when too many wait, or at the end (finish).
        self.waiting: list[LogRecord] = []
        self._completed: int | None = None

    @property
    def any_error(self) -> bool:
        """Whether an attempt judged here had an error verdict."""
        return self._any_error or (self.answers is not None and self.answers.any_error)

    @any_error.setter
    def any_error(self, value: bool) -> None:
        self._any_error = value

    def take(
        self,
        items: Sequence[LogRecord | ParseFailure | bulkscan.Matched | bytes],
        lines: int,
        *,
        wait: bool = False,
    ) -> None:
        """Judge ``items``, the records and failures among ``lines`` lines just read.

        A ``bytes`` item is the output of a line ``answer`` took care of. A line whose
        issuer's keys are still being fetched is set aside (``waiting``) and judged
        later, so one slow issuer never holds the lines of the others; ``wait=True``
        waits for the keys instead (each fetch ends by its deadline).
        """
        report = self.report
        report.lines += lines
        judge_all, only_failures, since = self.judge_all, self.only_failures, self.since
        as_json, show_token = self.as_json, self.show_token
        analyzer = self.analyzer
        analyze = analyzer.analyze
        encode_into = self.encoder.encode_into
        answers = self.answers
        if answers is not None:
            given, answers.given = answers.given, 0
            if given and given == len(items):
                # Every item is an answered line's output (the usual block).
                self.write(items)  # type: ignore[arg-type]
                if self.waiting:
                    self._settle()
                return
        pieces: list[bytes] = []
        text: list[str] = []
        for item in items:
            if type(item) is bytes:
                pieces.append(item)
                continue
            lazy: re.Match[str] | None = None
            if isinstance(item, bulkscan.Matched):
                built = item.record()
                if isinstance(built, ParseFailure):
                    report.add_failure(built)
                    continue
                lazy, item = item.match, built
                if answers is not None:
                    answers.learn_line(lazy, built)
            if isinstance(item, LogRecord):
                if not judge_all and not is_attempt(item):
                    continue
                if since is not None and item.time is not None and item.time < since:
                    continue
                window: tuple[float, float] | None = None
                if lazy is not None and answers is not None:
                    attempt, start, end = analyzer.analyze_window(item, wait=wait)
                    window = (start, end)
                else:
                    attempt = analyze(item, wait=wait)
                report_of = attempt.token
                if report_of is not None and report_of.verified is None and keys_pending(attempt):
                    self.waiting.append(item)
                    continue
                # FAIL is exactly "an error verdict holds" (outcome_of).
                failed = attempt.outcome is Outcome.FAIL
                if failed:
                    self.any_error = True
                elif only_failures:
                    if lazy is not None and answers is not None and window is not None:
                        answers.learn_answer(lazy, attempt, *window)
                    continue
                if not as_json:
                    report.add(attempt)
                elif show_token:
                    token = _credential(item.authorization)
                    line = attempt_json(attempt, show_token=True, token=token) + "\n"
                    pieces.append(line.encode("utf-8"))
                else:
                    encode_into(attempt, text)
                    pieces.append("".join(text).encode("utf-8"))
                    if lazy is not None and answers is not None and window is not None:
                        # encode_into's first piece is the head; the rest is the key's.
                        answers.learn_answer(lazy, attempt, *window, "".join(text[1:]))
                    text.clear()
            elif isinstance(item, ParseFailure):
                report.add_failure(item)
        if pieces:
            self.write(pieces)
        if self.waiting:
            self._settle()

    def _settle(self) -> None:
        """Judge the waiting lines again when a key fetch has completed since last time.

        Lines still waiting stay aside; when too many wait, they are judged waiting for
        their keys (bounded by the fetches' deadlines), which bounds the memory held.
        """
        completed = getattr(self.analyzer.keys, "completed", None)
        crowded = len(self.waiting) >= MAX_WAITING
        if completed == self._completed and not crowded:
            return
        self._completed = completed
        waiting, self.waiting = self.waiting, []
        self.take(waiting, 0, wait=crowded)

    def finish(self) -> None:
        """Judge every line still waiting for keys, as each fetch completes.

        Lines whose keys came are written first, whatever the others wait for; each
        fetch ends by its deadline. Should no fetch complete in time (it always does),
        the rest are judged waiting for their keys.
        """
        keys = self.analyzer.keys
        wait_for_fetch = getattr(keys, "wait_for_fetch", None)
        patience = float(getattr(keys, "issuer_deadline", 10.0)) + 5.0
        while self.waiting:
            moved = wait_for_fetch is not None and wait_for_fetch(self._completed, patience)
            self._completed = getattr(keys, "completed", None)
            waiting, self.waiting = self.waiting, []
            self.take(waiting, 0, wait=not moved)


class _Workers:
    """``bulkscan.Worker`` for ``scan``: each forked worker judges its range with a copy
    of the analyzer (its caches as they were at the fork) and returns its report."""

    def __init__(
        self, judge: _Judge, args: argparse.Namespace, files: set[str], out: TextIO
    ) -> None:
        self.judge = judge
        self.args = args
        self.files = files
        self.out = out

    def part(self, output: IO[str]) -> _Judge:
        # A keep-alive connection inherited from the parent must never carry requests
        # from two processes, and the parent's fetching threads do not exist here: the
        # worker fetches keys (if it must) on its own session (address checks and
        # deadlines included), under locks of its own.
        after_fork = getattr(getattr(self.judge.analyzer, "keys", None), "after_fork", None)
        if after_fork is not None:
            after_fork()
        return _Judge(
            self.judge.analyzer,
            self.args,
            self.judge.since,
            ScanReport(files=set(self.files)),
            _byte_writer(output),
        )

    def result(self, part: bulkscan.Part) -> tuple[ScanReport, bool]:
        assert isinstance(part, _Judge)
        part.finish()
        return part.report, part.any_error

    def absorb(self, result: tuple[ScanReport, bool], output: IO[bytes]) -> None:
        report, any_error = result
        self.judge.report.merge(report)
        self.judge.any_error = self.judge.any_error or any_error
        bulkscan.copy_output(output, self.out)


# What parse_block must keep for scan: lines ``is_attempt`` may accept.
_ATTEMPTS = bulkscan.Selection(present=("http_authorization",), statuses=("401", "403"))
_EVERY_LINE = bulkscan.Selection(present=None)


def scan(
    args: argparse.Namespace, out: TextIO, err: TextIO, *, processes: int | None = None
) -> int:
    """Scan with parsed ``args``, writing results to ``out`` and problems to ``err``.

    Regular files are read by ``inspector.logs.bulkscan`` (big files on every CPU, or on
    ``processes`` of them); standard input, pipes, gzip files and ``--last`` go through
    ``iter_records``. Both give the same output.
    """
    try:
        config = load_config(args.config, explicit=args.config is not None)
        analyzer = build_analyzer(config, args)
        since = parse_since(args.since) if args.since else None
        selection = select_logs(args, config)
        start = start_from_args(args, default=StartAt("start"))
    except (ConfigError, LogSelectionError, ValueError, OSError) as exc:
        err.write(f"token-inspector scan: {exc}\n")
        return 2
    for warning in selection.warnings:
        err.write(f"token-inspector scan: warning: {warning}\n")
    report = ScanReport(files=set(selection.paths))
    io_error = False
    judge = _Judge(analyzer, args, since, report, _byte_writer(out))
    workers = _Workers(judge, args, set(selection.paths), out)
    keep = replace(_EVERY_LINE if args.all else _ATTEMPTS, lazy=judge.answers is not None)
    generic: list[str] = []

    def read_generic() -> None:
        nonlocal io_error
        if not generic:
            return
        part = replace(selection, paths=tuple(generic))
        generic.clear()
        for item in iter_records(part, start, follow=False, poll=bool(args.poll)):
            if isinstance(item, LogRecord | ParseFailure):
                judge.take((item,), 1)
            elif isinstance(item, FollowEvent) and item.kind in ("error", "permission"):
                io_error = True
                err.write(f"token-inspector scan: {item.message}\n")

    for path in selection.paths:
        parser = selection.parsers[path]
        # Exactly a LineParser: subclasses (the extended-or-combined guesser) parse lines
        # their own way, which parse_block does not know.
        if start.mode != "start" or type(parser) is not LineParser:
            generic.append(path)
            continue
        if not bulkscan.readable_once(path):
            generic.append(path)
            continue
        read_generic()
        try:
            problems = bulkscan.scan_file(
                path,
                parser,
                judge,
                keep,
                # Workers hand their output over in a temporary file: never raw tokens.
                worker=None if args.show_token else workers,
                processes=processes,
            )
        except OSError:
            # Could not open it after all: the generic path says why, in its words.
            generic.append(path)
            continue
        for problem in problems:
            io_error = True
            err.write(f"token-inspector scan: {problem}\n")
    read_generic()
    judge.finish()
    _report_stalled(analyzer, err)
    if not args.json:
        report.render(out, only_failures=args.only_failures)
    elif report.failures:
        err.write(
            f"token-inspector scan: {sum(report.failures.values())} lines did not match the "
            f"log format ({selection.how})\n"
        )
    out.flush()
    if io_error:
        return 2
    return 1 if judge.any_error else 0


def _report_stalled(analyzer: Analyzer, err: TextIO) -> None:
    """One line per issuer whose keys were given up at the deadline (its lines say why)."""
    state = getattr(analyzer.keys, "state", None)
    if state is None:
        return
    for name, value in state().items():
        if getattr(value, "timed_out", False):
            err.write(
                f"token-inspector scan: gave up fetching the keys of {quoted(name)}: "
                f"{printable(value.detail or 'no answer', 200)}\n"
            )


def _byte_writer(out: IO[str]) -> Callable[[list[bytes]], None]:
    """A writer of UTF-8 pieces to ``out``: straight to its file descriptor when it has
    one and an ASCII-compatible encoding (no join, no re-encoding), else as text."""
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    try:
        direct = encoding in ("utf8", "ascii", "usascii") and hasattr(os, "writev")
        fd = out.fileno() if direct else None
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None:

        def write_text(pieces: list[bytes]) -> None:
            out.write(b"".join(pieces).decode("utf-8"))

        return write_text

    def write_fd(pieces: list[bytes]) -> None:
        out.flush()  # whatever went through the text layer comes first
        bulkscan.write_all(fd, pieces)

    return write_fd


def _credential(authorization: str | None) -> str | None:
    return parse_authorization(authorization).credentials
