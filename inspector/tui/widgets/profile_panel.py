"""The ORDS profile in the database beside what the selected token needs."""

from __future__ import annotations

from textual.widgets import Static

from inspector.judge.attempt import Attempt
from inspector.judge.ords_objects import JwtProfile
from inspector.tui.profile_view import needed_by, profile_panel
from inspector.tui.theme import app_palette


class ProfilePanel(Static):
    """Re-rendered when the selection or the database profile changes."""

    DEFAULT_CSS = """
    ProfilePanel { border: round $secondary; border-title-align: left; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "ORDS profile"
        self._profile: JwtProfile | None = None
        self._db_state = "not connected"
        self._attempt: Attempt | None = None
        # What the panel shows was drawn from this: a new attempt needing the same values
        # (every row of a busy log, mostly) leaves it as it is.
        self._drawn: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        """First render."""
        self._render_panel()

    def set_profile(self, profile: JwtProfile | None, db_state: str) -> None:
        """The database's profile changed (or was read for the first time)."""
        self._profile = profile
        self._db_state = db_state
        self._render_panel()

    def set_attempt(self, attempt: Attempt | None) -> None:
        """The selected attempt changed."""
        self._attempt = attempt
        self._render_panel()

    def redraw(self) -> None:
        """Render again (the theme changed)."""
        self._render_panel()

    def _render_panel(self) -> None:
        palette = app_palette(self.app)
        drawn = (self._profile, self._db_state, needed_by(self._attempt), palette)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        self.update(profile_panel(self._profile, self._db_state, self._attempt, palette))
