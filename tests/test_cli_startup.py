"""Start-up: --version and --help import no command, so none of the heavy libraries."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent

HEAVY = ("cryptography", "requests", "jwt", "oracledb", "textual")


def _modules_after(argv: list[str]) -> tuple[set[str], str]:
    """Top-level modules (and inspector.cli.* modules) loaded by running ``argv``, and stdout."""
    code = (
        "import sys, contextlib, io\n"
        "from inspector.cli.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "names = {m.split('.')[0] for m in sys.modules}\n"
        "names |= {m for m in sys.modules if m.startswith('inspector.cli.')}\n"
        "print(' '.join(sorted(names)))\n"
        "print(out.getvalue(), end='')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    first, _, rest = done.stdout.partition("\n")
    return set(first.split()), rest


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["-h"]])
def test_version_and_help_import_no_heavy_library(argv: list[str]) -> None:
    modules, out = _modules_after(argv)
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert not {m for m in modules if m.startswith("inspector.cli.")} - {"inspector.cli.main"}
    assert out.strip()


def test_command_help_imports_its_own_command_only() -> None:
    modules, out = _modules_after(["scan", "--help"])
    commands = {m.removeprefix("inspector.cli.") for m in modules} & set(COMMANDS)
    assert commands == {"scan"}
    assert "--only-failures" in out


def test_help_lists_every_command_without_importing_it() -> None:
    _, out = _modules_after(["--help"])
    for name, summary in COMMANDS.items():
        assert name in out
        assert summary.split()[0] in out


def test_table_summary_is_the_help_each_command_registers() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    registered = {a.dest: a.help for a in sub._choices_actions}
    assert registered == COMMANDS


def test_version_names_python_textual_and_oracledb_without_importing_them() -> None:
    modules, out = _modules_after(["--version"])
    lines = out.splitlines()
    assert lines[0].startswith("token-inspector ")
    assert lines[1] == f"Python {sys.version.split()[0]}"
    assert lines[2].startswith("textual ")
    assert lines[3].startswith("oracledb ")
    assert "textual" not in modules and "oracledb" not in modules


def test_unknown_command_is_refused_with_the_choices() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "nonsense"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "scan" in done.stderr
