"""Access-log lines parsed with the user's own ``log_format``, and written back the same way.

A format is compiled once into a single anchored regex with one named group per variable,
and a parse function generated for it (``parsers/nginx/line_codegen.py``), so parsing a line is
one ``fullmatch`` plus a ``groupdict``; values are unescaped only when the line contains a
backslash at all. nginx's "no value" (``-``; empty with ``escape=json``/``none``) is
folded into the regex as an alternative in front of each group, so absent values come
out as ``None`` without a Python loop over the fields.

How fields are delimited, per variable:

- inside quotes (the literal before ends with ``"`` and the one after starts with ``"``):
  everything up to the next ``"`` (with ``default`` escaping nginx writes a ``"`` inside a
  value as ``\\x22``, so the first real quote ends the field);
- variables with a fixed shape (``$time_local``, ``$status``, ``$msec``...): that shape;
- bare variables that often hold spaces (headers, ``$request``, ``$upstream_*``): the
  shortest text after which the rest of the line still matches -- but only one such
  "lazy" field per stretch of the format between quotes (see ``LineParser._take_lazy``);
- other bare variables: up to the first character of the following literal;
- the last variable: the rest of the line.

A variable used twice must hold the same text both times (a back-reference); a line
where they differ is a ``ParseFailure``. ``escape=none`` formats cannot be split
unambiguously: their records carry ``best_effort=True``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Protocol

from parsers.nginx.conf import (
    ESCAPE_MODES,
    LogFormat,
    NginxConfigError,
    parse_config_text,
    template_problem,
)
from parsers.nginx.escape import escape, unescape_default, unescape_json
from parsers.nginx.line_codegen import ParsePlan, build_parsers
from parsers.nginx.model import template_aliases, variable_name
from parsers.nginx.record_builder import RECORD_SHELL, SOURCE_SHELL
from parsers.nginx.time import parse_msec, parse_time_iso8601, parse_time_local
from parsers.records import LogRecord, ParseFailure, Source
from parsers.redaction import redact_text

EXCERPT_CHARS = 200
_CACHE_LIMIT = 4096
_STATUS = {str(code): code for code in range(100, 600)}
# Which values most often carry escapes (UTF-8, quotes): checked first when unescaping.
_ESCAPE_LIKELIHOOD = {
    name: rank
    for rank, name in enumerate(("http_user_agent", "http_referer", "request", "request_uri"))
}
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")

# Fixed shapes of nginx's own variables: non-empty patterns, "-" is added separately.
_SHAPES: dict[str, tuple[str, str]] = {
    "time_local": (
        # Spelled out: "\d\d" runs measurably faster than "\d{2}" in CPython's re.
        r"\d\d/[A-Z][a-z][a-z]/\d\d\d\d:\d\d:\d\d:\d\d [+-]\d\d\d\d",
        "a [dd/Mon/yyyy:hh:mm:ss +zzzz] time",
    ),
    "time_iso8601": (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)",
        "an ISO 8601 time",
    ),
    "msec": (r"\d+\.\d+", "seconds with milliseconds"),
    "request_time": (r"\d+\.\d+", "seconds with milliseconds"),
    "status": (r"\d{3}", "a 3-digit status"),
    "body_bytes_sent": (r"\d+", "a number"),
    "bytes_sent": (r"\d+", "a number"),
    "request_length": (r"\d+", "a number"),
    "connection": (r"\d+", "a number"),
    "connection_requests": (r"\d+", "a number"),
    "pid": (r"\d+", "a number"),
    "remote_port": (r"\d+", "a number"),
    "server_port": (r"\d+", "a number"),
    "pipe": (r"[p.]", "'p' or '.'"),
}
# Bare occurrences of these may hold spaces ("GET / HTTP/1.1", "1.2.3.4, 5.6.7.8").
_SPACEY_NAMES = frozenset({"request", "request_body", "remote_user", "args", "query_string"})
_SPACEY_PREFIXES = ("http_", "sent_http_", "upstream_", "sent_trailer_")


def _spacey(name: str) -> bool:
    return name in _SPACEY_NAMES or name.startswith(_SPACEY_PREFIXES)


def split_template(template: str) -> list[str | tuple[str]]:
    """The template as literals (``str``) and variables (``(name,)``), names lower-cased.

    The safe token log's variable comes back as ``http_authorization`` (``variable_name``)
    unless the template records ``$http_authorization`` itself: then the header as sent is
    the token and the safe variable keeps its own name (``template_aliases``).
    """
    out: list[str | tuple[str]] = []
    pos = 0
    aliases = template_aliases(template)
    for match in _VARIABLE.finditer(template):
        if match.start() > pos:
            out.append(template[pos : match.start()])
        out.append((variable_name(match.group(1) or match.group(2), aliases),))
        pos = match.end()
    if pos < len(template):
        out.append(template[pos:])
    return out


class _ParseFn(Protocol):
    def __call__(
        self, data: bytes | str, source: Source, truncated: bool = False
    ) -> LogRecord | ParseFailure: ...


class LineParser:
    """A compiled ``log_format``: ``parse`` lines into records, ``render`` values into lines.

    ``parse(data, source, truncated=False) -> LogRecord | ParseFailure`` parses one line
    (bytes or str, with or without its newline) and never raises: a line that does not
    match gives a ``ParseFailure`` with a reason naming the column and a redacted excerpt.
    ``truncated`` (the reader cut an over-long line) is carried to the result.
    ``variables`` lists the format's variables (lower case, first use order).
    """

    def __init__(self, fmt: LogFormat) -> None:
        if fmt.escape not in ESCAPE_MODES:
            raise ValueError(f"unknown escape mode {fmt.escape!r} (default, json or none)")
        problem = template_problem(fmt.template)
        if problem:
            raise ValueError(problem)
        self.format = fmt
        self.escape = fmt.escape
        self.best_effort = fmt.escape == "none"
        self._elements = split_template(fmt.template)
        self._parts: list[tuple[str, str, str]] = []  # (regex, kind, display) per element
        self._groups: dict[str, str] = {}  # variable name -> regex group name
        self._build()
        self.variables: tuple[str, ...] = tuple(self._groups)
        self.pattern = "".join(part for part, _, _ in self._parts)
        # ASCII: nginx writes ASCII digits, and "\d" is faster without Unicode tables.
        self._fullmatch = re.compile(self.pattern, re.DOTALL | re.ASCII).fullmatch
        self._renames = {g: n for n, g in self._groups.items() if g != n}
        self._prefixes: dict[int, re.Pattern[str]] = {}
        self._unescape: Callable[[str], str] | None = {
            "default": unescape_default,
            "json": unescape_json,
            "none": None,
        }[fmt.escape]
        self._missing = "-" if fmt.escape == "default" else ""
        self.parse: _ParseFn = self._compile_parse()

    # -- compilation -----------------------------------------------------------------------

    def _build(self) -> None:
        elements = self._elements
        self._segment = 0
        self._lazy_segment = -1
        for index, element in enumerate(elements):
            if isinstance(element, str):
                self._parts.append((re.escape(element), "literal", element))
                if '"' in element and self.escape != "none":
                    self._segment += 1
                continue
            name = element[0]
            before = elements[index - 1] if index > 0 else None
            after = elements[index + 1] if index + 1 < len(elements) else None
            self._parts.append(self._variable_part(name, before, after))

    def _variable_part(
        self, name: str, before: str | tuple[str] | None, after: str | tuple[str] | None
    ) -> tuple[str, str, str]:
        empty_is_none = self.escape != "default"
        if name in self._groups:
            group = self._groups[name]
            dash = "-?" if empty_is_none else "-"
            return f"(?({group})(?P={group})|{dash})", "repeat", f"${name} (same as before)"
        group = name if name.isidentifier() else f"_v{len(self._groups)}"
        self._groups[name] = group
        quoted = (
            isinstance(before, str)
            and before.endswith('"')
            and isinstance(after, str)
            and after.startswith('"')
        )
        value, expect = self._value_pattern(name, quoted, after)
        if empty_is_none:
            return f"(?:-|(?P<{group}>{value}))?", "var", f"${name} ({expect})"
        return f"(?:-|(?P<{group}>{value}))", "var", f"${name} ({expect})"

    def _value_pattern(
        self, name: str, quoted: bool, after: str | tuple[str] | None
    ) -> tuple[str, str]:
        """A regex for the value itself (non-empty in json/none modes) and its description."""
        plus = "+" if self.escape != "default" else "*"
        if name in _SHAPES:
            return _SHAPES[name]
        if after is None:
            return f".{plus}", "the rest of the line"
        delimiter = after[0] if isinstance(after, str) else None
        wants_lazy = _spacey(name) or delimiter is None
        if self.escape == "none":
            if (quoted or wants_lazy) and self._take_lazy():
                return f".{plus}?", "any text"
            stop = re.escape(delimiter or " ")
            return f"[^{stop}]{plus}", f"text without {delimiter or ' '!r}"
        if self.escape == "json":
            if not quoted and wants_lazy and self._take_lazy():
                return r'(?:[^"\\]|\\.)+?', "JSON-escaped text"
            stop = '"\\\\' if quoted or delimiter is None else re.escape(delimiter) + '"\\\\'
            # Unrolled (a|b)* loop: fast, and never steps over an escaped quote. Possessive
            # ("*+") because giving characters back could never let the next literal match.
            return (
                f"(?:[^{stop}]|\\\\.)[^{stop}]*+(?:\\\\.[^{stop}]*+)*+",
                "JSON-escaped text",
            )
        if quoted:
            return f'[^"]{plus}+', "text up to the closing quote"
        if wants_lazy and self._take_lazy():
            return f'[^"]{plus}?', "text"
        stop = re.escape(delimiter or " ")
        return f'[^{stop}"]{plus}+', f"text without {delimiter or ' '!r}"

    def _take_lazy(self) -> bool:
        """Whether this field may use a lazy (backtracking) pattern.

        Two lazy fields that can reach each other make matching a failing line polynomial
        in its length (an attacker-sized 64 KiB user agent would take minutes), and nginx's
        output for them is ambiguous anyway. So only one lazy field is allowed per stretch
        of the format between quotes (a lazy default or json field cannot cross a raw
        quote), and only one in an ``escape=none`` format (whose fields can hold quotes).
        The others are taken to hold no delimiter.
        """
        if self._lazy_segment == self._segment:
            return False
        self._lazy_segment = self._segment
        return True

    def _pick_time(self) -> tuple[str | None, Callable[[str], datetime | None]]:
        for name, conv in (
            ("time_local", parse_time_local),
            ("time_iso8601", parse_time_iso8601),
            ("msec", parse_msec),
        ):
            if name in self._groups:
                return name, conv
        return None, parse_time_local

    # -- parsing ---------------------------------------------------------------------------

    def _compile_parse(self) -> _ParseFn:
        """The per-line function, generated for this format (see ``parsers/line_codegen``).

        Conversions that repeat across lines (the time of the previous line, request
        lines, escaped user agents) are memoised in bounded dicts.
        """
        groups = self._groups
        time_key, time_conv = self._pick_time()
        # Shaped variables (digits, times) never hold a backslash: skip them when unescaping.
        escapable = tuple(
            sorted(
                ((name, group) for name, group in groups.items() if name not in _SHAPES),
                key=lambda pair: _ESCAPE_LIKELIHOOD.get(pair[0], len(_ESCAPE_LIKELIHOOD)),
            )
        )
        plan = ParsePlan(
            groups=dict(groups),
            time_key=time_key,
            escapable=escapable,
            unescape=self._unescape is not None,
            renamed=bool(self._renames),
            fast_records=RECORD_SHELL is not None,
            best_effort=self.best_effort,
            fast_sources=SOURCE_SHELL is not None,
        )
        env = {
            "fullmatch": self._fullmatch,
            "failure": self._failure,
            "internal_failure": _internal_failure,
            "renames": self._renames,
            "escapable": escapable,
            "unescape": self._unescape,
            "unescaped": {},
            "requests": {},
            "CACHE_LIMIT": _CACHE_LIMIT,
            "time_conv": time_conv,
            "split_request": split_request,
            "status_codes": _STATUS,
            "to_status": _status,
            "new_shell": object.__new__,
            "shell": RECORD_SHELL,
            "source_shell": SOURCE_SHELL,
            "Source": Source,
            "LogRecord": LogRecord,
        }
        parse, from_match = build_parsers(plan, self.format.name, env)
        self._from_match: Callable[..., LogRecord | ParseFailure] = from_match
        typed: _ParseFn = parse
        self._generated: _ParseFn = typed
        return typed

    # -- bulk parsing ----------------------------------------------------------------------

    def parse_block(
        self,
        text: str,
        file: str,
        line: int,
        offset: int,
        out: list[LogRecord | ParseFailure],
        *,
        present: Collection[str] | None = None,
        statuses: Collection[str] = (),
        max_line: int = 64 * 1024,
    ) -> int:
        """Parse every line of ``text`` (ASCII; lines end with ``\\n``, the last may not).

        Appends to ``out`` what ``parse`` would give for each line, numbered from ``line``
        at byte ``offset`` on, but only for lines that matter: every failure, and the
        records of lines where one of the ``present`` variables has a value or
        ``$status`` is one of ``statuses`` (every record when ``present`` is None). A
        line longer than ``max_line`` is cut there and parsed as ``truncated``, as the
        line splitter does. Returns the number of lines. ASCII only, so that character
        positions are byte offsets; callers send other text through ``parse``.
        """
        if self.parse is not self._generated:
            # A parser whose ``parse`` was replaced (the extended-or-combined guesser)
            # decides line by line itself.
            return self._parse_lines(text, file, line, offset, out, max_line)
        groups = self._groups
        wanted = (
            None if present is None else tuple(groups[name] for name in present if name in groups)
        )
        status_group = groups.get("status") if statuses else None
        statuses = frozenset(statuses)
        # The usual case, one variable ($http_authorization) and $status, in one call.
        pair = (
            (wanted[0], status_group)
            if wanted is not None and len(wanted) == 1 and status_group is not None
            else None
        )
        fullmatch = self._fullmatch
        build = self._from_match
        parse = self.parse
        find = text.find
        append = out.append
        end = len(text)
        pos = 0
        first = line
        while pos < end:
            stop = find("\n", pos)
            if stop < 0:
                stop = end
            if stop - pos > max_line:
                append(parse(text[pos : pos + max_line], Source(file, line, offset + pos), True))
            else:
                match = fullmatch(text, pos, stop)
                if match is None:
                    append(parse(text[pos:stop], Source(file, line, offset + pos)))
                else:
                    if pair is not None:
                        value, status = match.group(*pair)
                        keep = value is not None or status in statuses
                    elif wanted is None:
                        keep = True
                    else:
                        keep = any(match[group] is not None for group in wanted) or (
                            status_group is not None and match[status_group] in statuses
                        )
                    if keep:
                        append(build(text, pos, stop, match, file, line, offset + pos))
            line += 1
            pos = stop + 1
        return line - first

    def _parse_lines(
        self,
        text: str,
        file: str,
        line: int,
        offset: int,
        out: list[LogRecord | ParseFailure],
        max_line: int,
    ) -> int:
        first = line
        pos = 0
        end = len(text)
        while pos < end:
            stop = text.find("\n", pos)
            if stop < 0:
                stop = end
            source = Source(file, line, offset + pos)
            if stop - pos > max_line:
                out.append(self.parse(text[pos : pos + max_line], source, True))
            else:
                out.append(self.parse(text[pos:stop], source))
            line += 1
            pos = stop + 1
        return line - first

    # -- failures --------------------------------------------------------------------------

    def _failure(self, text: str, source: Source, truncated: bool) -> ParseFailure:
        reason = self.explain(text)
        if truncated:
            reason = f"line cut at the length limit; {reason}"
        return ParseFailure(source, reason, _excerpt(text))

    def explain(self, text: str) -> str:
        """Why ``text`` does not match: the first element that fails, and its column."""
        if not text:
            return "empty line"
        # Matching a prefix of the elements is monotonic: binary search the longest one.
        low, high = 0, len(self._parts)
        end = 0
        while low < high:
            mid = (low + high + 1) // 2
            match = self._prefix(mid).match(text)
            if match is None:
                high = mid - 1
            else:
                low = mid
                end = match.end()
        if low > 0:
            end_match = self._prefix(low).match(text)
            end = end_match.end() if end_match else end
        after = self._describe_before(low)
        if low == len(self._parts):
            return f"unexpected text {after} at column {end + 1}"
        _, kind, display = self._parts[low]
        if kind == "literal":
            shown = display if len(display) <= 20 else display[:20] + "…"
            return f"expected {shown!r} {after} at column {end + 1}"
        return f"expected {display} {after} at column {end + 1}"

    def _describe_before(self, index: int) -> str:
        if index == 0:
            return "at the start of the line"
        _, kind, display = self._parts[index - 1]
        if kind == "literal":
            shown = display if len(display) <= 20 else "…" + display[-20:]
            return f"after {shown!r}"
        return f"after {display.split(' ', 1)[0]}"

    def _prefix(self, count: int) -> re.Pattern[str]:
        compiled = self._prefixes.get(count)
        if compiled is None:
            compiled = re.compile(
                "".join(p for p, _, _ in self._parts[:count]), re.DOTALL | re.ASCII
            )
            self._prefixes[count] = compiled
        return compiled

    # -- rendering -------------------------------------------------------------------------

    def render(self, values: Mapping[str, str | None]) -> str:
        """Write a line (without newline) the way nginx would for these variable values.

        Escaping follows the format's mode; a value that is ``None`` or not given is written
        as nginx writes a missing variable: ``-`` (``default``) or empty (``json``, ``none``).
        """
        out: list[str] = []
        for element in self._elements:
            if isinstance(element, str):
                out.append(element)
                continue
            value = values.get(element[0])
            out.append(self._missing if value is None else escape(value, self.escape))
        return "".join(out)


def _internal_failure(data: bytes | str, source: Source, exc: Exception) -> ParseFailure:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return ParseFailure(source, f"internal parser error ({type(exc).__name__})", _excerpt(text))


def _status(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 6 else None


def split_request(request: str) -> tuple[str | None, str | None, str | None]:
    """``GET /path HTTP/1.1`` -> (method, path, protocol); missing parts are None.

    A request line nginx could not parse (a TLS handshake on a plain port, garbage) has no
    method: it yields (None, None, None).
    """
    parts = request.split(" ")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2 and parts[0].isalpha():
        return parts[0], parts[1], None  # HTTP/0.9 style
    if len(parts) > 3 and parts[-1].startswith("HTTP/"):
        return parts[0], " ".join(parts[1:-1]), parts[-1]
    return None, None, None


def _excerpt(text: str) -> str:
    """A safe, short view of a raw line: credentials redacted, control characters escaped."""
    # Redact first: cutting first could leave a token too short to be recognised.
    shown = redact_text(text[: EXCERPT_CHARS * 20])
    shown = "".join(
        c if c.isprintable() else f"\\x{ord(c):02x}" for c in shown[: EXCERPT_CHARS * 2]
    )
    return shown[:EXCERPT_CHARS] + "…" if len(shown) > EXCERPT_CHARS else shown


def compile_format(fmt: LogFormat) -> LineParser:
    """Compile a ``LogFormat`` into a ``LineParser`` (raises ``ValueError`` for bad formats)."""
    return LineParser(fmt)


def parse_log_format_string(
    template: str, *, name: str = "custom", escape: str = "default"
) -> LogFormat:
    """A ``LogFormat`` from text the user typed (``--log-format``), validated.

    Accepts the bare template (``$remote_addr - "$request" ...``), the single-quoted
    strings as written in nginx.conf (``'$remote_addr - ' '"$request" ...'``, optionally
    after ``escape=json``), or a whole ``log_format NAME ...;`` directive. Text starting
    with a double quote is a bare template (``"$request" $status``), since formats that
    begin with a quoted field are common. Raises ``ValueError`` when invalid.
    """
    text = template.strip()
    whole_directive = text.startswith(("log_format ", "log_format\t", "log_format\n"))
    if whole_directive or text.startswith(("'", "escape=")):
        directive = text if whole_directive else f"log_format {name} {text}"
        if not directive.endswith(";"):
            directive += ";"
        try:
            config = parse_config_text(f"http {{\n{directive}\n}}", path="<log format>")
        except NginxConfigError as exc:
            if whole_directive:
                raise ValueError(exc.reason) from None
        else:
            found = next(f for n, f in config.log_formats.items() if n != "combined")
            return LogFormat(found.name, found.escape, found.template)
    if escape not in ESCAPE_MODES:
        raise ValueError(f"unknown escape mode {escape!r} (default, json or none)")
    problem = template_problem(template)
    if problem:
        raise ValueError(problem)
    return LogFormat(name, escape, template)
