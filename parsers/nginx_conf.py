"""nginx configuration: the directive tree, its log formats and its access logs.

We read the configuration the way nginx does (quoting, comments, ``include`` with globs
relative to the main file's directory) so the inspector knows which log file records the
``Authorization`` header and in which format, without asking the admin to copy it.
Only the structure is parsed: which directives take blocks is decided by ``{`` / ``;``,
not by a list of modules, so unknown third-party directives pass through untouched.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
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
# Debian puts nginx in /usr/sbin, which is not on an unprivileged user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")
_GLOB_CHARS = re.compile(r"[*?\[]")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


class NginxConfigError(Exception):
    """The configuration cannot be read; the message names the file and line."""

    def __init__(self, message: str, file: str, line: int | None = None) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.reason = message


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

    ``off`` marks ``access_log off``; ``syslog`` marks a ``syslog:`` target (not a file we
    can read). ``options`` holds ``buffer``, ``flush``, ``gzip`` and ``if`` when given.
    """

    path: str
    format_name: str
    file: str
    line: int
    context: tuple[str, ...]
    options: Mapping[str, str] = field(default_factory=dict)
    off: bool = False
    syslog: bool = False


@dataclass(frozen=True, slots=True)
class NginxConfig:
    """A parsed configuration: the full directive tree plus what the inspector needs from it."""

    path: Path
    files: tuple[str, ...]
    directives: tuple[Directive, ...]
    log_formats: Mapping[str, LogFormat]
    access_logs: tuple[AccessLog, ...]
    notes: tuple[str, ...] = ()

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


def parse_config(path: Path) -> NginxConfig:
    """Parse the configuration file at ``path`` and every file it includes."""
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise NginxConfigError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    return parse_config_text(text, path=str(path), base_dir=path.parent)


def parse_config_text(
    text: str, *, path: str = "<string>", base_dir: Path | None = None
) -> NginxConfig:
    """Parse configuration text; ``include`` paths resolve against ``base_dir``.

    Without ``base_dir`` relative includes resolve against the current directory.
    """
    reader = _Reader(base_dir if base_dir is not None else Path.cwd())
    directives = reader.parse_text(text, path, context=(), depth=0)
    formats, logs, notes = _collect_logs(directives)
    return NginxConfig(
        path=Path(path),
        files=tuple(reader.files),
        directives=directives,
        log_formats=MappingProxyType(formats),
        access_logs=tuple(logs),
        notes=tuple(reader.notes + notes),
    )


class _Reader:
    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.files: list[str] = []
        self.notes: list[str] = []

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
            raise NginxConfigError('invalid number of arguments in "include"', file, line)
        return self._include(args[0], file, line, context, depth)

    def _include(
        self, pattern: str, file: str, line: int, context: tuple[str, ...], depth: int
    ) -> list[Directive]:
        if depth >= _MAX_INCLUDE_DEPTH:
            raise NginxConfigError(f'include nested too deeply (loop?) at "{pattern}"', file, line)
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
                raise NginxConfigError(
                    f'include "{included}" failed: {exc.strerror or exc}', file, line
                ) from None
            out.extend(self.parse_text(text, str(included), context=context, depth=depth + 1))
        return out


# -- log formats and access logs ------------------------------------------------------------


def _in_http(context: tuple[str, ...]) -> bool:
    return bool(context) and context[0] == "http"


def _collect_logs(
    directives: tuple[Directive, ...],
) -> tuple[dict[str, LogFormat], list[AccessLog], list[str]]:
    formats: dict[str, LogFormat] = {"combined": COMBINED}
    logs: list[AccessLog] = []
    notes: list[str] = []
    for directive in _walk(directives, None):
        if directive.name == "log_format":
            if not _in_http(directive.context):
                notes.append(f"{directive.file}:{directive.line}: log_format outside http skipped")
                continue
            fmt = _log_format(directive)
            if fmt.name in formats:
                raise NginxConfigError(
                    f'duplicate log_format name "{fmt.name}"', directive.file, directive.line
                )
            formats[fmt.name] = fmt
        elif directive.name == "access_log":
            if not _in_http(directive.context):
                notes.append(
                    f"{directive.file}:{directive.line}: access_log outside http "
                    f"({directive.context[0] if directive.context else 'main'}) skipped"
                )
                continue
            log = _access_log(directive)
            where = f"{directive.file}:{directive.line}"
            if log.syslog:
                notes.append(f"{where}: syslog target skipped: {log.path}")
            elif not log.off and "$" in log.path:
                notes.append(f"{where}: access_log path {log.path} depends on variables")
            if "gzip" in log.options:
                notes.append(f"{where}: {log.path} is gzip-compressed and cannot be followed live")
            logs.append(log)
    for log in logs:
        if not log.off and log.format_name not in formats:
            raise NginxConfigError(f'unknown log format "{log.format_name}"', log.file, log.line)
    if not logs and any(d.name == "http" for d in directives):
        notes.append(
            "no access_log in http: nginx writes its compiled-in default log "
            "(nginx -V --http-log-path) in the combined format"
        )
    return formats, logs, notes


def _log_format(directive: Directive) -> LogFormat:
    args = list(directive.args)
    if len(args) < 2:
        raise NginxConfigError(
            'invalid number of arguments in "log_format"', directive.file, directive.line
        )
    name = args.pop(0)
    escape = "default"
    if args and args[0].startswith("escape="):
        escape = args.pop(0)[len("escape=") :]
        if escape not in ESCAPE_MODES:
            raise NginxConfigError(
                f'unknown log format escaping "{escape}"', directive.file, directive.line
            )
    if not args:
        raise NginxConfigError(
            f'log_format "{name}" has no format string', directive.file, directive.line
        )
    template = "".join(args)
    problem = template_problem(template)
    if problem:
        raise NginxConfigError(problem, directive.file, directive.line)
    return LogFormat(name, escape, template, directive.file, directive.line)


def template_problem(template: str) -> str | None:
    """Why nginx would reject this format string (a ``$`` not followed by a name), or None."""
    i = template.find("$")
    while i >= 0:
        match = _VARIABLE.match(template, i)
        if match is None:
            return f'invalid variable name at "{template[i : i + 20]}" in log_format'
        i = template.find("$", match.end())
    return None


def _access_log(directive: Directive) -> AccessLog:
    args = directive.args
    if not args:
        raise NginxConfigError(
            'invalid number of arguments in "access_log"', directive.file, directive.line
        )
    path = args[0]
    if path == "off":
        return AccessLog(
            "off",
            "",
            directive.file,
            directive.line,
            directive.context,
            MappingProxyType({}),
            off=True,
        )
    format_name = "combined"
    rest = args[1:]
    if rest and "=" not in rest[0] and rest[0] != "gzip":
        format_name = rest[0]
        rest = rest[1:]
    options: dict[str, str] = {}
    for arg in rest:
        key, sep, value = arg.partition("=")
        if key not in ("buffer", "flush", "gzip", "if"):
            raise NginxConfigError(
                f'invalid parameter "{arg}" in "access_log"', directive.file, directive.line
            )
        options[key] = value if sep else ""
    return AccessLog(
        path,
        format_name,
        directive.file,
        directive.line,
        directive.context,
        MappingProxyType(options),
        syslog=path.startswith("syslog:"),
    )


def logs_recording_authorization(config: NginxConfig) -> list[AccessLog]:
    """File access logs whose format records ``$http_authorization`` (the bearer token)."""
    out = []
    for log in config.access_logs:
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


def _conf_path_from_nginx(search_path: str | None) -> Path | None:
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
    path = Path(conf.group(1))
    if not path.is_absolute():
        prefix = re.search(r"--prefix=(\S+)", output)
        path = Path(prefix.group(1) if prefix else "/usr/local/nginx") / path
    return path
