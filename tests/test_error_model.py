"""One error model: expected failures derive from ``InspectorError`` and end the same way
(one line ``token-inspector COMMAND: MESSAGE`` on stderr, exit 2), caught once in
``inspector.cli.main``; engine code below ``cli/`` never sees argparse."""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

import pytest

from inspector.cli.decode import DecodeInputError
from inspector.cli.main import main
from inspector.cli.profile_steps import CommandError
from inspector.cli.scan import ScanInputError
from inspector.logs.selection import LogSelectionError
from inspector.ords.connection import DatabaseSettingsError
from inspector.settings import ConfigError, InspectorError, UsageError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "error",
    [ConfigError, UsageError, LogSelectionError, DatabaseSettingsError, CommandError,
     DecodeInputError, ScanInputError],
)  # fmt: skip
def test_expected_failures_share_one_base(error: type[Exception]) -> None:
    assert issubclass(error, InspectorError)


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return main(argv), out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", ["decode", "scan", "tail", "doctor", "watch", "profile"])
def test_a_config_error_is_one_line_and_exit_2_for_every_command(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    # A control character in the value: the one line stays one line, escaped.
    config.write_text('[keys]\nhttp_timeout = -1\n[expect]\nissuer = "a\\u001b[2Jb"\n')
    argv = {
        "decode": ["decode", "-"],
        "scan": ["scan", str(tmp_path / "x.log")],
        "tail": ["tail", "--no-follow", str(tmp_path / "x.log")],
        "doctor": ["doctor", "https://mcp.example.test/mcp"],
        "watch": ["watch", "--no-db", str(tmp_path / "x.log")],
        "profile": ["profile", "sql", "--token", "-"],
    }[command]
    if command == "tail":
        config.write_text("[logs]\nescape = 'xml'\n")
    status, out, err = _run([*argv, "--config", str(config)], monkeypatch)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1, err
    table = "[logs] escape" if command == "tail" else "[keys] http_timeout"
    assert err.startswith(f"token-inspector {command}: {config}: {table}: "), err
    assert "\x1b" not in err


def test_a_failure_with_its_own_status_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from inspector.cli import main as cli_main

    def fail(_args: object) -> int:
        raise CommandError("restore failed", status=3)

    import argparse

    args = argparse.Namespace(command="profile", func=fail)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert cli_main.dispatch(args) == 3
    assert err.getvalue() == "token-inspector profile: restore failed\n"


def test_ctrl_c_is_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from inspector.cli import main as cli_main

    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    assert cli_main.dispatch(argparse.Namespace(command="scan", func=interrupted)) == 130


def _modules_below_cli() -> list[Path]:
    files = [*(ROOT / "inspector").rglob("*.py"), *(ROOT / "parsers").rglob("*.py")]
    return [f for f in files if (ROOT / "inspector" / "cli") not in f.parents]


def test_no_module_below_cli_knows_argparse() -> None:
    # Engine code takes typed settings: no Namespace, no getattr(args, ...), no argparse.
    offenders = []
    for path in _modules_below_cli():
        text = path.read_text(encoding="utf-8")
        for needle in ("argparse", "Namespace", "getattr(args"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n == "argparse" or n.startswith("argparse.") for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}: imports argparse")
    assert offenders == []


def test_settings_is_the_bottom_layer() -> None:
    tree = ast.parse((ROOT / "inspector" / "settings.py").read_text(encoding="utf-8"))
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    assert not [m for m in imported if m.split(".")[0] in ("inspector", "parsers")]


def test_a_bad_flag_is_the_same_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, err = _run(["watch", "--max-attempts", "0", "x.log"], monkeypatch)
    assert (status, out) == (2, "")
    assert err == "token-inspector watch: --max-attempts must be at least 1\n"
