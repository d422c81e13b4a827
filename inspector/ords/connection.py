"""Where and as whom to connect to the database: settings, passwords, the stand-in DSN.

Plain values only: opening a connection is ``inspector.ords.connect``'s, talking to Oracle
``inspector.ords.database``'s.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CALL_TIMEOUT = 10.0
# `--dsn memory:` (or TOKEN_INSPECTOR_DB=memory) selects the in-memory stand-in: a testing and
# demo aid, not a feature for production use.
MEMORY_DSN_PREFIX = "memory:"


class DatabaseSettingsError(Exception):
    """The connection settings are incomplete or unusable; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Where and as whom to connect. Passwords are kept out of ``repr`` and never logged."""

    dsn: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    config_dir: Path | None = None
    wallet_location: Path | None = None
    wallet_password: str | None = field(default=None, repr=False)
    call_timeout: float = DEFAULT_CALL_TIMEOUT

    @property
    def in_memory(self) -> bool:
        """True for the stand-in DSN (``memory:`` or ``memory:STATE.json``)."""
        return self.dsn.startswith(MEMORY_DSN_PREFIX)

    @property
    def described(self) -> str:
        """``user@dsn`` for messages and audit lines (never the password)."""
        return f"{self.user or '?'}@{self.dsn}"


PromptFn = Callable[[str], str]


def resolve_password(
    env_var: str,
    what: str,
    *,
    environ: Mapping[str, str] | None = None,
    is_tty: bool | None = None,
    prompt: PromptFn | None = None,
) -> str:
    """A password from ``env_var``, else a masked prompt when stdin is a terminal.

    Never from the command line. Without a terminal (cron, pipes) a clear error says how to
    provide it instead of hanging on a prompt nobody sees.
    """
    env = os.environ if environ is None else environ
    value = env.get(env_var)
    if value:
        return value
    tty = sys.stdin.isatty() if is_tty is None else is_tty
    if not tty:
        raise DatabaseSettingsError(
            f"no {what}: set {env_var} (standard input is not a terminal, so no prompt)"
        )
    ask = prompt or getpass.getpass
    return ask(f"{what.capitalize()}: ")


def settings_from(
    args: Any,
    database_section: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    is_tty: bool | None = None,
    prompt: PromptFn | None = None,
) -> ConnectionSettings | None:
    """Connection settings from flags (``add_database_options``) over the ``[database]`` table.

    Returns ``None`` when no database is configured at all. The config file may name dsn,
    user, config_dir, wallet_location and call_timeout, never a password (refused if present).
    """
    env = os.environ if environ is None else environ
    if "password" in database_section or "wallet_password" in database_section:
        raise DatabaseSettingsError(
            "[database] must not hold passwords: use ORACLE_PASSWORD / ORACLE_WALLET_PASSWORD"
        )
    dsn = getattr(args, "dsn", None) or database_section.get("dsn")
    if not dsn and env.get("TOKEN_INSPECTOR_DB") == "memory":
        dsn = MEMORY_DSN_PREFIX
    if not dsn:
        return None
    dsn = str(dsn)
    user = getattr(args, "user", None) or database_section.get("user")
    config_dir = getattr(args, "config_dir", None) or database_section.get("config_dir")
    wallet = getattr(args, "wallet_location", None) or database_section.get("wallet_location")
    timeout = database_section.get("call_timeout", DEFAULT_CALL_TIMEOUT)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise DatabaseSettingsError("[database] call_timeout must be a positive number of seconds")
    if dsn.startswith(MEMORY_DSN_PREFIX):
        return ConnectionSettings(dsn=dsn, user=str(user) if user else "DEMO")
    if not user:
        raise DatabaseSettingsError("no database user: give --user or [database] user")
    password = resolve_password(
        "ORACLE_PASSWORD", "database password", environ=env, is_tty=is_tty, prompt=prompt
    )
    wallet_password = None
    if wallet:
        wallet_password = resolve_password(
            "ORACLE_WALLET_PASSWORD", "wallet password", environ=env, is_tty=is_tty, prompt=prompt
        )
    return ConnectionSettings(
        dsn=dsn,
        user=str(user),
        password=password,
        config_dir=Path(config_dir) if config_dir else None,
        wallet_location=Path(wallet) if wallet else None,
        wallet_password=wallet_password,
        call_timeout=float(timeout),
    )
