"""Property: a JWS or JWE anywhere in a log line, in any encoding a client or nginx gives it,
never reaches an output with its signature (nor any other segment after the header).

The token is placed in the path (a query parameter under any name, ``;jsessionid=``, a
path segment, after ``Bearer%20``), the user agent, the referer, every other header field
of the reference ``extended`` format, or the Authorization value; it is written raw, in
standard base64 (``+/`` and ``=`` padding), percent-encoded (``%2E`` dots, ``%2B``/``%2F``,
every character, twice), with ``\\xHH``, ``\\u00XX`` or ``\\/`` escapes, glued to what
precedes and follows it; the line is written by nginx's ``default`` or ``json`` escaping.
The outputs are the real ones: ``scan --json`` by the generic path and by bulkscan's
answered fast path, scan's report, ``tail --json`` and ``tail``, and the TUI's row and
detail renderings.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import random
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from inspector.cli import scan as scan_command
from inspector.cli import tail as tail_command
from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP
from inspector.judge.engine import build_analyzer
from inspector.logs import bulkscan
from inspector.tui.present import COLUMNS, detail, row_cells
from parsers.nginx.conf import EXTENDED_TEMPLATE
from parsers.nginx.log_format import compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local
from parsers.records import LogRecord, Source
from parsers.redaction import redact_text

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FORMATS = {
    "default": EXTENDED_TEMPLATE,
    "json": f"escape=json '{EXTENDED_TEMPLATE}'",
}
PARSERS = {name: compile_format(parse_log_format_string(text)) for name, text in FORMATS.items()}
# Where a client's value lands in the extended format (the request is built separately).
FIELDS = (
    "http_user_agent",
    "http_referer",
    "http_content_type",
    "http_mcp_protocol_version",
    "remote_user",
    "http_authorization",
)
# A window this long of a random segment never occurs anywhere else by chance.
WINDOW = 16


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _random(draw: st.DrawFn, low: int, high: int) -> bytes:
    # Random bytes that stay random while Hypothesis shrinks (a signature is never zeros).
    size = draw(st.integers(low, high))
    return random.Random(draw(st.integers(0, 2**32))).randbytes(size)


def _json(value: object, compact: bool) -> bytes:
    return json.dumps(value, separators=(",", ":") if compact else (", ", ": ")).encode()


@dataclass(frozen=True)
class Token:
    """A compact JWS/JWE as its raw segments (bytes), before any encoding."""

    segments: tuple[bytes, ...]

    def secrets(self) -> list[str]:
        """Every segment after the header, base64url and standard, that must not show."""
        out = []
        for raw in self.segments[1:]:
            if len(raw) >= 12:  # 16 base64 characters: a window of its own
                out.append(_b64url(raw))
                out.append(base64.b64encode(raw).decode("ascii").rstrip("="))
        return out


@st.composite
def tokens(draw: st.DrawFn) -> Token:
    compact = draw(st.booleans())
    kid = draw(
        st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", max_size=43)
    )
    if draw(st.booleans()):  # JWE: header, encrypted key, IV, ciphertext, tag
        alg = draw(st.sampled_from(["RSA-OAEP-256", "dir", "ECDH-ES+A256KW"]))
        header = {"alg": alg, "enc": "A256GCM", **({"kid": kid} if kid else {})}
        key = b"" if alg == "dir" else _random(draw, 40, 256)
        return Token(
            (
                _json(header, compact),
                key,
                _random(draw, 12, 12),
                _random(draw, 16, 900),
                _random(draw, 16, 16),
            )
        )
    alg, size = draw(
        st.sampled_from(
            [("RS256", 256), ("PS384", 384), ("ES256", 64), ("HS256", 32), ("EdDSA", 64)]
        )
    )
    header = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}
    now = int(WHEN.timestamp())
    claims = {
        "iss": "https://login.example.test/tenant/v2.0",
        "aud": draw(st.sampled_from(["api://mcp", "https://ords.example.test/ords/"])),
        "sub": draw(st.text("abcdefABCDEF0123456789-_", min_size=1, max_size=43)),
        "iat": now - 60,
        "exp": now + 3600,
        "name": draw(st.text(max_size=300)),
    }
    signature = _random(draw, size, size)
    return Token((_json(header, compact), _json(claims, compact), signature))


def _std(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _pct_all(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


# How the token's text is written: the segments' alphabet and what separates them.
ENCODINGS: dict[str, Callable[[Token], str]] = {
    "raw": lambda t: ".".join(_b64url(s) for s in t.segments),
    "standard": lambda t: ".".join(_std(s) for s in t.segments),
    "pct-dots": lambda t: "%2E".join(_b64url(s) for s in t.segments),
    "pct-dots-lower": lambda t: "%2e".join(_b64url(s) for s in t.segments),
    "pct-standard": lambda t: "%2E".join(
        _std(s).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D") for s in t.segments
    ),
    "pct-twice": lambda t: "%252E".join(
        _std(s).replace("+", "%252B").replace("/", "%252F") for s in t.segments
    ),
    "pct-every": lambda t: _pct_all(".".join(_b64url(s) for s in t.segments)),
    "x-escaped": lambda t: "\\x2e".join(_b64url(s) for s in t.segments),
    "json-escaped": lambda t: "\\u002e".join(_std(s).replace("/", "\\/") for s in t.segments),
}
PREFIXES = ("", "Bearer ", "Bearer%20", "Bearer+", "bearer%20", '"', "'", "(", "<", "x", "e.", "ey")
SUFFIXES = ("", '"', "&x=1", ".", ".json", "/x", ";", "x", "==", ")")
_HALF_ESCAPE = re.compile(r"%[0-9A-Fa-f]?$|\\(?:x[0-9A-Fa-f]?|u[0-9A-Fa-f]{0,3})?$")
NAMES = (
    "auth", "accessToken", "id_token_hint", "state", "x", "access_token", "token", "a",
    "code", "session", "jwt", "t.k",
)  # fmt: skip


@st.composite
def placements(draw: st.DrawFn) -> tuple[str, dict[str, str | None], Token, str]:
    """(log format name, variable values of the line, the token, how it was written)."""
    token = draw(tokens())
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    text = ENCODINGS[encoding](token)
    glue = st.text("eyJIC.=/+%_-:;\"' \\x2E", max_size=4)
    # Text that ends in half an escape makes one with the token's first characters
    # ("%2" + "eyJ…" is "%2e" + "yJ…"): then that token is not in the text.
    prefix = draw((st.sampled_from(PREFIXES) | glue).filter(lambda t: not _HALF_ESCAPE.search(t)))
    placed = prefix + text + draw(st.sampled_from(SUFFIXES) | glue)
    values: dict[str, str | None] = {"http_authorization": None}
    path = "/ords/demo/mcp/"
    field = draw(st.sampled_from(("request", *FIELDS)))
    if field == "request":
        name = draw(
            st.sampled_from(NAMES)
            | st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,20}", fullmatch=True)
        )
        shape = draw(
            st.sampled_from(
                [
                    "?{n}={v}",
                    "?a=1&{n}={v}&b=2",
                    ";jsessionid={v}",
                    "{v}",
                    "{v}/rest",
                    "?{v}",
                    "#{n}={v}",
                ]
            )
        )
        path += shape.format(n=name, v=placed)
    else:
        lead = draw(
            st.sampled_from(["", "curl/8 ", "x", '{"t":"', "https://app.example/cb#id_token="])
        )
        values[field] = lead + placed
    values["request"] = f"GET {path} HTTP/1.1"
    return draw(st.sampled_from(sorted(FORMATS))), values, token, encoding


_ESCAPES = re.compile(r"\\x([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\([\\/\"])")


def _normalised(text: str) -> str:
    """``text`` with every escape and percent-encoding undone (several times over)."""
    for _ in range(4):
        before = text
        text = _ESCAPES.sub(
            lambda m: chr(int(m.group(1) or m.group(2), 16)) if m.group(3) is None else m.group(3),
            urllib.parse.unquote(text),
        )
        if text == before:
            break
    return text


def assert_no_secret(output: str, token: Token, where: str) -> None:
    views = (output, _normalised(output))
    for secret in token.secrets():
        for start in range(0, len(secret) - WINDOW + 1, WINDOW // 2):
            window = secret[start : start + WINDOW]
            for view in views:
                assert window not in view, f"{where} shows {window!r} of {secret!r}:\n{output}"


def render(values: dict[str, str | None], escape: str) -> str:
    return PARSERS[escape].render(
        {
            "remote_addr": "192.0.2.7",
            "time_local": format_time_local(WHEN),
            "status": "401",
            "body_bytes_sent": "12",
            **values,
        }
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redaction")
    (path / "jwks.json").write_text(json.dumps(LocalIdP().jwks()))
    (path / "config.toml").write_text("")
    return path


def _args(workdir: Path, command: str, escape: str, *extra: str) -> argparse.Namespace:
    return build_parser().parse_args(
        [command, str(workdir / "x.log"), "--log-format", FORMATS[escape],
         "--config", str(workdir / "config.toml"), *extra]
    )  # fmt: skip


def run_scan(workdir: Path, escape: str, extra: list[str], *, bulk: bool) -> str:
    args = _args(workdir, "scan", escape, "--jwks", str(workdir / "jwks.json"), *extra)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        if not bulk:
            patch.setattr(bulkscan, "readable_once", lambda path: False)
        status = scan_command.scan(args, out, err, processes=1)
    assert status in (0, 1), err.getvalue()
    return out.getvalue() + err.getvalue()


def run_tail(workdir: Path, escape: str, extra: list[str]) -> str:
    args = _args(workdir, "tail", escape, "--no-follow", *extra)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert tail_command.run(args) == 0, err.getvalue()
    return out.getvalue() + err.getvalue()


def run_tui(workdir: Path, escape: str, lines: list[str]) -> str:
    args = _args(workdir, "scan", escape, "--jwks", str(workdir / "jwks.json"))
    analyzer = build_analyzer(settings_from_args(args))
    console = Console(file=io.StringIO(), width=100_000, color_system=None)
    texts: list[str] = []
    for number, text in enumerate(lines, start=1):
        record = PARSERS[escape].parse(text, Source("x.log", number, 0))
        if not isinstance(record, LogRecord):
            continue  # its excerpt is what scan and tail print: checked there
        attempt = analyzer.analyze(record)
        texts.extend(c.plain if isinstance(c, Text) else c for c in row_cells(attempt, UTC))
        console.print(detail(attempt, WHEN, UTC))
    assert isinstance(console.file, io.StringIO)
    return "\n".join([*texts, console.file.getvalue()])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(placement=placements())
def test_no_output_shows_a_token_placed_anywhere_in_any_encoding(
    workdir: Path, placement: tuple[str, dict[str, str | None], Token, str]
) -> None:
    escape, values, token, _encoding = placement
    benign = render({"request": "GET /ords/demo/mcp/ HTTP/1.1"}, escape)
    hostile = render(values, escape)
    # The benign line teaches the fast path's memos, so the hostile ones are answered
    # from the match groups (a new request line, then a known one).
    lines = [benign, hostile, hostile]
    (workdir / "x.log").write_text("\n".join(lines) + "\n")
    outputs = {
        "scan --json (generic)": run_scan(workdir, escape, ["--json"], bulk=False),
        "scan --json (bulk)": run_scan(workdir, escape, ["--json"], bulk=True),
        "scan --all --json (bulk)": run_scan(workdir, escape, ["--all", "--json"], bulk=True),
        "scan report": run_scan(workdir, escape, [], bulk=True),
        "tail --json": run_tail(workdir, escape, ["--json"]),
        "tail": run_tail(workdir, escape, []),
        "tui": run_tui(workdir, escape, lines),
    }
    for where, output in outputs.items():
        assert_no_secret(output, token, where)


@pytest.mark.parametrize("method", ["GET", "Bearer"])
def test_scan_tail_and_the_tui_show_the_same_path_alike(workdir: Path, method: str) -> None:
    # One redaction for every output: an opaque session value and a JWT in the path come
    # out the same in scan --json (both paths), tail --json and the TUI's request cell,
    # whatever the method (the TUI redacted "Bearer /path" whole).
    opaque = "Zq8XbT2mLw9RkV4cNd7HyP1sFj6GtA3uEe5WoQ0iYx"
    jwt = ENCODINGS["raw"](
        Token((b'{"alg":"RS256","typ":"JWT"}', b'{"sub":"x"}', random.Random(3).randbytes(256)))
    )
    path = f"/ords/demo/mcp/?session={opaque}&accessToken={jwt}&offset=25"
    line = render({"request": f"{method} {path} HTTP/1.1"}, "default")
    (workdir / "x.log").write_text(f"{line}\n{line}\n")
    shown = set()
    for bulk in (False, True):
        for row in run_scan(workdir, "default", ["--json"], bulk=bulk).splitlines():
            shown.add(json.loads(row)["path"])
    for row in run_tail(workdir, "default", ["--json"]).splitlines():
        if not row.startswith("#"):
            shown.add(json.loads(row)["path"])
    cells = run_tui(workdir, "default", [line]).splitlines()
    shown.add(cells[COLUMNS.index("request")].removeprefix(f"{method} "))
    assert len(shown) == 1, shown
    (path_shown,) = shown
    assert opaque not in path_shown and jwt.rsplit(".", 1)[1] not in path_shown
    assert path_shown.startswith("/ords/demo/mcp/?session=")
    assert "&accessToken=eyJhbGciOi…[sha256:" in path_shown and path_shown.endswith("&offset=25")


@settings(max_examples=300, deadline=None)
@given(placement=placements(), opaque=st.booleans())
def test_redacted_text_has_nothing_left_to_redact(
    placement: tuple[str, dict[str, str | None], Token, str], opaque: bool
) -> None:
    # Outputs redact what may already be redacted (a parser's excerpt, a verdict message).
    for value in placement[1].values():
        for text in (value or "", f'authorization:"{value}"'):
            once = redact_text(text, opaque=opaque)
            assert redact_text(once, opaque=opaque) == once
