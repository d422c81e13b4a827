"""How a setup plan reads: text for a terminal, JSON for scripts.

Text sections in the order they are applied: 1 ORDS (the PL/SQL a DBA would read), 2 nginx
(a unified diff of the files written, then notes, warnings and blockers), 3 the IdP
admin's checklist (with ``az`` commands for Entra ID). No token appears anywhere (only a
profile proposal's fingerprint); free-text lines are scrubbed of anything credential-shaped
and everything is escaped for the terminal. Diffs and scripts are generated from checked
values and kept exact (redaction would rewrite the safe log format's own text).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from inspector.ords.proposal import Proposal
from inspector.schema_version import SCHEMA_VERSION
from inspector.setup.facts import SetupFacts
from inspector.setup.idp_checklist import checklist_json, render_checklist
from inspector.setup.model import unified_diff
from inspector.setup.plan import PARTS, SetupPlan
from parsers.printable import printable
from parsers.redaction import redact_text

TITLES = {"nginx": "nginx", "ords": "ORDS", "idp": "Identity provider"}


def line(text: str) -> str:
    """One free-text line for display: credential-shaped runs redacted, controls escaped."""
    return printable(redact_text(text))


def block(text: str) -> str:
    """Our own generated text (a diff, a script): controls escaped, lines kept."""
    return printable(text, keep_newline=True)


def _facts_lines(facts: SetupFacts) -> list[str]:
    out = ["Working from:"]
    out += [f"  {line(note)}" for note in facts.notes]
    out += [f"  warning: {line(w)}" for w in facts.warnings]
    return out


def _listed(label: str, items: tuple[str, ...]) -> list[str]:
    return [f"  {label}: {line(item)}" for item in items]


def _nginx_lines(plan: SetupPlan) -> list[str]:
    nginx = plan.nginx
    assert nginx is not None
    out = [f"  configuration: {line(str(plan.nginx_conf))}"]
    if nginx.changes:
        out += ["", block(unified_diff(nginx.changes)).rstrip("\n"), ""]
    elif not nginx.blockers:
        out.append("  nothing to change: nginx already serves what the plan needs")
    out.append(f"  challenge: WWW-Authenticate: {line(nginx.challenge)}")
    out += [f"  metadata: {line(url)}" for url in nginx.metadata_urls]
    if nginx.token_log is not None:
        out.append(f"  token log: {line(str(nginx.token_log))}")
    out += _listed("note", nginx.notes)
    out += _listed("warning", nginx.warnings)
    out += _listed("BLOCKED", nginx.blockers)
    return out


def _ords_lines(plan: SetupPlan) -> list[str]:
    grants = plan.ords
    assert grants is not None
    out = _listed("note", grants.notes)
    out += _listed("warning", grants.warnings)
    out += _listed("BLOCKED", grants.blockers)
    if plan.profile is not None:
        proposal = plan.profile
        out.append(
            f"  JWT profile from the token {line(proposal.token_fingerprint)} "
            f"({'verified' if proposal.verified else 'NOT verified'}): "
            + ("changes" if proposal.changed else "already in place")
        )
        out += [f"  {'!!' if r.blocking else '! '} {line(r.message)}" for r in proposal.risks]
    else:
        out.append(
            "  JWT profile: not planned (no token): run setup again with --from-log once a "
            "connector's token is in the log, or use token-inspector profile apply"
        )
    out += ["", "  PL/SQL (the tool binds the same values; this is the reviewable equivalent):"]
    out += [f"    {text}" for text in block(plan.ords_script or "").rstrip().splitlines()]
    return out


def render_plan(plan: SetupPlan) -> str:
    """The plan as a terminal reads it."""
    out = [f"setup plan for {line(plan.facts.mcp_url)}", ""]
    out += _facts_lines(plan.facts)
    for number, part in enumerate(PARTS, start=1):
        if part not in plan.parts:
            continue
        out += ["", f"{number}. {TITLES[part]}"]
        if part in plan.skipped:
            label = "BLOCKED" if plan.blocked(part) else "skipped"
            out.append(f"  {label}: {line(plan.skipped[part])}")
        elif part == "nginx" and plan.nginx is not None:
            out += _nginx_lines(plan)
        elif part == "ords" and plan.ords is not None:
            out += _ords_lines(plan)
        elif part == "idp" and plan.checklist is not None:
            out += ["", block(render_checklist(plan.checklist)).rstrip("\n")]
    return "\n".join(out)


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
        "sources": dict(facts.sources),
        "warnings": list(facts.warnings),
    }


def _profile_json(proposal: Proposal) -> dict[str, Any]:
    return {
        "token_fingerprint": proposal.token_fingerprint,
        "verified": proposal.verified,
        "issuer_anchored": proposal.anchored,
        "current": asdict(proposal.current) if proposal.current else None,
        "proposed": asdict(proposal.proposed),
        "changed": proposal.changed,
        "risks": [asdict(r) for r in proposal.risks],
    }


def plan_json(plan: SetupPlan) -> dict[str, Any]:
    """The plan for ``setup --json`` (``schema_version`` first, like every command)."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "facts": facts_json(plan.facts),
        "parts": list(plan.parts),
        "skipped": dict(plan.skipped),
        "ords": None,
        "nginx": None,
        "idp": checklist_json(plan.checklist) if plan.checklist is not None else None,
        "blockers": list(plan.blockers),
    }
    if plan.nginx is not None:
        nginx = plan.nginx
        doc["nginx"] = {
            "config": str(plan.nginx_conf),
            "changes": [
                {
                    "path": str(c.path),
                    "created": c.created,
                    "purpose": c.purpose,
                    "diff": unified_diff((c,)),
                }
                for c in nginx.changes
            ],
            "documents": {k: dict(v) for k, v in nginx.documents.items()},
            "metadata_urls": list(nginx.metadata_urls),
            "challenge": nginx.challenge,
            "token_log": str(nginx.token_log) if nginx.token_log else None,
            "new_token_log": str(nginx.new_token_log) if nginx.new_token_log else None,
            "notes": list(nginx.notes),
            "warnings": list(nginx.warnings),
            "blockers": list(nginx.blockers),
        }
    if plan.ords is not None:
        grants = plan.ords
        doc["ords"] = {
            "role_to_create": grants.role_to_create,
            "privilege_before": asdict(grants.privilege_before)
            if grants.privilege_before
            else None,
            "privilege_after": asdict(grants.privilege_after) if grants.privilege_after else None,
            "module": asdict(grants.module) if grants.module else None,
            "profile": _profile_json(plan.profile) if plan.profile is not None else None,
            "notes": list(grants.notes),
            "warnings": list(grants.warnings),
            "blockers": list(grants.blockers),
            "plsql": plan.ords_script,
        }
    scrubbed: dict[str, Any] = scrub(doc)
    return scrubbed


# Keys whose values are free text quoting servers, files and databases; the rest (diffs,
# scripts, documents) is text we generated from checked values, kept exact: redaction
# would rewrite a log_format's authorization:"$token_without_signature" itself.
FREE_TEXT = frozenset(
    {"notes", "warnings", "blockers", "sources", "failure", "restore", "nginx_output", "message"}
)


def scrub(value: Any, free: bool = False) -> Any:
    """``value`` with every free-text string (under a ``FREE_TEXT`` key) scrubbed of
    anything credential-shaped."""
    if isinstance(value, str):
        return redact_text(value) if free else value
    if isinstance(value, dict):
        return {k: scrub(v, free or k in FREE_TEXT) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, free) for v in value]
    return value
