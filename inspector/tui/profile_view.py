"""The profile panel's content: the database's ORDS profile next to what a token needs.

No Textual here. "What the token needs" is read from the analysed token (``iss``, ``aud``,
the JWKS URL the key came from, ``/roles`` when the token carries roles); the apply modal
asks the configurator for the full proposal with its pre-checks.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from inspector.judge.attempt import Attempt
from inspector.judge.ords_objects import JwtProfile
from inspector.tui.present import PLAIN, Palette, shown

PROFILE_FIELDS = (
    ("issuer", "p_issuer"),
    ("audience", "p_audience"),
    ("jwk_url", "p_jwk_url"),
    ("role_claim_name", "p_role_claim_name"),
    ("allowed_skew", "p_allowed_skew"),
    ("allowed_age", "p_allowed_age"),
)


def needed_by(attempt: Attempt | None) -> dict[str, str | None] | None:
    """Profile values the attempt's token would need, or None without a decodable JWT."""
    if attempt is None or attempt.token is None or not attempt.token.claims:
        return None
    claims = attempt.token.claims
    aud = claims.get("aud")
    jwks = attempt.token.jwks_uri
    return {
        "issuer": str(claims["iss"]) if "iss" in claims else None,
        "audience": aud if isinstance(aud, str) else (f"(array) {aud}" if aud else None),
        # Only a URL can be a p_jwk_url (not the offline --jwks file the keys came from).
        "jwk_url": jwks if jwks and jwks.startswith(("https://", "http://")) else None,
        "role_claim_name": "/roles" if "roles" in claims else None,
        "allowed_skew": None,
        "allowed_age": None,
    }


def _current(profile: JwtProfile | None) -> dict[str, str | None] | None:
    if profile is None:
        return None
    out: dict[str, str | None] = {}
    for name, _ in PROFILE_FIELDS:
        value = getattr(profile, name)
        out[name] = None if value is None else str(value)
    return out


def profile_panel(
    profile: JwtProfile | None,
    db_state: str,
    attempt: Attempt | None,
    palette: Palette = PLAIN,
) -> RenderableType:
    """Side-by-side table; rows where the token needs something else are highlighted."""
    current = _current(profile)
    needed = needed_by(attempt)
    lines: list[Text] = []
    for name, label in PROFILE_FIELDS:
        have = current.get(name) if current else None
        want = needed.get(name) if needed else None
        differs = needed is not None and want is not None and have != want
        if have is None and want is None:
            continue
        mark = (
            ("≠ ", palette("error", bold=True))
            if differs
            else ("= ", palette("ok"))
            if want is not None
            else ("  ", "")
        )
        lines.append(Text.assemble(mark, (label, palette("info", bold=True))))
        lines.append(
            Text.assemble(
                ("    database  ", "dim"), (shown(have), "") if have is not None else ("—", "dim")
            )
        )
        if needed is not None:
            lines.append(
                Text.assemble(
                    ("    token     ", "dim"),
                    (shown(want), palette("error", bold=True) if differs else palette("ok"))
                    if want is not None
                    else ("—", "dim"),
                )
            )
    if current is None:
        note = Text(f"database: {shown(db_state)}", style=palette("warn"))
    else:
        note = Text(f"database: {shown(db_state)}", style="dim")
    if needed is None:
        hint = Text("select an attempt with a token to compare", style="dim")
    elif current is not None and all(
        needed.get(n) is None or current.get(n) == needed.get(n) for n, _ in PROFILE_FIELDS
    ):
        hint = Text("✔ the profile matches this token", style=palette("ok", bold=True))
    else:
        hint = Text("press a to apply the profile this token needs", style="bold")
    return Group(*lines, note, hint)
