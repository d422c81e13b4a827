"""Opening an ORDS repository: the in-memory stand-in for ``memory:``, else the real database."""

from __future__ import annotations

from inspector.ords.connection import ConnectionSettings
from inspector.ords.database import OracleOrdsRepository, OrdsRepository
from inspector.ords.standin import open_memory_dsn


def open_repository(settings: ConnectionSettings) -> OrdsRepository:
    """Connect and return a repository: the stand-in for ``memory:``, else the real database."""
    if settings.in_memory:
        return open_memory_dsn(settings.dsn)
    return OracleOrdsRepository.connect(settings)
