"""A python-oracledb connection look-alike that answers the real repository's SQL from the stand-in.

``OracleOrdsRepository(SqlStandin(InMemoryOrds(ords_version=...)))`` runs the product's own
statements (the ALL_PROCEDURES detection, ``begin <package>.create_jwt_profile(...)`` with
binds, the profile views) against a simulated ORDS release: a package the release lacks
fails with PLS-00201, a missing DBA_ORDS_ view with ORA-00942, the role_claim_name column
before 25.1 with ORA-00904, all as real ``oracledb`` exceptions. What the tool sends is
recorded in ``executed``.
"""

from __future__ import annotations

import re
from typing import Any

from inspector.judge.ords_objects import JwtProfile, OrdsModule, OrdsPrivilege
from inspector.ords.database import ROLE_CLAIM_SINCE, JwtApi, database_error
from inspector.ords.standin import InMemoryOrds

_CALL = re.compile(r"^begin (\w+)\.(create|delete)_jwt_profile\b")
# The role and privilege calls, exactly as the repository writes them (names as binds).
_ROLE_CALLS = {
    "begin ords.create_role(p_role_name => :role_name); end;": "create_role",
    "begin ords.delete_role(p_role_name => :role_name); end;": "delete_role",
    "begin ords.delete_privilege(p_name => :privilege_name); end;": "delete_privilege",
}
# What the env-gated real-database test sends to make a module of its own (the product never
# defines modules); here outside any transaction.
_MODULE_CALLS = {
    "begin ords.define_module(p_module_name => :n, p_base_path => :p); end;": "define",
    "begin ords.delete_module(p_module_name => :n); end;": "delete",
}
# ``l_roles(1) := :role_1;``: an owa.vc_arr element assigned from a bind variable.
_ELEMENT = re.compile(r"^\s*l_(roles|modules|patterns)\((\d+)\) := :(\w+);$", re.MULTILINE)
_FIELDS = ("issuer", "audience", "jwk_url", "description", "allowed_skew", "allowed_age")


class _Cursor:
    def __init__(self, conn: SqlStandin) -> None:
        self.conn = conn
        self.rows: list[tuple[Any, ...]] = []

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, binds: dict[str, Any]) -> None:
        self.conn.executed.append((sql, dict(binds)))
        self.rows = self.conn.answer(sql, binds)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


class SqlStandin:
    """Just enough of ``oracledb.Connection`` for ``OracleOrdsRepository``."""

    def __init__(self, ords: InMemoryOrds) -> None:
        self.ords = ords
        self.executed: list[tuple[str, dict[str, Any]]] = []

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def commit(self) -> None:
        self.ords.commit()

    def rollback(self) -> None:
        self.ords.rollback()

    def close(self) -> None:
        self.ords.close()

    def answer(self, sql: str, binds: dict[str, Any]) -> list[tuple[Any, ...]]:
        text = sql.strip().lower()
        call = _CALL.match(text)
        if call:
            package, action = call.groups()
            api = JwtApi.OAUTH if package.startswith("oauth") else JwtApi.ORDS_SECURITY
            schema = binds.get("schema_name") if package.endswith("_admin") else None
            if action == "delete":
                self.ords.delete_profile(schema, api=api)
            else:
                values = {name: binds.get(name) for name in _FIELDS}
                profile = JwtProfile(**values, role_claim_name=binds.get("role_claim_name"))
                self.ords.create_profile(profile, schema, api=api)
            return []
        if text in _ROLE_CALLS:
            operation = _ROLE_CALLS[text]
            if operation == "delete_privilege":
                self.ords.delete_privilege(binds["privilege_name"])
            else:
                getattr(self.ords, operation)(binds["role_name"])
            return []
        if text in _MODULE_CALLS:
            self._module_call(_MODULE_CALLS[text], binds)
            return []
        if text.startswith("declare") and "ords.define_privilege(" in text:
            self.ords.define_privilege(_privilege_from(sql, binds))
            return []
        if "from all_procedures" in text:
            # Only names the statement asked for, by bind: the text names none.
            wanted = {binds[k] for k in binds if k != "procedure"}
            return [(name,) for name in sorted(self.ords.packages()) if name in wanted]
        if text == "select user from dual":
            return [(self.ords.current_schema(),)]
        if "jwt_profile" in text:
            if "role_claim_name" in text and self.ords.ords_version < ROLE_CLAIM_SINCE:
                raise database_error('ORA-00904: "ROLE_CLAIM_NAME": invalid identifier', 904)
            schema = binds.get("schema_name") if "dba_ords_jwt_profile" in text else None
            profile = self.ords.get_profile(schema)
            if profile is None:
                return []
            return [(*(getattr(profile, name) for name in _FIELDS), profile.role_claim_name)]
        return self._authorization(text)

    def _module_call(self, action: str, binds: dict[str, Any]) -> None:
        if action == "define":
            self.ords.add_module(OrdsModule(name=binds["n"], uri_prefix=binds["p"]))
        else:
            self.ords._modules = [m for m in self.ords._modules if m.name != binds["n"]]

    def _authorization(self, text: str) -> list[tuple[Any, ...]]:
        if "from user_ords_roles" in text:
            return [(role.id, role.name) for role in self.ords.roles()]
        privileges = self.ords.privileges()
        if "from user_ords_privileges" in text:
            if "comments" in text:
                return [(p.id, p.name, p.label, p.description, p.comments) for p in privileges]
            return [(p.id, p.name, p.label, p.description) for p in privileges]
        if "from user_ords_privilege_roles" in text:
            return [(p.name, role) for p in privileges for role in p.roles]
        if "from user_ords_privilege_modules" in text:
            return [(p.name, module) for p in privileges for module in p.modules]
        if "from user_ords_privilege_mappings" in text:
            return [(p.name, pattern) for p in privileges for pattern in p.patterns]
        if text.startswith("select id, name, uri_prefix from user_ords_modules"):
            return [(m.id, m.name, m.uri_prefix) for m in self.ords.modules()]
        if "from user_ords_modules" in text:
            # A module without a known base path is a row the view would not have.
            known = (zip(p.modules, p.module_prefixes, strict=False) for p in privileges)
            return sorted({module: prefix for pairs in known for module, prefix in pairs}.items())
        raise AssertionError(f"statement the stand-in does not know: {text}")


def _privilege_from(sql: str, binds: dict[str, Any]) -> OrdsPrivilege:
    """The privilege a ``DEFINE_PRIVILEGE`` block defines, read from its element assignments
    and binds (so an element the block does not assign from a bind is not passed on)."""
    lists: dict[str, list[tuple[int, Any]]] = {"roles": [], "modules": [], "patterns": []}
    for attr, index, bind in _ELEMENT.findall(sql):
        lists[attr].append((int(index), binds[bind]))
    ordered = {attr: tuple(v for _, v in sorted(items)) for attr, items in lists.items()}
    return OrdsPrivilege(
        name=binds["privilege_name"],
        label=binds.get("label"),
        description=binds.get("description"),
        comments=binds.get("comments"),
        **ordered,
    )
