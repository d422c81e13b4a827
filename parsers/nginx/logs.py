"""Log formats and access logs, checked and applied the way ``ngx_http_log_module`` does.

Which logs are written: the levels are http, server, location (nested), ``if`` in
location and ``limit_except``; a level with any ``access_log`` of its own does not inherit
the outer ones, and ``access_log off`` cancels every ``access_log`` on its level, wherever
it stands there. A format is looked up (ignoring case) when nginx reads the
``access_log``, so it must be defined before it; the second argument is always the
format's name. A relative log path is relative to nginx's prefix, not to the file that
names it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from parsers.nginx.model import (
    COMBINED,
    DUPLICATE_LOG_FORMAT,
    ESCAPE_MODES,
    INVALID_ACCESS_LOG,
    INVALID_LOG_FORMAT,
    NOT_ALLOWED_HERE,
    UNKNOWN_LOG_FORMAT,
    VARIABLE,
    AccessLog,
    ConfigProblem,
    Directive,
    LogFormat,
    NginxConfig,
    walk_tree,
)

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


class LogCollector:
    """``log_format`` and ``access_log`` checked as nginx does, then which logs apply.

    ``collect`` fills ``formats``, ``logs`` (every access_log in http), ``effective_logs``,
    ``problems`` (in reading order) and ``notes``.
    """

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
        for directive in walk_tree(directives, None):
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
        match = VARIABLE.match(template, i)
        if match is None:
            return f'invalid variable name at "{template[i : i + 20]}" in log_format'
        i = template.find("$", match.end())
    return None


def logs_recording_authorization(
    config: NginxConfig, *, written_only: bool = True
) -> list[AccessLog]:
    """File access logs nginx writes whose format records ``$http_authorization``.

    Only ``effective_logs`` count: a log cancelled by ``access_log off`` on its level, or
    replaced at every level below, never receives a line. ``written_only=False`` looks at
    every ``access_log`` directive instead (to say which ones nginx ignores).
    """
    out = []
    for log in config.effective_logs if written_only else config.access_logs:
        if log.off or log.syslog:
            continue
        fmt = config.log_formats.get(log.format_name)
        if fmt is not None and "http_authorization" in fmt.variables:
            out.append(log)
    return out
