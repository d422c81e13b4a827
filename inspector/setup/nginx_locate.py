"""Which ``server`` and ``location`` nginx picks for a URL, by nginx's own rules.

Server: the listening socket is chosen by port and address (a server listening on the
URL's address exactly takes precedence over wildcard ones), then the ``Host`` name
against ``server_name``: exact name, longest leading wildcard (``*.example.com`` or
``.example.com``), longest trailing wildcard (``www.example.*``), first matching regex in
configuration order, else the ``default_server`` of that socket, else the first server
listening there.

Location (ngx_http_core_find_location): an exact ``=`` match wins; otherwise the longest
prefix is remembered (and its nested locations searched the same way); ``^~`` on that
prefix skips regexes; else the first matching regex (``~`` / ``~*``) in configuration
order wins, the innermost level first; else the prefix.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from parsers.nginx.model import Directive

# ngx_http_core_module's default ``listen`` when a server has none (as root).
DEFAULT_LISTEN_PORT = 80


@dataclass(frozen=True, slots=True)
class UrlTarget:
    """What nginx sees of a URL: scheme, host (lower case, no brackets), port, decoded path."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def host_is_address(self) -> bool:
        """True when the host is an IP literal (the socket's address is then known)."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def url_target(url: str) -> UrlTarget:
    """The parts of ``url`` nginx matches on (``ValueError`` for a URL without a host)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    # nginx matches locations against the decoded URI.
    return UrlTarget(parts.scheme, parts.hostname.lower(), port, unquote(parts.path) or "/")


@dataclass(frozen=True, slots=True)
class Listen:
    """One ``listen`` directive: ``address`` ``None`` is the wildcard."""

    address: str | None
    port: int
    ssl: bool
    default: bool


def parse_listen(args: Sequence[str]) -> Listen | None:
    """The socket a ``listen`` names; ``None`` for UNIX sockets and what we cannot read."""
    if not args or args[0].startswith("unix:"):
        return None
    first = args[0]
    address: str | None
    try:
        if first.startswith("["):
            end = first.index("]")
            address, rest = first[1:end], first[end + 1 :]
            port = int(rest[1:]) if rest.startswith(":") else DEFAULT_LISTEN_PORT
        elif first.isdigit():
            address, port = None, int(first)
        elif ":" in first:
            address, port_text = first.rsplit(":", 1)
            port = int(port_text)
        else:
            address, port = first, DEFAULT_LISTEN_PORT
    except ValueError:
        return None
    if address in ("*", "::", "0.0.0.0"):  # noqa: S104 - reading a config, binding nothing
        address = None
    if address is not None and address.lower() == "localhost":
        # The one name whose address is known without asking a resolver.
        address = "127.0.0.1"
    flags = args[1:]
    default = "default_server" in flags or "default" in flags
    return Listen(address and address.lower(), port, "ssl" in flags, default)


def server_listens(server: Directive) -> tuple[Listen, ...]:
    """The sockets a ``server`` block listens on (nginx's default when it names none)."""
    found = [parse_listen(d.args) for d in server.block or () if d.name == "listen"]
    if not any(d.name == "listen" for d in server.block or ()):
        return (Listen(None, DEFAULT_LISTEN_PORT, False, False),)
    return tuple(listen for listen in found if listen is not None)


def server_names(server: Directive) -> tuple[str, ...]:
    """Every ``server_name`` value, lower-cased (regexes keep their case)."""
    names: list[str] = []
    for d in server.block or ():
        if d.name == "server_name":
            names.extend(a if a.startswith("~") else a.lower() for a in d.args)
    return tuple(names)


def _pcre_to_python(pattern: str) -> re.Pattern[str] | None:
    # PCRE's (?<name>...) is Python's (?P<name>...); what Python cannot read is skipped.
    try:
        return re.compile(re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern))
    except re.error:
        return None


@dataclass(frozen=True, slots=True)
class ServerChoice:
    """The chosen server block and why (one sentence); ``None`` when none listens there."""

    server: Directive | None
    reason: str


def choose_server(servers: Iterable[Directive], target: UrlTarget) -> ServerChoice:
    """The ``server`` nginx uses for requests to ``target``."""
    on_port: list[tuple[Directive, Listen]] = []
    for server in servers:
        for listen in server_listens(server):
            if listen.port == target.port:
                on_port.append((server, listen))
                break
    if target.host_is_address:
        exact = [
            (s, ls)
            for s in dict.fromkeys(s for s, _ in on_port)
            for ls in server_listens(s)
            if ls.port == target.port and ls.address == target.host
        ]
        # nginx: servers on the address itself, else those on the wildcard.
        on_port = exact or [(s, ls) for s, ls in on_port if ls.address is None]
    if not on_port:
        return ServerChoice(None, f"no server block listens on port {target.port}")
    candidates = list(dict.fromkeys(s for s, _ in on_port))
    host = target.host
    for server in candidates:
        if host in server_names(server):
            return ServerChoice(server, f"server_name {host} matches exactly")
    best: tuple[int, Directive, str] | None = None
    for server in candidates:
        for name in server_names(server):
            if (name.startswith("*.") and host.endswith(name[1:])) or (
                name.startswith(".") and (host == name[1:] or host.endswith(name))
            ):
                size = len(name)
            else:
                continue
            if best is None or size > best[0]:
                best = (size, server, name)
    if best is None:
        for server in candidates:
            for name in server_names(server):
                trailing = name.endswith(".*") and host.startswith(name[:-1])
                if trailing and (best is None or len(name) > best[0]):
                    best = (len(name), server, name)
    if best is not None:
        return ServerChoice(best[1], f"server_name {best[2]} matches {host}")
    for server in candidates:
        for name in server_names(server):
            if name.startswith("~"):
                regex = _pcre_to_python(name[1:])
                if regex is not None and regex.search(host):
                    return ServerChoice(server, f"server_name {name} matches {host}")
    for server, _ in on_port:
        if any(ls.default and ls.port == target.port for ls in server_listens(server)):
            return ServerChoice(
                server, f"no server_name matches {host}: the default_server for the port"
            )
    return ServerChoice(
        candidates[0], f"no server_name matches {host}: the first server on the port"
    )


# -- locations -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocationSpec:
    """A ``location``'s modifier (``=``, ``^~``, ``~``, ``~*``, ``""`` or ``@``) and URI."""

    modifier: str
    uri: str


def location_spec(directive: Directive) -> LocationSpec:
    """The modifier and URI of a ``location`` block (nginx also reads ``=/x`` glued)."""
    args = directive.args
    if len(args) >= 2:
        return LocationSpec(args[0], args[1])
    only = args[0] if args else ""
    for modifier in ("=", "^~", "~*", "~", "@"):
        if only.startswith(modifier) and len(only) > len(modifier):
            uri = only if modifier == "@" else only[len(modifier) :]
            return LocationSpec(modifier, uri)
    return LocationSpec("", only)


def _locations(block: Iterable[Directive]) -> list[Directive]:
    return [d for d in block if d.name == "location"]


def find_location(block: Iterable[Directive], path: str) -> tuple[Directive, ...]:
    """The location chain (outermost first) nginx serves ``path`` with; empty: none."""
    locations = _locations(block)
    for loc in locations:
        spec = location_spec(loc)
        if spec.modifier == "=" and spec.uri == path:
            return (loc,)
    prefix: Directive | None = None
    size = -1
    for loc in locations:
        spec = location_spec(loc)
        if spec.modifier in ("", "^~") and path.startswith(spec.uri) and len(spec.uri) > size:
            prefix, size = loc, len(spec.uri)
    inner: tuple[Directive, ...] = ()
    if prefix is not None and prefix.block:
        inner = find_location(prefix.block, path)
        if inner and location_spec(inner[-1]).modifier in ("~", "~*", "="):
            return (prefix, *inner)
    if prefix is None or location_spec(prefix).modifier != "^~":
        for loc in locations:
            spec = location_spec(loc)
            if spec.modifier not in ("~", "~*"):
                continue
            flags = re.IGNORECASE if spec.modifier == "~*" else 0
            regex = _pcre_to_python(spec.uri)
            if regex is not None and re.search(regex.pattern, path, flags):
                return (loc,)
    if prefix is None:
        return ()
    return (prefix, *inner)


def decoded_path(url: str) -> str:
    """The URL's path as nginx matches it (percent-decoded, ``/`` when empty)."""
    return unquote(urlsplit(url).path) or "/"
