"""Settings: the TOML files and the command line, turned into one typed, frozen object.

The bottom layer: it imports nothing else from ``inspector``. Files are read in rising
priority, each key of a later file replacing the same key of an earlier one:

1. the system-wide ``/etc/token-inspector/config.toml`` (``$TOKEN_INSPECTOR_SYSTEM_CONFIG``
   moves it);
2. one personal file: ``--config FILE``, else ``$TOKEN_INSPECTOR_CONFIG``, else
   ``$XDG_CONFIG_HOME/token-inspector/config.toml`` (``~/.config`` by default).

Flags beat both (the CLI lays them over with ``dataclasses.replace``). Every value is
validated here, once, and a bad one is one line naming the file, the table and the key.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SYSTEM_CONFIG_PATH = Path("/etc/token-inspector/config.toml")
# Moves the system-wide file (packaging, and the test suite, which never reads the real
# /etc; subprocesses inherit it).
SYSTEM_CONFIG_ENV = "TOKEN_INSPECTOR_SYSTEM_CONFIG"
# Names the personal configuration file: on servers the tool often runs through sudo,
# where ~ is root's home (keep it with `sudo --preserve-env=TOKEN_INSPECTOR_CONFIG`).
CONFIG_ENV = "TOKEN_INSPECTOR_CONFIG"

DEFAULT_HTTP_TIMEOUT = 5.0
DEFAULT_CALL_TIMEOUT = 10.0
ESCAPES = ("default", "json", "none")
IDP_CHOICES = ("auto", "entra", "generic")
# ORDS's rule for a pool folder name under databases/ (parsers.ords_config says the same).
ORDS_POOL_NAME = re.compile(r"[a-z0-9_][a-z0-9._-]{0,127}")
# MCP specification revisions the doctor judges against, newest first (the default).
MCP_REVISIONS = ("2025-11-25", "2025-06-18")


class InspectorError(Exception):
    """An expected failure (bad input, configuration, environment): the message is one
    line for the user, and the CLI turns it into ``token-inspector CMD: MESSAGE``, exit
    ``status`` (2 unless a command documents another)."""

    status: int = 2


class ConfigError(InspectorError):
    """The configuration cannot be used; the message names file, table and key."""


class UsageError(InspectorError):
    """A flag value or combination the command cannot use; the message names the flag."""


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/token-inspector/config.toml`` (``~/.config`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "token-inspector" / "config.toml"


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/token-inspector`` (``~/.local/state`` by default), for audit files."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "token-inspector"


@dataclass(frozen=True, slots=True)
class Config:
    """The raw tables of the files read, merged key by key (``origins`` says which file
    each ``(table, key)`` came from, for error messages)."""

    path: Path | None = None
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    origins: Mapping[tuple[str, str], Path] = field(default_factory=dict)
    paths: tuple[Path, ...] = ()

    def section(self, name: str) -> Mapping[str, Any]:
        """The table ``[name]``, or an empty mapping when absent."""
        return self.sections.get(name, {})


def config_files(
    explicit: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    required_explicit: bool = True,
) -> tuple[tuple[Path, bool], ...]:
    """The files to read, lowest priority first, each with whether it must exist."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        personal, required = explicit, required_explicit
    elif env.get(CONFIG_ENV):
        personal, required = Path(env[CONFIG_ENV]).expanduser(), True
    else:
        personal, required = default_config_path(), False
    system = Path(env[SYSTEM_CONFIG_ENV]) if env.get(SYSTEM_CONFIG_ENV) else SYSTEM_CONFIG_PATH
    return ((system, False), (personal, required))


def load_config(
    path: Path | None = None, *, explicit: bool = False, environ: Mapping[str, str] | None = None
) -> Config:
    """Read and merge the configuration files (see the module docstring).

    ``path`` with ``explicit`` is ``--config``: it replaces the personal file. A missing
    file nobody named is normal; a missing file someone named, or any unreadable or
    invalid file, raises ``ConfigError``.
    """
    files = config_files(path, environ, required_explicit=explicit)
    sections: dict[str, dict[str, Any]] = {}
    origins: dict[tuple[str, str], Path] = {}
    read: list[Path] = []
    for target, required in files:
        data = _read(target, required)
        if data is None:
            continue
        read.append(target)
        for name, table in data.items():
            merged = sections.setdefault(name, {})
            for key, value in table.items():
                merged[key] = value
                origins[(name, key)] = target
    return Config(
        path=read[-1] if read else None, sections=sections, origins=origins, paths=tuple(read)
    )


def _read(target: Path, required: bool) -> dict[str, Mapping[str, Any]] | None:
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{target}: config file not found") from None
        return None
    except OSError as exc:
        raise ConfigError(f"{target}: cannot read config: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{target}: invalid TOML: {exc}") from None
    for name, value in data.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{target}: top-level key {name!r} must be a table like [{name}]")
    return data


# --- the typed sections ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogSettings:
    """``[logs]`` and the log-selection flags: which files, parsed how, from where."""

    paths: tuple[str, ...] = ()
    nginx_conf: Path | None = None
    format: str | None = None
    log_format: str | None = None
    escape: str | None = None
    # Flags only.
    from_start: bool = False
    last: int | None = None
    poll: bool = False


@dataclass(frozen=True, slots=True)
class KeySettings:
    """``[keys]`` and the key flags: offline key files (checked to exist), trusted
    issuers, fetch policy."""

    jwks: Path | None = None
    oidc_metadata: Path | None = None
    trusted_issuers: tuple[str, ...] = ()
    http_timeout: float = DEFAULT_HTTP_TIMEOUT
    allow_private_issuers: bool = False
    # OCI IAM identity domain URL (https://idcs-....identity.oraclecloud.com): where
    # tokens with OCI's shared issuer https://identity.oraclecloud.com/ get their keys.
    oci_domain: str | None = None


EXPECT_FIELDS = (
    "issuer",
    "audience",
    "roles",
    "scopes",
    "require_upn",
    "allowed_skew",
    "allowed_age",
    "role_claim",
    "jwk_url",
)


@dataclass(frozen=True, slots=True)
class ExpectSettings:
    """``[expect]`` and the ``--expect-*`` flags; ``origin`` says for each value set
    whether it came from ``config`` or ``flags`` (verdicts quote it)."""

    issuer: str | None = None
    audience: str | None = None
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    require_upn: bool = False
    allowed_skew: int | None = None
    allowed_age: int | None = None
    role_claim: str | None = None
    jwk_url: str | None = None
    origin: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """``[database]`` and the database flags. Never a password (see ``ords.connection``)."""

    dsn: str | None = None
    user: str | None = None
    config_dir: Path | None = None
    wallet_location: Path | None = None
    call_timeout: float = DEFAULT_CALL_TIMEOUT


@dataclass(frozen=True, slots=True)
class OrdsSettings:
    """``[ords]``: defaults for the profiles the tool proposes, and where ORDS's own
    configuration lives (``config_dir``, the pool read from it)."""

    # p_jwk_url instead of the issuer's jwks_uri.
    jwk_url: str | None = None
    # ORDS's --config directory (global/settings.xml, databases/<pool>/pool.xml).
    config_dir: Path | None = None
    pool: str = "default"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """``[clients]``: extra ``(pattern, name)`` user-agent rules, tried before the built-in
    ones (patterns are checked to compile here)."""

    patterns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DoctorSettings:
    """``[doctor]`` and the doctor flags: the MCP URL and how to probe it."""

    url: str | None = None
    idp: str = "auto"
    http_timeout: float = DEFAULT_HTTP_TIMEOUT
    allow_http: bool = False
    origin: str | None = None
    mcp_revision: str = MCP_REVISIONS[0]


@dataclass(frozen=True, slots=True)
class OutputSettings:
    """``[output]``: where files the tool writes go."""

    dir: Path | None = None
    # Who named it (``--output-dir`` or ``FILE: [output] dir``), for the message when it is
    # not a directory.
    dir_from: str = "[output] dir"


@dataclass(frozen=True, slots=True)
class SetupSettings:
    """``[setup]``: where ``setup`` keeps backups and writes nginx snippets, and how it runs
    nginx. Commands are argv lists (a string is split like a shell would, never run by
    one); ``None`` means the default (``nginx -t -c CONF``, ``nginx -s reload -c CONF``,
    snippets in a ``token-inspector`` directory beside the configuration, backups in the
    state directory)."""

    backup_dir: Path | None = None
    snippet_dir: Path | None = None
    # The signature-free token log setup adds (default: beside the log that records tokens
    # now, else /var/log/nginx/mcp-tokens.log).
    token_log: Path | None = None
    nginx: str | None = None
    test_command: tuple[str, ...] | None = None
    reload_command: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, validated; engine code takes these, never flags."""

    logs: LogSettings = field(default_factory=LogSettings)
    keys: KeySettings = field(default_factory=KeySettings)
    expect: ExpectSettings = field(default_factory=ExpectSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    ords: OrdsSettings = field(default_factory=OrdsSettings)
    clients: ClientSettings = field(default_factory=ClientSettings)
    doctor: DoctorSettings = field(default_factory=DoctorSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    setup: SetupSettings = field(default_factory=SetupSettings)
    files: tuple[Path, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """Validate every table of ``config``; ``ConfigError`` names file, table and key."""
        unknown = sorted(set(config.sections) - set(_SECTIONS))
        if unknown:
            name = unknown[0]
            where = _where(config, name, next(iter(config.section(name)), ""))
            raise ConfigError(
                f"{where}unknown table [{name}] (known: {', '.join(sorted(_SECTIONS))})"
            )
        return cls(
            logs=_logs(_Table(config, "logs")),
            keys=_keys(_Table(config, "keys")),
            expect=_expect(_Table(config, "expect")),
            database=_database(_Table(config, "database")),
            ords=_ords(_Table(config, "ords")),
            clients=_clients(_Table(config, "clients")),
            doctor=_doctor(_Table(config, "doctor")),
            output=_output(_Table(config, "output")),
            setup=_setup(_Table(config, "setup")),
            files=config.paths,
        )


def load_settings(
    path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """The files' settings (``path`` is ``--config``), validated."""
    return Settings.from_config(load_config(path, explicit=path is not None, environ=environ))


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"URL must be an absolute http(s) URL: {url!r}"
    return None


# --- validation -----------------------------------------------------------------------


def _where(config: Config, table: str, key: str) -> str:
    origin = config.origins.get((table, key)) or config.path
    return f"{origin}: " if origin is not None else ""


class _Table:
    """One table's values with the means to complain about them precisely."""

    def __init__(self, config: Config, name: str) -> None:
        self.config = config
        self.name = name
        self.values = config.section(name)

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{_where(self.config, self.name, key)}[{self.name}] {key}: {problem}")

    def only(self, known: tuple[str, ...]) -> None:
        unknown = sorted(set(self.values) - set(known))
        if unknown:
            raise self.error(unknown[0], f"unknown key (known: {', '.join(sorted(known))})")

    def string(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.error(key, "must be a non-empty string")
        return value

    def strings(self, key: str, what: str = "a list of strings") -> tuple[str, ...]:
        value = self.values.get(key)
        if value is None:
            return ()
        if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        raise self.error(key, f"must be {what}")

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.values.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def seconds(self, key: str) -> int | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(key, "must be a whole number of seconds")
        return value

    def positive(self, key: str, default: float) -> float:
        value = self.values.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.error(key, "must be a positive number of seconds")
        return float(value)

    def path(self, key: str) -> Path | None:
        value = self.string(key)
        return Path(value).expanduser() if value else None

    def file(self, key: str) -> Path | None:
        found = self.path(key)
        # A key file the user named must exist: silently checking nothing would mislead.
        if found is not None and not found.is_file():
            raise self.error(key, f"{found}: no such file")
        return found

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.values.get(key)
        if value is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}")
        return value

    def url(self, key: str, what: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or url_problem(value):
            raise self.error(key, f"must be {what}")
        return value


def _logs(t: _Table) -> LogSettings:
    t.only(("paths", "nginx_conf", "format", "log_format", "escape"))
    paths = t.values.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if paths is not None and (
        not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths)
    ):
        raise t.error("paths", "must be a list of file names")
    return LogSettings(
        paths=tuple(dict.fromkeys(paths or ())),
        nginx_conf=t.path("nginx_conf"),
        format=t.string("format"),
        log_format=t.string("log_format"),
        escape=t.choice("escape", ESCAPES),
    )


def _keys(t: _Table) -> KeySettings:
    t.only(
        (
            "jwks",
            "oidc_metadata",
            "trusted_issuers",
            "http_timeout",
            "allow_private_issuers",
            "oci_domain",
        )
    )
    return KeySettings(
        jwks=t.file("jwks"),
        oidc_metadata=t.file("oidc_metadata"),
        trusted_issuers=t.strings("trusted_issuers", "a list of issuer URLs"),
        http_timeout=t.positive("http_timeout", DEFAULT_HTTP_TIMEOUT),
        allow_private_issuers=t.boolean("allow_private_issuers"),
        oci_domain=t.string("oci_domain"),
    )


def _expect(t: _Table) -> ExpectSettings:
    t.only(EXPECT_FIELDS)

    def listed(key: str) -> tuple[str, ...]:
        value = t.values.get(key)
        if isinstance(value, str):
            # Convenience: "a b" or "a,b" for a short list.
            return tuple(v for v in value.replace(",", " ").split() if v)
        return t.strings(key)

    values: dict[str, Any] = {
        "issuer": t.string("issuer"),
        "audience": t.string("audience"),
        "roles": listed("roles"),
        "scopes": listed("scopes"),
        "require_upn": t.boolean("require_upn"),
        "allowed_skew": t.seconds("allowed_skew"),
        "allowed_age": t.seconds("allowed_age"),
        "role_claim": t.string("role_claim"),
        "jwk_url": t.string("jwk_url"),
    }
    origin = {name: "config" for name, value in values.items() if value not in (None, (), False)}
    return ExpectSettings(**values, origin=origin)


def _database(t: _Table) -> DatabaseSettings:
    for secret in ("password", "wallet_password"):
        if secret in t.values:
            raise t.error(
                secret,
                "passwords are never read from a file: set ORACLE_PASSWORD / "
                "ORACLE_WALLET_PASSWORD",
            )
    t.only(("dsn", "user", "config_dir", "wallet_location", "call_timeout"))
    return DatabaseSettings(
        dsn=t.string("dsn"),
        user=t.string("user"),
        config_dir=t.path("config_dir"),
        wallet_location=t.path("wallet_location"),
        call_timeout=t.positive("call_timeout", DEFAULT_CALL_TIMEOUT),
    )


def _ords(t: _Table) -> OrdsSettings:
    t.only(("jwk_url", "config_dir", "pool"))
    pool = t.string("pool") or "default"
    if not ORDS_POOL_NAME.fullmatch(pool):
        raise t.error("pool", "must be an ORDS pool name (lowercase a-z, digits, '-', '.', '_')")
    return OrdsSettings(
        jwk_url=t.url("jwk_url", "an absolute http(s) URL (p_jwk_url)"),
        config_dir=t.path("config_dir"),
        pool=pool,
    )


def _clients(t: _Table) -> ClientSettings:
    pairs = []
    for pattern, name in t.values.items():
        if not isinstance(name, str) or not name:
            raise t.error(repr(pattern), "must map to a client name (string)")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise t.error(repr(pattern), f"invalid pattern: {exc}") from None
        pairs.append((pattern, name))
    return ClientSettings(tuple(pairs))


def _doctor(t: _Table) -> DoctorSettings:
    t.only(("url", "idp", "http_timeout", "allow_http", "origin", "mcp_revision"))
    return DoctorSettings(
        url=t.url("url", "the absolute http(s) URL of the MCP endpoint"),
        idp=t.choice("idp", IDP_CHOICES) or "auto",
        http_timeout=t.positive("http_timeout", DEFAULT_HTTP_TIMEOUT),
        allow_http=t.boolean("allow_http"),
        origin=t.url("origin", "an http(s) origin for the CORS probe"),
        mcp_revision=t.choice("mcp_revision", MCP_REVISIONS) or MCP_REVISIONS[0],
    )


def _output(t: _Table) -> OutputSettings:
    t.only(("dir",))
    return OutputSettings(
        dir=t.path("dir"), dir_from=f"{_where(t.config, 'output', 'dir')}[output] dir"
    )


def _setup(t: _Table) -> SetupSettings:
    t.only(("backup_dir", "snippet_dir", "token_log", "nginx", "test_command", "reload_command"))

    def command(key: str) -> tuple[str, ...] | None:
        value = t.values.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = shlex.split(value)
            except ValueError as exc:
                raise t.error(key, f"cannot be split into words: {exc}") from None
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v and "\x00" not in v for v in value)
        ):
            raise t.error(key, "must be a command: a list of words or a string")
        return tuple(value)

    nginx = t.string("nginx")
    if nginx is not None and not Path(nginx).expanduser().is_absolute():
        raise t.error("nginx", "must be the absolute path of the nginx binary")
    return SetupSettings(
        backup_dir=t.path("backup_dir"),
        snippet_dir=t.path("snippet_dir"),
        token_log=t.path("token_log"),
        nginx=str(Path(nginx).expanduser()) if nginx else None,
        test_command=command("test_command"),
        reload_command=command("reload_command"),
    )


_SECTIONS = (
    "logs",
    "keys",
    "expect",
    "database",
    "ords",
    "clients",
    "doctor",
    "output",
    "setup",
)
