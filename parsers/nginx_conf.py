"""nginx configuration: the directive tree, its log formats and its access logs.

We read the configuration the way nginx does (quoting, comments, ``include`` with globs
relative to the main file's directory) so the inspector knows which log file records the
``Authorization`` header and in which format, without asking the admin to copy it.
Only the structure is parsed: which directives take blocks is decided by ``{`` / ``;``,
not by a list of modules, so unknown third-party directives pass through untouched.

Paths, as nginx resolves them: the main file, if relative, is under the *prefix*
(``--prefix=`` in ``nginx -V``, or ``-p``); ``include`` is relative to the main file's
directory (nginx's "conf prefix"); a relative ``access_log`` path is relative to the
prefix, not to the file that names it.

Which logs are written follows ``ngx_http_log_module``: the levels are http, server,
location (nested), ``if`` in location and ``limit_except``; a level with any
``access_log`` of its own does not inherit the outer ones, and ``access_log off`` cancels
every ``access_log`` on its level, wherever it stands there.

``parse_config(..., strict=False)`` returns what nginx would refuse at ``nginx -t`` (an
undefined format, a duplicate name, a bad parameter, a missing include...) as
``ConfigProblem`` values instead of raising; syntax errors still raise, since no tree can
be built past them.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from parsers.nginx_lexer import CLOSE, OPEN, SEMICOLON, LexError, Token, tokenize

DEFAULT_CONF_PATH = Path("/etc/nginx/nginx.conf")
COMBINED_TEMPLATE = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
ESCAPE_MODES = ("default", "json", "none")
_MAX_INCLUDE_DEPTH = 32
_NGINX_DEFAULT_PREFIX = "/usr/local/nginx"
# Debian puts nginx in /usr/sbin, which is not on an unprivileged user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")
_GLOB_CHARS = re.compile(r"[*?\[]")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


# Problem codes (``ConfigProblem.code``, ``NginxConfigError.code``); callers branch on
# these, never on message text.
UNREADABLE = "unreadable"  # the main file cannot be read (error only)
SYNTAX = "syntax"  # quoting, braces, semicolons (error only: no tree past it)
INCLUDE_FAILED = "include-failed"
INCLUDE_LOOP = "include-loop"
UNKNOWN_LOG_FORMAT = "unknown-log-format"
DUPLICATE_LOG_FORMAT = "duplicate-log-format"
INVALID_LOG_FORMAT = "invalid-log-format"
INVALID_ACCESS_LOG = "invalid-access-log"
NOT_ALLOWED_HERE = "not-allowed-here"


class NginxConfigError(Exception):
    """The configuration cannot be read; the message names the file and line.

    ``code`` says what kind of problem it is (``UNREADABLE``, ``SYNTAX``, or one of the
    ``ConfigProblem`` codes when raised in strict mode).
    """

    def __init__(
        self, message: str, file: str, line: int | None = None, *, code: str = SYNTAX
    ) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.reason = message
        self.code = code


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """Something ``nginx -t`` would refuse, reported instead of raised (lenient mode).

    ``subject`` is the name the problem is about when there is one (the undefined or
    duplicate format's name, the include pattern), so callers need not parse ``message``.
    """

    file: str
    line: int | None
    code: str
    message: str
    subject: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"

    def error(self) -> NginxConfigError:
        """The same problem as the exception strict mode raises."""
        return NginxConfigError(self.message, self.file, self.line, code=self.code)


@dataclass(frozen=True, slots=True)
class Directive:
    """One directive with its arguments (quotes and escapes resolved).

    ``context`` names the enclosing blocks (``("http", "server", "location /mcp")``);
    ``block`` holds the children of a block directive and is ``None`` for simple ones.
    """

    name: str
    args: tuple[str, ...]
    file: str
    line: int
    context: tuple[str, ...] = ()
    block: tuple[Directive, ...] | None = None

    @property
    def label(self) -> str:
        """``name arg1 arg2``: how this directive appears in a child's ``context``."""
        return " ".join((self.name, *self.args))


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A ``log_format``: the concatenated template and its escaping mode.

    ``file``/``line`` say where it was defined; ``None`` for nginx's built-in ``combined``.
    """

    name: str
    escape: str
    template: str
    file: str | None = None
    line: int | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in order of first use, lower-cased (nginx ignores their case)."""
        seen: dict[str, None] = {}
        for braced, plain in _VARIABLE.findall(self.template):
            seen.setdefault((braced or plain).lower(), None)
        return tuple(seen)


COMBINED = LogFormat("combined", "default", COMBINED_TEMPLATE)


@dataclass(frozen=True, slots=True)
class AccessLog:
    """One ``access_log`` directive in the ``http`` part of the configuration.

    ``path`` is the file nginx writes: a relative path is resolved against the prefix
    when one is known (``written_path`` keeps the argument as written). ``format_name``
    is the name of the ``log_format`` used, spelled as defined (nginx matches it ignoring
    case). ``off`` marks ``access_log off``; ``syslog`` marks a ``syslog:`` target (not a
    file we can read). ``options`` holds ``buffer``, ``flush``, ``gzip`` and ``if``.
    """

    path: str
    format_name: str
    file: str
    line: int
    context: tuple[str, ...]
    options: Mapping[str, str] = field(default_factory=dict)
    off: bool = False
    syslog: bool = False
    written_path: str = ""


@dataclass(frozen=True, slots=True)
class NginxConfig:
    """A parsed configuration: the full directive tree plus what the inspector needs from it.

    ``access_logs`` holds every ``access_log`` directive under ``http`` (``off`` included);
    ``effective_logs`` only those nginx writes for some request (see the module docstring).
    ``problems`` is empty unless parsed with ``strict=False``. ``prefix`` is what relative
    log paths were resolved against (``None``: left as written).
    """

    path: Path
    files: tuple[str, ...]
    directives: tuple[Directive, ...]
    log_formats: Mapping[str, LogFormat]
    access_logs: tuple[AccessLog, ...]
    notes: tuple[str, ...] = ()
    effective_logs: tuple[AccessLog, ...] = ()
    problems: tuple[ConfigProblem, ...] = ()
    prefix: Path | None = None

    def iter_directives(self, name: str) -> Iterator[Directive]:
        """Every directive called ``name``, depth first in file order."""
        return _walk(self.directives, name)

    def walk(self) -> Iterator[Directive]:
        """Every directive, depth first in file order."""
        return _walk(self.directives, None)


def _walk(directives: tuple[Directive, ...], name: str | None) -> Iterator[Directive]:
    for directive in directives:
        if name is None or directive.name == name:
            yield directive
        if directive.block:
            yield from _walk(directive.block, name)


# -- parsing -------------------------------------------------------------------------------


def parse_config(path: Path, *, strict: bool = True, prefix: Path | None = None) -> NginxConfig:
    """Parse the configuration file at ``path`` and every file it includes.

    ``prefix`` is nginx's prefix, which relative ``access_log`` paths are relative to
    (``find_prefix`` asks nginx). Without it we assume nginx's own layout,
    ``PREFIX/conf/nginx.conf``: the configuration directory's parent, with a note when a
    relative path depended on that guess. With ``strict=False`` what ``nginx -t`` would
    refuse comes back in ``problems`` instead of raising; an unreadable main file and
    syntax errors raise either way.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise NginxConfigError(
            f"cannot read: {exc.strerror or exc}", str(path), code=UNREADABLE
        ) from None
    guessed = prefix is None
    if prefix is None:
        prefix = path.absolute().parent.parent
    config = parse_config_text(
        text, path=str(path), base_dir=path.parent, strict=strict, prefix=prefix
    )
    if guessed and any(log.path != log.written_path for log in config.access_logs):
        note = (
            f"relative access_log paths resolved against {prefix}, the configuration "
            "directory's parent: nginx resolves them against its prefix (nginx -V "
            "--prefix=, or -p)"
        )
        config = replace(config, notes=(*config.notes, note))
    return config


def parse_config_text(
    text: str,
    *,
    path: str = "<string>",
    base_dir: Path | None = None,
    strict: bool = True,
    prefix: Path | None = None,
) -> NginxConfig:
    """Parse configuration text; ``include`` paths resolve against ``base_dir``.

    Without ``base_dir`` relative includes resolve against the current directory; without
    ``prefix`` relative ``access_log`` paths stay as written. ``strict`` as in
    ``parse_config``.
    """
    reader = _Reader(base_dir if base_dir is not None else Path.cwd(), strict=strict)
    directives = reader.parse_text(text, path, context=(), depth=0)
    logs = _LogCollector(prefix)
    logs.collect(directives)
    problems = reader.problems + logs.problems
    if strict and problems:
        raise problems[0].error()
    return NginxConfig(
        path=Path(path),
        files=tuple(reader.files),
        directives=directives,
        log_formats=MappingProxyType(logs.formats),
        access_logs=tuple(logs.logs),
        notes=tuple(reader.notes + logs.notes),
        effective_logs=logs.effective_logs,
        problems=tuple(problems),
        prefix=prefix,
    )


class _Reader:
    def __init__(self, base_dir: Path, *, strict: bool) -> None:
        self.base_dir = base_dir
        self.strict = strict
        self.files: list[str] = []
        self.notes: list[str] = []
        self.problems: list[ConfigProblem] = []

    def _problem(
        self, file: str, line: int, code: str, message: str, subject: str | None = None
    ) -> list[Directive]:
        # What nginx -t refuses but need not stop us: raised in strict mode, else kept and
        # the directive skipped.
        problem = ConfigProblem(file, line, code, message, subject)
        if self.strict:
            raise problem.error()
        self.problems.append(problem)
        return []

    def parse_text(
        self, text: str, file: str, *, context: tuple[str, ...], depth: int
    ) -> tuple[Directive, ...]:
        self.files.append(file)
        try:
            tokens = list(tokenize(text))
        except LexError as exc:
            raise NginxConfigError(str(exc), file, exc.line) from None
        _, children = self._block(tokens, 0, file, context, depth, top=True)
        return children

    def _block(
        self,
        tokens: list[Token],
        pos: int,
        file: str,
        context: tuple[str, ...],
        depth: int,
        *,
        top: bool,
    ) -> tuple[int, tuple[Directive, ...]]:
        out: list[Directive] = []
        words: list[Token] = []
        while pos < len(tokens):
            tok = tokens[pos]
            pos += 1
            if tok.kind == SEMICOLON:
                if not words:
                    raise NginxConfigError('unexpected ";"', file, tok.line)
                out.extend(self._simple(words, file, context, depth))
                words = []
            elif tok.kind == OPEN:
                if not words:
                    raise NginxConfigError('unexpected "{"', file, tok.line)
                head = Directive(
                    words[0].value, tuple(w.value for w in words[1:]), file, words[0].line, context
                )
                pos, children = self._block(
                    tokens, pos, file, (*context, head.label), depth, top=False
                )
                out.append(
                    Directive(head.name, head.args, file, head.line, context, block=children)
                )
                words = []
            elif tok.kind == CLOSE:
                if words or top:
                    raise NginxConfigError('unexpected "}"', file, tok.line)
                return pos, tuple(out)
            else:
                words.append(tok)
        last_line = tokens[-1].line if tokens else 1
        if words:
            raise NginxConfigError(
                f'unexpected end of file, expecting ";" or "}}" after "{words[0].value}"',
                file,
                words[-1].line,
            )
        if not top:
            raise NginxConfigError('unexpected end of file, expecting "}"', file, last_line)
        return pos, tuple(out)

    def _simple(
        self, words: list[Token], file: str, context: tuple[str, ...], depth: int
    ) -> list[Directive]:
        name = words[0].value
        args = tuple(w.value for w in words[1:])
        line = words[0].line
        if name != "include":
            return [Directive(name, args, file, line, context)]
        if len(args) != 1:
            return self._problem(
                file, line, INCLUDE_FAILED, 'invalid number of arguments in "include"'
            )
        return self._include(args[0], file, line, context, depth)

    def _include(
        self, pattern: str, file: str, line: int, context: tuple[str, ...], depth: int
    ) -> list[Directive]:
        if depth >= _MAX_INCLUDE_DEPTH:
            return self._problem(
                file,
                line,
                INCLUDE_LOOP,
                f'include nested too deeply (loop?) at "{pattern}"',
                pattern,
            )
        target = Path(pattern)
        if not target.is_absolute():
            target = self.base_dir / target
        if _GLOB_CHARS.search(pattern):
            # nginx sorts glob matches; a pattern matching nothing is not an error.
            # (Path.glob cannot take an absolute pattern.)
            matches = glob.glob(str(target))  # noqa: PTH207
            paths = sorted(Path(p) for p in matches if not Path(p).is_dir())
            if not paths:
                self.notes.append(f"{file}:{line}: include {pattern} matched no files")
        else:
            paths = [target]
        out: list[Directive] = []
        for included in paths:
            try:
                text = included.read_text(encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                self._problem(
                    file,
                    line,
                    INCLUDE_FAILED,
                    f'include "{included}" failed: {exc.strerror or exc}',
                    pattern,
                )
                continue
            out.extend(self.parse_text(text, str(included), context=context, depth=depth + 1))
        return out


# -- log formats and access logs ------------------------------------------------------------

# The blocks that open a new access_log level inside each level (ngx_http_log_module:
# "http, server, location, if in location, limit_except"); access_log anywhere else in
# http is refused by nginx.
_INNER_LEVELS: dict[str, tuple[str, ...]] = {
    "http": ("server",),
    "server": ("location",),
    "location": ("location", "if", "limit_except"),
    "if": (),
    "limit_except": (),
}
_ACCESS_LOG_OPTIONS = ("buffer", "flush", "gzip", "if")


class _LogCollector:
    """``log_format`` and ``access_log`` checked as nginx does, then which logs apply."""

    def __init__(self, prefix: Path | None) -> None:
        self.prefix = prefix
        self.formats: dict[str, LogFormat] = {"combined": COMBINED}
        self.logs: list[AccessLog] = []
        self.effective_logs: tuple[AccessLog, ...] = ()
        self.problems: list[ConfigProblem] = []
        self.notes: list[str] = []
        # Formats whose definition was refused: their uses are not reported again.
        self._refused: set[str] = set()
        self._by_directive: dict[int, AccessLog] = {}
        self._undefined: list[tuple[int, str]] = []  # (index in problems, format name)
        self._unused_because: dict[int, str] = {}  # id(AccessLog) -> why never written

    def _problem(
        self, directive: Directive, code: str, message: str, subject: str | None = None
    ) -> None:
        self.problems.append(ConfigProblem(directive.file, directive.line, code, message, subject))

    def collect(self, directives: tuple[Directive, ...]) -> None:
        # File order matters: nginx looks a format up when it reads the access_log.
        for directive in _walk(directives, None):
            if directive.name == "log_format":
                self._log_format(directive)
            elif directive.name == "access_log":
                self._access_log(directive)
        self._explain_late_formats()
        self._effective(directives)

    # -- log_format ------------------------------------------------------------------------

    def _log_format(self, directive: Directive) -> None:
        if not _in_http(directive.context):
            self.notes.append(f"{directive.file}:{directive.line}: log_format outside http skipped")
            return
        if directive.context != ("http",):
            self._problem(directive, NOT_ALLOWED_HERE, '"log_format" directive is not allowed here')
            return
        args = list(directive.args)
        if len(args) < 2:
            self._problem(
                directive, INVALID_LOG_FORMAT, 'invalid number of arguments in "log_format"'
            )
            return
        name = args.pop(0)
        if name in self.formats:  # nginx compares names exactly here, ignoring case on use
            self._problem(
                directive, DUPLICATE_LOG_FORMAT, f'duplicate log_format name "{name}"', name
            )
            return
        fmt, problem = _log_format(directive, name, args)
        if fmt is None:
            self._refused.add(name.lower())
            self._problem(directive, INVALID_LOG_FORMAT, str(problem), name)
            return
        self.formats[name] = fmt

    def _find_format(self, name: str) -> LogFormat | None:
        lowered = name.lower()
        # Definition order: nginx takes the first format whose name matches.
        return next((f for f in self.formats.values() if f.name.lower() == lowered), None)

    def _explain_late_formats(self) -> None:
        for index, name in self._undefined:
            later = self._find_format(name)
            if later is None:
                continue
            old = self.problems[index]
            self.problems[index] = replace(
                old,
                message=f"{old.message}: it is defined only later ({later.file}:{later.line}) "
                "and nginx needs log_format before the access_log that uses it",
            )

    # -- access_log ------------------------------------------------------------------------

    def _access_log(self, directive: Directive) -> None:
        where = f"{directive.file}:{directive.line}"
        if not _in_http(directive.context):
            outer = directive.context[0] if directive.context else "main"
            self.notes.append(f"{where}: access_log outside http ({outer}) skipped")
            return
        if not _opens_levels(directive.context):
            self._problem(directive, NOT_ALLOWED_HERE, '"access_log" directive is not allowed here')
            return
        args = directive.args
        if not args:
            self._problem(
                directive, INVALID_ACCESS_LOG, 'invalid number of arguments in "access_log"'
            )
            return
        written = args[0]
        if written == "off":
            if len(args) > 1:
                self._problem(directive, INVALID_ACCESS_LOG, f'invalid parameter "{args[1]}"')
            off = AccessLog("off", "", directive.file, directive.line, directive.context, off=True)
            self._add(directive, replace(off, written_path="off"))
            return
        # nginx takes the second argument as the format name whatever it looks like, so
        # "access_log /x buffer=32k;" names a format called "buffer=32k".
        format_name = args[1] if len(args) > 1 else "combined"
        fmt = self._find_format(format_name)
        if fmt is not None:
            format_name = fmt.name
        elif format_name.lower() not in self._refused:
            self._undefined.append((len(self.problems), format_name))
            self._problem(
                directive, UNKNOWN_LOG_FORMAT, f'unknown log format "{format_name}"', format_name
            )
        options = self._options(directive, args[2:])
        syslog = written.startswith("syslog:")
        path = written
        if not syslog and self.prefix is not None and not Path(written).is_absolute():
            path = str(self.prefix / written)
        log = AccessLog(
            path,
            format_name,
            directive.file,
            directive.line,
            directive.context,
            MappingProxyType(options),
            syslog=syslog,
            written_path=written,
        )
        self._add(directive, log)
        if syslog:
            self.notes.append(f"{where}: syslog target skipped: {path}")
        elif "$" in written:
            self.notes.append(f"{where}: access_log path {path} depends on variables")
        if "gzip" in options:
            self.notes.append(f"{where}: {path} is gzip-compressed and cannot be followed live")

    def _options(self, directive: Directive, args: tuple[str, ...]) -> dict[str, str]:
        options: dict[str, str] = {}
        for arg in args:
            key, sep, value = arg.partition("=")
            if key not in _ACCESS_LOG_OPTIONS:
                self._problem(directive, INVALID_ACCESS_LOG, f'invalid parameter "{arg}"')
                continue
            options[key] = value if sep else ""
        if "flush" in options and "buffer" not in options and "gzip" not in options:
            self._problem(
                directive,
                INVALID_ACCESS_LOG,
                f'no buffer is defined for access_log "{directive.args[0]}"',
            )
        return options

    def _add(self, directive: Directive, log: AccessLog) -> None:
        self.logs.append(log)
        self._by_directive[id(directive)] = log

    # -- which logs apply --------------------------------------------------------------------

    def _effective(self, directives: tuple[Directive, ...]) -> None:
        written: set[int] = set()
        without_log: list[Directive] = []
        for http in directives:
            if http.name != "http" or http.block is None:
                continue
            servers = any(d.name == "server" for d in http.block)
            # A fragment without servers serves nothing; its http-level logs are what a
            # server added later would write, so they count.
            self._level(http, (), False, not servers, written, without_log)
        self.effective_logs = tuple(log for log in self.logs if id(log) in written)
        for log in self.logs:
            if not log.off and id(log) not in written:
                self.notes.append(
                    f"{log.file}:{log.line}: access_log {log.path} is never written: "
                    + self._unused_because.get(
                        id(log), "every level below sets its own access_log or off"
                    )
                )
        if without_log and any(d.name == "http" for d in directives):
            first = without_log[0]
            self.notes.append(
                f"no access_log applies to {first.label} ({first.file}:{first.line}): nginx "
                "writes its compiled-in default log there (nginx -V --http-log-path) in the "
                "combined format"
            )

    def _level(
        self,
        block: Directive,
        inherited: tuple[AccessLog, ...],
        configured: bool,
        serves: bool,
        written: set[int],
        without_log: list[Directive],
    ) -> None:
        children = block.block or ()
        own = [self._by_directive[id(d)] for d in children if id(d) in self._by_directive]
        # A level with access_log directives of its own does not inherit; "off" anywhere
        # on it cancels all of them.
        if own:
            configured = True
            off = next((log for log in own if log.off), None)
            inherited = () if off is not None else tuple(own)
            if off is not None:
                for log in own:
                    self._unused_because[id(log)] = (
                        f"access_log off on the same level ({off.file}:{off.line}) cancels it"
                    )
        if serves:
            written.update(id(log) for log in inherited)
            if not configured:
                without_log.append(block)
        inner = _INNER_LEVELS.get(block.name, ())
        for child in children:
            if child.name in inner and child.block is not None:
                self._level(child, inherited, configured, True, written, without_log)


def _in_http(context: tuple[str, ...]) -> bool:
    return bool(context) and context[0] == "http"


def _opens_levels(context: tuple[str, ...]) -> bool:
    """Whether every block in ``context`` is an access_log level nested where nginx allows."""
    outer = "http"
    for label in context[1:]:
        kind = label.split(" ", 1)[0]
        if kind not in _INNER_LEVELS[outer]:
            return False
        outer = kind
    return True


def _log_format(
    directive: Directive, name: str, args: list[str]
) -> tuple[LogFormat | None, str | None]:
    """The format defined by ``log_format name args...``, or why nginx refuses it."""
    escape = "default"
    if args and args[0].startswith("escape="):
        escape = args.pop(0)[len("escape=") :]
        if escape not in ESCAPE_MODES:
            return None, f'unknown log format escaping "{escape}"'
    if not args:
        return None, f'log_format "{name}" has no format string'
    template = "".join(args)
    problem = template_problem(template)
    if problem:
        return None, problem
    return LogFormat(name, escape, template, directive.file, directive.line), None


def template_problem(template: str) -> str | None:
    """Why nginx would reject this format string (a ``$`` not followed by a name), or None."""
    i = template.find("$")
    while i >= 0:
        match = _VARIABLE.match(template, i)
        if match is None:
            return f'invalid variable name at "{template[i : i + 20]}" in log_format'
        i = template.find("$", match.end())
    return None


def logs_recording_authorization(config: NginxConfig) -> list[AccessLog]:
    """File access logs nginx writes whose format records ``$http_authorization``.

    Only ``effective_logs`` count: a log cancelled by ``access_log off`` on its level, or
    replaced at every level below, never receives a line.
    """
    out = []
    for log in config.effective_logs:
        if log.off or log.syslog:
            continue
        fmt = config.log_formats.get(log.format_name)
        if fmt is not None and "http_authorization" in fmt.variables:
            out.append(log)
    return out


# -- locating the configuration -------------------------------------------------------------


def find_config_path(explicit: Path | None, *, search_path: str | None = None) -> tuple[Path, str]:
    """Where the nginx configuration is, and how we know.

    Order: the path the user gave (``"explicit"``), the ``--conf-path=`` nginx was built
    with (``"nginx -V"``; a missing or failing binary is tolerated), else
    ``/etc/nginx/nginx.conf`` (``"default"``). ``nginx`` is looked up in ``search_path``
    (default: ``$PATH`` plus the sbin directories an unprivileged user's PATH lacks).
    """
    if explicit is not None:
        return explicit, "explicit"
    found = _conf_path_from_nginx(search_path)
    if found is not None:
        return found, "nginx -V"
    return DEFAULT_CONF_PATH, "default"


def find_prefix(config_path: Path, *, search_path: str | None = None) -> Path | None:
    """nginx's prefix, when the installed nginx is built to read ``config_path``.

    Relative ``access_log`` paths are relative to it: ``--prefix=`` from ``nginx -V``
    (nginx's default ``/usr/local/nginx`` when absent; Debian builds say
    ``/usr/share/nginx``). ``None`` when no nginx answers or it was built for another
    file, since then we cannot know (nginx started with ``-p`` is not visible either);
    ``parse_config`` then guesses and says so in a note.
    """
    build = _nginx_build(search_path)
    if build is None:
        return None
    conf, prefix = build
    return prefix if conf.resolve() == config_path.resolve() else None


def _conf_path_from_nginx(search_path: str | None) -> Path | None:
    build = _nginx_build(search_path)
    return build[0] if build is not None else None


def _nginx_build(search_path: str | None) -> tuple[Path, Path] | None:
    """``(conf path, prefix)`` from ``nginx -V``, or None when nginx cannot tell us."""
    if search_path is None:
        search_path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    binary = shutil.which("nginx", path=search_path)
    if binary is None:
        return None
    try:
        # nginx prints its build configuration to stderr.
        result = subprocess.run(  # noqa: S603 (a binary found on PATH, fixed arguments)
            [binary, "-V"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = result.stderr + result.stdout
    conf = re.search(r"--conf-path=(\S+)", output)
    if conf is None:
        return None
    found = re.search(r"--prefix=(\S+)", output)
    prefix = Path(found.group(1) if found else _NGINX_DEFAULT_PREFIX)
    path = Path(conf.group(1))
    return (path if path.is_absolute() else prefix / path), prefix
