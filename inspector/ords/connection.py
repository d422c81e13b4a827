"""Where and as whom to connect to the database: settings and passwords.

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

from inspector.settings import DEFAULT_CALL_TIMEOUT, DatabaseSettings, InspectorError


class DatabaseSettingsError(InspectorError):
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
    database: DatabaseSettings,
    *,
    environ: Mapping[str, str] | None = None,
    is_tty: bool | None = None,
    prompt: PromptFn | None = None,
) -> ConnectionSettings | None:
    """Connection settings (flags over ``[database]``, already merged) with the passwords.

    Returns ``None`` when no database is configured at all. Passwords come from the
    environment or a prompt, never from a file (``inspector.settings`` refuses them there).
    """
    env = os.environ if environ is None else environ
    dsn = database.dsn
    if not dsn:
        return None
    user = database.user
    wallet = database.wallet_location
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
        user=user,
        password=password,
        config_dir=database.config_dir,
        wallet_location=wallet,
        wallet_password=wallet_password,
        call_timeout=database.call_timeout,
    )
