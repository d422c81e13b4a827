"""Reading ORDS's own configuration directory (``--ords-config DIR``, ``[ords] config_dir``).

The parsing is ``parsers.ords_config``; this module only finds and reads the two files of
one pool, carefully: the directory is the user's, but the tool may run as root, so a file
is opened without blocking (a FIFO planted under the name must not hang the tool), must
be a regular file, and is read only up to the parser's size cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from shlex import quote as shell_quote

from inspector.judge import rules
from inspector.settings import ConfigError
from parsers.ords_config import (
    DEFAULT_POOL,
    MAX_CONFIG_BYTES,
    POOL_NAME,
    OrdsConfig,
    OrdsConfigError,
    merge,
    parse_properties,
)


def load_ords_config(config_dir: Path, pool: str = DEFAULT_POOL) -> OrdsConfig:
    """The settings ORDS applies to ``pool``: ``databases/<pool>/pool.xml`` over
    ``global/settings.xml`` under ``config_dir``.

    Either file may be missing (ORDS then uses its defaults), but not both: a directory
    with neither is not an ORDS configuration directory. ``ConfigError`` names the file.
    """
    if not POOL_NAME.fullmatch(pool):
        raise ConfigError(
            f"ORDS pool {pool!r}: a pool name holds only lowercase a-z, digits, '-', '.' "
            "and '_' (the folder under databases/)"
        )
    if not config_dir.is_dir():
        raise ConfigError(f"ORDS configuration directory {config_dir}: not a directory")
    global_file = config_dir / "global" / "settings.xml"
    pool_file = config_dir / "databases" / pool / "pool.xml"
    global_entries = _read(global_file)
    pool_entries = _read(pool_file)
    if global_entries is None and pool_entries is None:
        raise ConfigError(
            f"ORDS configuration directory {config_dir}: neither global/settings.xml nor "
            f"databases/{pool}/pool.xml found (is this ORDS's --config directory?)"
        )
    return merge(global_entries or {}, pool_entries or {}, pool)


def _read(path: Path) -> dict[str, str] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{path}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    try:
        return parse_properties(data, str(path))
    except OrdsConfigError as exc:
        raise ConfigError(str(exc)) from None


def pool_mode_refusal(
    config: OrdsConfig,
    config_dir: Path | None = None,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    jwk_url: str | None = None,
    role_claim: str | None = None,
) -> str:
    """Why a schema profile is not offered in POOL mode, and which settings to change.

    The proposed values (from a token: attacker-controlled) are quoted printable.
    """
    pool = config.pool
    where = config.where("security.jwt.profile.mode")
    wanted = [
        (key, value)
        for key, value in (
            ("security.jwt.profile.issuer", issuer),
            ("security.jwt.profile.audience", audience),
            ("security.jwt.profile.jwk.url", jwk_url),
            ("security.jwt.profile.role.claim.name", role_claim),
        )
        if value
    ]
    directory = shell_quote(str(config_dir)) if config_dir is not None else "DIR"
    if wanted:
        values = "; ".join(f"{key} {rules.quoted(value)}" for key, value in wanted)
        change = f"set {values}"
    else:
        change = (
            "set security.jwt.profile.issuer, .audience, .jwk.url (and .role.claim.name for "
            "a role-based profile)"
        )
    # Setting values come from a file and are shown as they are: escape them for a terminal.
    return rules.printable(
        f"not applied: ORDS pool {pool!r} uses its pool-level JWT profile ({where}), and in "
        "POOL mode ORDS reportedly ignores the schema's profile, so creating one would change "
        f"nothing. Change the ORDS settings instead: {change} (ords --config {directory} "
        f"config --db-pool {pool} set KEY VALUE), then restart ORDS.",
        2000,
    )
