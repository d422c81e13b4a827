"""Claims built to crash a scanner: an unparsable issuer URL, lone surrogates."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.token import decode_token

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONF = ROOT / "samples" / "nginx.conf"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(payload_json: str) -> str:
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k"}).encode())
    return f"{header}.{_b64(payload_json.encode())}.c2lnbmF0dXJl"


BAD_ISSUER = _token(json.dumps({"iss": "http://[::1", "aud": "a", "sub": "s", "exp": 2 * 10**9}))
# Written by hand: json.dumps would not spell a lone surrogate this way on purpose.
SURROGATES = _token(
    '{"iss":"http://127.0.0.1:9/","aud":"\\ud800","sub":"\\udfff\\ud83d\\ude00",'
    '"roles":["\\udbff"],"\\ud800k":1,"exp":2000000000}'
)


def _run(
    tmp_path: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    return subprocess.run(
        [sys.executable, "-m", "inspector", *argv, "--jwks", str(jwks)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), **(env or {})},
        errors="backslashreplace",
    )  # fmt: skip


def _log(tmp_path: Path, token: str) -> Path:
    log = tmp_path / "extended.log"
    log.write_text(
        '203.0.113.10 - - [21/Nov/2026:09:30:01 +0000] "POST /ords/mcp HTTP/1.1" 401 0 '
        f'referer:"-" ua:"x" content-type:"-" authorization:"Bearer {token}" '
        'mcp-protocol-version:"-"\n'
    )
    return log


@pytest.mark.parametrize("token", [BAD_ISSUER, SURROGATES], ids=["bad-issuer", "surrogates"])
@pytest.mark.parametrize("as_json", [False, True])
def test_scan_survives(tmp_path: Path, token: str, as_json: bool) -> None:
    log = _log(tmp_path, token)
    run = _run(
        tmp_path, "scan", "--nginx-conf", str(SAMPLE_CONF), str(log),
        *(["--json"] if as_json else []),
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    if as_json:
        [line] = run.stdout.splitlines()
        assert json.loads(line)["outcome"] == "fail"
    else:
        assert "1 attempt" in run.stdout, run.stdout


@pytest.mark.parametrize("token", [BAD_ISSUER, SURROGATES], ids=["bad-issuer", "surrogates"])
def test_decode_survives(tmp_path: Path, token: str) -> None:
    run = _run(tmp_path, "decode", token)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    if token is SURROGATES:
        assert '"\\\\ud800"' in run.stdout  # the claim quoted as JSON


def test_decode_survives_an_ascii_terminal(tmp_path: Path) -> None:
    run = _run(tmp_path, "decode", SURROGATES, env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "\\U0001f600" in run.stdout  # the emoji, escaped by the stream


def test_lone_surrogates_become_their_escape_text() -> None:
    decoded = decode_token(SURROGATES)
    assert decoded.problem is None
    assert decoded.claims["aud"] == "\\ud800"
    assert decoded.claims["sub"] == "\\udfff\U0001f600"  # a real pair stays one character
    assert decoded.claims["roles"] == ["\\udbff"]
    assert decoded.claims["\\ud800k"] == 1
    json.dumps(dict(decoded.claims), ensure_ascii=False).encode("utf-8")


def test_escaping_cannot_merge_two_members() -> None:
    clash = decode_token(_token('{"\\ud800":1,"\\\\ud800":2}'))
    assert clash.problem is not None and "duplicate" in clash.problem
