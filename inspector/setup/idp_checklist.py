"""What only the identity provider's admin can do, as a checklist with exact values.

The server side (nginx, ORDS) is configured by setup itself; the IdP side is not ours to
change, so it is printed: numbered steps with the exact value for every field, and for
Entra ID also an ``az`` CLI script. Pure: no network, no clock, no randomness (the ids
the script gives a new scope or app role are derived from the MCP URL, so a second run
plans the same ids).

Every input (MCP URL, role, scope, app id) may come from a log or a token and is
attacker-influenced: the script quotes each one with ``shlex.quote`` and builds JSON with
``json.dumps``, and the terminal rendering escapes unprintable characters.

Facts: domain.md sections 1, 4 and 6; the az syntax from the Azure CLI's own help and
parameter texts (``az ad app create/update/credential reset``, ``az ad sp create``,
``az ad app permission add/grant``) and Microsoft Graph's application, apiApplication
and appRoleAssignedTo pages. An item whose behaviour no source we have confirms carries
``confirmed=False`` and is marked so in the output.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.judge.idp import entra_tenant, issuer_family
from inspector.setup import idp_steps
from inspector.setup.idp_steps import CLIENT_REDIRECTS, DEFAULT_SCOPE, Plan
from inspector.setup.idp_steps import ChecklistItem as ChecklistItem
from inspector.setup.model import ResourceFacts
from parsers.challenge import OIDC_SCOPES
from parsers.printable import printable

# Prose is wrapped to this width; values and commands are never wrapped.
WIDTH = 92
FAMILY_LABELS = {
    "entra": "Microsoft Entra ID",
    "okta": "Okta",
    "auth0": "Auth0",
    "keycloak": "Keycloak",
    "oci-iam": "OCI IAM identity domain",
    "generic": "other IdP, generic steps",
}


@dataclass(frozen=True, slots=True)
class IdpChecklist:
    """The admin's steps for one IdP family (the words of ``judge.idp.ISSUER_FAMILIES``).

    ``commands`` is, for Entra ID, a bash script using ``az`` and ``jq``, one command per
    entry (the first entries set shell variables the later ones use); empty otherwise.
    """

    family: str
    items: tuple[ChecklistItem, ...]
    commands: tuple[str, ...]
    caveats: tuple[str, ...]


def idp_checklist(
    facts: ResourceFacts,
    *,
    issuer: str,
    role: str | None = None,
    scope: str | None = None,
    app_id: str | None = None,
    tenant: str | None = None,
    clients: Sequence[str] = ("chatgpt", "claude"),
    family: str | None = None,
    audience: str | None = None,
) -> IdpChecklist:
    """The IdP admin's checklist for ``facts.mcp_url`` at the IdP that ``issuer`` names.

    ``role`` is the ORDS role a role-based profile expects (None: a scope-based profile);
    ``scope`` the scope's name (``mcp:connect`` by default, or the one ``facts.scopes``
    advertises; for Entra ID a fully-qualified ``<MCP URL>/name`` is reduced to its
    name); ``app_id`` the Entra API app's application (client) id when it exists;
    ``tenant`` the Entra tenant id when the issuer does not carry it; ``clients`` the
    connectors to register (keys of ``CLIENT_REDIRECTS``); ``family`` the IdP family
    when the caller knows it (``--idp``; default: from the issuer's host); ``audience``
    the ``aud`` the planned ORDS profile expects (default: the MCP URL, the rule), so the
    checklist names the value the profile is created with. Raises ValueError for an
    unknown client or family.
    """
    unknown = [c for c in clients if c not in CLIENT_REDIRECTS]
    if unknown:
        known = ", ".join(CLIENT_REDIRECTS)
        raise ValueError(f"unknown client {unknown[0]!r} (known: {known})")
    if family is not None and family not in idp_steps.BUILDERS:
        raise ValueError(f"unknown IdP family {family!r} (known: {', '.join(idp_steps.BUILDERS)})")
    family = family or issuer_family(issuer)
    advertised = tuple(s for s in facts.scopes if s not in OIDC_SCOPES)
    plan = Plan(
        mcp_url=facts.mcp_url,
        issuer=issuer,
        scope_name=_scope_name(facts.mcp_url, scope, advertised, entra=family == "entra"),
        advertised=advertised,
        role=role or None,
        app_id=app_id or None,
        tenant=tenant or entra_tenant({"iss": issuer}),
        clients=tuple(dict.fromkeys(clients)),
        audience=audience or None,
    )
    builder = idp_steps.BUILDERS.get(family, idp_steps.generic)
    items, caveats = builder(plan)
    commands = idp_steps.entra_commands(plan) if family == "entra" else ()
    return IdpChecklist(family, tuple(items), commands, tuple(caveats))


def render_checklist(checklist: IdpChecklist) -> str:
    """The checklist as terminal text: numbered items with aligned values, unconfirmed
    items marked, the caveats, then (Entra ID) the az script. Unprintable characters in
    any value are shown escaped."""
    label = FAMILY_LABELS.get(checklist.family, checklist.family)
    lines = [f"Identity provider ({printable(label)}): what only its admin can do", ""]
    for number, item in enumerate(checklist.items, 1):
        mark = "" if item.confirmed else "  [unconfirmed: no source we have confirms this]"
        lines.append(f"{number:>2}. {printable(item.title)}{mark}")
        lines.extend(_wrap(printable(item.detail), "    ", "    "))
        width = max((len(printable(field)) for field, _ in item.values), default=0)
        for field, value in item.values:
            lines.append(f"      {printable(field):<{width}}  {printable(value)}")
        lines.append("")
    if checklist.caveats:
        lines.append("Caveats:")
        for caveat in checklist.caveats:
            lines.extend(_wrap(printable(caveat), "  - ", "    "))
        lines.append("")
    if checklist.commands:
        lines.append(
            "az CLI script (bash 4.4+, az signed in to the tenant as an admin who can "
            "manage applications and grant consent, jq; Azure Cloud Shell has all three). "
            "Save it, read it"
            + (
                ", set PRINCIPAL_ID"
                if any(c.startswith("PRINCIPAL_ID=") for c in checklist.commands)
                else ""
            )
            + ", then run it with bash:"
        )
        lines.append("")
        # Newlines inside a quoted value stay (the shell needs them); other control
        # characters are escaped so the terminal cannot be driven by a hostile value.
        lines.extend(printable(command, keep_newline=True) for command in checklist.commands)
        lines.append("")
    return "\n".join(lines)


def checklist_json(checklist: IdpChecklist) -> dict[str, object]:
    """The checklist for ``--json`` (values as a list: a field may repeat)."""
    return {
        "family": checklist.family,
        "items": [
            {
                "title": item.title,
                "detail": item.detail,
                "values": [{"field": f, "value": v} for f, v in item.values],
                "confirmed": item.confirmed,
            }
            for item in checklist.items
        ],
        "commands": list(checklist.commands),
        "caveats": list(checklist.caveats),
    }


def _scope_name(
    mcp_url: str, scope: str | None, advertised: tuple[str, ...], *, entra: bool
) -> str:
    # Entra: the name the API defines (Entra puts it, not the full URI, in scp). Elsewhere
    # the scope is defined as the value clients request: the one advertised, as it is.
    if not entra:
        return scope or next(iter(advertised), DEFAULT_SCOPE)
    chosen = (
        scope or next((s for s in advertised if s.startswith(mcp_url + "/")), None) or DEFAULT_SCOPE
    )
    prefix = mcp_url + "/"
    if chosen.startswith(prefix) and len(chosen) > len(prefix):
        return chosen[len(prefix) :]
    return chosen


def _wrap(text: str, first: str, rest: str) -> list[str]:
    # URLs and values are never split: a copied value must stay whole.
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
