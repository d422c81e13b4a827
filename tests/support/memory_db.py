"""``--dsn memory:`` for the suite: the commands against the in-memory ORDS stand-in.

The product knows no such DSN (the demo builds its stand-in itself). In tests,
``memory:`` names a fresh seeded stand-in and ``memory:FILE`` one whose committed
profiles are kept in a JSON file (``memory:release=24.2:FILE``: of that ORDS release),
so that successive commands (``apply`` then ``show``)
see each other's work; no user or password is needed for it. ``install`` routes the
commands' ``settings_from`` and ``open_repository`` here (``tests/conftest.py`` does it
for every test); ``python -m tests.support.memory_main`` does it for a child process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege, OrdsRole
from inspector.ords import connect, connection
from inspector.ords.connection import ConnectionSettings
from inspector.ords.database import OrdsRepository, parse_ords_version
from inspector.ords.standin import InMemoryOrds, application_error
from inspector.settings import DatabaseSettings

MEMORY_DSN_PREFIX = "memory:"
RELEASE_PREFIX = "release="
# Where the commands bound the two functions at import (watch imports them when it runs,
# from the modules themselves).
_SITES = ("inspector.cli.profile_steps", "inspector.cli.doctor")

_product_settings_from = connection.settings_from
_product_open_repository = connect.open_repository


@dataclass
class PersistentOrds(InMemoryOrds):
    """The stand-in keeping its committed profiles, roles and privileges in ``state_path``
    (mode 0600)."""

    state_path: Path | None = None

    def _save(self) -> None:
        if self.state_path is None:
            return
        data = {
            "schema": self.schema,
            "profiles": {name: asdict(p) for name, p in self._committed.items()},
            "roles": [asdict(r) for r in self._roles],
            "privileges": [asdict(p) for p in self._privileges],
        }
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        tmp.replace(self.state_path)


def _profiles_from(data: Any) -> dict[str, JwtProfile]:
    profiles: dict[str, JwtProfile] = {}
    if isinstance(data, dict):
        for name, raw in data.items():
            if isinstance(raw, dict):
                profiles[str(name).upper()] = JwtProfile(**raw)
    return profiles


def _privilege_from(raw: dict[str, Any]) -> OrdsPrivilege:
    lists = ("roles", "modules", "patterns", "module_prefixes")
    return OrdsPrivilege(**{k: tuple(v) if k in lists else v for k, v in raw.items()})


def open_memory_dsn(dsn: str, **options: Any) -> InMemoryOrds:
    """``memory:`` gives a fresh seeded stand-in; ``memory:PATH`` one kept in that file;
    ``memory:release=24.2:`` (or ``memory:release=24.2:PATH``) one of that ORDS release."""
    path_text = dsn[len(MEMORY_DSN_PREFIX) :]
    if path_text.startswith(RELEASE_PREFIX):
        release, _, path_text = path_text[len(RELEASE_PREFIX) :].partition(":")
        options["ords_version"] = parse_ords_version(release)
    if not path_text:
        return InMemoryOrds(**options)
    path = Path(path_text)
    repo = PersistentOrds(state_path=path, **options)
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            repo.schema = str(data.get("schema", repo.schema))
            repo.rest_enabled = tuple({*repo.rest_enabled, repo.schema.upper()})
            repo._committed = _profiles_from(data.get("profiles"))
            # Files written before roles and privileges were kept have none: keep the seeds.
            if isinstance(data.get("roles"), list):
                repo._roles = [OrdsRole(**raw) for raw in data["roles"]]
            if isinstance(data.get("privileges"), list):
                repo._privileges = [_privilege_from(raw) for raw in data["privileges"]]
        except (OSError, ValueError, TypeError) as exc:
            raise application_error(f"stand-in state {path} is unreadable: {exc}") from exc
    return repo


def settings_from(database: DatabaseSettings, **options: Any) -> ConnectionSettings | None:
    """The product's ``settings_from``, except that ``memory:`` needs no user or password."""
    if database.dsn and database.dsn.startswith(MEMORY_DSN_PREFIX):
        return ConnectionSettings(dsn=database.dsn, user=database.user or "DEMO")
    return _product_settings_from(database, **options)


def open_repository(settings: ConnectionSettings) -> OrdsRepository:
    """The stand-in for ``memory:``, else the product's ``open_repository``."""
    if settings.dsn.startswith(MEMORY_DSN_PREFIX):
        return open_memory_dsn(settings.dsn)
    return _product_open_repository(settings)


def install(setattr_: Callable[[str, Any], None]) -> None:
    """Route ``memory:`` through ``setattr_(dotted_name, value)`` (``monkeypatch.setattr``)."""
    for site in ("inspector.ords.connection", *_SITES):
        setattr_(f"{site}.settings_from", settings_from)
    for site in ("inspector.ords.connect", *_SITES):
        setattr_(f"{site}.open_repository", open_repository)
