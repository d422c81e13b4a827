"""How the demo decides 200 or 401: the way ORDS would, from the stand-in's current profile.

The token is judged by the same analyzer the screen uses, with ``Expectations.from_profile``
of the profile the stand-in holds right now; a role-based profile also needs one of the
token's roles to hold a privilege protecting the path (ORDS's own authorization step).
"""

from __future__ import annotations

import fnmatch
from datetime import datetime

from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.verdicts import Severity
from inspector.ords.database import OrdsRepository


def ords_status(
    token: str | None, path: str, repo: OrdsRepository, analyzer: Analyzer, at: datetime
) -> int:
    """200 when ORDS would accept the request, else 401 (also when only the role is wrong)."""
    if not token:
        return 401
    profile = repo.get_profile()
    if profile is None:
        return 401
    report, verdicts = analyzer.with_expectations(Expectations.from_profile(profile)).analyze_token(
        token, at=at
    )
    if any(v.severity is Severity.ERROR for v in verdicts) or report.verified is not True:
        return 401
    if not profile.role_based:
        return 200
    roles = report.claims.get("roles")
    held = set(roles) if isinstance(roles, list) else set()
    within = _module_path(path)
    for privilege in repo.privileges():
        protects = any(fnmatch.fnmatchcase(within, p) for p in privilege.patterns)
        if protects and held.intersection(privilege.roles):
            return 200
    return 401


def _module_path(path: str) -> str:
    """``/ords/demo/mcp/`` -> ``/mcp/``: privilege patterns are relative to the schema alias."""
    parts = path.split("/", 3)
    if len(parts) == 4 and parts[1] == "ords":
        return "/" + parts[3]
    return path
