"""The parsing and analysis core must never pull in the UI toolkit."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import inspector
import parsers

ROOT = Path(__file__).resolve().parent.parent

# Modules allowed to import Textual: the TUI package and the commands that start it.
UI_PREFIXES = ("inspector.tui", "inspector.cli.watch", "inspector.cli.demo")


def _core_modules() -> list[str]:
    names = []
    for pkg in (parsers, inspector):
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
            if info.name.startswith(UI_PREFIXES) or info.name == "inspector.__main__":
                continue
            names.append(info.name)
    return names


def test_core_modules_exist() -> None:
    names = _core_modules()
    assert "parsers.records" in names
    assert "inspector.judge.verdicts" in names


def test_core_never_imports_textual() -> None:
    names = _core_modules()
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"core imported textual: {out.stdout.strip()}"


def test_cli_parser_builds_without_textual() -> None:
    code = (
        "import sys\n"
        "from inspector.cli.main import build_parser\n"
        "build_parser()\n"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
