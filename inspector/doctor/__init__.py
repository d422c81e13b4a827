"""``doctor``: walk the discovery chain an MCP connector walks and say where it breaks.

Steps, in the order a connector meets them: the 401 challenge, the protected-resource
metadata, the authorization server's metadata, its JWKS, the ORDS profile (and the newest
tokens in a log), and the local nginx configuration. No UI code lives here: the command
prints a checklist and the TUI renders the same :class:`DoctorReport`.
"""

from __future__ import annotations

from inspector.doctor.model import (
    DoctorOptions,
    DoctorReport,
    Finding,
    Status,
    StepReport,
)
from inspector.doctor.runner import run_doctor, stream_doctor
from inspector.doctor.settings import options_from_settings

__all__ = [
    "DoctorOptions",
    "DoctorReport",
    "Finding",
    "Status",
    "StepReport",
    "options_from_settings",
    "run_doctor",
    "stream_doctor",
]
