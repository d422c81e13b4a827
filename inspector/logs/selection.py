"""Turning command-line flags and the config file into "which log files, parsed how".

Rules, first match wins:

* log files: ``LOG`` arguments, else ``[logs] paths`` in the config, else the access logs
  that nginx.conf writes with a format recording ``$http_authorization``;
* parser: ``--log-format STRING`` (with ``--escape``), else ``--format NAME`` looked up in
  nginx.conf, else the same two keys in ``[logs]``, else for each file the format
  nginx.conf assigns to it, else the one format that records the authorization header,
  else the reference ``extended`` format if the file's first lines match it, else
  ``combined`` (with a warning: it has no Authorization field); standard input, pipes
  and files with no lines yet try ``extended`` then ``combined`` on each line;
* nginx.conf: ``--nginx-conf``, else ``[logs] nginx_conf``, else ``nginx -V``, else
  ``/etc/nginx/nginx.conf``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from inspector.logs.follow import FollowEvent, Item, LogFollower, RawLine, StartAt
from inspector.logs.nginx_host import find_config_path, find_prefix
from inspector.settings import InspectorError, LogSettings
from parsers.nginx.conf import (
    COMBINED,
    EXTENDED,
    AccessLog,
    LogFormat,
    NginxConfig,
    NginxConfigError,
    parse_config,
)
from parsers.nginx.log_format import LineParser, compile_format, parse_log_format_string
from parsers.records import LogRecord, ParseFailure, Source

STDIN = "-"
AUTH_VARIABLE = "http_authorization"
# Tried on a file's first lines before falling back to ``combined`` when no configuration
# says how a file is written.
REFERENCE_EXTENDED = EXTENDED
SNIFF_LINES = 20
# How often a stoppable ``iter_records`` looks at its stop event while the logs are quiet.
STOP_CHECK_SECONDS = 0.25
# Marker for "try extended, then combined, per line" (see _EitherParser).
EITHER = LogFormat("extended-or-combined", "default", REFERENCE_EXTENDED.template)
POINT_AT_A_LOG = (
    "name the log file (token-inspector tail /var/log/nginx/extended.log), "
    "point at the configuration with --nginx-conf, or set [logs] paths in the config file"
)


class LogSelectionError(InspectorError):
    """No usable log or format; the message says what was looked at and how to fix it."""


@dataclass(frozen=True, slots=True)
class LogSelection:
    """The files to read and the parser for each (keyed by the path as given)."""

    paths: tuple[str, ...]
    parsers: Mapping[str, LineParser]
    format_name: str
    how: str  # "format 'extended' from /etc/nginx/nginx.conf line 12"
    looked_at: tuple[str, ...]  # files examined, for "can't find a log" messages
    warnings: tuple[str, ...] = ()


def start_from(logs: LogSettings, *, default: StartAt | None = None) -> StartAt:
    """``--from-start`` / ``--last N`` as a ``StartAt`` (``default`` or the end otherwise)."""
    if logs.from_start:
        return StartAt("start")
    last = logs.last
    if last is not None:
        if last < 0:
            raise LogSelectionError(f"--last {last}: the number of lines must be 0 or more")
        return StartAt("last", last)
    return default or StartAt("end")


def select_logs(logs: LogSettings) -> LogSelection:
    """Decide which files to read and with which ``log_format`` (see the module rules)."""
    paths = logs.paths
    template = logs.log_format
    escape = logs.escape or "default"
    format_name = None if template else logs.format
    finder = _ConfigFinder(logs.nginx_conf)

    if template:
        try:
            fmt = parse_log_format_string(template, escape=escape)
            if not fmt.variables:
                raise ValueError(f"{template.strip()!r} has no $variables: not a log_format")
            parser = compile_format(fmt)
        except ValueError as exc:
            raise LogSelectionError(f"--log-format: {exc}") from None
        if not paths:
            paths = _paths_from_config(finder.require(), lambda log: True)
        return LogSelection(
            paths=paths,
            parsers=dict.fromkeys(paths, parser),
            format_name=fmt.name,
            how=f"format given with --log-format (escape={fmt.escape})",
            looked_at=finder.looked_at(paths),
        )

    if format_name:
        nginx = finder.require()
        fmt_or_none = nginx.log_formats.get(format_name)
        if fmt_or_none is None:
            known = ", ".join(sorted(nginx.log_formats)) or "none"
            raise LogSelectionError(
                f"no log_format named {format_name!r} in {nginx.path} "
                f"(defined there: {known}); use --log-format to give the format itself"
            )
        parser = _compile(fmt_or_none)
        if not paths:
            paths = _paths_from_config(nginx, lambda log: log.format_name == format_name)
        return LogSelection(
            paths=paths,
            parsers=dict.fromkeys(paths, parser),
            format_name=format_name,
            how=_describe(fmt_or_none, nginx),
            looked_at=finder.looked_at(paths),
        )

    if not paths:
        nginx = finder.require()
        paths = _paths_from_config(
            nginx, lambda log: _records_authorization(nginx, log.format_name)
        )
        return _per_path_selection(paths, nginx, finder, ())

    nginx_or_none, problem = finder.optional()
    warnings = (problem,) if problem else ()
    return _per_path_selection(paths, nginx_or_none, finder, warnings)


def iter_records(
    selection: LogSelection,
    start: StartAt,
    follow: bool,
    poll: bool,
    *,
    poll_interval: float = 1.0,
    stop: threading.Event | None = None,
) -> Generator[LogRecord | ParseFailure | FollowEvent, None, None]:
    """Follow (or read once) the selected files and parse every line with its parser.

    Follow events pass through unchanged. When the follower could not afford to count
    lines (starting at the end of a big file) ``Source.line`` is 0, meaning unknown.
    Closing the iterator stops the follower and releases the files.

    ``stop`` lets another thread end the iteration (the live screen closing): within
    ``STOP_CHECK_SECONDS`` of it being set the follower stops reading, the lines it had
    already read are still parsed and yielded, then the iteration ends.
    """
    follower = LogFollower(
        selection.paths, start=start, follow=follow, poll=poll, poll_interval=poll_interval
    )
    parsers = selection.parsers
    try:
        for batch in _batches(follower, stop):
            for item in batch:
                if isinstance(item, RawLine):
                    source = Source(item.file, item.line or 0, item.offset)
                    yield parsers[item.file].parse(item.data, source, item.truncated)
                else:
                    yield item
    finally:
        follower.stop()


def _batches(follower: LogFollower, stop: threading.Event | None) -> Iterator[list[Item]]:
    """The follower's batches; with ``stop``, woken often enough to notice it."""
    if stop is None:
        yield from follower.batches()
        return
    # Reading once normally runs in the caller's thread, which cannot look at ``stop``
    # while it waits on a quiet pipe: a reader thread keeps this loop free to look.
    follower.start()
    while not follower.finished:
        if stop.is_set() and not follower.stopping.is_set():
            # Not joined here: the reader may be waiting for room in the queue this
            # loop empties. It ends after handing over what it has read.
            follower.stop(timeout=0)
        for batch in follower.batches(timeout=STOP_CHECK_SECONDS):
            yield batch
            if stop.is_set():
                break


# -- helpers ---------------------------------------------------------------------------------


class _ConfigFinder:
    """Finds and parses nginx.conf once, remembering what it looked at."""

    def __init__(self, explicit: Path | None) -> None:
        self.explicit = explicit
        self.examined: list[str] = []
        self._parsed: NginxConfig | None = None
        self._error: str | None = None
        self._done = False

    def _load(self) -> None:
        if self._done:
            return
        self._done = True
        path, how = find_config_path(self.explicit)
        self.examined.append(str(path))
        try:
            # Relative access_log paths live under nginx's prefix, not next to the file.
            self._parsed = parse_config(path, prefix=find_prefix(path))
        except NginxConfigError as exc:
            self._error = f"nginx configuration ({how}): {exc}"
        else:
            self.examined.extend(f for f in self._parsed.files if f not in self.examined)

    def require(self) -> NginxConfig:
        """The parsed configuration, or a ``LogSelectionError`` saying what to do."""
        self._load()
        if self._parsed is None:
            raise LogSelectionError(f"{self._error}; {POINT_AT_A_LOG}")
        return self._parsed

    def optional(self) -> tuple[NginxConfig | None, str | None]:
        """The configuration when readable; a failure is fatal only if it was asked for."""
        self._load()
        if self._parsed is None and self.explicit is not None:
            raise LogSelectionError(str(self._error))
        return self._parsed, None if self._parsed is not None else self._error

    def looked_at(self, paths: Sequence[str] = ()) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.examined, *paths]))


def _compile(fmt: LogFormat) -> LineParser:
    try:
        return compile_format(fmt)
    except ValueError as exc:
        where = f" ({fmt.file} line {fmt.line})" if fmt.file else ""
        raise LogSelectionError(f"log_format {fmt.name!r}{where}: {exc}") from None


def _records_authorization(nginx: NginxConfig, format_name: str) -> bool:
    fmt = nginx.log_formats.get(format_name)
    return fmt is not None and AUTH_VARIABLE in fmt.variables


def _paths_from_config(nginx: NginxConfig, wanted: Callable[[AccessLog], bool]) -> tuple[str, ...]:
    # Only logs nginx really writes: `access_log off` cancels its level's other logs.
    candidates = [log for log in nginx.effective_logs if not log.off and not log.syslog]
    chosen = [log for log in candidates if wanted(log) and "$" not in log.path]
    if not chosen:
        seen = (
            "; ".join(
                f"{log.path} ({log.format_name}, {log.file}:{log.line})" for log in candidates
            )
            or "no access_log at all"
        )
        formats = [n for n in nginx.log_formats if _records_authorization(nginx, n)]
        hint = (
            f"formats recording $http_authorization: {', '.join(formats)}"
            if formats
            else "no log_format records $http_authorization: add the extended format"
        )
        raise LogSelectionError(
            f"no access log in {nginx.path} records the Authorization header "
            f"(access logs seen: {seen}; {hint}); {POINT_AT_A_LOG}"
        )
    return tuple(dict.fromkeys(log.path for log in chosen))


def _per_path_selection(
    paths: tuple[str, ...],
    nginx: NginxConfig | None,
    finder: _ConfigFinder,
    warnings: tuple[str, ...],
) -> LogSelection:
    """Each path gets the format nginx.conf writes it with, else the authorization format."""
    assigned: dict[str, LogFormat] = {}
    fallback: LogFormat | None = None
    if nginx is not None:
        for log in nginx.access_logs:
            if log.off or log.syslog:
                continue
            fmt = nginx.log_formats.get(log.format_name)
            if fmt is not None:
                assigned.setdefault(_canonical(log.path), fmt)
        recording = [f for f in nginx.log_formats.values() if AUTH_VARIABLE in f.variables]
        if len(recording) == 1:
            fallback = recording[0]
    chosen: dict[str, LogFormat] = {}
    notes = list(warnings)
    for path in paths:
        fmt = assigned.get(_canonical(path)) if path != STDIN else None
        if fmt is None:
            fmt = fallback
        if fmt is None:
            fmt, note = _guess_format(path)
            notes.append(note)
        chosen[path] = fmt
    compiled: dict[str, LineParser] = {}
    by_format: dict[str, LineParser] = {}
    for path, fmt in chosen.items():
        key = f"{fmt.name}\0{fmt.escape}\0{fmt.template}"
        if key not in by_format:
            by_format[key] = _EitherParser() if fmt is EITHER else _compile(fmt)
        compiled[path] = by_format[key]
    names = sorted({fmt.name for fmt in chosen.values()})
    if len(names) == 1:
        how = _describe(next(iter(chosen.values())), nginx)
    else:
        how = "; ".join(f"{p}: {_describe(f, nginx)}" for p, f in chosen.items())
    return LogSelection(
        paths=paths,
        parsers=compiled,
        format_name=names[0] if len(names) == 1 else ",".join(names),
        how=how,
        looked_at=finder.looked_at(paths),
        warnings=tuple(notes),
    )


def _guess_format(path: str) -> tuple[LogFormat, str]:
    """A format for a file no configuration describes, and a note saying how it was chosen."""
    verdict = _sniff(path, REFERENCE_EXTENDED)
    if verdict is True:
        return REFERENCE_EXTENDED, (
            f"{path}: no nginx configuration names its format; its first lines match "
            "the reference 'extended' format, so that is used"
        )
    if verdict is False:
        return COMBINED, (
            f"{path}: no format known for this file, using 'combined', which has no "
            "Authorization field; give --format NAME or --log-format STRING"
        )
    return EITHER, (
        f"{path}: no format known; each line is tried with the reference 'extended' "
        "format, then 'combined'; give --format NAME or --log-format STRING to be sure"
    )


def _sniff(path: str, fmt: LogFormat) -> bool | None:
    """Whether most of the file's first complete lines parse with ``fmt``; None if no lines.

    Pipes and standard input are not looked at: reading them here would steal lines.
    """
    if path == STDIN or not Path(path).is_file():
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_LINES * 4096)
    except OSError:
        return None
    lines = [line for line in head.split(b"\n")[:-1][:SNIFF_LINES] if line.strip()]
    if not lines:
        return None
    parser = compile_format(fmt)
    good = sum(
        isinstance(parser.parse(line, Source(path, n, 0)), LogRecord)
        for n, line in enumerate(lines, 1)
    )
    return good * 2 > len(lines)


class _EitherParser(LineParser):
    """The reference ``extended`` format, falling back to ``combined`` line by line.

    For input that cannot be looked at in advance (standard input, a file not written yet)
    when nothing says how it is written. The two formats never match the same line.
    """

    def __init__(self) -> None:
        super().__init__(REFERENCE_EXTENDED)
        extended = compile_format(REFERENCE_EXTENDED).parse
        combined = compile_format(COMBINED).parse

        def parse(
            data: bytes | str, source: Source, truncated: bool = False
        ) -> LogRecord | ParseFailure:
            first = extended(data, source, truncated)
            if isinstance(first, LogRecord):
                return first
            second = combined(data, source, truncated)
            return second if isinstance(second, LogRecord) else first

        # LineParser binds ``parse`` per instance for speed, so an override has to be too.
        object.__setattr__(self, "parse", parse)


def _canonical(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return path


def _describe(fmt: LogFormat, nginx: NginxConfig | None) -> str:
    if fmt.file is not None:
        return f"format {fmt.name!r} from {fmt.file} line {fmt.line}"
    if fmt is COMBINED:
        return "nginx's built-in 'combined' format"
    if fmt is REFERENCE_EXTENDED:
        return "the reference 'extended' format (recognised from the file's first lines)"
    if fmt is EITHER:
        return "the reference 'extended' format, else 'combined', line by line"
    return f"format {fmt.name!r}" + (f" from {nginx.path}" if nginx is not None else "")
