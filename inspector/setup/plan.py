"""The whole setup plan: the facts, then ORDS, nginx and the IdP checklist, each planned by
its own module. Nothing here writes or runs anything. A part that cannot be planned is
``skipped`` with the reason; unless the caller marked it ``optional`` that reason is a
blocker (the user asked for the part, so "nothing to change" would be a lie), and a plan
with blockers is not applied.

Rendering (text and JSON) is in ``inspector.setup.plan_output``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from inspector.judge.idp import issuer_family
from inspector.judge.ords_objects import OrdsPrivilege, OrdsRole
from inspector.logs.nginx_host import find_config_path, find_prefix
from inspector.ords.database import OrdsRepository
from inspector.ords.grants import AuthorizationPlan, authorization_script, plan_authorization
from inspector.ords.proposal import Proposal, judged_against
from inspector.setup.facts import SetupFacts
from inspector.setup.idp_checklist import IdpChecklist, idp_checklist
from inspector.setup.nginx_plan import NginxPlan, NginxPlanOptions, plan_nginx
from parsers.nginx.conf import NginxConfig, NginxConfigError, parse_config

# In the order they are applied: ORDS protects the module before nginx rewrites its 401.
PARTS = ("ords", "nginx", "idp")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class OrdsChoices:
    """What the ORDS part is asked for beyond the facts (``--privilege``, ``--module``)."""

    privilege: str | None = None
    module: str | None = None


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """What setup will do.

    ``nginx_conf`` is the configuration the nginx plan is for; ``ords_script`` the PL/SQL
    preview of the role, privilege and (with ``profile``) the JWT profile; ``skipped``
    maps a part that could not be planned to the one-line reason; ``optional`` names the
    parts whose skipping blocks nothing (every other skipped part is a blocker).
    """

    facts: SetupFacts
    parts: tuple[str, ...] = PARTS
    nginx: NginxPlan | None = None
    nginx_conf: Path | None = None
    ords: AuthorizationPlan | None = None
    profile: Proposal | None = None
    ords_script: str | None = None
    checklist: IdpChecklist | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()

    def blocked(self, part: str) -> bool:
        """``part`` was asked for and could not be planned."""
        return part in self.skipped and part not in self.optional

    @property
    def nginx_applicable(self) -> bool:
        """The nginx part has changes and nothing blocks them."""
        return self.nginx is not None and not self.nginx.blockers and bool(self.nginx.changes)

    @property
    def ords_applicable(self) -> bool:
        """The ORDS part changes the role, privilege or profile, and nothing blocks it."""
        if self.ords is None or self.ords.blockers:
            return False
        return self.ords.changed or (self.profile is not None and self.profile.changed)

    @property
    def blockers(self) -> tuple[str, ...]:
        """Every blocker of the planned parts, prefixed with its part."""
        found = [f"{part}: {self.skipped[part]}" for part in PARTS if self.blocked(part)]
        found += [f"nginx: {b}" for b in (self.nginx.blockers if self.nginx else ())]
        found += [f"ords: {b}" for b in (self.ords.blockers if self.ords else ())]
        return tuple(found)


def load_nginx_config(explicit: Path | None) -> tuple[Path, NginxConfig | str]:
    """The configuration file (``--nginx-conf``, ``nginx -V``, the default) and its parse,
    or the one-line reason it cannot be read."""
    path, how = find_config_path(explicit)
    try:
        return path, parse_config(path, strict=False, prefix=find_prefix(path))
    except NginxConfigError as exc:
        return path, (
            f"cannot read the nginx configuration {path} ({how}): {exc}; give --nginx-conf "
            "with the file nginx runs with, or leave nginx out with --only"
        )


def planned_schema(
    repo: OrdsRepository, grants: AuthorizationPlan
) -> tuple[list[OrdsRole], list[OrdsPrivilege]]:
    """The schema's roles and privileges as they will be once ``grants`` is applied."""
    roles = list(repo.roles())
    if grants.role_to_create is not None and all(r.name != grants.role_to_create for r in roles):
        roles.append(OrdsRole(grants.role_to_create))
    privileges = list(repo.privileges())
    after = grants.privilege_after
    if after is not None:
        privileges = [p for p in privileges if p.name != after.name] + [after]
    return roles, privileges


def scope_privilege_name(facts: SetupFacts) -> str | None:
    """For a scope-based profile (no role): the scope value tokens carry, which names the
    privilege. Entra's ``scp`` holds the name without the resource."""
    if facts.role is not None or not facts.scopes:
        return None
    scope = facts.scopes[0]
    return scope.rpartition("/")[2] if facts.entra else scope


def build_plan(
    facts: SetupFacts,
    parts: tuple[str, ...] = PARTS,
    *,
    nginx_conf: Path | None = None,
    nginx_options: NginxPlanOptions | None = None,
    repo: OrdsRepository | None = None,
    ords: OrdsChoices | None = None,
    profile: Proposal | None = None,
    optional: Collection[str] = (),
) -> SetupPlan:
    """Plan every part in ``parts`` (reads the nginx configuration and the schema).

    A part in ``parts`` that cannot be planned is a blocker unless it is in ``optional``
    (the live screen plans ORDS only when a database is configured)."""
    skipped: dict[str, str] = {}
    nginx_plan = conf_path = None
    if "nginx" in parts:
        conf_path, parsed = load_nginx_config(nginx_conf)
        if isinstance(parsed, str):
            skipped["nginx"] = parsed
        else:
            nginx_plan = plan_nginx(parsed, facts.resource, nginx_options)
    grants = script = None
    if "ords" in parts:
        if repo is None:
            skipped["ords"] = (
                "no database: give --dsn and --user to plan the role and privilege, or "
                "leave ORDS out with --only"
            )
        else:
            choices = ords or OrdsChoices()
            grants = plan_authorization(
                repo,
                role=facts.role,
                privilege=choices.privilege,
                module=choices.module,
                mcp_path=facts.mcp_path,
                scope=scope_privilege_name(facts),
            )
            if profile is not None and not grants.blockers:
                # The profile is applied after the role and privilege: judged against
                # the schema as it will be then, not as it is now.
                profile = judged_against(profile, *planned_schema(repo, grants))
            script = authorization_script(grants, profile)
    planned_profile = profile if "ords" in parts and repo is not None else None
    checklist = None
    if "idp" in parts:
        # The same values as the rest of the plan: the family the facts settled on
        # (--idp counts), the aud the ORDS profile is created with.
        audience = planned_profile.proposed.audience if planned_profile else facts.audience
        family = issuer_family(facts.issuer)
        if facts.entra:
            family = "entra"
        elif family == "entra":
            family = "generic"  # --idp generic for an issuer on Entra's hosts
        checklist = idp_checklist(
            facts.resource,
            issuer=facts.issuer,
            role=facts.role,
            app_id=audience if facts.entra and audience and _GUID.match(audience) else None,
            family=family,
            audience=None if facts.entra else audience,
        )
    return SetupPlan(
        facts=facts,
        parts=parts,
        nginx=nginx_plan,
        nginx_conf=conf_path,
        ords=grants,
        profile=planned_profile,
        ords_script=script,
        checklist=checklist,
        skipped=skipped,
        optional=frozenset(optional),
    )
