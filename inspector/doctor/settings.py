"""``[doctor]`` in the config file: the MCP URL and defaults, so ``doctor`` (and the TUI's
doctor screen) can run without arguments on a host that has been set up once.

    [doctor]
    url = "https://mcp.example.com/ords/hr/mcp/server"
    idp = "entra"          # auto | entra | generic
    http_timeout = 5
    allow_http = false     # lab setups only
    mcp_revision = "2025-11-25"   # or "2025-06-18": the MCP specification to judge against

The table is validated with the others in ``inspector.settings`` (``DoctorSettings``);
this module turns it into the doctor's own ``DoctorOptions``.
"""

from __future__ import annotations

from typing import Any

from inspector.doctor.model import DoctorOptions
from inspector.settings import IDP_CHOICES, ConfigError, DoctorSettings, url_problem

__all__ = ["IDP_CHOICES", "doctor_values", "options_from_settings", "url_problem"]


def doctor_values(doctor: DoctorSettings) -> dict[str, Any]:
    """``DoctorOptions`` keyword arguments from the settings (without ``url``)."""
    values: dict[str, Any] = {
        "idp": doctor.idp,
        "timeout": doctor.http_timeout,
        "allow_http": doctor.allow_http,
        "mcp_revision": doctor.mcp_revision,
    }
    if doctor.origin is not None:
        values["origin"] = doctor.origin
    return values


def options_from_settings(doctor: DoctorSettings, **overrides: Any) -> DoctorOptions:
    """``DoctorOptions`` from ``[doctor]``, with ``overrides`` (e.g. ``url``, ``profile``) winning.

    Raises ``ConfigError`` when no URL is known.
    """
    values = {"url": doctor.url, **doctor_values(doctor)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values["url"] is None:
        raise ConfigError("no MCP endpoint URL: set [doctor] url in the config file")
    return DoctorOptions(**values)
