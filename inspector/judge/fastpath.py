"""``scan --json``'s fast path: lines answered from match groups, and the JSON Lines writer.

With ``--json`` (without ``--show-token``) the bulk path answers most lines from match
groups: ``Answers`` keeps the JSON of each (Authorization, status, user agent) with the
time window over which ``Analyzer.analyze_window`` says it holds. ``JsonLines`` writes
the same text as ``json.dumps(attempt.as_dict())`` without re-encoding what repeats.
``tests/test_bulkscan.py`` holds the fast path and the record path to the same output,
byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from itertools import islice
from typing import Any

from inspector.judge.analyzer import DEFAULT_CACHE_SIZE, Analyzer, keys_pending
from inspector.judge.attempt import Attempt, TokenReport, redaction_of
from inspector.judge.verdicts import Outcome, Verdict
from inspector.logs import bulkscan
from inspector.schema_version import SCHEMA_VERSION
from parsers.nginx.log_format import split_request
from parsers.nginx.time import parse_msec, parse_time_iso8601, parse_time_local
from parsers.records import LogRecord, Source
from parsers.redaction import _CREDENTIAL_WORDS, _HINT_WORDS, _LONG_RUN


def is_attempt(record: LogRecord) -> bool:
    """A connector attempt: credentials were sent, or the server refused access."""
    return record.authorization is not None or record.status in (401, 403)


# json.dumps(value, default=str): given a keyword, json.dumps builds a new encoder on
# every call (a token report is encoded once per new token); this one is built once.
_DUMPS: Callable[[Any], str] = json.JSONEncoder(default=str).encode


def attempt_json(attempt: Attempt, *, show_token: bool, token: str | None) -> str:
    """One JSON Lines object (``Attempt.as_dict``), with ``token.raw`` only if asked."""
    doc = attempt.as_dict()
    if show_token and token is not None and doc.get("token") is not None:
        doc["token"]["raw"] = token
    return _DUMPS(doc)


# The encoder json.dumps itself uses for strings (ensure_ascii), so the text is identical.
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


# Lower-case words whose presence (any case) may make ``redact_text`` change ASCII text.
_QUIET_WORDS = tuple(dict.fromkeys(_CREDENTIAL_WORDS + _HINT_WORDS))


def is_quiet(text: str) -> bool:
    """True when ``redact_text(text)`` (opaque, log-line text) is ``text`` itself.

    A sufficient test, made of substring checks: the redaction's own tests run several
    case-insensitive patterns (about 4 us for a request path), and a log of unique
    request lines redacts a new path on almost every line. For ASCII text with no escape
    (``%``, backslash), no quote, fewer than two dots (no JWT), no credential or scheme
    word and no long random-looking run, no rule of ``redact_text`` applies. False says
    nothing: the caller redacts as usual.
    """
    if not text.isascii() or text.count(".") >= 2:
        return False
    if '"' in text or "%" in text or "\\" in text:
        return False
    lowered = text.lower()
    for word in _QUIET_WORDS:
        if word in lowered:
            return False
    return _LONG_RUN.search(text) is None


class JsonLines:
    """``attempt_json`` without re-encoding what repeats: the same object, same text.

    A token report (header, claims: most of each line) and most verdicts are shared by
    thousands of attempts; their JSON is encoded once. Entries keep their object alive,
    so an ``id`` in the cache always names the object it was computed for. Verdicts,
    short strings (addresses, paths, client names) and times are memoised by value.
    """

    MAX_ENTRIES = 8192
    # Per token (its report, its verdicts): as many as the analyzer keeps tokens.
    MAX_TOKENS = DEFAULT_CACHE_SIZE

    def __init__(self) -> None:
        self._tokens: dict[int, tuple[TokenReport, str]] = {}
        # By what the JSON shows (code, severity, message): claim verdicts are new
        # objects for every token, with the same text for most of them.
        self._verdicts: dict[tuple[str, str, str], str] = {}
        self._times: dict[tuple[datetime, tzinfo | None], str] = {}
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
            f'{{"schema_version": {SCHEMA_VERSION}, '
            f'"file": {self.string(rec.source.file)}, "line": {rec.source.line}, '
            f'"time": {time_text}, "remote_addr": {self.redacted(rec.remote_addr)}, '
            f"{self.request(rec.method, rec.path)}, "
        )
        self.rest_into(attempt, pieces)

    def rest_into(self, attempt: Attempt, pieces: list[str]) -> None:
        """Append the part of the line from ``"status"`` on (what the analysis decides)."""
        rec = attempt.record
        status = self._statuses.get(rec.status) or self._status(rec.status)
        # The client is a piece of its own: Answers keeps the rest per Authorization
        # and status, and the client per user agent.
        pieces.append(f'"status": {status}, "client": ')
        pieces.append(self.string(attempt.client))
        pieces.append(f', "subject": {self.claim(attempt.subject)}, "token": ')
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
        if value is not None and not claim and is_quiet(value):
            text = _string(value)
        else:
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
            # By the instant and its offset: datetimes of one instant in two zones are
            # equal (and hash alike), but each line shows its own offset.
            key = (when, when.tzinfo)
            text = self._times.get(key) or ""
            if not text:
                text = _string(when.isoformat())
                if len(self._times) >= self.MAX_ENTRIES:
                    self._times.clear()
                self._times[key] = text
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
        if len(self._tails) >= self.MAX_TOKENS:
            _drop_oldest(self._tails)
        self._tails[id(verdicts)] = (verdicts, outcome, text)
        return text

    def _token(self, report: TokenReport) -> str:
        hit = self._tokens.get(id(report))
        if hit is not None and hit[0] is report:
            return hit[1]
        text = _DUMPS(report.as_dict())
        if len(self._tokens) >= self.MAX_TOKENS:
            _drop_oldest(self._tokens)
        self._tokens[id(report)] = (report, text)
        return text

    def _verdict(self, verdict: Verdict) -> str:
        key = (verdict.code, verdict.severity.value, verdict.message)
        text = self._verdicts.get(key)
        if text is None:
            # json.dumps(verdict.as_dict()), member by member: an expired token's message
            # is new on every line (it names the seconds since exp).
            code, severity, message = key
            text = (
                f'{{"code": {_string(code)}, "severity": {_string(severity)}, '
                f'"message": {_string(message)}}}'
            )
            if len(self._verdicts) >= self.MAX_ENTRIES:
                self._verdicts.clear()
            self._verdicts[key] = text
        return text


# The variables the fast path reads, and the time variables in the order the parser picks
# its record's time from (LineParser._pick_time).
_FAST_FIELDS = ("http_authorization", "status", "http_user_agent", "remote_addr", "request")
_TIME_FIELDS: tuple[tuple[str, Callable[[str], datetime | None]], ...] = (
    ("time_local", parse_time_local),
    ("time_iso8601", parse_time_iso8601),
    ("msec", parse_msec),
)
_MEMO_LIMIT = 8192
# Answers per (Authorization, status, user agent): as many as the analyzer keeps tokens.
_HITS_LIMIT = DEFAULT_CACHE_SIZE


# A full memo forgets this share of its entries (the oldest) at once.
_DROP_SHARE = 16


def _drop_oldest(memo: dict[Any, Any]) -> None:
    """Forget the oldest sixteenth of ``memo`` (at least one entry; dicts keep insertion
    order).

    Emptying a full memo at once would recompute every entry still in use. One at a time
    is slow: a dict keeps a deleted entry's slot until it grows, and ``iter`` walks over
    every such slot to find the first live one, so with a million distinct tokens each
    eviction walked thousands of slots (about 15 us, three memos per token). In batches
    that walk is made once per batch.
    """
    for key in list(islice(memo, max(1, len(memo) // _DROP_SHARE))):
        del memo[key]


# What a time text stands for: (timestamp, JSON "time" value, before --since, datetime).
# A second spliced from its minute (Answers.next_second) leaves the datetime out (None):
# only a line judged afresh needs it, and parse_time_local gives it from the text.
_Moment = tuple[float, str, bool, datetime | None]
# The seconds of a $time_local text next_second splices: two ASCII digits below 60.
_SECONDS = {f"{second:02d}": second for second in range(60)}
_NO_TIME = timedelta(0)
# What quiet_path strips, and the characters and length of a _LONG_RUN run.
_DIGITS = "0123456789"
_RUN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=~"
_RUN_LENGTH = 32
# Characters at the end of an Authorization value that, with its length, find its entry.
_TAIL = 24


def _probe(text: str, begin: int, end: int) -> str | None:
    """The last characters of the group at ``[begin, end)`` (None: it did not take part)."""
    return None if begin < 0 else text[end - _TAIL if end - begin > _TAIL else begin : end]


class Answers:
    """``scan --json`` lines answered from match groups, without a record or an Attempt.

    ``Analyzer.analyze_window`` says over which times an analysis holds for every line
    with the same Authorization, status and user agent (all ``analyze`` reads besides the
    time); the user agent decides the client alone, so the encoded part of the JSON from
    ``"status"`` on is kept in two: the client per user agent, the rest per
    Authorization and status with that window (a new token is judged once per status,
    not once per status and client). A line whose key and user agent are known, whose
    time lies in the window and whose other raw values (time, request, address) were
    seen before is written from the groups; any other line is judged from its groups
    or takes the record path, which teaches the memos. Everything is keyed by raw group
    text: a record's fields are a function of those groups (an escaped value is
    unescaped the same way whatever line it is on). Only the address is written from
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
        # (last characters and length of the authorization, status) -> (authorization,
        # (start, end, JSON up to the client, JSON after the client, failed))
        self.hits: dict[
            tuple[str | None, int, str | None],
            tuple[str | None, tuple[float, float, bytes, bytes, bool]],
        ] = {}
        # user agent as logged -> the client's JSON string
        self.clients: dict[str | None, bytes] = {}
        self.times: dict[str | None, _Moment] = {}
        # $time_local without its seconds -> (timestamp and JSON text head and tail of
        # the minute's second 0, the first second not before --since): see next_second.
        self.minutes: dict[str, tuple[float, str, str, int]] = {}
        self.statuses: dict[str | None, int | None] = {}  # status text -> record status
        self.agents: dict[str, str | None] = {}  # escaped user agent -> record user agent
        self.requests: dict[str | None, str] = {}  # request line -> method and path members
        self.methods: dict[str, str] = {}  # method -> its member and the path's name
        # path without trailing digits -> (is_quiet, length of its closing _LONG_RUN run)
        self.quiet: dict[str, tuple[bool, int]] = {}
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
        learn_request = self.learn_request
        next_second = self.next_second
        learn_minute = self.learn_minute
        statuses_get = self.statuses.get
        agents_get = self.agents.get
        clients_get = self.clients.get
        analyzer = self.analyzer
        judge_all = self.judge_all

        read_clock: Callable[[str], datetime | None] = parse_time_local
        last_pattern: re.Pattern[str] | None = None
        last_names: tuple[int, ...] | None = None
        last_file: str | None = None
        file_text = "null"
        last_clock: str | None = None
        last_when: _Moment | None = None

        def answer(
            match: re.Match[str], file: str, line: int, offset: int, build: bulkscan.Builder
        ) -> bytes | None:
            nonlocal last_pattern, last_names, last_file, file_text, read_clock
            nonlocal last_clock, last_when
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
            found = hits_get((tail, end - begin, status))
            hit = None
            client = None
            if found is not None:
                auth, hit = found
                client = clients_get(agent)
                if client is None or (auth is not None and not text.startswith(auth, begin)):
                    hit = None
            if clock == last_clock:
                # The previous line's second (and pattern: a time text reads one way).
                when = last_when
            else:
                when = times_get(clock)
                if when is None and clock is not None:
                    # A new second: of a known minute, or read as the parser reads it
                    # (LineParser._pick_time).
                    when = next_second(clock) if read_clock is parse_time_local else None
                    if when is None:
                        moment = read_clock(clock)
                        if moment is not None:
                            when = learn_time(clock, moment)
                            if read_clock is parse_time_local:
                                learn_minute(clock, when)
                last_clock, last_when = clock, when
            members = requests_get(request)
            if members is None and (request is None or "\\" not in request):
                # A new request line without escapes: split as the parser splits it.
                members = learn_request(request)
            if when is None or members is None:
                if hit is None:
                    return None
                # A new request line (or time): the record says what the text means.
                built = build(match.string, match.start(), match.end(), match, file, line, offset)
                if not isinstance(built, LogRecord):
                    return None
                learn_line(match, built)
                when = times_get(clock)
                last_clock, last_when = clock, when
                members = requests_get(request)
                if when is None or members is None:
                    return None
            if addr is not None and "\\" in addr:
                return None
            if when[2]:
                return b""
            if file is not last_file:
                last_file, file_text = file, encoder.string(file)
            # JSON text is ASCII (ensure_ascii): the head encodes as it is.
            head = (
                f'{{"schema_version": {SCHEMA_VERSION}, '
                f'"file": {file_text}, "line": {line}, "time": {when[1]}, '
                f'"remote_addr": {redacted_get(addr) or redacted(addr)}, {members}, '
            ).encode("ascii")
            if hit is None or client is None or not hit[0] <= when[0] < hit[1]:
                rest = judge(match, file, line, offset, (begin, end), status, agent, when, clock)
                if not rest:
                    return rest
                self.given += 1
                return head + rest
            if hit[4]:
                self.any_error = True
            elif only_failures:
                return b""
            self.given += 1
            return b"".join((head, hit[2], client, hit[3]))

        def judge(
            match: re.Match[str],
            file: str,
            line: int,
            offset: int,
            span: tuple[int, int],
            status: str | None,
            agent: str | None,
            when: _Moment,
            clock: str | None,
        ) -> bytes | None:
            # A line whose analysis is not known (yet, or at this time): judged here
            # from what analyze reads (authorization, status, user agent, time) when
            # those groups are the field values as they are. Gives the JSON from
            # "status" on; b"" for a line that prints nothing, None for the record path.
            code = statuses_get(status)
            moment = when[3]
            if moment is None:
                # A spliced second (only ever of $time_local): the parser's own reading.
                moment = parse_time_local(clock or "")
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
                Source(file, line, offset), moment, None, None, None, None, code, agent, auth
            )
            if not judge_all and not is_attempt(record):
                return b""
            attempt, start, stop = analyzer.analyze_window(record, wait=False)
            if keys_pending(attempt):
                return None  # the record path sets it aside until its keys are here
            pieces: list[str] = []
            encoder.rest_into(attempt, pieces)
            rest = "".join(pieces)
            self.learn_answer(match, attempt, start, stop, pieces)
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

    def learn_request(self, request: str | None) -> str:
        """The method and path members of a request line without escapes (``None``: the
        line logged ``-``), split as the parser splits it for a record."""
        parts = None if request is None else request.split(" ")
        if parts is not None and len(parts) == 3 and self.quiet_path(parts[1]):
            # Three parts are what split_request gives as they are. A path unique to its
            # line (a query per request) is mostly quiet: its JSON text at once, without
            # filling the redaction memo with text that never comes back.
            method = parts[0]
            start = self.methods.get(method)
            if start is None:
                start = f'"method": {self.encoder.redacted(method)}, "path": '
                if len(self.methods) >= _MEMO_LIMIT:
                    self.methods.clear()
                self.methods[method] = start
            members = start + _string(parts[1])
        else:
            verb, path, _ = (None, None, None) if request is None else split_request(request)
            encoder = self.encoder
            path_text = _string(path) if path is not None and is_quiet(path) else None
            members = (
                encoder.request(verb, path)
                if path_text is None
                else f'"method": {encoder.redacted(verb)}, "path": {path_text}'
            )
        if len(self.requests) >= _MEMO_LIMIT:
            self.requests.clear()
        self.requests[request] = members
        return members

    def quiet_path(self, path: str) -> bool:
        """``is_quiet(path)``, remembered for the path without its trailing digits.

        Unique paths mostly differ in a trailing number (an id, a query value). Digits
        are ASCII, not a quote, escape or dot, and cannot join two letters into a word:
        the path is quiet when the rest is and the run of ``_LONG_RUN`` characters at
        the end of the rest, with the digits, stays below its length.
        """
        rest = path.rstrip(_DIGITS)
        known = self.quiet.get(rest)
        if known is None:
            known = (is_quiet(rest), len(rest) - len(rest.rstrip(_RUN_CHARS)))
            if len(self.quiet) >= _MEMO_LIMIT:
                self.quiet.clear()
            self.quiet[rest] = known
        return known[0] and known[1] + len(path) - len(rest) < _RUN_LENGTH

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

    def learn_minute(self, clock: str, moment: _Moment) -> None:
        """Remember the minute of a ``$time_local`` text and its moment, for next_second."""
        text = moment[1]
        if len(clock) != 26 or len(text) != 27 or text[17] != ":":
            return  # not the shape next_second rebuilds (a year past 9999, microseconds)
        when = moment[3]
        if when is None or text[18:20] != clock[18:20] or when.microsecond:
            return
        minute = when.replace(second=0)
        # The seconds s of this minute before --since: minute + s < since, that is s below
        # the exact (microsecond) distance rounded up. Datetimes compare exactly; floats
        # of far years would not.
        cut = 0
        if self.since is not None:
            gap = self.since - minute
            if gap > _NO_TIME:
                cut = min(61, gap.days * 86400 + gap.seconds + (gap.microseconds > 0))
        if len(self.minutes) >= _MEMO_LIMIT:
            self.minutes.clear()
        self.minutes[clock[:18] + clock[20:]] = (moment[0] - when.second, text[:18], text[20:], cut)

    def next_second(self, clock: str) -> _Moment | None:
        """The moment of a ``$time_local`` text whose minute is known, else None.

        Per-second timestamps make every line's time text new; parsing it and formatting
        its JSON costs more than the rest of a judged line. Only the seconds differ from
        the minute's: the same instant ``parse_time_local`` reads (two ASCII digits below
        60, which its ``int`` reads alike), the same ``isoformat`` text, spliced, and the
        same side of ``--since``. The datetime itself is left out (see ``_Moment``), and
        a second read once is not remembered: the minute gives it again as cheaply.
        """
        if len(clock) != 26:
            return None
        found = self.minutes.get(clock[:18] + clock[20:])
        if found is None:
            return None
        digits = clock[18:20]
        second = _SECONDS.get(digits)
        if second is None:
            return None
        stamp, head, tail, cut = found
        return (stamp + second, f"{head}{digits}{tail}", second < cut, None)

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
        rest: Sequence[str] | None = None,
    ) -> None:
        """Remember the analysis of a line for the times ``[start, stop)``.

        ``rest`` is its JSON from ``"status"`` on as ``JsonLines.rest_into`` gives it
        (pieces: up to the client, the client, the rest), when already encoded.
        """
        names = self.fields(match.re)
        if names is None or start >= stop:
            return
        begin, end = match.span(names[0])
        auth, status, agent = match.group(*names[:3])
        if auth is not None and auth == attempt.record.authorization:
            # The analyzer keys its entry by the record's string: one copy of a long
            # token, not two.
            auth = attempt.record.authorization
        key = (_probe(match.string, begin, end), end - begin, status)
        if rest is None:
            pieces: list[str] = []
            self.encoder.rest_into(attempt, pieces)
            rest = pieces
        clients = self.clients
        if agent not in clients:
            if len(clients) >= _MEMO_LIMIT:
                clients.clear()
            clients[agent] = rest[1].encode("ascii")
        hits = self.hits
        if len(hits) >= _HITS_LIMIT:
            _drop_oldest(hits)
        hits[key] = (
            auth,
            (
                start,
                stop,
                rest[0].encode("ascii"),
                "".join(rest[2:]).encode("ascii"),
                attempt.outcome is Outcome.FAIL,
            ),
        )
