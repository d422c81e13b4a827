"""nginx configuration: reading the directive tree, and finding the file and the prefix.

We read the configuration the way nginx does (quoting, comments, ``include`` with globs
relative to the main file's directory) so the inspector knows which log file records the
``Authorization`` header and in which format, without asking the admin to copy it.
Only the structure is parsed: which directives take blocks is decided by ``{`` / ``;``,
not by a list of modules, so unknown third-party directives pass through untouched.
The values live in ``nginx_model``, the access-log rules in ``nginx_logs``; both are
re-exported here, the module callers import.

Paths, as nginx resolves them: the main file, if relative, is under the *prefix*
(``--prefix=`` in ``nginx -V``, or ``-p``); ``include`` is relative to the main file's
directory (nginx's "conf prefix"); a relative ``access_log`` path is relative to the
prefix, not to the file that names it.

``parse_config(..., strict=False)`` returns what nginx would refuse at ``nginx -t`` (an
undefined format, a duplicate name, a bad parameter, a missing include...) as
``ConfigProblem`` values instead of raising; syntax errors still raise, since no tree can
be built past them.
"""

from __future__ import annotations

import glob
import re
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from parsers.nginx.lexer import CLOSE, OPEN, SEMICOLON, LexError, Token, tokenize
from parsers.nginx.logs import LogCollector, logs_recording_authorization, template_problem
from parsers.nginx.model import (
    COMBINED,
    COMBINED_TEMPLATE,
    DUPLICATE_LOG_FORMAT,
    ESCAPE_MODES,
    EXTENDED,
    EXTENDED_TEMPLATE,
    INCLUDE_FAILED,
    INCLUDE_LOOP,
    INVALID_ACCESS_LOG,
    INVALID_LOG_FORMAT,
    NOT_ALLOWED_HERE,
    SYNTAX,
    UNKNOWN_LOG_FORMAT,
    UNREADABLE,
    AccessLog,
    ConfigProblem,
    Directive,
    LogFormat,
    NginxConfig,
    NginxConfigError,
)

__all__ = [
    "COMBINED",
    "COMBINED_TEMPLATE",
    "DEFAULT_CONF_PATH",
    "DUPLICATE_LOG_FORMAT",
    "ESCAPE_MODES",
    "EXTENDED",
    "EXTENDED_TEMPLATE",
    "INCLUDE_FAILED",
    "INCLUDE_LOOP",
    "INVALID_ACCESS_LOG",
    "INVALID_LOG_FORMAT",
    "NOT_ALLOWED_HERE",
    "SYNTAX",
    "UNKNOWN_LOG_FORMAT",
    "UNREADABLE",
    "AccessLog",
    "ConfigProblem",
    "Directive",
    "LogFormat",
    "NginxConfig",
    "NginxConfigError",
    "logs_recording_authorization",
    "parse_config",
    "parse_config_text",
    "template_problem",
]

DEFAULT_CONF_PATH = Path("/etc/nginx/nginx.conf")
_MAX_INCLUDE_DEPTH = 32
_GLOB_CHARS = re.compile(r"[*?\[]")


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
    logs = LogCollector(prefix)
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
