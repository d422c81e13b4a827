"""Every colour on the live screen comes from the Textual theme: any built-in theme (light
or dark) colours outcomes, verdicts and the status bar its own way, and no colour is
written into the code."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest
from rich.errors import StyleSyntaxError
from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError

from inspector.tui.app import InspectorApp
from inspector.tui.present import Palette
from inspector.tui.theme import palette_from
from tests.tui.conftest import make_app, wait_for

TUI = Path(__file__).resolve().parents[2] / "inspector" / "tui"
THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "dracula")


def style_colour(style: str | Style) -> str | None:
    """The foreground of a Rich style as #RRGGBB, if it has one."""
    parsed = style if isinstance(style, Style) else Style.parse(style)
    triplet = parsed.color.triplet if parsed.color else None
    return triplet.hex.upper() if triplet else None


def colour_of(cell: object) -> str | None:
    """The colour of a cell: its own style's, else its first span's (``stylize``)."""
    assert isinstance(cell, Text)
    styles = [cell.style, *(span.style for span in cell.spans)]
    return next((c for c in map(style_colour, styles) if c), None)


def theme_colour(app: InspectorApp, variable: str) -> str:
    return Color.parse(app.theme_variables[variable]).hex6.upper()


@pytest.mark.parametrize("theme", THEMES)
async def test_outcome_cells_take_the_theme_colours(theme: str) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == 6)
        app.theme = theme
        keys = app.table.column_keys

        def cell(row: int, key: str) -> object:
            return app.table.get_row_at(row)[keys.index(key)]

        await wait_for(pilot, lambda: colour_of(cell(0, "outcome")) is not None)
        want_error = theme_colour(app, "text-error")
        await wait_for(pilot, lambda: colour_of(cell(0, "outcome")) == want_error)
        assert colour_of(cell(5, "outcome")) == theme_colour(app, "text-success")
        assert colour_of(cell(0, "status")) == want_error
        # The status bar's failure count, drawn again for the new theme.
        status = app.status_bar.content
        assert isinstance(status, Text)
        assert want_error in {style_colour(span.style) for span in status.spans}


def test_themes_differ_so_the_test_above_means_something() -> None:
    from textual.app import App

    palettes: set[Palette] = set()
    for theme in ("textual-light", "nord", "gruvbox"):
        app = App[None]()
        app.theme = theme
        palettes.add(palette_from(app.get_css_variables()))
    assert len(palettes) == 3


def test_a_theme_value_that_is_not_a_colour_leaves_the_terminal_colour() -> None:
    palette = palette_from({"text-success": "auto 60%", "text-error": "ansi_red"})
    assert palette.ok == ""
    assert palette.error == "color(1)"
    assert palette("ok", bold=True) == "bold"


def _is_colour(word: str) -> bool:
    try:
        Color.parse(word)
    except ColorParseError:
        return False
    return True


DECLARATION = re.compile(r"^\s*[a-z-]+\s*:\s*([^;{}]+);", re.MULTILINE)


def hard_coded_colours(source: str, *, css: bool) -> list[str]:
    """Rich style strings with a colour, and CSS declarations naming a colour not a $var."""
    found: list[str] = []
    texts: list[str] = []
    if css:
        texts.append(source)
    else:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.STRING:
                continue
            try:
                value = ast.literal_eval(token.string)
            except (ValueError, SyntaxError):
                continue  # f-strings: built from values, not colour names
            if not isinstance(value, str):
                continue
            texts.append(value)
            try:
                style = Style.parse(value)
            except StyleSyntaxError:
                continue
            colours = (style.color, style.bgcolor)
            # "default" is the terminal's own colour (and a Button variant's name).
            if any(c is not None and not c.is_default for c in colours):
                found.append(repr(value))
    for text in texts:
        for declaration in DECLARATION.finditer(text):
            for word in declaration.group(1).split():
                if not word.startswith("$") and _is_colour(word):
                    found.append(declaration.group(0).strip())
    return found


def test_no_colour_is_written_into_the_tui() -> None:
    offenders = {
        str(path.relative_to(TUI)): found
        for path in sorted(TUI.rglob("*"))
        if path.suffix in (".py", ".tcss")
        and (found := hard_coded_colours(path.read_text(), css=path.suffix == ".tcss"))
    }
    assert offenders == {}


def test_the_colour_finder_finds_colours() -> None:
    assert hard_coded_colours('x = ("✔", "bold green")\n', css=False) == ["'bold green'"]
    assert hard_coded_colours('S = "#1e90ff on black"\n', css=False)
    assert hard_coded_colours("#a {\n    color: red;\n}\n", css=True)
    assert not hard_coded_colours("#a {\n    color: $text-error;\n}\n", css=True)
    assert not hard_coded_colours('x = "the token expired"\n', css=False)
