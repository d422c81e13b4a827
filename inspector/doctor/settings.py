"""``[doctor]`` in the config file: the MCP URL and defaults, so ``doctor`` (and the TUI's
doctor screen) can run without arguments on a host that has been set up once.

    [doctor]
    url = "https://mcp.example.com/ords/hr/mcp/server"
    idp = "entra"          # auto | entra | generic
    http_timeout = 5
    allow_http = false     # lab setups only
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from inspector.doctor.model import DoctorOptions
from inspector.settings import Config, ConfigError

IDP_CHOICES = ("auto", "entra", "generic")
_KEYS = {"url", "idp", "http_timeout", "allow_http", "origin"}


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the MCP endpoint (not absolute http(s)), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"URL must be an absolute http(s) URL: {url!r}"
    return None


def doctor_section(section: Mapping[str, Any]) -> dict[str, Any]:
    """Validated ``[doctor]`` values as ``DoctorOptions`` keyword arguments (``url`` too)."""
    unknown = sorted(set(section) - _KEYS)
    if unknown:
        raise ConfigError(f"[doctor] unknown key {unknown[0]!r}")
    out: dict[str, Any] = {}
    if "url" in section:
        url = section["url"]
        if not isinstance(url, str) or url_problem(url):
            raise ConfigError("[doctor] url must be the absolute http(s) URL of the MCP endpoint")
        out["url"] = url
    if "idp" in section:
        if section["idp"] not in IDP_CHOICES:
            raise ConfigError(f"[doctor] idp must be one of {', '.join(IDP_CHOICES)}")
        out["idp"] = section["idp"]
    if "http_timeout" in section:
        timeout = section["http_timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError("[doctor] http_timeout must be a positive number of seconds")
        out["timeout"] = float(timeout)
    if "allow_http" in section:
        if not isinstance(section["allow_http"], bool):
            raise ConfigError("[doctor] allow_http must be true or false")
        out["allow_http"] = section["allow_http"]
    if "origin" in section:
        if not isinstance(section["origin"], str) or url_problem(section["origin"]):
            raise ConfigError("[doctor] origin must be an http(s) origin for the CORS probe")
        out["origin"] = section["origin"]
    return out


def options_from_config(config: Config, **overrides: Any) -> DoctorOptions:
    """``DoctorOptions`` from ``[doctor]``, with ``overrides`` (e.g. ``url``, ``profile``) winning.

    Raises ``ConfigError`` when the section is invalid or no URL is known.
    """
    values = doctor_section(config.section("doctor"))
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "url" not in values:
        raise ConfigError("no MCP endpoint URL: set [doctor] url in the config file")
    return DoctorOptions(**values)
