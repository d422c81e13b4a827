"""A synthetic nginx ``extended`` access log, realistic enough to benchmark against.

Lines look like what the reference setup writes for MCP connectors: discovery requests,
401 challenges without a token, and ``POST /ords/...`` calls carrying a bearer token of
realistic size (1.2-1.6 KB), from ChatGPT-User, Claude-User and a few other agents, with
nginx's default escaping applied (UTF-8 and quotes as ``\\xHH``).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from parsers.nginx.conf import EXTENDED_TEMPLATE as EXTENDED_TEMPLATE  # re-exported
from parsers.nginx.escape import escape_default
from parsers.nginx.time import format_time_local

USER_AGENTS = (
    "ChatGPT-User/1.0; +https://openai.com/bot",
    "Claude-User/1.0 (+https://support.anthropic.com/)",
    "python-httpx/0.28.1",
    "node",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    'curl/8.5.0 "quoted"',
    "エージェント/1.0",
    "MCP-Inspector/0.16 (ünïcödé)",
)
CLIENT_ADDRESSES = tuple(f"20.{i}.{i * 7 % 256}.{i * 13 % 256}" for i in range(1, 40))
_TOKEN_PATHS = ("/ords/demo/mcp/", "/ords/demo/mcp/sse")
_OPEN_PATHS = (
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-authorization-server",
    "/ords/demo/mcp/",
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fake_tokens(count: int = 50, *, seed: int = 7) -> list[str]:
    """JWT-shaped tokens (decodable header and claims, random signature), 1.2-1.6 KB each.

    Not signed by any key: for volume, not for verification.
    """
    rng = random.Random(seed)
    out = []
    for i in range(count):
        header = {"typ": "JWT", "alg": "RS256", "kid": f"key-{i % 3}"}
        claims = {
            "aud": "api://mcp-demo",
            "iss": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
            "iat": 1795300000 + i,
            "exp": 1795303600 + i,
            "name": f"User {i}",
            "preferred_username": f"user{i}@example.com",
            "scp": "mcp:connect",
            "roles": ["ORDSUsers"],
            "ver": "2.0",
            "pad": _b64(rng.randbytes(rng.randint(270, 450))),
        }
        signature = _b64(rng.randbytes(256))
        out.append(
            f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{signature}"
        )
    return out


def write_extended_log(
    path: Path,
    lines: int,
    token_ratio: float = 1 / 3,
    tokens: Sequence[str] | None = None,
    *,
    seed: int = 1,
    start: datetime | None = None,
) -> int:
    """Write ``lines`` lines in the reference ``extended`` format to ``path``; return bytes.

    A ``token_ratio`` share of the lines carry ``Authorization: Bearer <token>`` with a token
    drawn from ``tokens`` (default: ``fake_tokens()``); about one in ten of those is a 401,
    as are most token-less calls to the MCP endpoint.
    """
    rng = random.Random(seed)
    pool = list(tokens) if tokens else fake_tokens()
    agents = [escape_default(ua) for ua in USER_AGENTS]
    when = start or datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    step = timedelta(milliseconds=50)
    written = 0
    with path.open("w", encoding="ascii", newline="\n") as out:
        chunk: list[str] = []
        stamp = format_time_local(when)
        for i in range(lines):
            if i % 20 == 0:
                stamp = format_time_local(when + step * i)
            addr = rng.choice(CLIENT_ADDRESSES)
            ua = rng.choice(agents)
            if rng.random() < token_ratio:
                token = rng.choice(pool)
                request = f"POST {rng.choice(_TOKEN_PATHS)} HTTP/1.1"
                status = "401" if rng.random() < 0.1 else "200"
                auth = f"Bearer {token}"
                ctype, version, size = "application/json", "2025-06-18", rng.randint(80, 4000)
            else:
                path_ = rng.choice(_OPEN_PATHS)
                request = f"GET {path_} HTTP/1.1"
                status = "401" if path_.startswith("/ords") else "200"
                auth, ctype, version, size = "-", "-", "-", rng.randint(0, 900)
            referer = "-" if rng.random() < 0.8 else "https://chatgpt.com/"
            chunk.append(
                f'{addr} - - [{stamp}] "{request}" {status} {size} referer:"{referer}" '
                f'ua:"{ua}" content-type:"{ctype}" authorization:"{auth}" '
                f'mcp-protocol-version:"{version}"\n'
            )
            if len(chunk) >= 4096:
                text = "".join(chunk)
                written += len(text)
                out.write(text)
                chunk = []
        text = "".join(chunk)
        written += len(text)
        out.write(text)
    return written
