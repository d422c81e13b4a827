"""The planner's decisions one at a time: values, what is kept, modules, the token log.

Each function looks at the user's own configuration (setup's files left out) and records
what it found in ``Findings``: notes (kept, inherited), warnings, blockers, and the
one-line insertions into the user's files.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from inspector.setup import nginx_snippets as snippets
from inspector.setup.model import ResourceFacts
from inspector.setup.nginx_locate import location_spec
from inspector.setup.nginx_text import Insertion, first_token_line, quote, refusal
from parsers.nginx.conf import parse_config_text
from parsers.nginx.model import (
    EXTENDED_TEMPLATE,
    SAFE_VARIABLE,
    Directive,
    LogFormat,
    NginxConfig,
    walk_tree,
)
from parsers.nginx.safe_log import (
    REFERER_VARIABLE,
    REQUEST_VARIABLE,
    SAFE_FORMAT_NAME,
    SAFE_MAPS,
    SAFE_TEMPLATE,
    raw_query_variables,
    records_raw_authorization,
)

WELL_KNOWN = "/.well-known/oauth-protected-resource"
DEFAULT_TOKEN_LOG = Path("/var/log/nginx/mcp-tokens.log")
HEADERS_MORE_SO = "ngx_http_headers_more_filter_module.so"
# Debian/Ubuntu's libnginx-mod-http-headers-more-filter; then the RHEL family's modules dir.
HEADERS_MORE_CANDIDATES = (
    Path("/usr/lib/nginx/modules") / HEADERS_MORE_SO,
    Path("/usr/lib64/nginx/modules") / HEADERS_MORE_SO,
)
_HEADERS_MORE_DIRECTIVES = frozenset(
    {"more_clear_headers", "more_set_headers", "more_clear_input_headers", "more_set_input_headers"}
)
# RFC 3986 characters, less "$" (an nginx variable) and ";" (refused outright: it ends a
# directive wherever a value is not quoted).
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!&'()*+,=%]*")
# RFC 6749 scope-token (NQCHAR): no space, no '"', no '\'.
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


@dataclass
class Findings:
    """What planning found: messages, insertions into user files, files to write."""

    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    insertions: dict[str, list[Insertion]] = field(default_factory=dict)
    files: dict[Path, tuple[str, str]] = field(default_factory=dict)  # path -> (text, purpose)
    includes: list[tuple[Directive, Path]] = field(default_factory=list)


def where(d: Directive) -> str:
    """``file:line`` of a directive."""
    return f"{d.file}:{d.line}"


def own(block: Directive, name: str) -> list[Directive]:
    """The block's own directives called ``name`` (not those of nested blocks)."""
    return [d for d in block.block or () if d.name == name]


def is_ours(file: str, ours: frozenset[str]) -> bool:
    """Whether ``file`` is one this plan writes (files for other MCP URLs are not ours:
    what they serve, this plan must see, or it would plan a duplicate location)."""
    return str(absolute(file)) in ours


def absolute(path: str | Path) -> Path:
    """``path`` made absolute and normalised, symlinks left alone (as nginx names files)."""
    return Path(os.path.normpath(Path(path).absolute()))


# -- values --------------------------------------------------------------------------------


def fact_refusals(facts: ResourceFacts) -> list[str]:
    """Why these facts cannot be written into nginx configuration or the document."""
    out: list[str] = []
    url = facts.mcp_url
    reason = refusal("the MCP URL", url)
    if reason is None and not _URL_CHARS.fullmatch(url):
        bad = next(c for c in url if not _URL_CHARS.fullmatch(c))
        reason = f"the MCP URL holds {bad!r}, which does not belong in a URL: refused"
    if reason is None:
        reason = _url_shape(url)
    if reason:
        out.append(reason)
    if not facts.authorization_servers:
        out.append("no authorization server: give the issuer URL the tokens come from")
    for issuer in facts.authorization_servers:
        reason = refusal(f"the authorization server {issuer!r}", issuer, dollar=False)
        if reason:
            out.append(reason)
    for scope in facts.scopes:
        if not _SCOPE.fullmatch(scope):
            out.append(
                f"the scope {scope!r} is not an OAuth scope token (RFC 6749: no spaces, "
                "quotes, backslashes or control characters): refused"
            )
        elif "$" in scope:
            out.append(f"the scope {scope!r} holds '$', which nginx would read as a variable")
    if facts.resource_name is not None:
        reason = refusal("the resource name", facts.resource_name, dollar=False)
        if reason:
            out.append(reason)
    return out


def _url_shape(url: str) -> str | None:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return f"the MCP URL {url!r} has an invalid port"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the MCP URL {url!r} is not an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return "the MCP URL holds user credentials: refused"
    if parts.fragment or "#" in url:
        return f"the MCP URL {url!r} has a fragment, which a resource identifier may not have"
    path = unquote(parts.path)
    if refusal("the MCP URL's decoded path", path):
        return refusal("the MCP URL's decoded path", path)
    segments = path.split("/")
    if "//" in path or "." in segments or ".." in segments:
        return (
            f"the MCP URL's path {parts.path!r} has '//', '.' or '..' segments, which nginx "
            "normalises before matching: use the normalised URL"
        )
    return None


def path_refusal(what: str, path: Path) -> str | None:
    """Why a path cannot be written into nginx configuration (``$`` is a variable there)."""
    return refusal(what, str(path))


def metadata_urls(mcp_url: str) -> tuple[str, ...]:
    """The metadata URLs: path-suffixed first (RFC 9728), then the root one (MCP)."""
    parts = urlsplit(mcp_url)
    if not parts.scheme or not parts.netloc:
        return ()
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.path in ("", "/"):
        return (origin + WELL_KNOWN,)
    return (origin + WELL_KNOWN + parts.path, origin + WELL_KNOWN)


def challenge(metadata_url: str, scopes: tuple[str, ...]) -> str:
    """The ``WWW-Authenticate`` value: the path-suffixed metadata URL and the scopes."""
    value = f'Bearer resource_metadata="{metadata_url}"'
    if scopes:
        value += f', scope="{" ".join(scopes)}"'
    return value


def document(facts: ResourceFacts) -> dict[str, object]:
    """The RFC 9728 protected-resource metadata for ``facts``."""
    doc: dict[str, object] = {
        "resource": facts.mcp_url,
        "authorization_servers": list(facts.authorization_servers),
    }
    if facts.scopes:
        doc["scopes_supported"] = list(facts.scopes)
    doc["bearer_methods_supported"] = ["header"]
    if facts.resource_name:
        doc["resource_name"] = facts.resource_name
    return doc


def decoded(uri: str) -> str:
    """A URI path as nginx matches locations against it."""
    return unquote(uri)


# -- what is kept --------------------------------------------------------------------------


def compare_kept_document(
    loc: Directive, doc: dict[str, object], prefix: Path | None, found: Findings
) -> None:
    """Note an existing metadata location; warn when what it serves differs from ``doc``."""
    uri = location_spec(loc).uri
    text = _served_text(loc, uri, prefix)
    head = f"{where(loc)}: 'location = {uri}' exists and is kept"
    if text is None:
        found.notes.append(f"{head} (what it serves cannot be read here)")
        return
    try:
        served = json.loads(text)
    except ValueError:
        found.warnings.append(f"{head}, but it does not serve JSON: fix or remove it")
        return
    if served == doc:
        found.notes.append(f"{head}: it serves the planned document")
        return
    keys = sorted(
        k
        for k in set(doc) | set(served if isinstance(served, dict) else {})
        if not isinstance(served, dict) or served.get(k) != doc.get(k)
    )
    found.warnings.append(
        f"{head}, but it serves a different document ({', '.join(keys) or 'not an object'} "
        "differ): edit what it serves, or remove that location so setup serves its own"
    )


def _served_text(loc: Directive, uri: str, prefix: Path | None) -> str | None:
    path: Path | None = None
    if own(loc, "alias"):
        path = Path(own(loc, "alias")[-1].args[0])
    elif own(loc, "root"):
        path = Path(own(loc, "root")[-1].args[0]) / uri.lstrip("/")
    elif own(loc, "return") and len(own(loc, "return")[-1].args) == 2:
        return own(loc, "return")[-1].args[1]
    if path is None or "$" in str(path):
        return None
    if not path.is_absolute() and prefix is not None:
        path = prefix / path
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def free_name(base: str, server: Directive) -> str:
    """A named location name the server does not use yet."""
    names = {
        location_spec(d).uri for d in own(server, "location") if location_spec(d).modifier == "@"
    }
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base}_{n}"
    return name


@dataclass(frozen=True, slots=True)
class ErrorPages:
    """The ``error_page`` lines in force in the MCP location.

    ``page_401``: the one for 401, if any. ``in_force``: the whole list the location uses,
    its own or the nearest outer level's (nginx inherits the list only into a level with
    no ``error_page`` of its own). ``inherited``: that list comes from an outer level, so
    an ``error_page`` added in the location cancels it.
    """

    page_401: Directive | None
    in_force: tuple[Directive, ...]
    inherited: bool


def error_pages(chain: tuple[Directive, ...], server: Directive, http: Directive) -> ErrorPages:
    """The ``error_page`` list in force in the MCP location (``chain[-1]``)."""
    location = chain[-1]
    for level in (*reversed(chain), server, http):
        pages = tuple(own(level, "error_page"))
        if not pages:
            continue
        page_401 = next((p for p in pages if "401" in p.args[:-1]), None)
        return ErrorPages(page_401, pages, level is not location)
    return ErrorPages(None, (), False)


def other_codes(pages: tuple[Directive, ...], but: str = "401") -> list[str]:
    """The status codes ``pages`` handle, less ``but`` (``=code`` replacements left out)."""
    codes = {a for p in pages for a in p.args[:-1] if not a.startswith("=") and a != but}
    return sorted(codes, key=lambda c: (len(c), c))


def intercepts(levels: tuple[Directive, ...]) -> bool:
    """Whether ``proxy_intercept_errors`` is on for the innermost of ``levels`` (outer first).

    The innermost level that sets it decides (nginx's default is off).
    """
    for level in reversed(levels):
        found = own(level, "proxy_intercept_errors")
        if found:
            return found[-1].args[:1] == ("on",)
    return False


def compare_kept_challenge(page: Directive, server: Directive, value: str, found: Findings) -> None:
    """Note the existing ``error_page 401``; warn when its challenge differs from ``value``."""
    target = page.args[-1]
    head = f"{where(page)}: 'error_page {' '.join(page.args)}' exists and is kept"
    named = next(
        (
            d
            for d in own(server, "location")
            if location_spec(d).modifier == "@" and location_spec(d).uri == target
        ),
        None,
    )
    if named is None:
        found.notes.append(f"{head} (what it answers cannot be read here)")
        return
    sent = [
        d
        for d in own(named, "add_header")
        if len(d.args) >= 2 and d.args[0].lower() == "www-authenticate"
    ]
    if not sent:
        found.warnings.append(
            f"{head}, but {where(named)} 'location {target}' adds no WWW-Authenticate: "
            f"add 'add_header WWW-Authenticate {quote(value)} always;' there"
        )
    elif sent[-1].args[1] != value:
        found.warnings.append(
            f"{head}; {where(sent[-1])} sends {sent[-1].args[1]!r}, the plan's challenge is "
            f"{value!r}: edit that line, or remove the error_page 401 so setup adds its own"
        )
    else:
        found.notes.append(f"{head}: it sends the planned challenge")


def headers_more(
    tree: tuple[Directive, ...], config: NginxConfig, module: Path | None, found: Findings
) -> None:
    """Load the headers-more module when the 401 rewrite needs it and it is not loaded."""
    for d in walk_tree(tree, None):
        if d.name == "load_module" and d.args and HEADERS_MORE_SO in Path(d.args[0]).name:
            found.notes.append(f"{where(d)}: the headers-more module is loaded")
            return
        if d.name in _HEADERS_MORE_DIRECTIVES:
            found.notes.append(f"{where(d)}: {d.name} is used, so headers-more is there")
            return
    if module is None:
        module = next((p for p in HEADERS_MORE_CANDIDATES if p.exists()), None)
    if module is None or not module.exists():
        found.blockers.append(
            "the 401 rewrite needs nginx's headers-more module (more_clear_headers), which "
            f"is not loaded, and {module or HEADERS_MORE_CANDIDATES[0]} does not exist. "
            "Debian/Ubuntu: 'apt-get install libnginx-mod-http-headers-more-filter' (it "
            "loads itself from /etc/nginx/modules-enabled). Oracle Linux/RHEL: no package "
            "name is confirmed here; install the module your repository provides for your "
            "nginx version or build headers-more-nginx-module as a dynamic module, then "
            "plan again with the path of its .so"
        )
        return
    main = str(config.path)
    line = first_token_line(read_text(main))
    found.insertions.setdefault(main, []).append(
        Insertion(line - 1, f"load_module {quote(str(module))};")
    )
    found.notes.append(f"{main}: load_module {module} added (headers-more, for the 401 rewrite)")


def read_text(path: str | Path) -> str:
    """A file's text exactly as stored: line endings kept (CRLF files stay CRLF)."""
    with Path(path).open(encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


# -- the token log -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogFormats:
    """The http-level file's text (``None``: nothing to define) and the format names."""

    http_text: str | None
    safe_name: str
    token_name: str


def log_formats(
    config: NginxConfig,
    tree: tuple[Directive, ...],
    ours: frozenset[str],
    full: bool,
    found: Findings,
) -> LogFormats:
    """The safe map and format (and the full format on request), reusing the user's own."""
    user = {
        name.lower(): fmt
        for name, fmt in config.log_formats.items()
        if fmt.file is None or not is_ours(fmt.file, ours)
    }

    def name_for(preferred: str, template: str) -> tuple[str, bool]:
        name, n = preferred, 1
        while (existing := user.get(name.lower())) is not None:
            if existing.template == template and existing.escape == "default":
                found.notes.append(f"log_format {name} exists with the same template: reused")
                return name, False
            n += 1
            name = f"{preferred}_{n}"
        return name, True

    safe_name, define_safe = name_for(SAFE_FORMAT_NAME, SAFE_TEMPLATE)
    full_name, define_full = (
        name_for(snippets.FULL_FORMAT_NAME, EXTENDED_TEMPLATE) if full else (safe_name, False)
    )
    # The token map serves the full format's switch back too; the request and referer maps
    # only the safe format setup defines (a reused one has them already).
    wanted = (
        (SAFE_VARIABLE, REQUEST_VARIABLE, REFERER_VARIABLE) if define_safe else (SAFE_VARIABLE,)
    )
    maps = [v for v in wanted if not _kept_definition(tree, v, found)]
    text = None
    if maps or define_safe or define_full:
        text = snippets.http_file(
            maps=maps,
            safe_format=safe_name if define_safe else None,
            full_format=full_name if define_full else None,
        )
    return LogFormats(text, safe_name, full_name if full else safe_name)


# Directives that define a variable for the whole http context, and where they name it.
_DEFINERS = {"map": -1, "geo": -1, "split_clients": -1, "perl_set": 0, "js_set": 0}


def _kept_definition(tree: tuple[Directive, ...], variable: str, found: Findings) -> bool:
    """Whether the user's configuration defines ``$variable`` (one of the safe log's): it
    is then kept, not defined twice.

    nginx accepts a second map of a variable and the later one wins, so setup's include
    before the user's map would silently log what theirs writes. A definition that
    differs from setup's map is kept with a warning: it decides what the safe format
    logs for that field.
    """
    wanted = f"${variable}".lower()
    defined = next(
        (
            d
            for d in walk_tree(tree, None)
            if d.name in _DEFINERS and d.args and d.args[_DEFINERS[d.name]].lower() == wanted
        ),
        None,
    )
    if defined is None:
        return False
    if _same(defined, _SAFE_MAP_DIRECTIVES[variable]):
        found.notes.append(f"{where(defined)}: the map defining ${variable} is kept (the same)")
        return True
    what = (
        "the token's signature" if variable == SAFE_VARIABLE else "the query and token-sized paths"
    )
    found.warnings.append(
        f"{where(defined)}: your {defined.name} defines ${variable}, which the safe log "
        "format writes, and differs from setup's map: setup keeps yours (a second "
        "definition would make whichever nginx reads last decide). Check that it drops "
        f"{what}, or replace it with the map of docs/safe-token-log.md and plan again"
    )
    return True


def _same(a: Directive, b: Directive) -> bool:
    """Same directive, arguments and block, wherever each is written."""
    if a.name != b.name or a.args != b.args or (a.block is None) != (b.block is None):
        return False
    inner_a, inner_b = a.block or (), b.block or ()
    return len(inner_a) == len(inner_b) and all(map(_same, inner_a, inner_b))


_SAFE_MAP_DIRECTIVES = {
    variable: parse_config_text(text, strict=False).directives[0]
    for variable, text in SAFE_MAPS.items()
}


def find_format(config: NginxConfig, name: str) -> LogFormat | None:
    """A ``log_format`` by name (nginx ignores case)."""
    for key, fmt in config.log_formats.items():
        if key.lower() == name.lower():
            return fmt
    return None


@dataclass(frozen=True, slots=True)
class TokenLog:
    """Where the token log goes: ``level`` (server or location) gets ``access_log``.

    ``repeated``: the inherited logs repeated beside it on that level. ``written``: the
    user's logs the MCP location writes when the token log is placed there; the named
    location the 401 is rewritten in finishes the request, and nginx logs with the
    configuration of the location that finishes it, so that location repeats them (and
    the token log) too.
    """

    path: Path | None
    level: Directive | None
    repeated: tuple[Directive, ...] = ()
    written: tuple[Directive, ...] = ()


def token_log(
    config: NginxConfig,
    levels: tuple[Directive, Directive, tuple[Directive, ...]],
    formats: LogFormats,
    wanted: Path | None,
    full: bool,
    ours: frozenset[str],
    found: Findings,
) -> TokenLog:
    """Place the token log so no log the user has stops being written."""
    http, server, chain = levels
    location = chain[-1]
    user_logs = [
        log
        for log in config.effective_logs
        if not is_ours(log.file, ours) and not log.off and not log.syslog
    ]
    token_logs = []
    for log in user_logs:
        fmt = find_format(config, log.format_name)
        if fmt is None or "http_authorization" not in fmt.variables:
            continue
        token_logs.append(log)
        if records_raw_authorization(fmt):
            found.warnings.append(
                f"{log.file}:{log.line}: access_log {log.path} records $http_authorization "
                "as sent: full bearer tokens anyone who can read the file can replay. Fix: "
                f"'access_log {quote(log.written_path or log.path)} {formats.safe_name};' "
                "(the safe format setup defines) or remove that line, then delete the "
                "files that hold tokens"
            )
        elif raw := raw_query_variables(fmt):
            # Safe Authorization field, but a token sent as ?access_token= (MCP forbids it:
            # a broken or hostile client) or in a Referer is logged whole: as replayable
            # as a full-token log, so warned about the same way (doctor:
            # nginx-log-query-tokens).
            at = f" at {fmt.file}:{fmt.line}" if fmt.file else ""
            found.warnings.append(
                f"{log.file}:{log.line}: access_log {log.path} drops the token's signature "
                f"but its log_format {log.format_name}{at} records "
                + ", ".join(f"${name}" for name in raw)
                + " as sent: a token a client puts in the URL (?access_token=) or a "
                "Referer holding one is logged whole, replayable. Fix: "
                f"'access_log {quote(log.written_path or log.path)} {formats.safe_name};' "
                "(the safe format setup defines: request line and referer without their "
                "query or a token-sized path) instead of that line, then delete the files "
                "that may hold tokens"
            )
    path = wanted
    if path is None:
        path = Path(token_logs[0].path).parent / "mcp-tokens.log" if token_logs else None
        path = path or DEFAULT_TOKEN_LOG
    # The innermost level with access_logs of its own decides what the request writes.
    innermost = next(
        ((lv, own(lv, "access_log")) for lv in (*reversed(chain), server) if own(lv, "access_log")),
        None,
    )
    written = innermost[1] if innermost else own(http, "access_log")
    if not full:
        for d in written:
            fmt = find_format(config, d.args[1]) if len(d.args) >= 2 else None
            if (
                fmt is not None
                and SAFE_VARIABLE in fmt.template
                and not records_raw_authorization(fmt)
            ):
                found.notes.append(f"{where(d)}: a signature-free token log is written: kept")
                kept = Path(d.args[0])
                if not kept.is_absolute() and config.prefix is not None:
                    kept = config.prefix / kept  # nginx: relative to its prefix
                return TokenLog(kept, None)
    if full:
        found.warnings.append(
            f"the token log {path} will record full bearer tokens (format {formats.token_name}): "
            "anyone who can read it can replay them until they expire. Use it only to "
            "debug a signature failure, then run setup again without the full-tokens "
            f"option to switch back to the safe format, and delete {path}"
        )
    if innermost is None:
        if not written:
            found.warnings.append(
                f"{where(server)}: no access_log is configured, so nginx writes its built-in "
                "default log; the token log at server level stops it for this server: add "
                "'access_log <that path> combined;' to the http block to keep it"
            )
        repeated = tuple(d for d in written if d.args[:1] != ("off",))
        if any(d.args[:1] == ("off",) for d in written):
            repeated = ()
        for d in repeated:
            found.notes.append(f"{where(d)}: inherited access_log repeated beside the token log")
        return TokenLog(path, server, repeated)
    level, logs = innermost
    if any(d.args[:1] == ("off",) for d in logs):
        if level is location:
            found.warnings.append(
                f"{where(logs[0])}: the MCP location has 'access_log off', so no token log "
                "is written: remove that line and plan again to get one"
            )
            return TokenLog(None, None)
        return TokenLog(path, location)
    if level is server:
        return TokenLog(path, level)
    if level is location:
        return TokenLog(path, level, (), tuple(logs))
    for d in logs:
        found.notes.append(f"{where(d)}: inherited access_log repeated beside the token log")
    return TokenLog(path, location, tuple(logs), tuple(logs))
