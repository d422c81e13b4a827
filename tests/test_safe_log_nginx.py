"""The safe token log, written by a real nginx: no logged line can be replayed."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.demo.idp import generate_rsa_key
from parsers.nginx.safe_log import (
    NOT_JWS_MARKER,
    SAFE_FORMAT_NAME,
    SIGNATURE_MARKER,
    UNKNOWN_MARKER,
    safe_log_config,
)
from tests.support.faulty_idp import FaultyIdP
from tests.support.nginx import NginxServer, http_conf, requires_nginx

pytestmark = [requires_nginx, pytest.mark.nginx]

ROOT = Path(__file__).resolve().parent.parent


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


HEADER = b64({"alg": "RS256", "kid": "k1", "typ": "JWT"})
PAYLOAD = b64({"iss": "https://idp.example", "sub": "alice", "aud": "ords"})
SIGNATURE = "c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ" * 3
JWS = f"{HEADER}.{PAYLOAD}.{SIGNATURE}"
JWE = f"{b64({'alg': 'RSA-OAEP', 'enc': 'A256GCM'})}.a2V5.aXY.Y2lwaGVy.dGFn"
OPAQUE = "opaqueSecretValue0123456789abcdefXYZ"
SIGNED_PART = f"{HEADER}.{PAYLOAD}.{SIGNATURE_MARKER}"

# (case id, Authorization header or None, what nginx must log for it)
CASES: list[tuple[str, str | bytes | None, str]] = [
    ("jws", f"Bearer {JWS}", f"Bearer {SIGNED_PART}"),
    ("jws-lowercase", f"bearer {JWS}", f"bearer {SIGNED_PART}"),
    ("jws-spaces", f"Bearer     {JWS}", f"Bearer {SIGNED_PART}"),
    ("jws-tab", f"Bearer\t{JWS}", f"Bearer {SIGNED_PART}"),
    ("jws-no-scheme", JWS, SIGNED_PART),
    ("dpop", f"DPoP {JWS}", f"DPoP {SIGNED_PART}"),
    ("jwe", f"Bearer {JWE}", f"Bearer {NOT_JWS_MARKER}"),
    ("opaque", f"Bearer {OPAQUE}", f"Bearer {NOT_JWS_MARKER}"),
    ("opaque-no-scheme", OPAQUE, UNKNOWN_MARKER),
    ("basic", "Basic " + base64.b64encode(b"admin:hunter2").decode(), f"Basic {NOT_JWS_MARKER}"),
    ("alg-none", f"Bearer {HEADER}.{PAYLOAD}.", f"Bearer {NOT_JWS_MARKER}"),
    ("bare-scheme", "Bearer", f"Bearer {NOT_JWS_MARKER}"),
    ("missing", None, "-"),
    ("quotes", f'Bearer {JWS}"injected"', f"Bearer {NOT_JWS_MARKER}"),
    ("backslash", f"Bearer {JWS}\\x22", f"Bearer {NOT_JWS_MARKER}"),
    ("control", f"Bearer {JWS}\x01\x7f".encode(), f"Bearer {NOT_JWS_MARKER}"),
    ("two-tokens", f"Bearer {JWS}, Bearer {JWS}", f"Bearer {NOT_JWS_MARKER}"),
    ("token-as-scheme", f"{OPAQUE} {JWS}", UNKNOWN_MARKER),
    ("hostile-scheme", f'x"\\\x01 {JWS}'.encode(), UNKNOWN_MARKER),
    (
        "long",
        "Bearer " + f"{HEADER}.{'A' * 6000}.{SIGNATURE}",
        f"Bearer {HEADER}.{'A' * 6000}.{SIGNATURE_MARKER}",
    ),
    ("long-garbage", "Bearer " + "x." * 3000, f"Bearer {NOT_JWS_MARKER}"),
]

HTTP = (
    safe_log_config()
    + r"""
log_format probe '$http_x_case <$token_without_signature>';
server {
    listen 127.0.0.1:@PORT@;
    large_client_header_buffers 4 16k;
    access_log @PREFIX@/logs/probe.log probe;
    access_log @PREFIX@/logs/safe.log """
    + SAFE_FORMAT_NAME
    + r""";
    location / { return 200 "ok\n"; }
}
"""
)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[str]]:
    server = NginxServer(tmp_path_factory.mktemp("nginx"))
    server.start(http_conf(HTTP))
    try:
        for case, value, _ in CASES:
            headers: dict[str, str | bytes] = {"X-Case": case}
            if value is not None:
                headers["Authorization"] = value
            status, _, _ = server.request("/", headers=headers)
            assert status == 200, case
        probe = server.wait_for_log(server.prefix / "logs" / "probe.log", len(CASES))
        safe = server.wait_for_log(server.prefix / "logs" / "safe.log", len(CASES))
    finally:
        server.stop()
    by_case: dict[str, str] = {}
    for raw in probe:
        case, _, rest = raw.decode("ascii").partition(" ")
        assert rest.startswith("<") and rest.endswith(">"), raw
        by_case[case] = rest[1:-1]
    return by_case, [line.decode("ascii") for line in safe]


@pytest.mark.parametrize(
    ("case", "expected"), [(c, e) for c, _, e in CASES], ids=[c for c, _, _ in CASES]
)
def test_the_map_logs_the_token_without_its_signature(
    logged: tuple[dict[str, str], list[str]], case: str, expected: str
) -> None:
    by_case, _ = logged
    assert by_case[case] == expected


def test_no_line_of_the_safe_log_can_be_replayed(logged: tuple[dict[str, str], list[str]]) -> None:
    _, safe = logged
    text = "\n".join(safe)
    assert len(safe) == len(CASES)
    # Nothing the client sent as a credential survives, only header and claims.
    for secret in (SIGNATURE, OPAQUE, "aGVsbG8", base64.b64encode(b"admin:hunter2").decode()):
        assert secret not in text
    assert "c2lnbmF0dXJl" not in text and "Y2lwaGVy" not in text
    # No authorization field holds a three-segment base64url token: nothing to replay.
    fields = [re.search(r'authorization:"(.*)" mcp-protocol-version:', line) for line in safe]
    assert all(fields)
    for found in fields:
        assert found is not None
        assert not re.search(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", found[1])
    # The markers can never be a base64url signature.
    for marker in (SIGNATURE_MARKER, NOT_JWS_MARKER, UNKNOWN_MARKER):
        assert not re.fullmatch(r"[A-Za-z0-9_-]*", marker)
    assert sum(f'authorization:"Bearer {SIGNED_PART}"' in line for line in safe) == 3


SCAN_SITE = (
    safe_log_config()
    + r"""
server {
    listen 127.0.0.1:@PORT@;
    access_log @PREFIX@/logs/safe.log """
    + SAFE_FORMAT_NAME
    + r""";
    location /ords/demo/mcp/ {
        if ($http_authorization = "") { return 401; }
        return 200 "ok";
    }
    location /ords/demo/reject/ { return 401; }
}
"""
)


def test_scan_judges_the_safe_log_written_by_nginx(tmp_path: Path, idp: FaultyIdP) -> None:
    now = time.time()
    good = idp.mint(idp.entra_v2_claims())
    tokens = {
        "good": good,
        "expired": idp.mint(idp.entra_v2_claims(now=now - 7200)),
        "forged": idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid)),
        "stranger": idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid="unknown-kid")),
    }
    requests: list[tuple[str, dict[str, str]]] = [
        ("/ords/demo/mcp/", {}),  # 1 no token, 401
        ("/ords/demo/mcp/", {"Authorization": f"Bearer {good}"}),  # 2
        ("/ords/demo/reject/", {"Authorization": f"Bearer {tokens['expired']}"}),  # 3
        ("/ords/demo/reject/", {"Authorization": f"Bearer {tokens['forged']}"}),  # 4
        ("/ords/demo/reject/", {"Authorization": f"Bearer {tokens['stranger']}"}),  # 5
        ("/ords/demo/reject/", {"Authorization": "Bearer opaqueTokenWithoutDots"}),  # 6
        ("/ords/demo/reject/", {"Authorization": "Basic dXNlcjpwYXNz"}),  # 7
    ]
    with NginxServer(tmp_path / "nginx") as server:
        server.start(http_conf(SCAN_SITE))
        for path, headers in requests:
            server.request(path, method="POST", headers=headers)
        log = server.prefix / "logs" / "safe.log"
        server.wait_for_log(log, len(requests))
        (tmp_path / "empty.toml").write_text("")
        result = subprocess.run(
            [sys.executable, "-m", "inspector", "scan", "--nginx-conf", str(server.conf_path),
             "--json", "--config", str(tmp_path / "empty.toml"),
             "--expect-iss", idp.issuer_v2, "--expect-aud", idp.api_app_id],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    rows = {r["line"]: r for r in map(json.loads, result.stdout.splitlines())}
    codes = {line: [v["code"] for v in row["verdicts"]] for line, row in rows.items()}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7]
    assert codes[1] == ["no-token"]
    assert codes[2] == ["signature-not-logged"] and rows[2]["outcome"] == "ok"
    assert rows[2]["token"]["verified"] is None
    assert "expired" in codes[3] and "signature-not-logged" in codes[3]
    # A forged token is not called invalid: the log cannot tell.
    assert codes[4] == ["signature-not-logged", "rejected-by-server"]
    assert "kid-not-found" in codes[5]
    assert codes[6][0] == "malformed-token"
    assert "safe token log" in rows[6]["verdicts"][0]["message"]
    assert codes[7] == ["not-bearer"] and "Basic" in rows[7]["verdicts"][0]["message"]
    # The keys were fetched: the kid check needs them, the signature does not.
    assert idp.count(idp.jwks_uri) == 1
