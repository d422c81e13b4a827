"""The real terminal program under tmux: start on the sample log, read the screen, press
keys, quit cleanly. Skipped when tmux is not installed (CI installs it)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Tmux:
    """One detached session on a private tmux server (``-L``), so nothing else is touched."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        assert TMUX is not None
        out = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "smoke")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "smoke", *keys)

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched; last screen:\n{text}")
            time.sleep(0.1)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    session = Tmux(f"token-inspector-{uuid.uuid4().hex[:8]}")
    exit_file = tmp_path / "exit-status"
    command = [
        sys.executable, "-m", "inspector", "watch", "--no-db",
        "--jwks", "samples/jwks.json", "--config", str(tmp_path / "none.toml"),
        "samples/extended.log",
    ]  # fmt: skip
    (tmp_path / "none.toml").write_text("")
    # Textual sizes itself from COLUMNS/LINES when set (pytest sets them): use the pane.
    shell = (
        f"unset COLUMNS LINES; cd {shlex.quote(str(ROOT))} && {shlex.join(command)}; "
        f"echo $? > {exit_file}"
    )
    session.run("new-session", "-d", "-s", "smoke", "-x", "160", "-y", "48", shell)
    try:
        yield session, exit_file
    finally:
        subprocess.run([TMUX or "tmux", "-L", session.socket, "kill-server"], capture_output=True)


def _signatures() -> list[str]:
    """The signature segment of every JWS in the sample log."""
    text = (ROOT / "samples" / "extended.log").read_text()
    found = re.findall(r"eyJ[\w-]+\.[\w-]+\.([\w-]{16,})", text)
    assert found, "the sample log holds no signed token"
    return found


def _shows(*wanted: str, absent: tuple[str, ...] = ()) -> Callable[[str], bool]:
    """A screen condition: every ``wanted`` text painted and no ``absent`` one."""
    return lambda s: all(w in s for w in wanted) and not any(a in s for a in absent)


def test_watch_runs_in_a_real_terminal_and_quits_cleanly(tmux: tuple[Tmux, Path]) -> None:
    term, exit_file = tmux
    # Rows are painted in batches after the status bar: wait for exactly what is asserted.
    screen = term.wait_for(
        _shows("lines 16", "ORDS Token Inspector", "Claude", "ChatGPT", "graph-token")
    )
    # Tokens are credentials: no signature from the log ever reaches the screen.
    assert not [s for s in _signatures() if s[:16] in screen]

    term.keys("f")
    term.wait_for(_shows("failures only", "graph-token", absent=("✔ ok",)))

    term.keys("?")
    term.wait_for(_shows("reveal the selected token"))
    term.keys("Escape")
    term.wait_for(_shows("failures only", absent=("reveal the selected token",)))

    term.keys("q")
    deadline = time.monotonic() + 20
    while not exit_file.exists() or not exit_file.read_text().strip():
        assert time.monotonic() < deadline, "the program did not exit after q"
        time.sleep(0.1)
    assert exit_file.read_text().strip() == "0"
