"""The values a parsed nginx configuration is made of, and the problems found in it.

Kept apart from the reader (``nginx_conf``) and the access-log rules (``nginx_logs``) so
that both, and every caller, share one definition of a directive, a format and a log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

COMBINED_TEMPLATE = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
# The `extended` format of the reference setup (ujnak/mcp-app nginx.conf, domain.md section 2):
# the one our users start from, and the one the demo, samples and benchmarks write.
EXTENDED_TEMPLATE = (
    "$remote_addr - $remote_user [$time_local] "
    '"$request" $status $body_bytes_sent '
    'referer:"$http_referer" '
    'ua:"$http_user_agent" '
    'content-type:"$http_content_type" '
    'authorization:"$http_authorization" '
    'mcp-protocol-version:"$http_mcp_protocol_version"'
)
ESCAPE_MODES = ("default", "json", "none")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
# The variable the safe token log's map defines (parsers/nginx/safe_log.py): the
# Authorization header without the JWS signature. Log readers take it for
# $http_authorization, so every format recording it is read like one recording the header.
SAFE_VARIABLE = "token_without_signature"
# The safe log's request line and referer (no query, no token-sized path): read as the
# variables they stand for, so the method and path come out of the request line as usual.
REQUEST_VARIABLE = "request_without_token"
REFERER_VARIABLE = "referer_without_token"
VARIABLE_ALIASES = {
    SAFE_VARIABLE: "http_authorization",
    REQUEST_VARIABLE: "request",
    REFERER_VARIABLE: "http_referer",
}


def variable_name(name: str, aliases: Mapping[str, str] = VARIABLE_ALIASES) -> str:
    """The name log readers know a variable by: lower-cased, the safe token as the header."""
    lowered = name.lower()
    return aliases.get(lowered, lowered)


def template_aliases(template: str) -> Mapping[str, str]:
    """The aliases that apply to ``template``: each but those whose variable it records as sent.

    A format recording both ``$http_authorization`` and the safe variable would otherwise
    name two different values alike (a line could never match). The value as sent wins:
    it holds everything the safe value holds and the signature too; the safe value is then
    an ordinary variable of its own name. Likewise ``$request`` and ``$http_referer``.
    """
    names = {(braced or plain).lower() for braced, plain in VARIABLE.findall(template)}
    if not names.intersection(VARIABLE_ALIASES.values()):
        return VARIABLE_ALIASES
    return {alias: name for alias, name in VARIABLE_ALIASES.items() if name not in names}


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
        """Variable names in order of first use, lower-cased (nginx ignores their case).

        The safe token log's variable is named ``http_authorization`` (``variable_name``),
        unless the format records the header as sent too (``template_aliases``).
        """
        seen: dict[str, None] = {}
        aliases = template_aliases(self.template)
        for braced, plain in VARIABLE.findall(self.template):
            seen.setdefault(variable_name(braced or plain, aliases), None)
        return tuple(seen)


COMBINED = LogFormat("combined", "default", COMBINED_TEMPLATE)
EXTENDED = LogFormat("extended", "default", EXTENDED_TEMPLATE)


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
    ``effective_logs`` only those nginx writes for some request (rules in ``nginx_logs``).
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
        return walk_tree(self.directives, name)

    def walk(self) -> Iterator[Directive]:
        """Every directive, depth first in file order."""
        return walk_tree(self.directives, None)


def walk_tree(directives: tuple[Directive, ...], name: str | None) -> Iterator[Directive]:
    """Directives called ``name`` (every one for ``None``), depth first in file order."""
    for directive in directives:
        if name is None or directive.name == name:
            yield directive
        if directive.block:
            yield from walk_tree(directive.block, name)
