"""What ``profile`` prints: a profile, a proposal (text and JSON)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.proposal import Proposal
from parsers.printable import printable
from parsers.redaction import redact_credential


def profile_lines(profile: JwtProfile | None) -> list[str]:
    if profile is None:
        return ["  (no JWT profile)"]
    kind = "role-based" if profile.role_based else "scope-based"
    lines = [f"  {k:<16} {v}" for k, v in asdict(profile).items() if v is not None]
    return [*lines, f"  ({kind})"]


_MARK = {True: "ok ", False: "XX ", None: " - "}


def render_proposal(proposal: Proposal, chosen_token: str | None, show_token: bool) -> str:
    """The human view of a proposal: token, diff, pre-checks, risks, PL/SQL."""
    out: list[str] = []
    out.append(f"Token sha256:{proposal.token_fingerprint} ({proposal.signature_state()})")
    out.append(
        f"  issuer {printable(proposal.proposed.issuer)}"
        + ("" if proposal.anchored else " (NOT anchored)")
    )
    if proposal.source:
        out.append(f"  from {proposal.source}")
    if chosen_token is not None:
        shown = chosen_token if show_token else redact_credential(chosen_token)
        out.append(f"  token {printable(shown)}")
    target = proposal.schema or "the connected schema"
    out.append("")
    if proposal.current_known:
        out.append(f"Profile for {target}: current -> proposed ('*' = changes)")
    else:
        out.append("Proposed profile (no database: current profile unknown)")
    width = max(len(r.current) for r in proposal.diff) if proposal.current_known else 0
    for row in proposal.diff:
        mark = "*" if row.changed and proposal.current_known else " "
        if proposal.current_known:
            out.append(f" {mark} {row.parameter:<18} {row.current:<{width}}  ->  {row.proposed}")
        else:
            out.append(f"   {row.parameter:<18} {row.proposed}")
    out.append("")
    out.append("Pre-checks:")
    out += [f"  {_MARK[c.ok]}{c.text}" for c in proposal.prechecks]
    if proposal.will_pass is not None:
        verdict = "PASSES" if proposal.will_pass else "would still FAIL"
        out.append(f"  => this token {verdict} under the proposed profile")
    if proposal.risks:
        out.append("")
        out.append("Risks:")
        out += [f"  {'!!' if r.blocking else '! '} {r.message}" for r in proposal.risks]
    out.append("")
    out.append("PL/SQL (the tool binds the same values; this is the reviewable equivalent):")
    out += [f"  {line}" for line in proposal.plsql.rstrip().splitlines()]
    return "\n".join(out)


def proposal_json(proposal: Proposal) -> dict[str, Any]:
    return {
        "token_fingerprint": proposal.token_fingerprint,
        "verified": proposal.verified,
        "issuer_anchored": proposal.anchored,
        "source": proposal.source,
        "schema": proposal.schema,
        "current": asdict(proposal.current) if proposal.current else None,
        "current_known": proposal.current_known,
        "proposed": asdict(proposal.proposed),
        "diff": [asdict(r) for r in proposal.diff],
        "prechecks": [asdict(c) for c in proposal.prechecks],
        "will_pass": proposal.will_pass,
        "risks": [asdict(r) for r in proposal.risks],
        "reached": {
            "privileges": list(proposal.reached_privileges),
            "modules": list(proposal.reached_modules),
            "patterns": list(proposal.reached_patterns),
        },
        "plsql": proposal.plsql,
    }
