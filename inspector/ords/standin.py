"""An in-memory ORDS: the JWT profile, roles and privileges of REST-enabled schemas.

Application code, not a test double: ``token-inspector demo`` applies profiles against it
(no ``--dsn`` selects it). It follows ORDS's documented semantics:

- one JWT profile per schema; ``create`` fails while one exists (delete first);
- ``delete`` of a schema without a profile does nothing (the ORDS documentation describes no
  error for it; scripts in the wild guard it anyway, and so do we by only deleting what we read);
- ``p_jwk_url`` must start with ``https://`` (``allow_http_jwk_url`` relaxes it for the demo's
  loopback IdP only); ``p_allowed_skew`` at most 60; ``p_role_claim_name`` a JSON pointer
  with a leading ``/``; issuer, audience and JWK URL not null;
- writes are transactional: nothing is visible to a new session until ``commit`` and
  ``rollback`` undoes them (``procedures_commit=True`` simulates a release whose procedures
  commit themselves, so restore logic is tested for that case too);
- ``ords_version`` (or ``release`` in ``make_standin``: 23.3, 24.2, 24.4, 25.1, 25.2, 26.x)
  decides what exists, as in the documentation of each release: ``OAUTH(_ADMIN)`` JWT
  procedures 23.3 to 25.2, ``ORDS_SECURITY(_ADMIN)`` from 24.3, the ``DBA_ORDS_`` views
  (``--schema`` reads) from 24.4, ``p_role_claim_name`` from 25.1, checked as a JSON pointer
  at create time from 25.2 (25.1 stores what it is given). A missing package fails with
  PLS-00201, a missing view with ORA-00942, an unknown parameter with PLS-00306;
- roles, privileges and modules (``ORDS.CREATE_ROLE``, ``DELETE_ROLE``, ``DEFINE_PRIVILEGE``,
  ``DELETE_PRIVILEGE``) are part of the same transaction as the profile. ``create_role`` of
  an existing role fails (that ORDS refuses it, and how, is unconfirmed); ``define_privilege``
  creates or replaces the privilege whole (its roles, modules and patterns are exactly the
  ones given) and fails for a role or module the schema does not have; deleting an unknown
  role or privilege fails, and so does deleting a role a privilege still names (what ORDS
  does then is unconfirmed: refusing makes a wrong restore order visible in the tests);
- failures are real ``oracledb.DatabaseError`` objects. ORDS raises application errors
  (ORA-20xxx) whose exact numbers and wording are not documented: the texts here are ours.

Failure injection (a chosen call failing, a read-back that differs from what was sent)
lives in the tests' subclass, ``tests/support/faulty_ords.py``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inspector.judge.ords_objects import JwtProfile, OrdsModule, OrdsPrivilege, OrdsRole
from inspector.ords.database import (
    DBA_VIEWS_SINCE,
    JWT_PROFILES_SINCE,
    OAUTH_DESUPPORTED,
    ORDS_SECURITY_SINCE,
    ROLE_CLAIM_SINCE,
    JwtApi,
    choose_jwt_api,
    database_error,
    parse_ords_version,
)

ORDS_APPLICATION_ERROR = 20001
ORDS_MAX_ALLOWED_SKEW = 60
# The releases the suite runs every ORDS path against (26.x: any release after 25.2).
RELEASES = ("23.3", "24.2", "24.4", "25.1", "25.2", "26.x")
# The role claim pointer is validated when the profile is created from this release on.
POINTER_CHECKED_SINCE = (25, 2)


def seeded_roles() -> list[OrdsRole]:
    """The reference set-up's role (``ords.create_role(p_role_name => 'ORDSUsers')``)."""
    return [OrdsRole(name="ORDSUsers", id=10001)]


def seeded_privileges() -> list[OrdsPrivilege]:
    """The reference set-up's privilege protecting the MCP module."""
    return [
        OrdsPrivilege(
            name="oracle.example.mcp",
            label="MCP server",
            description="Access to the MCP module",
            roles=("ORDSUsers",),
            modules=("mcp",),
            patterns=("/mcp/*",),
            id=10002,
            module_prefixes=("/mcp/",),
        )
    ]


def seeded_modules() -> list[OrdsModule]:
    """The reference set-up's MCP module, served under ``/mcp/``."""
    return [OrdsModule(name="mcp", uri_prefix="/mcp/", id=10003)]


def application_error(text: str) -> Exception:
    """An ``ORA-20001`` raised the way ORDS's packages raise their checks."""
    return database_error(f"ORA-{ORDS_APPLICATION_ERROR:05d}: {text}", ORDS_APPLICATION_ERROR)


def package_missing_error(package: str, procedure: str) -> Exception:
    """What the database says when a package (``ORDS_SECURITY`` before 24.3, ``OAUTH``'s
    JWT procedures outside 23.3 to 25.2) does not exist."""
    return database_error(
        "ORA-06550: line 1, column 7:\n"
        f"PLS-00201: identifier '{package}.{procedure}' must be declared\n"
        "ORA-06550: line 1, column 7:\nPL/SQL: Statement ignored",
        6550,
    )


def view_missing_error() -> Exception:
    """What the database says when a ``DBA_ORDS_`` view does not exist (ORDS before 24.4)."""
    return database_error("ORA-00942: table or view does not exist", 942)


def connection_lost_error() -> Exception:
    """A dropped session (the driver turns ORA-03113 into DPY-4011)."""
    return database_error("ORA-03113: end-of-file on communication channel", 3113)


@dataclass
class InMemoryOrds:
    """``OrdsRepository`` held in memory; thread-safe enough for TUI workers."""

    schema: str = "DEMO"
    rest_enabled: tuple[str, ...] = ("DEMO",)
    allow_http_jwk_url: bool = False
    procedures_commit: bool = False
    # (major, minor) of the simulated ORDS: what exists in it (see the module docstring).
    ords_version: tuple[int, int] = (25, 2)
    # Whether the session holds ORDS_ADMINISTRATOR_ROLE (needed for ORDS_SECURITY_ADMIN).
    admin: bool = True
    _roles: list[OrdsRole] = field(default_factory=seeded_roles)
    _privileges: list[OrdsPrivilege] = field(default_factory=seeded_privileges)
    _modules: list[OrdsModule] = field(default_factory=seeded_modules)
    _committed: dict[str, JwtProfile] = field(default_factory=dict)
    _pending: dict[str, JwtProfile] | None = None
    # This session's uncommitted roles and privileges (None: none written yet).
    _pending_roles: list[OrdsRole] | None = None
    _pending_privileges: list[OrdsPrivilege] | None = None
    _closed: bool = False
    calls: list[str] = field(default_factory=list)
    # The package procedures called, e.g. "OAUTH.CREATE_JWT_PROFILE" (also the refused ones).
    procedures: list[str] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # ------------------------------------------------------------------ seeding

    def set_profile(self, profile: JwtProfile | None, schema: str | None = None) -> None:
        """Seed a committed profile directly (as if created earlier by someone else)."""
        with self._lock:
            key = (schema or self.schema).upper()
            if profile is None:
                self._committed.pop(key, None)
            else:
                self._committed[key] = profile
            self._save()

    def committed_profile(self, schema: str | None = None) -> JwtProfile | None:
        """What another session would see: the committed profile."""
        with self._lock:
            return self._committed.get((schema or self.schema).upper())

    # ------------------------------------------------------------------ internals

    def _enter(self, operation: str) -> None:
        """Record the call; a closed session refuses it."""
        if self._closed:
            raise database_error("DPY-1001: not connected to database")
        self.calls.append(operation)

    def _view(self) -> dict[str, JwtProfile]:
        return self._pending if self._pending is not None else self._committed

    def _writable(self) -> dict[str, JwtProfile]:
        if self._pending is None:
            self._pending = dict(self._committed)
        return self._pending

    def _after_write(self) -> None:
        if self.procedures_commit:
            self._do_commit()

    def _do_commit(self) -> None:
        if self._pending is not None:
            self._committed = self._pending
            self._pending = None
        if self._pending_roles is not None:
            self._roles = self._pending_roles
            self._pending_roles = None
        if self._pending_privileges is not None:
            self._privileges = self._pending_privileges
            self._pending_privileges = None
        self._save()

    def _discard(self) -> None:
        """Drop every uncommitted write (rollback, or a session that ended)."""
        self._pending = None
        self._pending_roles = None
        self._pending_privileges = None

    def _role_view(self) -> list[OrdsRole]:
        return self._pending_roles if self._pending_roles is not None else self._roles

    def _privilege_view(self) -> list[OrdsPrivilege]:
        if self._pending_privileges is not None:
            return self._pending_privileges
        return self._privileges

    def packages(self) -> frozenset[str]:
        """The JWT profile packages this release has (upper case, ``_ADMIN`` ones included)."""
        version = self.ords_version
        names: set[str] = set()
        if JWT_PROFILES_SINCE <= version < OAUTH_DESUPPORTED:
            names.add("OAUTH")
        if version >= ORDS_SECURITY_SINCE:
            names.add("ORDS_SECURITY")
        return frozenset(names | {f"{name}_ADMIN" for name in names})

    def _target(self, schema: str | None, procedure: str, api: JwtApi | None = None) -> str:
        package = (api or choose_jwt_api(self.packages()) or JwtApi.ORDS_SECURITY).package(schema)
        self.procedures.append(f"{package.upper()}.{procedure}")
        if package.upper() not in self.packages():
            raise package_missing_error(package.upper(), procedure)
        if schema is None:
            name = self.schema.upper()
        else:
            if not self.admin:
                raise database_error(
                    "ORA-01031: insufficient privileges (ORDS_SECURITY_ADMIN needs "
                    "ORDS_ADMINISTRATOR_ROLE)",
                    1031,
                )
            name = schema.upper()
        if name not in {s.upper() for s in self.rest_enabled}:
            raise application_error(f"The schema {name} is not REST enabled")
        return name

    def _validate(self, profile: JwtProfile) -> None:
        for param, value in (
            ("p_issuer", profile.issuer),
            ("p_audience", profile.audience),
            ("p_jwk_url", profile.jwk_url),
        ):
            if not value:
                raise application_error(f"{param} must not be null")
        scheme_ok = profile.jwk_url.startswith("https://") or (
            self.allow_http_jwk_url and profile.jwk_url.startswith("http://")
        )
        if not scheme_ok:
            raise application_error('p_jwk_url must start with "https://"')
        if profile.allowed_skew is not None and profile.allowed_skew > ORDS_MAX_ALLOWED_SKEW:
            raise application_error(
                f"p_allowed_skew must not exceed {ORDS_MAX_ALLOWED_SKEW} seconds"
            )
        if profile.role_claim_name is not None:
            if self.ords_version < ROLE_CLAIM_SINCE:
                raise database_error(
                    "ORA-06550: line 1, column 7:\nPLS-00306: wrong number or types of "
                    "arguments in call to 'CREATE_JWT_PROFILE'",
                    6550,
                )
            checked = self.ords_version >= POINTER_CHECKED_SINCE
            if checked and not profile.role_claim_name.startswith("/"):
                raise application_error(
                    "p_role_claim_name must be a JSON pointer starting with '/' (e.g. /roles)"
                )

    # ------------------------------------------------------------------ OrdsRepository

    def current_schema(self) -> str:
        """The connected schema."""
        with self._lock:
            self._enter("current_schema")
            return self.schema.upper()

    def jwt_api(self) -> JwtApi | None:
        """The package family this release has (``ORDS_SECURITY`` when both exist).

        Not a session call: the real repository reads it once and keeps it, so it is known
        even after the session is lost (a restore script still names the right package)."""
        return choose_jwt_api(self.packages())

    def get_profile(self, schema: str | None = None) -> JwtProfile | None:
        """This session's view: committed state plus its own uncommitted writes.

        Another schema's profile is read from ``DBA_ORDS_JWT_PROFILE`` (ORDS 24.4+)."""
        with self._lock:
            self._enter("get_profile")
            if schema is not None and self.ords_version < DBA_VIEWS_SINCE:
                raise view_missing_error()
            return self._view().get((schema or self.schema).upper())

    def create_profile(
        self, profile: JwtProfile, schema: str | None = None, *, api: JwtApi | None = None
    ) -> None:
        """``CREATE_JWT_PROFILE`` of ``api`` (default: the one this release has): validated,
        refused while a profile exists."""
        with self._lock:
            self._enter("create_profile")
            name = self._target(schema, "CREATE_JWT_PROFILE", api)
            self._validate(profile)
            if name in self._view():
                raise application_error(
                    f"A JWT profile already exists for schema {name}; delete it first"
                )
            # Oracle stores '' as NULL.
            stored = dataclasses.replace(
                profile,
                description=profile.description or None,
                role_claim_name=profile.role_claim_name or None,
            )
            self._writable()[name] = self._stored(stored)
            self._after_write()

    def _stored(self, profile: JwtProfile) -> JwtProfile:
        """What the database keeps of ``profile`` (the tests' subclass may alter it)."""
        return profile

    def delete_profile(self, schema: str | None = None, *, api: JwtApi | None = None) -> None:
        """``DELETE_JWT_PROFILE`` of ``api`` (default: the one this release has): removes
        the profile; nothing to do when there is none."""
        with self._lock:
            self._enter("delete_profile")
            name = self._target(schema, "DELETE_JWT_PROFILE", api)
            if name in self._view():
                del self._writable()[name]
                self._after_write()

    def roles(self) -> list[OrdsRole]:
        """This session's view of the ORDS roles."""
        with self._lock:
            self._enter("roles")
            return list(self._role_view())

    def privileges(self) -> list[OrdsPrivilege]:
        """This session's view of the ORDS privileges."""
        with self._lock:
            self._enter("privileges")
            return list(self._privilege_view())

    def modules(self) -> list[OrdsModule]:
        """The REST modules: the seeded ones plus any a seeded privilege names with its base
        path (so a stand-in built from privileges alone has their modules)."""
        with self._lock:
            self._enter("modules")
            return self._all_modules()

    def _all_modules(self) -> list[OrdsModule]:
        known = {m.name: m for m in self._modules}
        for privilege in [*self._privileges, *self._privilege_view()]:
            pairs = zip(privilege.modules, privilege.module_prefixes, strict=False)
            for name, prefix in pairs:
                known.setdefault(name, OrdsModule(name=name, uri_prefix=prefix))
        return sorted(known.values(), key=lambda m: m.name)

    def create_role(self, name: str) -> None:
        """``ORDS.CREATE_ROLE``: refused for an existing role (ORDS's error unconfirmed)."""
        with self._lock:
            self._enter("create_role")
            self.procedures.append("ORDS.CREATE_ROLE")
            if not name:
                raise application_error("p_role_name must not be null")
            roles = self._role_view()
            if any(r.name == name for r in roles):
                raise application_error(f"The role {name} already exists")
            new_id = 10100 + len(roles) + len(self.procedures)
            self._pending_roles = [*roles, OrdsRole(name=name, id=new_id)]
            self._after_write()

    def delete_role(self, name: str) -> None:
        """``ORDS.DELETE_ROLE``: refused for an unknown role or one a privilege names."""
        with self._lock:
            self._enter("delete_role")
            self.procedures.append("ORDS.DELETE_ROLE")
            roles = self._role_view()
            if not any(r.name == name for r in roles):
                raise application_error(f"The role {name} does not exist")
            users = [p.name for p in self._privilege_view() if name in p.roles]
            if users:
                raise application_error(
                    f"The role {name} is granted privileges: {', '.join(users)}"
                )
            self._pending_roles = [r for r in roles if r.name != name]
            self._after_write()

    def define_privilege(self, privilege: OrdsPrivilege) -> None:
        """``ORDS.DEFINE_PRIVILEGE``: creates or replaces the privilege whole."""
        with self._lock:
            self._enter("define_privilege")
            self.procedures.append("ORDS.DEFINE_PRIVILEGE")
            if not privilege.name:
                raise application_error("p_privilege_name must not be null")
            role_names = {r.name for r in self._role_view()}
            for role in privilege.roles:
                if role not in role_names:
                    raise application_error(f"The role {role} does not exist")
            modules = {m.name: m for m in self._all_modules()}
            for module in privilege.modules:
                if module not in modules:
                    raise application_error(f"The module {module} does not exist")
            current = self._privilege_view()
            old = next((p for p in current if p.name == privilege.name), None)
            stored = OrdsPrivilege(
                name=privilege.name,
                # Oracle stores '' as NULL.
                label=privilege.label or None,
                description=privilege.description or None,
                roles=tuple(sorted(set(privilege.roles))),
                modules=tuple(sorted(set(privilege.modules))),
                patterns=tuple(sorted(set(privilege.patterns))),
                id=old.id if old is not None else 10200 + len(current) + len(self.procedures),
                module_prefixes=tuple(
                    prefix
                    for name in sorted(set(privilege.modules))
                    if (prefix := modules[name].uri_prefix) is not None
                ),
                comments=privilege.comments or None,
            )
            kept = [p for p in current if p.name != privilege.name]
            self._pending_privileges = sorted([*kept, stored], key=lambda p: p.name)
            self._after_write()

    def delete_privilege(self, name: str) -> None:
        """``ORDS.DELETE_PRIVILEGE``: refused for an unknown privilege."""
        with self._lock:
            self._enter("delete_privilege")
            self.procedures.append("ORDS.DELETE_PRIVILEGE")
            current = self._privilege_view()
            if not any(p.name == name for p in current):
                raise application_error(f"The privilege {name} does not exist")
            self._pending_privileges = [p for p in current if p.name != name]
            self._after_write()

    def add_role(self, name: str) -> None:
        """Seed a committed role (as if created earlier by someone else)."""
        with self._lock:
            self._roles.append(OrdsRole(name=name, id=10000 + len(self._roles) + 10))

    def add_privilege(self, privilege: OrdsPrivilege) -> None:
        """Seed a committed privilege (as if defined earlier by someone else)."""
        with self._lock:
            self._privileges.append(privilege)

    def add_module(self, module: OrdsModule) -> None:
        """Seed a REST module."""
        with self._lock:
            self._modules.append(module)

    def committed_authorization(self) -> tuple[list[OrdsRole], list[OrdsPrivilege]]:
        """What another session would see: the committed roles and privileges."""
        with self._lock:
            return list(self._roles), list(self._privileges)

    def commit(self) -> None:
        """Make this session's writes visible to everyone (and persist a ``memory:FILE``)."""
        with self._lock:
            self._enter("commit")
            self._do_commit()

    def rollback(self) -> None:
        """Drop this session's uncommitted writes."""
        with self._lock:
            self._enter("rollback")
            self._discard()

    def close(self) -> None:
        """End the session: uncommitted writes are rolled back, as Oracle does."""
        with self._lock:
            self._discard()
            self._closed = True

    def _save(self) -> None:
        """Called once the committed profiles changed (the tests' subclass keeps them in a
        file, so that successive commands see each other's work)."""


def make_standin(
    *,
    profile: JwtProfile | None = None,
    roles: Iterable[str] | None = None,
    privileges: Iterable[OrdsPrivilege] | None = None,
    modules: Iterable[OrdsModule] | None = None,
    release: str | None = None,
    **options: Any,
) -> InMemoryOrds:
    """A stand-in with an optional existing profile and replacement roles/privileges/modules;
    ``release`` (one of ``RELEASES``) sets ``ords_version``."""
    if release is not None:
        options["ords_version"] = parse_ords_version(release)
    repo = InMemoryOrds(**options)
    if roles is not None:
        repo._roles = [OrdsRole(name=r, id=10010 + i) for i, r in enumerate(roles)]
    if privileges is not None:
        repo._privileges = list(privileges)
    if modules is not None:
        repo._modules = list(modules)
    if profile is not None:
        repo.set_profile(profile)
    return repo
