"""Running commands in-process over a real access log, the way users run them.

``write_bearer_log`` writes a log in the reference ``extended`` format holding bearer
tokens, with the nginx.conf that names its format; ``run_cli`` runs ``token-inspector``
with captured output; ``first_attempt`` is the first analysed attempt a live-screen
session produces.
"""

from __future__ import annotations

import io
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inspector.cli.main import main
from inspector.judge.analyzer import keys_pending
from inspector.judge.attempt import Attempt
from inspector.logs.selection import REFERENCE_EXTENDED
from inspector.tui.feed import AttemptUpdate


@dataclass(frozen=True)
class BearerLog:
    """``log`` with one 401 MCP request per token, and ``nginx_conf`` writing it."""

    log: Path
    nginx_conf: Path


def write_bearer_log(directory: Path, *tokens: str) -> BearerLog:
    """One line per token, stamped now, as a connector's refused request."""
    log = directory / "extended.log"
    when = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    log.write_text(
        "".join(
            f'127.0.0.1 - - [{when}] "POST /ords/hr/mcp HTTP/1.1" 401 0 referer:"-" '
            f'ua:"Claude-User" content-type:"application/json" '
            f'authorization:"Bearer {token}" mcp-protocol-version:"2025-06-18"\n'
            for token in tokens
        )
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        "events {}\nhttp {\n"
        f"  log_format extended '{REFERENCE_EXTENDED.template}';\n"
        f"  access_log {log} extended;\n}}\n"
    )
    return BearerLog(log, conf)


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, state or database from the machine running the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("TOKEN_INSPECTOR_DB", raising=False)


def run_cli(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, *, stdin: str = ""
) -> tuple[int, str, str]:
    """``token-inspector ARGV...`` in-process: exit status, standard output and error."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    status = main(argv)
    return status, out.getvalue(), err.getvalue()


def first_attempt(session: Any) -> Attempt:
    """The first attempt the live screen's session analyses, once its keys are settled
    (shown with keys pending, it comes again as an ``AttemptUpdate``); the reader is then
    stopped."""
    stop = threading.Event()
    items = session.items(stop)
    first: Attempt | None = None
    try:
        for item in items:
            if first is None and isinstance(item, Attempt):
                first = item
                if not keys_pending(item):
                    return item
            elif isinstance(item, AttemptUpdate) and item.old is first:
                return item.new
        raise AssertionError("the session ended without a settled attempt")
    finally:
        stop.set()
        items.close()
