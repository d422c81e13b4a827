"""Everything that talks to Oracle: the ORDS repository interface and its real implementation.

This is the only module that imports ``oracledb`` (python-oracledb in thin mode, so no Oracle
Client install is needed; imported on first use). The rest of the tool sees the narrow
``OrdsRepository`` protocol, implemented here by ``OracleOrdsRepository`` and in
``inspector.ords.standin`` by ``InMemoryOrds``.

Every statement uses bind variables; PL/SQL calls use named notation. JWT profiles live in
``OAUTH`` / ``OAUTH_ADMIN`` (ORDS 23.3 to 25.2) or ``ORDS_SECURITY`` / ``ORDS_SECURITY_ADMIN``
(24.3 on): the repository finds which once per connection. Transactions are ours:
the ORDS documentation asks callers to ``COMMIT`` after ``ORDS_SECURITY.DELETE_JWT_PROFILE``
and ``CREATE_JWT_PROFILE`` ("for this operation to take effect"), so the procedures do not
commit themselves and a delete + create can be rolled back as one unit. ``inspector.ords.apply``
still verifies after a rollback and re-creates the old profile if an ORDS release did commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Protocol

from inspector.judge.ords_objects import JwtProfile, OrdsModule, OrdsPrivilege, OrdsRole
from inspector.ords.connection import ConnectionSettings


def _driver() -> Any:
    """The python-oracledb module, imported on first use: every command line builds all
    sub-command parsers, and most never touch a database.
    """
    import oracledb

    return oracledb


# (major, minor) of the ORDS releases that matter to JWT profiles (domain reference, section 3).
JWT_PROFILES_SINCE = (23, 3)  # OAUTH.CREATE_JWT_PROFILE / OAUTH_ADMIN
ORDS_SECURITY_SINCE = (24, 3)  # 24.2's documentation has OAUTH only; 24.3 deprecates it
DBA_VIEWS_SINCE = (24, 4)  # DBA_ORDS_JWT_PROFILE, DBA_ORDS_SCHEMAS
ROLE_CLAIM_SINCE = (25, 1)  # p_role_claim_name
OAUTH_DESUPPORTED = (25, 3)  # OAUTH's JWT procedures are gone


class JwtApi(StrEnum):
    """The package family that creates JWT profiles (same parameters in both)."""

    ORDS_SECURITY = "ords_security"
    OAUTH = "oauth"

    def package(self, schema: str | None = None) -> str:
        """The package to call: the ``_ADMIN`` one for another schema."""
        return self.value if schema is None else f"{self.value}_admin"

    @property
    def releases(self) -> str:
        """The ORDS releases that have this package's JWT procedures."""
        if self is JwtApi.ORDS_SECURITY:
            return "ORDS 24.3 and later"
        return "ORDS 23.3 to 25.2"


def choose_jwt_api(packages: Iterable[str]) -> JwtApi | None:
    """The family to use among the package names that have ``CREATE_JWT_PROFILE``:
    ``ORDS_SECURITY`` when present (OAUTH is deprecated from 24.3), else ``OAUTH``."""
    names = {name.upper() for name in packages}
    for api in (JwtApi.ORDS_SECURITY, JwtApi.OAUTH):
        if api.value.upper() in names:
            return api
    return None


def parse_ords_version(text: str) -> tuple[int, int]:
    """``"24.2"``, ``"25.1.0"`` or ``"26.x"`` as ``(major, minor)`` (``x`` counts as 1)."""
    parts = text.strip().lower().split(".")
    try:
        major = int(parts[0])
        minor = 1 if len(parts) < 2 or parts[1] == "x" else int(parts[1])
    except ValueError:
        raise ValueError(f"not an ORDS version: {text!r} (e.g. 24.2, 25.1)") from None
    if not 0 <= minor <= 99 or not 0 <= major <= 99:
        raise ValueError(f"not an ORDS version: {text!r} (e.g. 24.2, 25.1)")
    return major, minor


def jwt_api_for_version(version: tuple[int, int]) -> JwtApi | None:
    """The family a release has (``None`` before 23.3: no JWT profiles at all)."""
    if version >= ORDS_SECURITY_SINCE:
        return JwtApi.ORDS_SECURITY
    if version >= JWT_PROFILES_SINCE:
        return JwtApi.OAUTH
    return None


class OrdsRepository(Protocol):
    """The narrow interface to one database's ORDS security metadata.

    ``schema`` ``None`` means the connected schema (``ORDS_SECURITY``); a name means another
    REST-enabled schema (``ORDS_SECURITY_ADMIN``, needs ``ORDS_ADMINISTRATOR_ROLE``).
    Writes are not committed until ``commit()``.
    """

    def current_schema(self) -> str:
        """The connected schema (upper case, as Oracle stores it)."""
        ...

    def get_profile(self, schema: str | None = None) -> JwtProfile | None:
        """The schema's JWT profile, or ``None`` when it has none."""
        ...

    def jwt_api(self) -> JwtApi | None:
        """The JWT profile package family this database has (``None``: neither), found once
        per connection."""
        ...

    def create_profile(
        self, profile: JwtProfile, schema: str | None = None, *, api: JwtApi | None = None
    ) -> None:
        """``CREATE_JWT_PROFILE`` of ``api`` (default: ``jwt_api()``); fails while a profile
        exists."""
        ...

    def delete_profile(self, schema: str | None = None, *, api: JwtApi | None = None) -> None:
        """``DELETE_JWT_PROFILE`` of ``api`` (default: ``jwt_api()``)."""
        ...

    def roles(self) -> list[OrdsRole]:
        """ORDS roles of the connected schema."""
        ...

    def privileges(self) -> list[OrdsPrivilege]:
        """ORDS privileges with their roles, modules and patterns."""
        ...

    def modules(self) -> list[OrdsModule]:
        """REST modules of the connected schema with their base paths."""
        ...

    def create_role(self, name: str) -> None:
        """``ORDS.CREATE_ROLE``: fails when the role exists."""
        ...

    def delete_role(self, name: str) -> None:
        """``ORDS.DELETE_ROLE``."""
        ...

    def define_privilege(self, privilege: OrdsPrivilege) -> None:
        """``ORDS.DEFINE_PRIVILEGE``: creates the privilege or replaces it whole, with exactly
        the given roles, modules and patterns (merge before calling to keep what it had)."""
        ...

    def delete_privilege(self, name: str) -> None:
        """``ORDS.DELETE_PRIVILEGE``."""
        ...

    def commit(self) -> None:
        """Make the writes so far permanent."""
        ...

    def rollback(self) -> None:
        """Undo the uncommitted writes."""
        ...

    def close(self) -> None:
        """Release the connection (rolls back anything uncommitted)."""
        ...


def database_error(message: str, code: int = 0) -> Exception:
    """A real ``oracledb`` exception built the way the driver builds one.

    ``message`` starts with its code (``ORA-01017: ...``); ``code`` is the Oracle error number
    (0 for driver ``DPY-`` errors). The driver's own ``_Error`` computes ``full_code`` and the
    exception class (``OperationalError``, ``IntegrityError``...), so handlers see exactly what
    a live connection would raise. Used by the stand-in and by tests.
    """
    from oracledb import errors as _errors  # private module: the driver has no public factory

    err = _errors._Error(message, code=code)
    exc: Exception = err.exc_type(err)
    return exc


def driver_error(error_num: int, **args: Any) -> Exception:
    """A driver (``DPY-``) exception with the driver's own message text, e.g. ``DPY-6005``."""
    from oracledb import errors as _errors

    cause = args.pop("cause", None)
    exc: Exception = _errors._create_exception(error_num, cause=cause, **args)
    return exc


# --------------------------------------------------------------------------- real database

_PROFILE_COLUMNS = (
    "issuer, audience, jwk_url, description, allowed_skew, allowed_age, role_claim_name"
)
# ORDS releases before 25.1 have no role_claim_name column.
_PROFILE_COLUMNS_OLD = "issuer, audience, jwk_url, description, allowed_skew, allowed_age, null"
# For --schema we read the DBA_ views ORDS_METADATA publishes, joined to DBA_ORDS_SCHEMAS on
# schema_id (the same shape as DBA_ORDS_PRIVILEGE_MAPPINGS); the USER_ views cover the
# connected schema only.
_USER_PROFILE_SQL = "select {cols} from user_ords_jwt_profile"
_DBA_PROFILE_SQL = (
    "select {cols} from dba_ords_jwt_profile p"
    " join dba_ords_schemas s on s.id = p.schema_id"
    " where s.parsing_schema = :schema_name"
)
_INVALID_IDENTIFIER = 904

_PROFILE_PARAMETERS = (
    "issuer",
    "audience",
    "jwk_url",
    "description",
    "allowed_skew",
    "allowed_age",
    "role_claim_name",
)
# Which packages have CREATE_JWT_PROFILE, read from the dictionary rather than by trying:
# a call has side effects and a compile-only probe block costs a round trip per package,
# while ALL_PROCEDURES lists exactly what this session may execute (EXECUTE through PUBLIC
# or ORDS_ADMINISTRATOR_ROLE), in one round trip. Naming the procedure also tells the OAUTH
# package of releases before 23.3 (OAuth clients only) from the one that has JWT profiles.
_JWT_API_SQL = (
    "select distinct object_name from all_procedures"
    " where object_name in (:new_package, :old_package) and procedure_name = :procedure"
)
_JWT_API_BINDS = {
    "new_package": "ORDS_SECURITY",
    "old_package": "OAUTH",
    "procedure": "CREATE_JWT_PROFILE",
}


def profile_binds(profile: JwtProfile) -> dict[str, Any]:
    """Bind values for the create call: every value travels as data, never as SQL text.

    Null values are left out (the procedure defaults them to NULL), which also keeps
    ``p_role_claim_name`` away from ORDS releases before 25.1 that do not know it.
    """
    values = {name: getattr(profile, name) for name in _PROFILE_PARAMETERS}
    return {name: value for name, value in values.items() if value is not None}


def create_statement(
    profile: JwtProfile, schema: str | None = None, api: JwtApi = JwtApi.ORDS_SECURITY
) -> tuple[str, dict[str, Any]]:
    """The anonymous block and its binds for ``CREATE_JWT_PROFILE`` in named notation.

    Only parameter names and the package (our constants) are part of the text; values are
    bind variables.
    """
    binds = profile_binds(profile)
    args = [f"p_{name} => :{name}" for name in binds]
    package = api.package(schema)
    if schema is not None:
        args.insert(0, "p_schema => :schema_name")
        binds = {"schema_name": schema.upper(), **binds}
    return f"begin {package}.create_jwt_profile({', '.join(args)}); end;", binds


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def delete_statement(
    schema: str | None = None, api: JwtApi = JwtApi.ORDS_SECURITY
) -> tuple[str, dict[str, Any]]:
    """The anonymous block and binds for ``DELETE_JWT_PROFILE``."""
    package = api.package(schema)
    if schema is None:
        return f"begin {package}.delete_jwt_profile; end;", {}
    sql = f"begin {package}.delete_jwt_profile(p_schema => :schema_name); end;"
    return sql, {"schema_name": schema.upper()}


# Roles and privileges: the ORDS package (connected schema only; ORDS_ADMIN would take a
# p_schema). What the ORDS documentation confirms (search of the ORDS docs, 2026-12):
# ORDS_ADMIN.CREATE_ROLE(p_schema, p_role_name), and "ORDS_ADMIN is identical to ORDS except
# for ... a p_schema parameter", so ORDS.CREATE_ROLE(p_role_name); DEFINE_PRIVILEGE is shown
# in Oracle's examples with p_privilege_name, p_roles, p_patterns, p_modules (owa.vc_arr),
# p_label, p_description, p_comments. UNCONFIRMED (from memory of the package reference, not
# found in the docs we could search): ORDS.DELETE_ROLE(p_role_name) and
# ORDS.DELETE_PRIVILEGE(p_name), and that DEFINE_PRIVILEGE replaces an existing privilege's
# role/module/pattern lists rather than adding to them (we merge anyway, so both are safe).
_CREATE_ROLE_SQL = "begin ords.create_role(p_role_name => :role_name); end;"
_DELETE_ROLE_SQL = "begin ords.delete_role(p_role_name => :role_name); end;"
_DELETE_PRIVILEGE_SQL = "begin ords.delete_privilege(p_name => :privilege_name); end;"
_PRIVILEGE_LISTS = (("roles", "role"), ("modules", "module"), ("patterns", "pattern"))


def define_privilege_statement(privilege: OrdsPrivilege) -> tuple[str, dict[str, Any]]:
    """The anonymous block and binds for ``ORDS.DEFINE_PRIVILEGE``.

    The ``owa.vc_arr`` collections are filled element by element from bind variables
    (``l_roles(1) := :role_1``): the text holds only our names and the element counts. An
    array bind (``Cursor.arrayvar``) is documented for associative arrays with contiguous
    keys, but whether the driver's array type is accepted where ``owa.vc_arr`` is expected is
    unconfirmed, and scalar binds work in every mode.
    """
    binds: dict[str, Any] = {
        "privilege_name": privilege.name,
        "label": privilege.label,
        "description": privilege.description,
        "comments": privilege.comments,
    }
    lines = [
        "declare",
        "  l_roles owa.vc_arr;",
        "  l_modules owa.vc_arr;",
        "  l_patterns owa.vc_arr;",
        "begin",
    ]
    for attr, bind in _PRIVILEGE_LISTS:
        for index, value in enumerate(getattr(privilege, attr), start=1):
            lines.append(f"  l_{attr}({index}) := :{bind}_{index};")
            binds[f"{bind}_{index}"] = value
    lines += [
        "  ords.define_privilege(",
        "    p_privilege_name => :privilege_name,",
        "    p_roles => l_roles,",
        "    p_patterns => l_patterns,",
        "    p_modules => l_modules,",
        "    p_label => :label,",
        "    p_description => :description,",
        "    p_comments => :comments);",
        "end;",
    ]
    return "\n".join(lines), binds


_MODULES_SQL = "select id, name, uri_prefix from user_ords_modules order by name"
_PRIVILEGES_SQL = (
    "select id, name, label, description{comments} from user_ords_privileges order by name"
)


class OracleOrdsRepository:
    """``OrdsRepository`` over a python-oracledb thin connection."""

    def __init__(self, connection: Any) -> None:
        self._conn = connection
        self._api: JwtApi | None = None
        self._api_known = False

    @classmethod
    def connect(cls, settings: ConnectionSettings) -> OracleOrdsRepository:
        """Open a thin-mode connection with ``call_timeout`` set on every round trip."""
        params: dict[str, Any] = {
            "user": settings.user,
            "password": settings.password,
            "dsn": settings.dsn,
            # Bounds the TCP connect too, so an unreachable listener fails in time.
            "tcp_connect_timeout": settings.call_timeout,
        }
        if settings.config_dir:
            params["config_dir"] = str(settings.config_dir)
        if settings.wallet_location:
            params["wallet_location"] = str(settings.wallet_location)
            params["wallet_password"] = settings.wallet_password
            if not settings.config_dir:
                # Autonomous Database wallets ship tnsnames.ora in the wallet directory.
                params["config_dir"] = str(settings.wallet_location)
        conn = _driver().connect(**params)
        conn.call_timeout = int(settings.call_timeout * 1000)
        conn.autocommit = False
        return cls(conn)

    def _fetchall(self, sql: str, binds: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql, dict(binds or {}))
            rows: list[tuple[Any, ...]] = cur.fetchall()
            return rows

    def _execute(self, sql: str, binds: Mapping[str, Any] | None = None) -> None:
        with self._conn.cursor() as cur:
            cur.execute(sql, dict(binds or {}))

    def current_schema(self) -> str:
        """``USER`` of the session."""
        rows = self._fetchall("select user from dual")
        return str(rows[0][0])

    def get_profile(self, schema: str | None = None) -> JwtProfile | None:
        """Read ``USER_ORDS_JWT_PROFILE`` (or the DBA view for another schema)."""
        template = _USER_PROFILE_SQL if schema is None else _DBA_PROFILE_SQL
        binds = {} if schema is None else {"schema_name": schema.upper()}
        try:
            rows = self._fetchall(template.format(cols=_PROFILE_COLUMNS), binds)
        except _driver().DatabaseError as exc:
            if getattr(exc.args[0], "code", 0) != _INVALID_IDENTIFIER:
                raise
            rows = self._fetchall(template.format(cols=_PROFILE_COLUMNS_OLD), binds)
        if not rows:
            return None
        issuer, audience, jwk_url, description, skew, age, role_claim = rows[0]
        return JwtProfile(
            issuer=str(issuer),
            audience=str(audience),
            jwk_url=str(jwk_url),
            description=_str_or_none(description),
            allowed_skew=_int_or_none(skew),
            allowed_age=_int_or_none(age),
            role_claim_name=_str_or_none(role_claim),
        )

    def jwt_api(self) -> JwtApi | None:
        """``ORDS_SECURITY`` or ``OAUTH``, read from ``ALL_PROCEDURES`` on first use."""
        if not self._api_known:
            rows = self._fetchall(_JWT_API_SQL, _JWT_API_BINDS)
            self._api = choose_jwt_api(str(row[0]) for row in rows)
            self._api_known = True
        return self._api

    def _api_for(self, api: JwtApi | None) -> JwtApi:
        # Neither package visible: call ORDS_SECURITY anyway, so the database's own error
        # (PLS-00201, explained by inspector.ords.errors) says what is missing.
        return api or self.jwt_api() or JwtApi.ORDS_SECURITY

    def create_profile(
        self, profile: JwtProfile, schema: str | None = None, *, api: JwtApi | None = None
    ) -> None:
        """``ORDS_SECURITY(_ADMIN)`` or ``OAUTH(_ADMIN)`` ``.CREATE_JWT_PROFILE`` with
        named-notation binds."""
        sql, binds = create_statement(profile, schema, self._api_for(api))
        self._execute(sql, binds)

    def delete_profile(self, schema: str | None = None, *, api: JwtApi | None = None) -> None:
        """``ORDS_SECURITY(_ADMIN)`` or ``OAUTH(_ADMIN)`` ``.DELETE_JWT_PROFILE``."""
        self._execute(*delete_statement(schema, self._api_for(api)))

    def roles(self) -> list[OrdsRole]:
        """``USER_ORDS_ROLES``."""
        rows = self._fetchall("select id, name from user_ords_roles order by name")
        return [OrdsRole(name=str(name), id=_int_or_none(rid)) for rid, name in rows]

    def privileges(self) -> list[OrdsPrivilege]:
        """``USER_ORDS_PRIVILEGES`` joined in Python with its roles, modules and patterns."""
        try:
            base = self._fetchall(_PRIVILEGES_SQL.format(comments=", comments"))
        except _driver().DatabaseError as exc:
            # The COMMENTS column is not in the documented column list: tolerate its absence.
            if getattr(exc.args[0], "code", 0) != _INVALID_IDENTIFIER:
                raise
            base = [(*row, None) for row in self._fetchall(_PRIVILEGES_SQL.format(comments=""))]
        roles = self._grouped("select privilege_name, role_name from user_ords_privilege_roles")
        modules = self._grouped(
            "select privilege_name, module_name from user_ords_privilege_modules"
        )
        patterns = self._grouped("select name, pattern from user_ords_privilege_mappings")
        # Module base paths map a requested path to its module (request-scoped checks).
        prefixes = {
            str(name): str(prefix)
            for name, prefix in self._fetchall("select name, uri_prefix from user_ords_modules")
            if name is not None and prefix is not None
        }
        return [
            OrdsPrivilege(
                name=str(name),
                label=_str_or_none(label),
                description=_str_or_none(description),
                roles=tuple(roles.get(str(name), ())),
                modules=tuple(modules.get(str(name), ())),
                patterns=tuple(patterns.get(str(name), ())),
                id=_int_or_none(pid),
                module_prefixes=tuple(
                    prefixes[m] for m in modules.get(str(name), ()) if m in prefixes
                ),
                comments=_str_or_none(comments),
            )
            for pid, name, label, description, comments in base
        ]

    def modules(self) -> list[OrdsModule]:
        """``USER_ORDS_MODULES``."""
        return [
            OrdsModule(name=str(name), uri_prefix=_str_or_none(prefix), id=_int_or_none(mid))
            for mid, name, prefix in self._fetchall(_MODULES_SQL)
        ]

    def create_role(self, name: str) -> None:
        """``ORDS.CREATE_ROLE`` with the name as a bind variable."""
        self._execute(_CREATE_ROLE_SQL, {"role_name": name})

    def delete_role(self, name: str) -> None:
        """``ORDS.DELETE_ROLE`` (parameter name unconfirmed, see above)."""
        self._execute(_DELETE_ROLE_SQL, {"role_name": name})

    def define_privilege(self, privilege: OrdsPrivilege) -> None:
        """``ORDS.DEFINE_PRIVILEGE`` with ``owa.vc_arr`` lists filled from binds."""
        self._execute(*define_privilege_statement(privilege))

    def delete_privilege(self, name: str) -> None:
        """``ORDS.DELETE_PRIVILEGE`` (parameter name unconfirmed, see above)."""
        self._execute(_DELETE_PRIVILEGE_SQL, {"privilege_name": name})

    def _grouped(self, sql: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, value in self._fetchall(sql):
            if key is not None and value is not None:
                out.setdefault(str(key), []).append(str(value))
        return {k: sorted(v) for k, v in out.items()}

    def commit(self) -> None:
        """Commit the session's transaction."""
        self._conn.commit()

    def rollback(self) -> None:
        """Roll back the session's transaction."""
        self._conn.rollback()

    def close(self) -> None:
        """Close the connection; uncommitted work is rolled back by the database."""
        self._conn.close()
