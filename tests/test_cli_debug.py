"""``--debug``: stderr says what was fetched and what was refused, and never a token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    with LocalIdP() as running:
        yield running


def _decode(token: str, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return subprocess.run(
        [sys.executable, "-m", "inspector", "decode", "-", "--config", str(config), *flags],
        input=token,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _assert_no_token(token: str, done: subprocess.CompletedProcess[str]) -> None:
    for part in token.split("."):
        assert part not in done.stderr
    assert token[:40] not in done.stdout + done.stderr


def test_debug_shows_the_refused_address_and_no_token(idp: LocalIdP, tmp_path: Path) -> None:
    token = idp.mint(idp.entra_v2_claims())
    done = _decode(token, tmp_path, "--debug")
    debug = [line for line in done.stderr.splitlines() if "debug:" in line]
    assert any("not anchored" in line for line in debug), done.stderr
    assert any("refused http://127.0.0.1" in line for line in debug), done.stderr
    _assert_no_token(token, done)


def test_debug_shows_the_urls_fetched_and_the_cache(idp: LocalIdP, tmp_path: Path) -> None:
    token = idp.mint(idp.entra_v2_claims())
    done = _decode(token, tmp_path, "--debug", "--trusted-issuer", idp.issuer_v2)
    assert done.returncode in (0, 1), done.stderr
    debug = [line for line in done.stderr.splitlines() if "debug:" in line]
    metadata = f"GET {idp.issuer_v2}/.well-known/openid-configuration: 200"
    assert any(metadata in line for line in debug), done.stderr
    assert any(f"GET {idp.jwks_uri}: 200" in line for line in debug), done.stderr
    assert any("from the cache" in line for line in debug), done.stderr
    _assert_no_token(token, done)


def test_without_debug_nothing_is_logged(idp: LocalIdP, tmp_path: Path) -> None:
    token = idp.mint(idp.entra_v2_claims())
    done = _decode(token, tmp_path, "--trusted-issuer", idp.issuer_v2)
    assert "debug:" not in done.stderr


def test_debug_logging_ends_with_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from inspector.cli.main import main

    assert main(["rules", "expired", "--debug"]) == 0
    logger = logging.getLogger("inspector")
    assert logger.level == logging.NOTSET
    assert not logger.handlers
