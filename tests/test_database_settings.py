"""Connection settings, password handling and the statements sent to the real database."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import oracledb
import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.options import add_database_options
from inspector.judge.ords_objects import JwtProfile
from inspector.ords.connection import (
    ConnectionSettings,
    DatabaseSettingsError,
    resolve_password,
    settings_from,
)
from inspector.ords.database import OracleOrdsRepository, create_statement, database_error
from inspector.settings import Config, ConfigError, DatabaseSettings, Settings

HOSTILE = JwtProfile(
    issuer="https://evil/'); drop table t; --",
    audience="x' || (select password from dba_users) || '",
    jwk_url="https://k/keys",
    description="d\n/\n",
    allowed_skew=10,
    role_claim_name="/roles",
)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_database_options(parser)
    return parser.parse_args(list(argv))


def _db(section: dict[str, Any], *argv: str) -> DatabaseSettings:
    """``[database]`` holding ``section``, with the flags ``argv`` over it."""
    base = Settings.from_config(Config(sections={"database": section}))
    return settings_from_args(_args(*argv), base=base).database


def test_password_from_the_environment() -> None:
    assert resolve_password("ORACLE_PASSWORD", "x", environ={"ORACLE_PASSWORD": "pw"}) == "pw"


def test_password_prompt_only_on_a_terminal() -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed"

    got = resolve_password(
        "ORACLE_PASSWORD", "database password", environ={}, is_tty=True, prompt=prompt
    )
    assert got == "typed"
    assert asked == ["Database password: "]
    with pytest.raises(DatabaseSettingsError, match="set ORACLE_PASSWORD"):
        resolve_password("ORACLE_PASSWORD", "database password", environ={}, is_tty=False)


def test_settings_from_flags_over_config() -> None:
    settings = settings_from(
        _db(
            {"dsn": "other/svc", "user": "x", "call_timeout": 3},
            "--dsn",
            "db.example:1521/freepdb1",
            "--user",
            "demo",
        ),
        environ={"ORACLE_PASSWORD": "pw"},
    )
    assert settings is not None
    assert settings.dsn == "db.example:1521/freepdb1"
    assert settings.user == "demo"
    assert settings.call_timeout == 3.0
    assert settings.password == "pw"


def test_wallet_password_is_asked_separately(tmp_path: Path) -> None:
    settings = settings_from(
        _db({}, "--dsn", "adb_high", "--user", "admin", "--wallet-location", str(tmp_path)),
        environ={"ORACLE_PASSWORD": "pw", "ORACLE_WALLET_PASSWORD": "wpw"},
    )
    assert settings is not None
    assert settings.wallet_location == tmp_path
    assert settings.wallet_password == "wpw"


def test_passwords_never_appear_in_repr() -> None:
    settings = ConnectionSettings(dsn="d", user="u", password="s3cret", wallet_password="w4llet")
    text = repr(settings) + settings.described
    assert "s3cret" not in text and "w4llet" not in text


def test_config_must_not_hold_passwords() -> None:
    with pytest.raises(ConfigError, match="password: passwords are never read from a file"):
        _db({"dsn": "d", "user": "u", "password": "p"})


def test_no_dsn_means_no_database() -> None:
    assert settings_from(_db({}), environ={}) is None


def test_memory_is_no_dsn_of_the_product() -> None:
    # The stand-in is the demo's and the tests' (tests/support/memory_db.py): on a server,
    # `--dsn memory:` is a DSN like any other (user and password needed, then the driver
    # says it names no database), and TOKEN_INSPECTOR_DB selects nothing.
    assert settings_from(_db({}), environ={"TOKEN_INSPECTOR_DB": "memory"}) is None
    with pytest.raises(DatabaseSettingsError, match="no database user"):
        settings_from(_db({}, "--dsn", "memory:"), environ={}, is_tty=False)
    settings = settings_from(
        _db({}, "--dsn", "memory:", "--user", "u"), environ={"ORACLE_PASSWORD": "p"}
    )
    assert settings is not None and settings.password == "p"
    assert not hasattr(settings, "in_memory")


def test_missing_user_is_a_clear_error() -> None:
    with pytest.raises(DatabaseSettingsError, match="no database user"):
        settings_from(_db({}, "--dsn", "d"), environ={"ORACLE_PASSWORD": "p"})


def test_bad_call_timeout() -> None:
    with pytest.raises(ConfigError, match="call_timeout"):
        _db({"call_timeout": "x"}, "--dsn", "d", "--user", "u")


def test_create_statement_binds_every_value() -> None:
    sql, binds = create_statement(HOSTILE)
    assert sql == (
        "begin ords_security.create_jwt_profile(p_issuer => :issuer, p_audience => :audience,"
        " p_jwk_url => :jwk_url, p_description => :description,"
        " p_allowed_skew => :allowed_skew, p_role_claim_name => :role_claim_name); end;"
    )
    assert binds["issuer"] == HOSTILE.issuer
    assert binds["audience"] == HOSTILE.audience
    for value in (HOSTILE.issuer, HOSTILE.audience, HOSTILE.description):
        assert value is not None and value not in sql


def test_create_statement_for_another_schema() -> None:
    sql, binds = create_statement(JwtProfile("https://i/", "a", "https://k"), "hr")
    assert sql.startswith("begin ords_security_admin.create_jwt_profile(p_schema => :schema_name,")
    assert binds["schema_name"] == "HR"
    assert "role_claim_name" not in binds


class _Cursor:
    """Records what a python-oracledb cursor would be asked to run."""

    def __init__(self, conn: _Connection) -> None:
        self.conn = conn
        self.rows: list[tuple[Any, ...]] = []

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, binds: dict[str, Any]) -> None:
        self.conn.executed.append((sql, binds))
        if self.conn.errors:
            raise self.conn.errors.pop(0)
        self.rows = self.conn.results.pop(0) if self.conn.results else []

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


class _Connection:
    def __init__(self, results: list[list[tuple[Any, ...]]] | None = None) -> None:
        self.executed: list[tuple[str, dict[str, Any]]] = []
        self.results = results or []
        self.errors: list[Exception] = []

    def cursor(self) -> _Cursor:
        return _Cursor(self)


def test_real_repository_sends_values_only_as_binds() -> None:
    conn = _Connection([[("ORDS_SECURITY",)]])
    OracleOrdsRepository(conn).create_profile(HOSTILE)
    _detect, (sql, binds) = conn.executed
    assert HOSTILE.audience not in sql
    assert binds["audience"] == HOSTILE.audience


def test_real_repository_reads_the_profile_view() -> None:
    conn = _Connection([[("https://i/", "aud", "https://k", None, 30, None, "/roles")]])
    profile = OracleOrdsRepository(conn).get_profile()
    assert profile == JwtProfile("https://i/", "aud", "https://k", None, 30, None, "/roles")
    assert conn.executed[0][0].endswith("from user_ords_jwt_profile")


def test_real_repository_falls_back_when_role_claim_column_is_missing() -> None:
    conn = _Connection([[("https://i/", "aud", "https://k", "d", None, None, None)]])
    conn.errors.append(database_error('ORA-00904: "ROLE_CLAIM_NAME": invalid identifier', 904))
    profile = OracleOrdsRepository(conn).get_profile()
    assert profile is not None and profile.role_claim_name is None
    assert "role_claim_name" in conn.executed[0][0]
    assert "role_claim_name" not in conn.executed[1][0]


def test_real_repository_other_schema_uses_dba_views_with_a_bind() -> None:
    conn = _Connection([[]])
    assert OracleOrdsRepository(conn).get_profile("hr") is None
    sql, binds = conn.executed[0]
    assert "dba_ords_jwt_profile" in sql and ":schema_name" in sql
    assert binds == {"schema_name": "HR"}


def test_real_repository_other_errors_propagate() -> None:
    conn = _Connection()
    conn.errors.append(database_error("ORA-00942: table or view does not exist", 942))
    with pytest.raises(oracledb.DatabaseError):
        OracleOrdsRepository(conn).get_profile()


def test_real_repository_privileges_are_joined() -> None:
    conn = _Connection(
        [
            [(1, "oracle.example.mcp", "MCP", None, "kept on redefine")],
            [("oracle.example.mcp", "ORDSUsers")],
            [("oracle.example.mcp", "mcp")],
            [("oracle.example.mcp", "/mcp/*")],
        ]
    )
    (priv,) = OracleOrdsRepository(conn).privileges()
    assert (priv.roles, priv.modules, priv.patterns) == (("ORDSUsers",), ("mcp",), ("/mcp/*",))
    assert priv.comments == "kept on redefine"


def test_real_repository_reads_privileges_without_a_comments_column() -> None:
    # COMMENTS is not in the documented column list of USER_ORDS_PRIVILEGES: its absence
    # costs only the comments.
    conn = _Connection([[(1, "p", "L", "D")], [("p", "R")]])
    conn.errors.append(database_error('ORA-00904: "COMMENTS": invalid identifier', 904))
    (priv,) = OracleOrdsRepository(conn).privileges()
    assert (priv.name, priv.label, priv.description, priv.comments, priv.roles) == (
        "p",
        "L",
        "D",
        None,
        ("R",),
    )
    assert ", comments from user_ords_privileges" in conn.executed[0][0]
    assert "comments" not in conn.executed[1][0]
