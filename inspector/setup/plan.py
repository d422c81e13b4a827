"""The whole setup plan, and how it reads: text for a terminal, JSON for scripts.

Sections in the order they are applied: 1 nginx (a unified diff of the files written,
then notes, warnings and blockers), 2 ORDS (the PL/SQL a DBA would read), 3 the IdP
admin's checklist (with ``az`` commands for Entra ID). Nothing here holds a secret: tokens
appear only as fingerprints, and every value from a token, a server or a file is escaped
for the terminal and scrubbed of anything shaped like a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from inspector.schema_version import SCHEMA_VERSION
from inspector.setup.facts import SetupFacts
from parsers.printable import printable
from parsers.redaction import redact_text

PARTS = ("nginx", "ords", "idp")


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """What setup will do: the facts it works from, the parts planned, and why a part
    is left out (``skipped``: part name -> one line)."""

    facts: SetupFacts
    parts: tuple[str, ...] = PARTS
    skipped: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def safe(text: str) -> str:
    """``text`` with credential-shaped runs redacted and terminal controls escaped
    (newlines kept: diffs and scripts are multi-line)."""
    return printable(redact_text(text), keep_newline=True)


def _facts_lines(facts: SetupFacts) -> list[str]:
    lines = ["Working from:"]
    lines += [f"  {note}" for note in facts.notes]
    lines += [f"  warning: {w}" for w in facts.warnings]
    return lines


def render_plan(plan: SetupPlan) -> str:
    """The plan as a terminal reads it (escaped, redacted)."""
    lines = [f"setup plan for {plan.facts.mcp_url}", ""]
    lines += _facts_lines(plan.facts)
    for number, part in enumerate(PARTS, start=1):
        if part in plan.skipped:
            lines += ["", f"{number}. {part}: skipped ({plan.skipped[part]})"]
    lines += [f"note: {n}" for n in plan.notes]
    return safe("\n".join(lines))


def facts_json(facts: SetupFacts) -> dict[str, Any]:
    """The facts for ``setup --json``."""
    return {
        "mcp_url": facts.mcp_url,
        "issuer": facts.issuer,
        "authorization_servers": list(facts.resource.authorization_servers),
        "scopes": list(facts.scopes),
        "role": facts.role,
        "audience": facts.audience,
        "jwks_uri": facts.jwks_uri,
        "entra": facts.entra,
        "sources": {name: where for name, where in facts.sources},
        "warnings": list(facts.warnings),
    }


def plan_json(plan: SetupPlan) -> dict[str, Any]:
    """The plan for ``setup --json`` (``schema_version`` first, like every command)."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "facts": facts_json(plan.facts),
        "parts": list(plan.parts),
        "skipped": dict(plan.skipped),
        "notes": list(plan.notes),
    }
    scrubbed: dict[str, Any] = _scrub(doc)
    return scrubbed


def _scrub(value: Any) -> Any:
    # Values come from tokens and servers: nothing credential-shaped leaves in JSON either.
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value
