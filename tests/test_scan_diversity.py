"""At real token diversity, ``scan``'s fast paths give what the generic path gives.

A log where most bearer lines carry a token seen for the first time (valid, expired,
wrong audience, wrong issuer, forged, unknown kid, alg none, HS256, ES256, PS256, a JWE,
garbage), every request line is new (query strings, escapes, credentials in the query,
``-``, odd request lines), and the log time moves every line. Scanned through bulkscan's
answered fast path (one and two processes) and through the generic record path, with
the engine's caches smaller than the tokens in use and larger: the same bytes out.
"""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP, generate_ec_key, generate_rsa_key
from inspector.judge import analyzer as analyzer_module
from inspector.judge import fastpath
from inspector.logs import bulkscan
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARSER = compile_format(parse_log_format_string(EXTENDED_TEMPLATE))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tokens(idp: LocalIdP, count: int) -> list[str]:
    """``count`` distinct tokens of every kind the engine tells apart."""
    now = WHEN.timestamp()
    rogue = generate_rsa_key(kid=idp.keys[0].kid)
    stranger = generate_rsa_key(kid="nobody-publishes-this")
    ec = idp.keys[1]
    out = []
    for i in range(count):
        kind = i % 12
        claims = idp.entra_v2_claims(now=now - 60, oid=f"{i:08d}-0000-4000-8000-000000000000")
        if kind == 0:
            out.append(idp.mint(claims))
        elif kind == 1:
            out.append(idp.mint({**claims, "exp": int(now) + 30 + i % 90}))  # expires mid-log
        elif kind == 2:
            out.append(idp.mint({**claims, "aud": "api://someone-else"}))
        elif kind == 3:
            out.append(idp.mint({**claims, "iss": "https://login.example/other/v2.0"}))
        elif kind == 4:
            out.append(idp.mint(claims, key=rogue))  # forged: the right kid, another key
        elif kind == 5:
            out.append(idp.mint(claims, key=stranger))  # kid not in the key set
        elif kind == 6:
            out.append(idp.mint(claims, alg="none"))
        elif kind == 7:
            head = b64(json.dumps({"alg": "HS256", "kid": idp.keys[0].kid}).encode())
            out.append(f"{head}.{b64(json.dumps(claims).encode())}.{b64(bytes([i % 256]) * 32)}")
        elif kind == 8:
            out.append(idp.mint(claims, key=ec))  # ES256
        elif kind == 9:
            out.append(idp.mint(claims, alg="PS256"))
        elif kind == 10:
            head = b64(json.dumps({"alg": "RSA-OAEP", "enc": "A256GCM", "n": i}).encode())
            out.append(f"{head}.{b64(b'k' * 40)}.{b64(b'iv')}.{b64(b'c' * 30)}.{b64(b't' * 16)}")
        else:
            out.append(f"garbage.{i}.%%not-b64")
    return out


REQUESTS = (
    "POST /ords/demo/mcp/?request_id={i:06d} HTTP/1.1",
    "POST /ords/demo/mcp/sse?request_id={i}&access_token=abcDEF0123456789ghijKLMN HTTP/1.1",
    "GET /ords/demo/mcp/\\x22quoted\\x22?n={i} HTTP/1.1",
    "GET /a.b.c/{i}.json HTTP/1.1",
    "GET /x{i}",
    "GET /with space/{i} extra HTTP/1.1",
    "-",
)
AGENTS = ("Claude-User/1.0", "node", "curl/8.5.0 \\x22quoted\\x22", "python-httpx/0.28.1")


def lines(idp: LocalIdP, count: int = 900) -> list[str]:
    rng = random.Random(5)
    pool = tokens(idp, count // 3)
    seen: list[str] = []
    out = []
    for i in range(count):
        at = WHEN + timedelta(seconds=i)
        if rng.random() < 0.8:
            if pool and (not seen or rng.random() < 0.6):
                seen.append(pool.pop())
                token = seen[-1]
            else:
                token = rng.choice(seen)
            auth: str | None = f"Bearer {token}"
        else:
            auth = None
        request = rng.choice(REQUESTS).format(i=i)
        out.append(
            PARSER.render(
                {
                    "remote_addr": f"192.0.2.{i % 250}",
                    "time_local": format_time_local(at),
                    "request": None if request == "-" else request,
                    "status": rng.choice(("200", "200", "401", "403")),
                    "body_bytes_sent": "12",
                    "http_user_agent": rng.choice(AGENTS),
                    "http_authorization": auth,
                }
            )
        )
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("diverse")
    idp = LocalIdP(keys=[generate_rsa_key(), generate_ec_key("ec-1")])
    (root / "jwks.json").write_text(json.dumps(idp.jwks()))
    (root / "config.toml").write_text("")
    text = "\n".join(lines(idp)) + "\n"
    (root / "diverse.log").write_bytes(text.encode("utf-8", "surrogateescape"))
    return root


def scan(
    workdir: Path, extra: list[str], *, bulk: bool, processes: int, patch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    argv = [
        "scan", str(workdir / "diverse.log"), "--log-format", EXTENDED_TEMPLATE,
        "--jwks", str(workdir / "jwks.json"), "--config", str(workdir / "config.toml"),
        "--expect-aud", LocalIdP().api_app_id, *extra,
    ]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    if bulk:
        patch.setattr(bulkscan, "READ_CHUNK", 8192)
        patch.setattr(bulkscan, "PARALLEL_MIN_BYTES", 1)
    else:
        patch.setattr(bulkscan, "readable_once", lambda path: False)
    status = scan_command.scan(build_parser().parse_args(argv), out, err, processes=processes)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("cache", [16, 100_000], ids=["caches-thrash", "caches-hold"])
@pytest.mark.parametrize("extra", [["--json"], ["--json", "--only-failures"], []])
def test_diverse_log_gives_the_same_output_on_every_path(
    workdir: Path, cache: int, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        generic = scan(workdir, extra, bulk=False, processes=1, patch=patch)
    assert generic[0] == 1
    if "--json" in extra and "--only-failures" not in extra:
        rows = [json.loads(row) for row in generic[1].splitlines()]
        codes = {v["code"] for row in rows for v in row["verdicts"]}
        # The corpus reaches the verdicts it was built for.
        assert {"expired", "signature-invalid", "alg-none"} <= codes, codes
        assert {row["token"]["verified"] for row in rows if row["token"]} == {True, False, None}
    for processes in (1, 2):
        with monkeypatch.context() as patch:
            patch.setattr(analyzer_module, "DEFAULT_CACHE_SIZE", cache)
            patch.setattr(fastpath, "_HITS_LIMIT", cache)
            patch.setattr(fastpath.JsonLines, "MAX_TOKENS", cache)
            fast = scan(workdir, extra, bulk=True, processes=processes, patch=patch)
        assert fast == generic
