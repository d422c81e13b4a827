"""Opening an ORDS repository: a connection to the database the settings name."""

from __future__ import annotations

from inspector.ords.connection import ConnectionSettings
from inspector.ords.database import OracleOrdsRepository, OrdsRepository


def open_repository(settings: ConnectionSettings) -> OrdsRepository:
    """Connect and return the repository of the database ``settings`` name.

    (The in-memory stand-in is the demo's, built by it directly: no DSN selects it.)
    """
    return OracleOrdsRepository.connect(settings)
