"""Generate the per-line parse function of a compiled ``log_format``.

Like ``dataclasses`` and ``namedtuple``, we write the hot function's source for each format
and compile it once: every decision that depends only on the format (which variables
exist, which one holds the time, whether values can carry escapes, how records are built)
disappears from the per-line path. ``bench/parser_bench.py`` measured the generic closure
with those decisions as run-time flags at about 0.88x a hand-written regex; the generated
function brings the generic parser to the hand-written one's speed.

Nothing from the format itself is pasted into the source except variable names, and only
after checking that they are ``[a-z0-9_]+`` (which ``split_template`` guarantees anyway).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_SAFE_NAME = re.compile(r"[a-z0-9_]+")
_PARTS = ("request_method", "request_uri", "uri", "server_protocol")


@dataclass(frozen=True, slots=True)
class ParsePlan:
    """What the generated function must do for one format."""

    groups: Mapping[str, str]  # variable name -> regex group name
    time_key: str | None  # variable holding the time, or None
    escapable: tuple[
        tuple[str, str], ...
    ]  # (variable, group) that may hold escapes, likeliest first
    unescape: bool  # whether the format's escaping needs undoing
    renamed: bool  # whether some group names differ from variable names
    fast_records: bool  # whether records can be built through the unfrozen shell
    best_effort: bool
    fast_sources: bool = False  # whether ``build`` makes its Source through a shell


def _key(name: str) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"unsafe variable name {name!r}")
    return repr(name)


def _field(plan: ParsePlan, name: str) -> str:
    return f"fields[{_key(name)}]" if name in plan.groups else "None"


def generate_source(plan: ParsePlan) -> str:
    """The source of ``factory()``, which returns the specialised ``(parse, build)`` pair.

    ``parse(data, source, truncated=False)`` parses one line; ``build(text, begin, end,
    match, file, line, offset)`` makes the record for ``text[begin:end]`` (not truncated)
    from a match of the same regex made with ``pos``/``endpos`` (the bulk path). Both
    share one body, so a record is the same whichever way it was matched, and share the
    memo of the last time.
    """
    out = [
        "def factory():",
        "    last_text = None",
        "    last_when = None",
        "",
        "    def parse(data, source, truncated=False):",
        "        nonlocal last_text, last_when",
        "        try:",
        '            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data',
        "            end = len(text)",
        # Match up to the newline instead of slicing: no copy of a 64 KiB line.
        '            if end and text[end - 1] == "\\n":',
        '                end -= 2 if end > 1 and text[end - 2] == "\\r" else 1',
        "            match = fullmatch(text, 0, end)",
        "            if match is None:",
        "                return failure(text[:end], source, truncated)",
        *_record_body(plan, block=False),
        "        except Exception as exc:  # attacker-controlled input must never crash a scanner",
        "            return internal_failure(data, source, exc)",
        "",
        "    def build(text, begin, end, match, file, line, offset):",
        "        nonlocal last_text, last_when",
        "        truncated = False",
        "        try:",
        *_source_lines(plan),
        *_record_body(plan, block=True),
        "        except Exception as exc:  # attacker-controlled input must never crash a scanner",
        "            return internal_failure(text[begin:end], Source(file, line, offset), exc)",
        "",
        "    return parse, build",
    ]
    return "\n".join(out) + "\n"


def _source_lines(plan: ParsePlan) -> list[str]:
    if not plan.fast_sources:
        return ["            source = Source(file, line, offset)"]
    # parsers/nginx/record_builder.py: a frozen Source without the frozen __init__'s cost.
    return [
        "            source = new_shell(source_shell)",
        "            source.file = file",
        "            source.line = line",
        "            source.offset = offset",
        "            source.__class__ = Source",
    ]


def _record_body(plan: ParsePlan, *, block: bool) -> list[str]:
    """From a successful ``match`` of ``text`` (up to ``end``) to the returned record."""
    out = ["            fields = match.groupdict()"]
    if plan.renamed:
        out.append("            fields = {renames.get(k, k): v for k, v in fields.items()}")
    if plan.unescape and plan.escapable:
        # Likeliest fields first; stop once no backslash is left outside the field just
        # unescaped (usually after the user agent alone). Unescaped values are memoised.
        if block:
            out += [
                '            first = text.find("\\\\", begin, end)',
                "            if first >= 0:",
            ]
        else:
            out += [
                '            if "\\\\" in text:',
                '                first = text.find("\\\\", 0, end)',
            ]
        out += [
            "                for key, group in escapable:",
            "                    value = fields[key]",
            '                    if value is not None and "\\\\" in value:',
            "                        plain = unescaped.get(value)",
            "                        if plain is None:",
            "                            plain = unescape(value)",
            "                            if len(unescaped) >= CACHE_LIMIT:",
            "                                unescaped.clear()",
            "                            unescaped[value] = plain",
            "                        fields[key] = plain",
            "                        start, stop = match.span(group)",
            '                        if start <= first and text.find("\\\\", stop, end) < 0:',
            "                            break",
        ]
    if plan.time_key is not None:
        # Most lines share their second with the previous one.
        out += [
            f"            time_text = fields[{_key(plan.time_key)}]",
            "            if time_text is None:",
            "                when = None",
            "            elif time_text == last_text:",
            "                when = last_when",
            "            else:",
            "                when = last_when = time_conv(time_text)",
            "                last_text = time_text",
        ]
    else:
        out.append("            when = None")
    if "request" in plan.groups:
        out += [
            '            request = fields["request"]',
            "            if request is None:",
            "                method = path = protocol = None",
            "            else:",
            "                split = requests.get(request)",
            "                if split is None:",
            "                    if len(requests) >= CACHE_LIMIT:",
            "                        requests.clear()",
            "                    split = requests[request] = split_request(request)",
            "                method, path, protocol = split",
        ]
    elif any(part in plan.groups for part in _PARTS):
        out += [
            f"            method = {_field(plan, 'request_method')}",
            f"            path = {_field(plan, 'request_uri')} or {_field(plan, 'uri')}",
            f"            protocol = {_field(plan, 'server_protocol')}",
        ]
    else:
        out.append("            method = path = protocol = None")
    if "status" in plan.groups:
        out += [
            '            status_text = fields["status"]',
            "            status = (",
            "                None if status_text is None",
            "                else status_codes.get(status_text) or to_status(status_text)",
            "            )",
        ]
    else:
        out.append("            status = None")
    values = {
        "source": "source",
        "time": "when",
        "remote_addr": _field(plan, "remote_addr"),
        "method": "method",
        "path": "path",
        "protocol": "protocol",
        "status": "status",
        "user_agent": _field(plan, "http_user_agent"),
        "authorization": _field(plan, "http_authorization"),
        "fields": "fields",
        "truncated": "truncated",
        "best_effort": repr(plan.best_effort),
    }
    if plan.fast_records:
        # parsers/nginx/record_builder.py: the same LogRecord at a quarter of the cost.
        out.append("            record = new_shell(shell)")
        out += [f"            record.{attr} = {expr}" for attr, expr in values.items()]
        out += ["            record.__class__ = LogRecord", "            return record"]
    else:
        out.append(f"            return LogRecord({', '.join(values.values())})")
    return out


def build_parsers(
    plan: ParsePlan, name: str, env: Mapping[str, Any]
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Compile the generated source with ``env`` as its globals: ``(parse, build)``."""
    namespace = dict(env)
    code = compile(generate_source(plan), f"<log_format {name!r}>", "exec")
    exec(code, namespace)  # noqa: S102 (our own generated source, see module docstring)
    factory: Callable[[], tuple[Callable[..., Any], Callable[..., Any]]] = namespace["factory"]
    return factory()


def build_parse(plan: ParsePlan, name: str, env: Mapping[str, Any]) -> Callable[..., Any]:
    """Compile the generated source with ``env`` as its globals and return ``parse``."""
    return build_parsers(plan, name, env)[0]
