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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Workload:
    """The shape of a generated log: how many distinct tokens, requests and timestamps.

    ``friendly`` is the original shape (50 tokens, a handful of request lines, a timestamp
    shared by 20 lines) where every cache hits; the ``tokens-*`` ones are what a busy MCP
    server sees: a new token per user per hour, a request id in every query string, a log
    time that moves one second per line.
    """

    name: str
    token_share: float | None  # distinct tokens as a share of lines; None: a fixed 50
    unique_requests: bool
    seconds_per_line: float

    def distinct_tokens(self, lines: int) -> int:
        """How many distinct tokens a log of ``lines`` lines gets (at least one)."""
        if self.token_share is None:
            return 50
        return max(1, round(lines * self.token_share))

    def token_ratio(self) -> float:
        """The share of lines carrying a bearer token: enough lines for every distinct one."""
        if self.token_share is None:
            return 1 / 3
        return max(1 / 3, min(1.0, self.token_share * 1.3))


WORKLOADS = {
    w.name: w
    for w in (
        Workload("friendly", None, False, 0.05),
        Workload("tokens-1pct", 0.01, True, 1.0),
        Workload("tokens-5pct", 0.05, True, 1.0),
        Workload("tokens-50pct", 0.50, True, 1.0),
        # The goal: 10,000 distinct tokens in 300,000 lines (3.3%).
        Workload("tokens-10k", 10_000 / 300_000, True, 1.0),
    )
}


def describe(path: Path, workload: str) -> str:
    """What a generated log holds, counted from the file: lines, distinct tokens and requests.

    Counted rather than taken from the generator's parameters, so a figure's label says what
    was really measured.
    """
    lines = 0
    tokens: set[str] = set()
    requests: set[str] = set()
    stamps: set[str] = set()
    with path.open(encoding="ascii") as text:
        for line in text:
            lines += 1
            stamps.add(line[line.index("[") + 1 : line.index("]")])
            requests.add(line.split('"', 2)[1])
            auth = line.rsplit('authorization:"', 1)[1].split('"', 1)[0]
            if auth.startswith("Bearer "):
                tokens.add(auth)
    return (
        f"[{workload}: {lines:,} lines, {len(tokens):,} distinct tokens, "
        f"{len(requests):,} distinct requests, {len(stamps):,} distinct timestamps]"
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
    unique_requests: bool = False,
    seconds_per_line: float = 0.05,
    every_token: bool = False,
) -> int:
    """Write ``lines`` lines in the reference ``extended`` format to ``path``; return bytes.

    A ``token_ratio`` share of the lines carry ``Authorization: Bearer <token>`` with a token
    drawn from ``tokens`` (default: ``fake_tokens()``); about one in ten of those is a 401,
    as are most token-less calls to the MCP endpoint.

    ``unique_requests`` puts a request id in every request line's query string;
    ``seconds_per_line`` is the log time between lines (the timestamp is recomputed on every
    line once it is a second or more, otherwise every 20 lines); ``every_token`` makes each
    of ``tokens`` appear at least once (as long as there are enough bearer lines), the rest
    drawn at random.
    """
    rng = random.Random(seed)
    pool = list(tokens) if tokens else fake_tokens()
    agents = [escape_default(ua) for ua in USER_AGENTS]
    when = start or datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    step = timedelta(seconds=seconds_per_line)
    stamp_every = 1 if seconds_per_line >= 1 else 20
    # Each token once, introduced at a steady pace over the whole log (a new user's token
    # turns up, then gets reused): the diverse workloads count on every one being present.
    fresh = list(pool) if every_token else []
    rng.shuffle(fresh)
    used: list[str] = []
    written = 0
    with path.open("w", encoding="ascii", newline="\n") as out:
        chunk: list[str] = []
        stamp = format_time_local(when)
        for i in range(lines):
            if i % stamp_every == 0:
                stamp = format_time_local(when + step * i)
            addr = rng.choice(CLIENT_ADDRESSES)
            ua = rng.choice(agents)
            bearer = rng.random() < token_ratio
            # Near the end, the tokens not yet seen get every remaining line.
            if fresh and len(fresh) >= lines - i:
                bearer = True
            if bearer:
                if every_token:
                    ahead = max(1.0, (lines - i) * token_ratio)
                    if fresh and (not used or rng.random() < len(fresh) / ahead):
                        used.append(fresh.pop())
                        token = used[-1]
                    else:
                        token = rng.choice(used)
                else:
                    token = rng.choice(pool)
                target = rng.choice(_TOKEN_PATHS)
                if unique_requests:
                    target += f"?request_id={i:010d}"
                request = f"POST {target} HTTP/1.1"
                status = "401" if rng.random() < 0.1 else "200"
                auth = f"Bearer {token}"
                ctype, version, size = "application/json", "2025-06-18", rng.randint(80, 4000)
            else:
                path_ = rng.choice(_OPEN_PATHS)
                query = f"?request_id={i:010d}" if unique_requests else ""
                request = f"GET {path_}{query} HTTP/1.1"
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
