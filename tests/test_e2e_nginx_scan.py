"""End to end: a real nginx writes the extended log, ``scan --json`` (a subprocess) reads it.

nginx finds nothing of its own in the tokens; it only logs them, the way the reference
setup does. Keys are discovered over loopback HTTP from a running FaultyIdP.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from inspector.demo.idp import generate_rsa_key
from tests.support.faulty_idp import FaultyIdP
from tests.support.nginx import EXTENDED_LOG_FORMAT, NginxServer, http_conf, requires_nginx

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.nginx, requires_nginx]

SITE = (
    EXTENDED_LOG_FORMAT
    + r"""
server {
    listen 127.0.0.1:@PORT@;
    access_log @PREFIX@/logs/extended.log extended;
    location = /.well-known/oauth-protected-resource { return 200 "{}"; }
    # Stands in for ORDS: no token, 401; the 'reject' module refuses every token.
    location /ords/demo/mcp/ {
        if ($http_authorization = "") { return 401; }
        return 200 "ok";
    }
    location /ords/demo/reject/ { return 401; }
}
"""
)


def scan(conf: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", "scan", "--nginx-conf", str(conf), "--json",
         "--config", str(conf.parent / "empty.toml"), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    with FaultyIdP() as idp, NginxServer(tmp_path / "nginx") as server:
        server.start(http_conf(SITE))
        (server.conf_path.parent / "empty.toml").write_text("")
        yield idp, server


def codes(row: dict[str, Any]) -> list[str]:
    return [v["code"] for v in row["verdicts"]]


def test_scan_judges_what_nginx_logged(setup) -> None:  # type: ignore[no-untyped-def]
    idp, server = setup
    now = time.time()
    good = idp.mint(idp.entra_v2_claims())
    tokens = {
        "good": good,
        "expired": idp.mint(idp.entra_v2_claims(now=now - 7200)),
        "aud": idp.mint(idp.entra_v2_claims(aud=f"api://{idp.api_app_id}")),
        "forged": idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid)),
        "graph": idp.mint(
            idp.entra_v2_claims(aud="00000003-0000-0000-c000-000000000000"),
            header={"nonce": "abc123nonce"},
        ),
        "unsigned": idp.mint(idp.entra_v2_claims(), alg="none"),
    }
    chatgpt = {"User-Agent": "ChatGPT-User/1.0; +https://openai.com/bot"}
    requests = [
        ("/ords/demo/mcp/", {"User-Agent": "Claude-User/1.0"}),  # 1 no token, 401
        ("/.well-known/oauth-protected-resource", chatgpt),  # 2 not an attempt
        ("/ords/demo/mcp/", {**chatgpt, "Authorization": f"Bearer {good}"}),  # 3 ok
        ("/ords/demo/reject/", {**chatgpt, "Authorization": f"bearer  {good}"}),  # 4 ORDS side
        ("/ords/demo/mcp/", {**chatgpt, "Authorization": f"Bearer {tokens['expired']}"}),  # 5
        ("/ords/demo/reject/", {**chatgpt, "Authorization": f"Bearer {tokens['aud']}"}),  # 6
        ("/ords/demo/reject/", {**chatgpt, "Authorization": f"Bearer {tokens['forged']}"}),  # 7
        ("/ords/demo/reject/", {**chatgpt, "Authorization": f"Bearer {tokens['graph']}"}),  # 8
        ("/ords/demo/reject/", {**chatgpt, "Authorization": f"Bearer {tokens['unsigned']}"}),  # 9
        ("/ords/demo/reject/", {**chatgpt, "Authorization": "Bearer opaqueTokenWithoutDots"}),
        ("/ords/demo/reject/", {**chatgpt, "Authorization": "Basic dXNlcjpwYXNz"}),  # 11
    ]
    for path, headers in requests:
        server.request(path, method="POST", headers=headers)
    log = server.prefix / "logs" / "extended.log"
    server.wait_for_log(log, len(requests))

    result = scan(server.conf_path, "--expect-iss", idp.issuer_v2, "--expect-aud", idp.api_app_id)
    assert result.returncode == 1, result.stderr
    rows = {r["line"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert sorted(rows) == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert codes(rows[1]) == ["no-token"] and rows[1]["client"] == "Claude"
    assert codes(rows[3]) == [] and rows[3]["outcome"] == "ok"
    assert rows[3]["token"]["verified"] is True
    assert rows[3]["token"]["jwks_uri"] == idp.jwks_uri
    assert rows[3]["client"] == "ChatGPT" and rows[3]["status"] == 200
    assert codes(rows[4]) == ["rejected-by-server"]
    assert codes(rows[5]) == ["expired", "accepted-despite-errors"]
    assert codes(rows[6]) == ["audience-mismatch"]
    assert codes(rows[7]) == ["signature-invalid"]
    assert rows[7]["token"]["verified"] is False
    assert "graph-token" in codes(rows[8])
    assert "alg-none" in codes(rows[9])
    assert codes(rows[10]) == ["opaque-token"]
    assert codes(rows[11]) == ["not-bearer"] and rows[11]["token"] is None
    for token in [*tokens.values(), "dXNlcjpwYXNz"]:
        assert token not in result.stdout
    # The JWKS was fetched once, however many tokens named the key.
    assert idp.count(idp.jwks_uri) == 1


def test_clean_log_exits_zero(setup) -> None:  # type: ignore[no-untyped-def]
    idp, server = setup
    good = idp.mint(idp.entra_v2_claims())
    for _ in range(3):
        server.request(
            "/ords/demo/mcp/", method="POST", headers={"Authorization": f"Bearer {good}"}
        )
    server.wait_for_log(server.prefix / "logs" / "extended.log", 3)
    result = scan(server.conf_path, "--expect-iss", idp.issuer_v2, "--expect-aud", idp.api_app_id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_unreadable_log_exits_two(setup) -> None:  # type: ignore[no-untyped-def]
    _, server = setup
    missing = server.prefix / "logs" / "nope.log"
    empty = server.conf_path.parent / "empty.toml"
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "scan", str(missing),
         "--nginx-conf", str(server.conf_path), "--config", str(empty)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "nope.log" in result.stderr
