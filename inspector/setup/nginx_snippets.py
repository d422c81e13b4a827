"""The text of the files setup adds to nginx: deterministic, every value quoted.

Kept apart from the planner (which decides what is needed) so the configuration
language lives in one place. Values come in already checked (``nginx_text.refusal``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from inspector.setup.nginx_text import quote
from parsers.nginx.model import EXTENDED_TEMPLATE, Directive
from parsers.nginx.safe_log import SAFE_MAPS, safe_log_format_directive

FULL_FORMAT_NAME = "token_inspector_full"
HEADER = "# Written by token-inspector setup ({what}). Running setup again rewrites this file.\n"

# Headers a browser-based client needs to read the metadata documents (any origin: they
# are public) and to answer a preflight.
_CORS_METADATA = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, OPTIONS"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version"),
    ("Access-Control-Max-Age", "86400"),
)
# On the 401: the browser may read the challenge only when it is exposed.
_CORS_CHALLENGE = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "WWW-Authenticate"),
)


def directive_line(name: str, args: Iterable[str]) -> str:
    """``name arg...;`` with each argument quoted as needed."""
    return " ".join((name, *(quote(a) for a in args))) + ";"


def _add_headers(pairs: Iterable[tuple[str, str]]) -> list[str]:
    return [directive_line("add_header", (name, value, "always")) for name, value in pairs]


def inherited_headers(inherited: Iterable[Directive], own: Iterable[str]) -> list[str]:
    """The outer ``add_header`` lines a location of ours repeats (its own cancel them).

    Headers the location sets itself are left out (a second one would be sent twice).
    """
    names = {name.lower() for name in own}
    return [
        directive_line("add_header", d.args)
        for d in inherited
        if d.args and d.args[0].lower() not in names
    ]


def metadata_location(uri_path: str, document_file: Path, inherited: list[Directive]) -> str:
    """An exact location serving the metadata document with CORS and preflight."""
    names = [name for name, _ in _CORS_METADATA]
    body = [
        # An empty types block: the document is JSON whatever the file is called.
        "types { }",
        "default_type application/json;",
        directive_line("alias", (str(document_file),)),
        *_add_headers(_CORS_METADATA),
        *inherited_headers(inherited, names),
        "if ($request_method = OPTIONS) {",
        "    return 204;",
        "}",
    ]
    return _block(f"location = {quote(uri_path)}", body)


def challenge_location(
    name: str, challenge: str, inherited: list[Directive], logs: str = ""
) -> str:
    """The named location the 401 is rewritten in: ORDS's challenge replaced by ours.

    ``logs``: ``access_log`` lines (``access_log_lines``) for when the MCP location logs
    differently from the server: the request is logged with this location's settings.
    """
    names = ["WWW-Authenticate", *(n for n, _ in _CORS_CHALLENGE)]
    body = [
        "internal;",
        "more_clear_headers 'WWW-Authenticate';",
        directive_line("add_header", ("WWW-Authenticate", challenge, "always")),
        *_add_headers(_CORS_CHALLENGE),
        *inherited_headers(inherited, names),
        *logs.splitlines(),
        "return 401;",
    ]
    return _block(f"location {name}", body)


def _block(head: str, body: list[str]) -> str:
    return "\n".join([head + " {", *("    " + line for line in body), "}"]) + "\n"


def access_log_lines(
    token_log: Path | None, format_name: str, repeated: Iterable[Directive]
) -> str:
    """The token log's ``access_log`` and the inherited ones it would otherwise cancel."""
    out: list[str] = []
    if token_log is not None:
        out.append(directive_line("access_log", (str(token_log), format_name)))
    for d in repeated:
        # An access_log on this level stops nginx inheriting the outer ones. No line
        # number: the include line setup adds would change it, and the file with it.
        out.append(f"# repeated from {d.file} (an access_log here cancels it)")
        out.append(directive_line("access_log", d.args))
    return "\n".join(out) + "\n" if out else ""


def http_file(*, maps: Iterable[str], safe_format: str | None, full_format: str | None) -> str:
    """The http-level file: the safe log's maps (``maps``: the variables of ``SAFE_MAPS``
    to define) and format, and the full format on request."""
    parts = [HEADER.format(what="http level: token log formats")]
    parts.extend(SAFE_MAPS[variable] for variable in maps)
    if safe_format is not None:
        parts.append(safe_log_format_directive(safe_format))
    if full_format is not None:
        parts.append(directive_line("log_format", (full_format, EXTENDED_TEMPLATE)) + "\n")
    return "".join(parts)


def metadata_json(document: Mapping[str, object]) -> str:
    """The document as served: JSON, ASCII only, one key a line."""
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"
