"""What a connected schema says about authorization: its ORDS roles and privileges.

Every command that reads the JWT profile also reads these, so the analyzer can name
``no-profile``, ``role-missing``, ``role-without-privilege`` and, under a scope-based
profile, ``scope-missing`` against the real ORDS set-up. The roles are a refinement: a
failed read costs only those checks (the caller shows ``unreadable_note`` once), never
the command.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inspector.judge.expectations import (
    Expectations,
    privilege_paths,
    privilege_protects,
    role_privileges,
)
from inspector.judge.ords_objects import JwtProfile
from inspector.ords.errors import one_line
from parsers.redaction import redact_text

if TYPE_CHECKING:
    from inspector.judge.ords_objects import OrdsPrivilege, OrdsRole
    from inspector.ords.database import OrdsRepository


@dataclass(frozen=True, slots=True)
class SchemaAuthorization:
    """The schema's roles with the privileges they hold, and what each privilege protects."""

    ords_roles: Mapping[str, tuple[str, ...]]
    ords_privileges: Mapping[str, tuple[str, ...]]
    # Privilege -> path globs it protects (module base paths and patterns).
    ords_paths: Mapping[str, tuple[str, ...]] | None = None

    @classmethod
    def of(
        cls, roles: Iterable[OrdsRole], privileges: Iterable[OrdsPrivilege]
    ) -> SchemaAuthorization:
        """From the rows of ``USER_ORDS_ROLES`` and ``USER_ORDS_PRIVILEGES`` (with joins)."""
        privileges = list(privileges)
        return cls(
            role_privileges(roles, privileges),
            privilege_protects(privileges),
            privilege_paths(privileges),
        )

    def expectations(self) -> Expectations:
        """Only these facts, to merge into expectations judged under another profile."""
        return Expectations(
            ords_roles=self.ords_roles,
            ords_privileges=self.ords_privileges,
            ords_paths=self.ords_paths,
        )


def read_authorization(repo: OrdsRepository) -> SchemaAuthorization:
    """Read the connected schema's roles and privileges; raises what the driver raises."""
    return SchemaAuthorization.of(repo.roles(), repo.privileges())


def schema_expectations(
    profile: JwtProfile | None, authorization: SchemaAuthorization | None
) -> Expectations:
    """``Expectations.from_schema`` with the roles and privileges when they were read."""
    if authorization is None:
        return Expectations.from_schema(profile)
    return Expectations.from_schema(
        profile, authorization.ords_roles, authorization.ords_privileges, authorization.ords_paths
    )


def unreadable_note(exc: BaseException) -> str:
    """The one line saying which checks a failed roles/privileges read costs."""
    try:
        error = redact_text(one_line(exc))
    except Exception:  # the hint table must never hide the note itself
        error = type(exc).__name__
    return (
        f"the ORDS roles and privileges could not be read ({error}): "
        "role and scope checks against the schema are skipped"
    )
