"""The ORDS objects tokens are judged against, as values: the JWT profile, roles, privileges,
modules.

What ``USER_ORDS_JWT_PROFILE``, ``USER_ORDS_ROLES`` and ``USER_ORDS_PRIVILEGES`` hold for one
schema. The judge reads them; ``inspector.ords`` reads and writes them in the database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JwtProfile:
    """Arguments of ``ORDS_SECURITY.CREATE_JWT_PROFILE`` and the columns of the view.

    ``role_claim_name`` is a JSON pointer (``/roles``) for a role-based profile and
    ``None`` for a scope-based one. ``allowed_skew``/``allowed_age`` are seconds or
    ``None`` (ORDS then applies its global settings / no age limit).
    """

    issuer: str
    audience: str
    jwk_url: str
    description: str | None = None
    allowed_skew: int | None = None
    allowed_age: int | None = None
    role_claim_name: str | None = None

    @property
    def role_based(self) -> bool:
        """A profile is role-based when it names a role claim, else scope-based."""
        return self.role_claim_name is not None


@dataclass(frozen=True, slots=True)
class OrdsRole:
    """A row of ``USER_ORDS_ROLES``."""

    name: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class OrdsPrivilege:
    """A row of ``USER_ORDS_PRIVILEGES`` with what it is granted to and what it protects."""

    name: str
    label: str | None = None
    description: str | None = None
    roles: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    id: int | None = None
    # Base paths (USER_ORDS_MODULES.uri_prefix, e.g. '/mcp/') of ``modules``, where known:
    # what maps a requested path to the module this privilege protects.
    module_prefixes: tuple[str, ...] = ()
    # ``p_comments`` of ``ORDS.DEFINE_PRIVILEGE``: read so that redefining the privilege
    # (which replaces it whole) keeps them; ``None`` where the view has no such column.
    comments: str | None = None


@dataclass(frozen=True, slots=True)
class OrdsModule:
    """A row of ``USER_ORDS_MODULES``: a REST module and its base path (``/mcp/``)."""

    name: str
    uri_prefix: str | None = None
    id: int | None = None
