"""The screen's colours, read from the app's Textual theme.

Every colour on screen is one of the theme's text variables, so each built-in theme
(``textual-light``, ``nord``, ``gruvbox``...) and each user theme colours the screen its
own way, readable on its own background.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import App
from textual.color import Color, ColorParseError

from inspector.tui.present import Palette

# Which theme variable colours each meaning: the ``text-*`` variants are the ones Textual
# makes legible as text on the theme's background (``$success`` is meant for fills).
VARIABLES = {
    "ok": "text-success",
    "warn": "text-warning",
    "error": "text-error",
    "info": "text-primary",
    "accent": "text-accent",
}


def _colour(value: str | None) -> str:
    """A theme value as a Rich colour; '' (the terminal's own) when it is not one."""
    if not value:
        return ""
    try:
        colour = Color.parse(value)
    except ColorParseError:  # "auto 60%" and the like: contrast rules, not colours
        return ""
    # An ANSI theme names the terminal's own colours: keep them the terminal's.
    if colour.ansi is not None and colour.ansi >= 0:
        return f"color({colour.ansi})"
    return colour.hex6


def palette_from(variables: Mapping[str, str]) -> Palette:
    """The palette for a theme's CSS variables (``App.theme_variables``)."""
    return Palette(**{role: _colour(variables.get(name)) for role, name in VARIABLES.items()})


def app_palette(app: App[Any]) -> Palette:
    """The palette of ``app``'s current theme."""
    return palette_from(app.theme_variables)
