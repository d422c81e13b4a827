"""What the user (or the ORDS profile) expects tokens to carry.

Expectations come, in rising priority, from the TOML config, command-line flags and the
ORDS profile read from the database. Each value remembers where it came from so a
verdict can say "expected by the ORDS profile" rather than just "expected".

A session with a database also knows facts about the schema that no token can show:
whether it has a JWT profile at all (``profile_state``), which ORDS roles exist and which
privileges they hold (``ords_roles``), and which privileges protect something
(``ords_privileges``: what a scope-based profile's ``scp`` values must name). They travel
here, as values, so the analyzer never touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from inspector.judge.ords_objects import JwtProfile
from parsers.ords_config import OrdsConfig

if TYPE_CHECKING:
    from inspector.judge.ords_objects import OrdsPrivilege, OrdsRole

# ORDS caps p_allowed_skew at 60 seconds.
ORDS_MAX_SKEW = 60
ORDS_ALGORITHMS = ("RS256", "RS384", "RS512")

# "unknown": no database was asked (the default); "absent": the schema has no JWT profile;
# "present": it has one (its values are in the other fields).
ProfileState = Literal["unknown", "absent", "present"]

# The expectations a JWT profile sets, NULLs included (see ``Expectations.merged``).
PROFILE_FIELDS = ("issuer", "audience", "allowed_skew", "allowed_age", "role_claim", "jwk_url")


def role_privileges(
    roles: Iterable[OrdsRole], privileges: Iterable[OrdsPrivilege]
) -> dict[str, tuple[str, ...]]:
    """ORDS role name -> names of the privileges granted to it that protect something.

    Every role of ``USER_ORDS_ROLES`` is a key (an empty tuple when it holds nothing that
    protects a module or pattern). A privilege without modules and patterns protects no
    request, so holding it lets no one in.
    """
    held: dict[str, list[str]] = {role.name: [] for role in roles}
    for privilege in privileges:
        protects = bool(privilege.modules or privilege.patterns)
        for name in privilege.roles:
            names = held.setdefault(name, [])
            if protects and privilege.name not in names:
                names.append(privilege.name)
    return {name: tuple(names) for name, names in held.items()}


def privilege_protects(privileges: Iterable[OrdsPrivilege]) -> dict[str, tuple[str, ...]]:
    """ORDS privilege name -> the modules and path patterns it protects.

    Every privilege is a key (an empty tuple when it protects nothing). Under a scope-based
    profile ORDS takes the token's scopes as privilege names, so a scope lets a request in
    only when it names a privilege protecting that module or path.
    """
    protects: dict[str, list[str]] = {}
    for privilege in privileges:
        items = protects.setdefault(privilege.name, [])
        items.extend(p for p in (*privilege.modules, *privilege.patterns) if p not in items)
    return {name: tuple(items) for name, items in protects.items()}


def privilege_paths(privileges: Iterable[OrdsPrivilege]) -> dict[str, tuple[str, ...]]:
    """ORDS privilege name -> path globs it protects, relative to the schema's URL.

    A module's base path ``/mcp/`` becomes ``/mcp/*``; patterns stay as ORDS has them.
    When any privilege protects a module whose base path is unknown the result is empty
    (paths unknown), so a request is never judged against a partial picture.
    """
    paths: dict[str, list[str]] = {}
    for privilege in privileges:
        if len(privilege.module_prefixes) < len(privilege.modules):
            return {}
        globs = paths.setdefault(privilege.name, [])
        for prefix in privilege.module_prefixes:
            glob = "/" + prefix.strip("/") + "/*"
            if glob not in globs:
                globs.append(glob)
        globs.extend(p for p in privilege.patterns if p not in globs)
    return {name: tuple(globs) for name, globs in paths.items()}


@dataclass(frozen=True, slots=True)
class Expectations:
    """Expected token properties; ``None``/empty means "no expectation, report instead"."""

    issuer: str | None = None
    audience: str | None = None
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    require_upn: bool = False
    allowed_skew: int | None = None
    allowed_age: int | None = None
    # JSON pointer of the role claim when the profile is role-based (e.g. "/roles").
    role_claim: str | None = None
    jwk_url: str | None = None
    # Whether the schema has a JWT profile, when a database was asked.
    profile_state: ProfileState = "unknown"
    # ORDS role -> privileges it holds (see ``role_privileges``); None when not read.
    # Excluded from the hash (a dict is not hashable) but compared.
    ords_roles: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False)
    # ORDS privilege -> modules and patterns it protects (see ``privilege_protects``);
    # None when not read. Like ``ords_roles``, compared but not hashed.
    ords_privileges: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False)
    # ORDS privilege -> path globs it protects (see ``privilege_paths``): what makes role
    # and scope checks follow the requested path. None (or empty) when not known.
    ords_paths: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False)
    # ORDS's own settings of the pool (``--ords-config``), None when not read. Like
    # ``ords_roles``, compared but not hashed.
    ords_config: OrdsConfig | None = field(default=None, hash=False)
    # Where the issuer/audience expectations came from: "config", "flags", "profile".
    origin: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def pool_mode(self) -> bool:
        """True when ORDS's settings say ``security.jwt.profile.mode`` POOL."""
        return self.ords_config is not None and self.ords_config.pool_mode

    def with_ords_config(self, config: OrdsConfig) -> Expectations:
        """These expectations under ORDS's settings ``config``.

        In POOL mode ORDS validates against ``security.jwt.profile.*`` as a whole (its
        unset values replace what the config or flags said, as a schema profile's NULLs
        do); the skew and age then come from the global ``security.jwt.allowed.*``.
        """
        if not config.pool_mode:
            return replace(self, ords_config=config)
        origin = {k: v for k, v in self.origin.items() if k not in PROFILE_FIELDS}
        shown = f"ORDS pool settings ({config.pool})"
        values = {
            "issuer": config.issuer,
            "audience": config.audience,
            "jwk_url": config.jwk_url,
            "role_claim": config.role_claim_name,
        }
        origin.update({k: shown for k, v in values.items() if v is not None})
        return replace(
            self,
            issuer=config.issuer,
            audience=config.audience,
            jwk_url=config.jwk_url,
            role_claim=config.role_claim_name,
            allowed_skew=None,
            allowed_age=None,
            ords_config=config,
            origin=origin,
        )

    @property
    def empty(self) -> bool:
        """True when nothing at all is expected: checks then describe rather than judge."""
        return (
            self.issuer is None
            and self.audience is None
            and not self.roles
            and not self.scopes
            and not self.require_upn
        )

    def merged(self, other: Expectations) -> Expectations:
        """``other`` wins wherever it sets a value (higher priority source).

        A profile read from the database is the exception: ORDS enforces it as a whole, so
        its NULLs (no age limit, scope-based) replace what the config or flags said.
        """
        if self.pool_mode and other.ords_config is None and other.profile_state != "unknown":
            # POOL mode: the schema's profile is reportedly ignored; keep what the pool
            # settings say and learn only whether the schema has one.
            ignored = replace(
                other,
                issuer=None,
                audience=None,
                allowed_skew=None,
                allowed_age=None,
                role_claim=None,
                jwk_url=None,
                profile_state="unknown",
                origin={k: v for k, v in other.origin.items() if k not in PROFILE_FIELDS},
            )
            return self.merged(ignored).with_state(other)
        origin = dict(self.origin)
        origin.update(other.origin)
        if other.profile_state == "present":
            base = replace(
                self,
                **{name: getattr(other, name) for name in PROFILE_FIELDS},
                origin={k: v for k, v in self.origin.items() if k not in PROFILE_FIELDS},
            )
            return base.merged(replace(other, profile_state="unknown")).with_state(other)
        return Expectations(
            issuer=other.issuer if other.issuer is not None else self.issuer,
            audience=other.audience if other.audience is not None else self.audience,
            roles=other.roles or self.roles,
            scopes=other.scopes or self.scopes,
            require_upn=other.require_upn or self.require_upn,
            allowed_skew=(
                other.allowed_skew if other.allowed_skew is not None else self.allowed_skew
            ),
            allowed_age=other.allowed_age if other.allowed_age is not None else self.allowed_age,
            role_claim=other.role_claim if other.role_claim is not None else self.role_claim,
            jwk_url=other.jwk_url if other.jwk_url is not None else self.jwk_url,
            profile_state=(
                other.profile_state if other.profile_state != "unknown" else self.profile_state
            ),
            ords_roles=other.ords_roles if other.ords_roles is not None else self.ords_roles,
            ords_privileges=(
                other.ords_privileges if other.ords_privileges is not None else self.ords_privileges
            ),
            ords_paths=other.ords_paths if other.ords_paths is not None else self.ords_paths,
            ords_config=other.ords_config if other.ords_config is not None else self.ords_config,
            origin=origin,
        )

    @classmethod
    def from_profile(cls, profile: JwtProfile) -> Expectations:
        """What ORDS will enforce for tokens under ``profile``."""
        return cls(
            issuer=profile.issuer,
            audience=profile.audience,
            allowed_skew=profile.allowed_skew,
            allowed_age=profile.allowed_age,
            role_claim=profile.role_claim_name,
            jwk_url=profile.jwk_url,
            profile_state="present",
            origin=dict.fromkeys(PROFILE_FIELDS, "profile"),
        )

    @classmethod
    def from_schema(
        cls,
        profile: JwtProfile | None,
        ords_roles: Mapping[str, tuple[str, ...]] | None = None,
        ords_privileges: Mapping[str, tuple[str, ...]] | None = None,
        ords_paths: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Expectations:
        """What a connected schema says: its profile (or that it has none), its roles and
        privileges.

        ``ords_roles`` is ``role_privileges(...)`` of the schema, ``ords_privileges``
        ``privilege_protects(...)``, ``ords_paths`` ``privilege_paths(...)``; None when
        not read.
        """
        base = cls.from_profile(profile) if profile is not None else cls(profile_state="absent")
        return replace(
            base, ords_roles=ords_roles, ords_privileges=ords_privileges, ords_paths=ords_paths
        )

    def with_state(self, source: Expectations) -> Expectations:
        """A copy that takes ``source``'s profile state."""
        return replace(self, profile_state=source.profile_state)

    def with_origin(self, origin: str) -> Expectations:
        """Tag every value that is set with ``origin``."""
        tags = {
            name: origin
            for name in ("issuer", "audience", "roles", "scopes", "allowed_skew", "allowed_age")
            if getattr(self, name) not in (None, ())
        }
        return replace(self, origin=tags)
