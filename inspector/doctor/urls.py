"""URL helpers shared by the doctor's steps: origins, well-known locations, comparisons."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

PRM_WELL_KNOWN = "/.well-known/oauth-protected-resource"


def is_https(url: str) -> bool:
    """True for an ``https://`` URL (scheme case-insensitive)."""
    return urlsplit(url).scheme.lower() == "https"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` with the default port left out, lower-cased."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def prm_locations(resource: str) -> list[str]:
    """RFC 9728 locations for ``resource``: path-suffixed first, then the root."""
    parts = urlsplit(resource)
    root = urlunsplit((parts.scheme, parts.netloc, PRM_WELL_KNOWN, "", ""))
    path = parts.path.rstrip("/")
    if not path:
        return [root]
    return [urlunsplit((parts.scheme, parts.netloc, PRM_WELL_KNOWN + path, "", "")), root]


def same_resource(a: str, b: str) -> bool:
    """Exact comparison except for what URL syntax makes equal (scheme/host case, port)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (
        origin_of(a) == origin_of(b)
        and pa.path == pb.path
        and pa.query == pb.query
        and pa.fragment == pb.fragment
    )


def is_origin(url: str) -> bool:
    """True for ``scheme://host[:port]`` with no path beyond ``/``, no query, no fragment."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query and not parts.fragment


def is_parent_resource(parent: str, url: str) -> bool:
    """True when ``parent`` is ``url``'s origin or a path prefix of it ending at a segment
    boundary, the way the official MCP Python SDK client accepts a metadata ``resource``
    (``check_resource_allowed``); an exact match is not a parent."""
    pp, pu = urlsplit(parent), urlsplit(url)
    if origin_of(parent) != origin_of(url) or pp.query or pp.fragment:
        return False
    parent_path = pp.path if pp.path.endswith("/") else pp.path + "/"
    url_path = pu.path if pu.path.endswith("/") else pu.path + "/"
    return url_path.startswith(parent_path) and url_path != parent_path
