"""The safe token log, written by a real nginx: a token sent outside the Authorization
header (query, referer, path, percent-encoded, after a ``#``) leaves no signature in the
line, and the tool still reads the method and the path."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.nginx.safe_log import (
    PATH_MARKER,
    QUERY_MARKER,
    REFERER_MARKER,
    REQUEST_MARKER,
    SAFE_FORMAT_NAME,
    safe_log_config,
)
from tests.support.nginx import NginxServer, http_conf, requires_nginx

pytestmark = [requires_nginx, pytest.mark.nginx]

ROOT = Path(__file__).resolve().parent.parent


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


HEADER = b64({"alg": "RS256", "kid": "k1", "typ": "JWT"})
PAYLOAD = b64({"iss": "https://idp.example", "sub": "alice", "aud": "ords"})
SIGNATURE = "c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ" * 3
JWS = f"{HEADER}.{PAYLOAD}.{SIGNATURE}"
# Every character percent-encoded, and only the dots (ORDS decodes both).
ENCODED = "".join(f"%{b:02X}" for b in JWS.encode())
DOTS_ENCODED = JWS.replace(".", "%2E")
MCP = "/ords/demo/mcp/server"
QUERIED = f"{MCP}?{QUERY_MARKER}"

# (case id, raw request line, Referer or None, the request line logged, the referer logged)
CASES: list[tuple[str, str, str | None, str, str | None]] = [
    ("plain", f"POST {MCP} HTTP/1.1", None, f"POST {MCP} HTTP/1.1", None),
    ("query", f"POST {MCP}?access_token={JWS} HTTP/1.1", None, f"POST {QUERIED} HTTP/1.1", None),
    (
        "query-second",
        f"GET {MCP}?x=1&access_token={JWS}&y=2 HTTP/1.0",
        None,
        f"GET {QUERIED} HTTP/1.0",
        None,
    ),
    ("query-encoded", f"GET {MCP}?t={ENCODED} HTTP/1.1", None, f"GET {QUERIED} HTTP/1.1", None),
    ("query-dots", f"GET {MCP}?t={DOTS_ENCODED} HTTP/1.1", None, f"GET {QUERIED} HTTP/1.1", None),
    ("fragment", f"GET {MCP}#access_token={JWS} HTTP/1.1", None, f"GET {QUERIED} HTTP/1.1", None),
    ("path", f"GET {MCP}/{JWS} HTTP/1.1", None, f"GET {PATH_MARKER} HTTP/1.1", None),
    ("path-encoded", f"GET {MCP}/{ENCODED} HTTP/1.1", None, f"GET {PATH_MARKER} HTTP/1.1", None),
    ("path-dots", f"GET /x/{DOTS_ENCODED} HTTP/1.1", None, f"GET {PATH_MARKER} HTTP/1.1", None),
    (
        "path-matrix",
        f"GET {MCP};access_token={JWS}?a=b HTTP/1.1",
        None,
        f"GET {PATH_MARKER} HTTP/1.1",
        None,
    ),
    ("garbage", f"{JWS} HTTP/1.1", None, REQUEST_MARKER, None),
    (
        "referer-query",
        f"POST {MCP} HTTP/1.1",
        f"https://client.example/cb?access_token={JWS}",
        f"POST {MCP} HTTP/1.1",
        f"https://client.example/cb?{QUERY_MARKER}",
    ),
    (
        "referer-fragment",
        f"POST {MCP} HTTP/1.1",
        f"https://client.example/cb#access_token={JWS}&state=1",
        f"POST {MCP} HTTP/1.1",
        f"https://client.example/cb?{QUERY_MARKER}",
    ),
    (
        "referer-path",
        f"POST {MCP} HTTP/1.1",
        f"https://client.example/t/{ENCODED}",
        f"POST {MCP} HTTP/1.1",
        REFERER_MARKER,
    ),
    (
        "referer-plain",
        f"POST {MCP} HTTP/1.1",
        "https://client.example/app/page",
        f"POST {MCP} HTTP/1.1",
        "https://client.example/app/page",
    ),
]

HTTP = (
    safe_log_config()
    + r"""
server {
    listen 127.0.0.1:@PORT@;
    access_log @PREFIX@/logs/safe.log """
    + SAFE_FORMAT_NAME
    + r""";
    location / { return 200 "ok\n"; }
}
"""
)


def send_raw(port: int, request_line: str, referer: str | None) -> bytes:
    """One request with its request line sent as is (http.client refuses some of these)."""
    head = f"{request_line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "Authorization: Bearer opaqueTokenWithoutDots\r\n"
    if referer is not None:
        head += f"Referer: {referer}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((head + "\r\n").encode("ascii"))
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    server = NginxServer(tmp_path_factory.mktemp("nginx"))
    server.start(http_conf(HTTP))
    try:
        for _, line, referer, _, _ in CASES:
            assert send_raw(server.port, line, referer).startswith(b"HTTP/1.1 "), line
        lines = server.wait_for_log(server.prefix / "logs" / "safe.log", len(CASES))
    finally:
        server.stop()
    return server.conf_path, [raw.decode("ascii") for raw in lines]


def test_no_signature_anywhere_in_the_line(site: tuple[Path, list[str]]) -> None:
    _, lines = site
    assert len(lines) == len(CASES)
    text = "\n".join(lines)
    for secret in (SIGNATURE, ENCODED, DOTS_ENCODED, "".join(ENCODED.split("%2E")[2:])):
        assert secret not in text
    # Not even a long stretch of the signature, in any field.
    assert not re.search(r"(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2}){40}", text.replace(PAYLOAD, ""))


def test_the_request_and_referer_fields_as_written(site: tuple[Path, list[str]]) -> None:
    _, lines = site
    for (case, _, _, request, referer), line in zip(CASES, lines, strict=True):
        found = re.search(r'\] "(.*)" \d{3} \d+ referer:"(.*)" ua:', line)
        assert found is not None, case
        assert found[1] == request, case
        assert found[2] == (referer or "-"), case


def test_tail_reads_the_method_and_path(site: tuple[Path, list[str]], tmp_path: Path) -> None:
    conf, _ = site
    (tmp_path / "empty.toml").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "tail", "--no-follow", "--json", "--nginx-conf",
         str(conf), "--config", str(tmp_path / "empty.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(row) for row in result.stdout.splitlines()]
    assert len(rows) == len(CASES)
    for (case, _, _, request, referer), row in zip(CASES, rows, strict=True):
        assert " ".join(p for p in (row["method"], row["path"], row["protocol"]) if p) == (
            request if case != "garbage" else ""
        ), case
        assert row["fields"].get("http_referer") == referer, case
    assert rows[1]["path"] == QUERIED and rows[1]["status"] == 200


def test_scan_reads_the_method_and_path(site: tuple[Path, list[str]], tmp_path: Path) -> None:
    conf, _ = site
    (tmp_path / "empty.toml").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "scan", "--json", "--nginx-conf", str(conf),
         "--config", str(tmp_path / "empty.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    rows = {row["line"]: row for row in map(json.loads, result.stdout.splitlines())}
    # The garbage line is a 400 before nginx read any header: no token, not an attempt.
    garbage = [c for c, *_ in CASES].index("garbage") + 1
    assert sorted(rows) == [n for n in range(1, len(CASES) + 1) if n != garbage]
    for line, (case, _, _, request, _) in enumerate(CASES, start=1):
        if line == garbage:
            continue
        method, _, rest = request.partition(" ")
        path = rest.rpartition(" ")[0]
        assert (rows[line]["method"], rows[line]["path"]) == (method, path), case
    assert SIGNATURE not in result.stdout
