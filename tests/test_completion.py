"""Shell completion generated from the parser: valid scripts that know every flag."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli.completion import install_path, render, walk
from inspector.cli.main import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parent.parent
COMMAND_RECORDS = walk(build_parser())


def _every_flag() -> set[str]:
    return {flag for c in COMMAND_RECORDS for o in c.options for flag in o.flags}


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_script_names_every_command_action_and_option(shell: str) -> None:
    script = render(shell)
    for name in (*COMMANDS, "show", "sql", "apply"):
        assert name in script, name
    for flag in _every_flag():
        assert f"{flag}" in script, flag
    assert "--only-failures" in _every_flag() and "--install" in _every_flag()


def test_bash_script_is_valid_bash(tmp_path: Path) -> None:
    path = tmp_path / "token-inspector.bash"
    path.write_text(render("bash"))
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_zsh_script_is_valid_zsh(tmp_path: Path) -> None:
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("zsh is not installed here: syntax not checked")
    path = tmp_path / "_token-inspector"
    path.write_text(render("zsh"))
    done = subprocess.run([zsh, "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


CASES = [
    (["token-inspector", ""], "scan"),
    (["token-inspector", "sc"], "scan"),
    (["token-inspector", "scan", "--only"], "--only-failures"),
    (["token-inspector", "scan", "--escape", ""], "default json none"),
    (["token-inspector", "scan", "-n", "50", "--sin"], "--since"),
    (["token-inspector", "profile", ""], "show sql apply"),
    (["token-inspector", "profile", "apply", "--dry"], "--dry-run"),
    (["token-inspector", "completion", ""], "bash zsh"),
    (["token-inspector", "scan", "--config", "pyproject.t"], "pyproject.toml"),
]


@pytest.mark.parametrize(("words", "expected"), CASES, ids=[" ".join(w) for w, _ in CASES])
def test_bash_completes_from_the_parser(words: list[str], expected: str, tmp_path: Path) -> None:
    script = tmp_path / "completion.bash"
    script.write_text(render("bash"))
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _token_inspector\n"
        'echo "${COMPREPLY[*]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.stdout.strip() == expected or expected in done.stdout.split(), done


def test_install_writes_the_script_where_the_shell_looks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("BASH_COMPLETION_USER_DIR", raising=False)
    monkeypatch.setenv("SHELL", "/bin/bash")
    assert main(["completion", "--install"]) == 0
    path = tmp_path / "bash-completion" / "completions" / "token-inspector"
    assert path == install_path("bash")
    assert path.read_text() == render("bash")
    assert str(path) in capsys.readouterr().out
    assert main(["completion", "zsh", "--install"]) == 0
    assert (tmp_path / "zsh" / "site-functions" / "_token-inspector").read_text() == render("zsh")


def test_unknown_shell_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "completion"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert "bash|zsh" in done.stderr
