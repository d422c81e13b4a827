"""Entra ID recognition and scope qualification.

Entra ID resolves a scope without a resource prefix (``mcp:connect``) against Microsoft
Graph, so the connector gets a Graph token ORDS can never verify (AADSTS650053 or a
Graph ``aud``). Other IdPs use bare scopes legitimately, so this is judged for Entra only.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from parsers.challenge import OIDC_SCOPES

ENTRA_HOSTS = (
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
    "sts.windows.net",
)
ENTRA_HOST_SUFFIXES = (".ciamlogin.com",)


def is_entra_url(url: str) -> bool:
    """True when ``url`` is served by Entra ID (workforce, sovereign clouds or External ID)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ENTRA_HOSTS or host.endswith(ENTRA_HOST_SUFFIXES)


def is_qualified(scope: str) -> bool:
    """``api://<app>/name``, ``https://<app-uri>/name`` or ``<guid>/name``: has a resource."""
    resource, sep, name = scope.rpartition("/")
    return bool(sep and resource and name)


def bare_scopes(scopes: Iterable[str]) -> list[str]:
    """Scopes Entra ID would resolve against Microsoft Graph (OIDC scopes excepted)."""
    return [s for s in scopes if s not in OIDC_SCOPES and not is_qualified(s)]
