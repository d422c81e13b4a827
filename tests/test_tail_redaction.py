"""``tail`` prints no full token wherever a client put it, unless ``--show-token``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.redaction import fingerprint

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONF = ROOT / "samples" / "nginx.conf"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImF1ZCI6Im9yZHMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
SHORT = "eyJhbGciOi.eyJzdWIi.sig"
LINE = (
    '203.0.113.10 - - [21/Nov/2026:09:30:01 +0000] "{request}" 401 0 referer:"{referer}" '
    'ua:"{ua}" content-type:"{ctype}" authorization:"{auth}" mcp-protocol-version:"{mcp}"\n'
)


def _line(**values: str) -> str:
    base = {
        "request": "POST /ords/mcp HTTP/1.1", "referer": "-", "ua": "openai-mcp/1.0.0",
        "ctype": "-", "auth": "-", "mcp": "-",
    }  # fmt: skip
    return LINE.format(**{**base, **values})


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "extended.log"
    path.write_text(
        _line(ua=f"curl/8 {JWT}")
        + _line(request=f"GET /ords/mcp?access_token={JWT}&x=1 HTTP/1.1")
        + _line(auth=f"{JWT} extra")
        + _line(referer=f"https://app.example/cb#id_token={JWT}")
        + _line(ctype=f"application/json; {JWT}", mcp=JWT)
        + _line(ua=f"bot {SHORT}")
        + _line(ua="\x1b]0;PWNED\x07 \u202eevil")
    )
    return path


def _tail(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", "tail", "--no-follow", *argv,
         "--nginx-conf", str(SAMPLE_CONF)],
        cwd=ROOT, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("as_json", [False, True])
def test_no_full_token_from_any_field(tmp_path: Path, log: Path, as_json: bool) -> None:
    run = _tail(tmp_path, str(log), *(["--json"] if as_json else []))
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.splitlines()) == 7
    for secret in (JWT, SHORT, JWT.split(".")[2], JWT.split(".")[1]):
        assert secret not in run.stdout and secret not in run.stderr
    assert fingerprint(JWT) in run.stdout and fingerprint(SHORT) in run.stdout
    assert "\x1b" not in run.stdout and "\u202e" not in run.stdout
    if as_json:
        rows = [json.loads(line) for line in run.stdout.splitlines()]
        assert rows[1]["path"].startswith("/ords/mcp?access_token=eyJhbGciOi…[sha256:")
        assert rows[1]["path"].endswith("&x=1")
        assert rows[2]["authorization"].startswith("eyJhbGciOi…[sha256:")
        assert rows[0]["user_agent"].startswith("curl/8 eyJhbGciOi…[sha256:")
        assert rows[4]["fields"]["http_content_type"].startswith("application/json; ")


def test_show_token_still_shows_them(tmp_path: Path, log: Path) -> None:
    run = _tail(tmp_path, str(log), "--json", "--show-token")
    assert run.returncode == 0, run.stderr
    assert run.stdout.count(JWT) >= 6
