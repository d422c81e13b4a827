"""The TOML configuration file: loaded once, handed to each concern as raw sections.

Each concern (expectations, keys, database, clients) interprets its own section, so this
module only knows where the file lives and how to fail clearly when it is broken.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """The configuration file exists but cannot be used; the message names file and cause."""


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
    """Parsed configuration: top-level tables by name (``expect``, ``keys``, ``database``...)."""

    path: Path | None = None
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """The table ``[name]``, or an empty mapping when absent."""
        return self.sections.get(name, {})


def load_config(path: Path | None, *, explicit: bool = False) -> Config:
    """Load ``path`` (default location when None).

    A missing default file is normal and yields an empty config; a missing file the user
    named explicitly, or any unreadable or invalid file, raises ``ConfigError``.
    """
    target = path or default_config_path()
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{target}: config file not found") from None
        return Config()
    except OSError as exc:
        raise ConfigError(f"{target}: cannot read config: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{target}: invalid TOML: {exc}") from None
    sections: dict[str, Mapping[str, Any]] = {}
    for name, value in data.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{target}: top-level key {name!r} must be a table like [{name}]")
        sections[name] = value
    return Config(path=target, sections=sections)
