"""Flags over the configuration files: the one place a command's ``argparse.Namespace``
becomes the typed ``Settings`` the engine takes.

Flags beat the files wherever they are given; a command without a flag (``getattr``
default ``None``) leaves the files' value. Flag values are checked here as the files'
values are checked in ``inspector.settings``, and fail the same way (``ConfigError``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from inspector.settings import (
    ORDS_POOL_NAME,
    ConfigError,
    DatabaseSettings,
    DoctorSettings,
    ExpectSettings,
    KeySettings,
    LogSettings,
    OrdsSettings,
    OutputSettings,
    Settings,
    load_settings,
)


def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """The files' settings (``--config`` replacing the personal file) with flags laid over.

    ``base`` instead of the files: flags over settings already at hand (tests, the demo).
    """
    settings = load_settings(_flag(args, "config")) if base is None else base
    return replace(
        settings,
        logs=_logs(args, settings.logs),
        keys=_keys(args, settings.keys),
        expect=_expect(args, settings.expect),
        database=_database(args, settings.database),
        ords=_ords(args, settings.ords),
        doctor=_doctor(args, settings.doctor),
        output=_output(args, settings.output),
    )


def _flag(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, None)


def _given(args: argparse.Namespace, **names: str) -> dict[str, Any]:
    """``{field: value}`` for each flag (``field=flag attribute``) actually given."""
    out: dict[str, Any] = {}
    for field_name, attr in names.items():
        value = _flag(args, attr)
        if value is not None and value != [] and value is not False:
            out[field_name] = value
    return out


def _logs(args: argparse.Namespace, base: LogSettings) -> LogSettings:
    values = _given(
        args,
        nginx_conf="nginx_conf",
        format="format",
        log_format="log_format",
        escape="escape",
        from_start="from_start",
        last="last",
        poll="poll",
    )
    logs = _flag(args, "logs")
    if logs:
        values["paths"] = tuple(dict.fromkeys(str(p) for p in logs))
    if "format" in values or "log_format" in values:
        # A format named on the command line replaces the files' choice whole: a file's
        # log_format must not beat a --format flag.
        values.setdefault("format", None)
        values.setdefault("log_format", None)
    last = values.get("last")
    if last is not None and last < 0:
        raise ConfigError(f"--last {last}: the number of lines must be 0 or more")
    return replace(base, **values)


def _keys(args: argparse.Namespace, base: KeySettings) -> KeySettings:
    values = _given(
        args,
        jwks="jwks",
        oidc_metadata="oidc_metadata",
        allow_private_issuers="allow_private_idp",
        http_timeout="http_timeout",
        oci_domain="oci_domain",
    )
    for name in ("jwks", "oidc_metadata"):
        if name in values:
            flag = f"--{name.replace('_', '-')}"
            path = Path(values[name])
            # A key file the user named must exist: silently checking nothing would mislead.
            if not path.is_file():
                raise ConfigError(f"{flag} {path}: no such file")
            values[name] = path
    trusted = _flag(args, "trusted_issuer")
    if trusted:
        values["trusted_issuers"] = tuple(trusted)
    if "http_timeout" in values:
        values["http_timeout"] = _positive("--http-timeout", values["http_timeout"])
    return replace(base, **values)


def _expect(args: argparse.Namespace, base: ExpectSettings) -> ExpectSettings:
    values = _given(
        args,
        issuer="expect_iss",
        audience="expect_aud",
        require_upn="require_upn",
        allowed_skew="allowed_skew",
        allowed_age="allowed_age",
    )
    for name, attr in (("roles", "expect_role"), ("scopes", "expect_scope")):
        given = _flag(args, attr)
        if given:
            values[name] = tuple(given)
    origin = {**base.origin, **dict.fromkeys(values, "flags")}
    return replace(base, **values, origin=origin)


def _database(args: argparse.Namespace, base: DatabaseSettings) -> DatabaseSettings:
    values = _given(
        args, dsn="dsn", user="user", config_dir="config_dir", wallet_location="wallet_location"
    )
    return replace(base, **values)


def _ords(args: argparse.Namespace, base: OrdsSettings) -> OrdsSettings:
    values = _given(args, jwk_url="jwk_url", config_dir="ords_config", pool="ords_pool")
    if "config_dir" in values:
        values["config_dir"] = Path(values["config_dir"])
    pool = values.get("pool")
    if pool is not None and not ORDS_POOL_NAME.fullmatch(pool):
        raise ConfigError(
            f"--ords-pool {pool!r}: an ORDS pool name holds only lowercase a-z, digits, "
            "'-', '.' and '_'"
        )
    return replace(base, **values)


def _doctor(args: argparse.Namespace, base: DoctorSettings) -> DoctorSettings:
    values = _given(
        args, url="mcp_url", idp="idp", allow_http="allow_http", mcp_revision="mcp_revision"
    )
    # The doctor command's positional URL.
    if isinstance(_flag(args, "url"), str):
        values["url"] = args.url
    timeout = _flag(args, "http_timeout")
    if timeout is not None:
        values["http_timeout"] = _positive("--http-timeout", timeout)
    return replace(base, **values)


def _output(args: argparse.Namespace, base: OutputSettings) -> OutputSettings:
    values = _given(args, dir="output_dir")
    if values:
        values["dir_from"] = "--output-dir"
    return replace(base, **values)


def _positive(flag: str, value: float) -> float:
    if value <= 0:
        raise ConfigError(f"{flag} must be a positive number of seconds")
    return float(value)
