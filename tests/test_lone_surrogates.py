"""A lone surrogate in fetched metadata reaches every writer without crashing one.

The attack: an IdP (or a file given as ``--oidc-metadata``) whose ``jwks_uri`` holds
``"\\ud800"``, a JSON escape no UTF-8 encoder accepts, next to a line separator and a
zero-width non-joiner. ``profile sql`` used to die with a traceback (cache key, script
file, audit line); now the script spells the value out and every output is UTF-8.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP
from tests.test_plsql import script_value

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_JWKS_URI = "https://keys.example/\ud800x\u2028y\u200cz"


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture
def workdir(tmp_path: Path, idp: LocalIdP) -> Path:
    metadata = idp.metadata(jwks_uri=HOSTILE_JWKS_URI)
    # json.dumps writes the surrogate as the six characters \ud800, as a hostile IdP would.
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    (tmp_path / "jwks.json").write_text(json.dumps(idp.jwks()))
    (tmp_path / "config").mkdir()
    return tmp_path


def run(
    workdir: Path, token: str, *argv: str, entry: str = "inspector"
) -> subprocess.CompletedProcess[bytes]:
    """``python -m ENTRY ARGV...`` (``tests.support.memory_main`` for ``--dsn memory:``)."""
    env = {
        **os.environ,
        # A terminal's stdout: strict UTF-8, as on any host with a UTF-8 locale.
        "PYTHONIOENCODING": "utf-8:strict",
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "XDG_STATE_HOME": str(workdir / "state"),
    }
    keys = ["--oidc-metadata", str(workdir / "metadata.json"), "--jwks", str(workdir / "jwks.json")]
    return subprocess.run(
        [sys.executable, "-m", entry, *argv, "--token", "-", *keys],
        input=token.encode(),
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def jwk_url_of(script: str) -> str | None:
    return script_value(script, "jwk_url")


def test_profile_sql_to_stdout_spells_the_surrogate_out(workdir: Path, idp: LocalIdP) -> None:
    done = run(workdir, idp.mint(idp.entra_v2_claims()), "profile", "sql")
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    assert done.returncode == 0
    script = done.stdout.decode("utf-8")  # strict: the script is valid UTF-8
    assert "unistr('\\D800')" in script and "unistr('\\2028')" in script
    assert jwk_url_of(script) == HOSTILE_JWKS_URI


def test_profile_sql_to_a_file(workdir: Path, idp: LocalIdP) -> None:
    out = workdir / "profile.sql"
    done = run(workdir, idp.mint(idp.entra_v2_claims()), "profile", "sql", "-o", str(out))
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    assert done.returncode == 0
    assert jwk_url_of(out.read_text(encoding="utf-8")) == HOSTILE_JWKS_URI


def test_profile_apply_writes_the_audit_line(workdir: Path, idp: LocalIdP) -> None:
    state = workdir / "ords.json"
    argv = ["profile", "apply", "--dsn", f"memory:{state}", "--yes", "--force-unverified"]
    done = run(workdir, idp.mint(idp.entra_v2_claims()), *argv, entry="tests.support.memory_main")
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    assert done.returncode == 0
    done.stdout.decode("utf-8")
    audit = (workdir / "state" / "token-inspector" / "audit.jsonl").read_text(encoding="utf-8")
    record = json.loads(audit)
    assert record["result"] == "applied"
    assert record["new_profile"]["jwk_url"] == HOSTILE_JWKS_URI
