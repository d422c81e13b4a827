"""What the user (or the ORDS profile) expects tokens to carry.

Expectations come, in rising priority, from the TOML config, command-line flags and the
ORDS profile read from the database. Each value remembers where it came from so a
verdict can say "expected by the ORDS profile" rather than just "expected".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from inspector.profile import JwtProfile

# ORDS caps p_allowed_skew at 60 seconds.
ORDS_MAX_SKEW = 60
ORDS_ALGORITHMS = ("RS256", "RS384", "RS512")


@dataclass(frozen=True, slots=True)
class Expectations:
    """Expected token properties; ``None``/empty means "no expectation, report instead"."""

    issuer: str | None = None
    audience: str | None = None
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    require_upn: bool = False
    allowed_skew: int | None = None
    allowed_age: int | None = None
    # JSON pointer of the role claim when the profile is role-based (e.g. "/roles").
    role_claim: str | None = None
    jwk_url: str | None = None
    # Where the issuer/audience expectations came from: "config", "flags", "profile".
    origin: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def empty(self) -> bool:
        """True when nothing at all is expected: checks then describe rather than judge."""
        return (
            self.issuer is None
            and self.audience is None
            and not self.roles
            and not self.scopes
            and not self.require_upn
        )

    def merged(self, other: Expectations) -> Expectations:
        """``other`` wins wherever it sets a value (higher priority source)."""
        origin = dict(self.origin)
        origin.update(other.origin)
        return Expectations(
            issuer=other.issuer if other.issuer is not None else self.issuer,
            audience=other.audience if other.audience is not None else self.audience,
            roles=other.roles or self.roles,
            scopes=other.scopes or self.scopes,
            require_upn=other.require_upn or self.require_upn,
            allowed_skew=(
                other.allowed_skew if other.allowed_skew is not None else self.allowed_skew
            ),
            allowed_age=other.allowed_age if other.allowed_age is not None else self.allowed_age,
            role_claim=other.role_claim if other.role_claim is not None else self.role_claim,
            jwk_url=other.jwk_url if other.jwk_url is not None else self.jwk_url,
            origin=origin,
        )

    @classmethod
    def from_profile(cls, profile: JwtProfile) -> Expectations:
        """What ORDS will enforce for tokens under ``profile``."""
        names = ("issuer", "audience", "allowed_skew", "allowed_age", "role_claim", "jwk_url")
        return cls(
            issuer=profile.issuer,
            audience=profile.audience,
            allowed_skew=profile.allowed_skew,
            allowed_age=profile.allowed_age,
            role_claim=profile.role_claim_name,
            jwk_url=profile.jwk_url,
            origin=dict.fromkeys(names, "profile"),
        )

    def with_origin(self, origin: str) -> Expectations:
        """Tag every value that is set with ``origin``."""
        tags = {
            name: origin
            for name in ("issuer", "audience", "roles", "scopes", "allowed_skew", "allowed_age")
            if getattr(self, name) not in (None, ())
        }
        return replace(self, origin=tags)
