"""The ``scan`` engine: judge every connector attempt in the logs selected, once.

Regular files are read by ``inspector.logs.bulkscan`` (block parsing, records only for
attempts, big files split over the CPUs by forked workers); standard input, pipes, gzip
files and ``--last`` go through ``iter_records``. With ``--json`` (without
``--show-token``) the bulk path answers most lines from match groups
(``inspector.judge.fastpath``). Both paths give the same output.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, TextIO

from inspector.judge.analyzer import Analyzer, keys_pending
from inspector.judge.fastpath import Answers, JsonLines, attempt_json, is_attempt
from inspector.judge.rules import printable, quoted
from inspector.judge.tally import ScanReport
from inspector.judge.verdicts import Outcome
from inspector.logs import bulkscan
from inspector.logs.follow import FollowEvent, StartAt
from inspector.logs.selection import LogSelection, iter_records
from parsers.authorization import parse_authorization
from parsers.nginx.log_format import LineParser
from parsers.records import LogRecord, ParseFailure

# Lines set aside while their issuer's keys are fetched, at most; then they are judged
# waiting for the keys.
MAX_WAITING = 10_000


@dataclass(frozen=True)
class ScanOptions:
    """What ``scan``'s flags ask of the engine."""

    judge_all: bool = False  # --all: every line, not only attempts
    only_failures: bool = False
    as_json: bool = False
    show_token: bool = False
    since: datetime | None = None  # skip lines before
    poll: bool = False  # read non-regular files by polling (iter_records)


@dataclass(frozen=True)
class ScanResult:
    """How a scan went: an error verdict was seen, an input could not be read."""

    any_error: bool
    io_error: bool


class _Judge:
    """What ``scan`` does with each parsed line; one per process when a file is split.

    ``take`` receives lines already counted elsewhere (``lines``) with the records and
    failures among them; records that are not attempts are skipped here whichever path
    read them, so both paths apply the very same rules. Lines handed over as
    ``bulkscan.Matched`` are answered by ``Answers`` when it can (``--json`` without
    ``--show-token``), else made into records.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        options: ScanOptions,
        report: ScanReport,
        write: Callable[[list[bytes]], None],
        *,
        caches: _Judge | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.options = options
        self.since = options.since
        self.report = report
        self.write = write
        self.judge_all = options.judge_all
        self.only_failures = options.only_failures
        self.as_json = options.as_json
        self.show_token = options.show_token
        # ``caches``: a judge of the same scan whose memos (JSON text, answered lines)
        # this one shares; they depend on nothing but the values they are keyed by.
        self.encoder: JsonLines = JsonLines() if caches is None else caches.encoder
        self.answers: Answers | None = (
            None
            if not self.as_json or self.show_token
            else Answers(analyzer, self.encoder, self.since, self.only_failures, self.judge_all)
            if caches is None or caches.answers is None
            else caches.answers
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
                        answers.learn_answer(lazy, attempt, *window, text[1:])
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

    def __init__(self, judge: _Judge, options: ScanOptions, files: set[str], out: TextIO) -> None:
        self.judge = judge
        self.options = options
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
        # The parent's memos as they were at the fork (warmed by ``warmer``'s part).
        return _Judge(
            self.judge.analyzer,
            self.options,
            ScanReport(files=set(self.files)),
            _byte_writer(output),
            caches=self.judge,
        )

    def warmer(self) -> _Warmer:
        """A part judging the lines several ranges share before the workers are forked:
        the parent's caches (analyzer, JSON memos) learn each such token once and every
        worker inherits them. It writes nothing and counts nothing."""
        return _Warmer(
            _Judge(self.judge.analyzer, self.options, ScanReport(), _discard, caches=self.judge)
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


def _discard(pieces: list[bytes]) -> None:
    del pieces


class _Warmer:
    """``bulkscan.Part`` that judges lines only for what the shared caches learn.

    The lines are real lines of the file, judged again in their place: an error verdict
    found here is not counted (``any_error`` stays as it was), lines whose keys are being
    fetched are not kept waiting, and nothing is written or added to the scan's report.
    """

    def __init__(self, judge: _Judge) -> None:
        self.judge = judge
        self.answer = judge.answer
        # Warming comes before any line of the scan: whatever it sets, this is restored.
        self.before = judge.answers is not None and judge.answers.any_error

    def take(self, items: bulkscan.Items, lines: int) -> None:
        """Judge ``items`` into the caches and forget the rest."""
        answers = self.judge.answers
        # Answers.any_error is shared with the scan's judge; answer() may have set it
        # while these lines were parsed (before this call).
        self.judge.take(items, lines)
        self.judge.waiting.clear()
        if answers is not None:
            answers.any_error = self.before


# What parse_block must keep for scan: lines ``is_attempt`` may accept.
_ATTEMPTS = bulkscan.Selection(present=("http_authorization",), statuses=("401", "403"))
_EVERY_LINE = bulkscan.Selection(present=None)


def scan_logs(
    analyzer: Analyzer,
    selection: LogSelection,
    start: StartAt,
    options: ScanOptions,
    report: ScanReport,
    out: TextIO,
    err: TextIO,
    *,
    processes: int | None = None,
) -> ScanResult:
    """Judge the lines of ``selection``, counting in ``report``, JSON lines to ``out``.

    Regular files are read by ``inspector.logs.bulkscan`` (big files on every CPU, or on
    ``processes`` of them); standard input, pipes, gzip files and ``--last`` go through
    ``iter_records``. Both give the same output. Read errors and issuers given up go to
    ``err``, one line each.
    """
    io_error = False
    judge = _Judge(analyzer, options, report, _byte_writer(out))
    workers = _Workers(judge, options, set(selection.paths), out)
    keep = replace(_EVERY_LINE if options.judge_all else _ATTEMPTS, lazy=judge.answers is not None)
    generic: list[str] = []

    def read_generic() -> None:
        nonlocal io_error
        if not generic:
            return
        part = replace(selection, paths=tuple(generic))
        generic.clear()
        for item in iter_records(part, start, follow=False, poll=options.poll):
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
                worker=None if options.show_token else workers,
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
    return ScanResult(any_error=judge.any_error, io_error=io_error)


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
