"""``scan --json``'s line answers across log formats and odd input, against the record path.

``Answers`` answers most lines from their match groups: a time spliced from its minute
(``$time_local``) or read as the parser reads it (``$time_iso8601``, ``$msec``), a
request line's members from a memo of quiet paths, the address and user agent as
logged. Every shortcut must print what the record path prints. Each test scans the same
files twice, on the record path (``readable_once`` false) and on the bulk path with
small reads (block boundaries everywhere), and compares stdout, stderr and the exit
status, over four formats (``default`` and ``json`` escaping, three time variables)
and lines that reach each shortcut's edges: per-second and repeated times across minute,
hour, day and year ends in three zones, leap and malformed seconds, unique and repeated
request lines, escaped quotes and backslashes (``\\x22``, ``\\x5C``), raw UTF-8 and
invalid bytes, CRLF, a line longer than a block and one over the line limit, malformed
lines between good ones, a last line without its newline, several files; with
expired, forged, unknown-key and garbage tokens, under --only-failures, --all, --since.
"""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge.fastpath import JsonLines
from inspector.logs import bulkscan
from parsers.nginx.log_format import LineParser, compile_format, parse_log_format_string
from parsers.nginx.time import format_time_local

FORMATS = {
    "extended": ("default", EXTENDED_TEMPLATE),
    "iso8601": (
        "default",
        '$remote_addr [$time_iso8601] "$request" $status "$http_user_agent" '
        '"$http_authorization"',
    ),
    "msec": (
        "default",
        '$msec $remote_addr "$request" $status "$http_user_agent" "$http_authorization"',
    ),
    "json": (
        "json",
        '{"addr":"$remote_addr","t":"$time_local","r":"$request","s":"$status",'
        '"ua":"$http_user_agent","auth":"$http_authorization"}',
    ),
}  # fmt: skip
START = datetime(2026, 12, 31, 23, 58, 50, tzinfo=UTC)
ZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8)))


def clock_values(at: datetime) -> dict[str, str]:
    return {
        "time_local": format_time_local(at),
        "time_iso8601": at.isoformat(),
        "msec": f"{at.timestamp():.3f}",
    }


def render_lines(parser: LineParser, idp: LocalIdP, count: int) -> list[bytes]:
    rng = random.Random(11)
    now = START.timestamp()
    tokens = [idp.mint(idp.entra_v2_claims(now=now - 60 * i)) for i in range(12)]
    tokens += [
        idp.mint(idp.entra_v2_claims(now=now - 7200)),  # expired
        idp.mint(idp.entra_v2_claims(now=now), key=generate_rsa_key(kid=idp.keys[0].kid)),
        idp.mint(idp.entra_v2_claims(now=now), key=generate_rsa_key(kid="not-published")),
        idp.mint(idp.entra_v2_claims(now=now - 30, aud="api://someone-else")),
    ]
    auths = [*(f"Bearer {t}" for t in tokens), "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", None]
    requests = (
        "POST /ords/demo/mcp/?request_id={i:010d} HTTP/1.1",  # unique, quiet
        "GET /ords/demo/mcp/ HTTP/1.1",  # repeated
        "GET /q/" + "aB3x" * 7 + "Z{i} HTTP/1.1",  # a long run from three digits on
        'GET /say/"hi"/{i} HTTP/1.1',  # a quote: \x22 in the line
        "GET /back\\slash/{i} HTTP/1.1",  # a backslash: \x5C
        "GET /caf\u00e9/{i} HTTP/1.1",  # escaped UTF-8
        "GET /a.b.c/{i} HTTP/1.1",  # two dots
        "GET /x?access_token=abcDEF0123456789ghijKLMN{i} HTTP/1.1",
        "PUT  /two spaces/{i} HTTP/1.1",
        "-",
    )
    agents = ("node", "Claude-User/1.0", 'curl "quoted"', "back\\slash", "\u00e9l\u00e8ve")
    out = []
    at = START
    for i in range(count):
        if i % 3:  # a new second on most lines, the same one on others
            at += timedelta(seconds=1)
        shown = at.astimezone(ZONES[(i // 89) % 3])
        values = clock_values(shown)
        if i % 61 == 13:
            clock = values["time_local"]
            values["time_local"] = clock[:18] + rng.choice(("60", " 5", "5x")) + clock[20:]
        request = rng.choice(requests).format(i=i)
        values.update(
            remote_addr=rng.choice(("192.0.2.1", f"198.51.100.{i % 200}", 'evil"addr')),
            request=None if request == "-" else request,
            status=rng.choice(("200", "200", "401", "403", "404")),
            body_bytes_sent="12",
            http_user_agent=rng.choice(agents),
            http_authorization=rng.choice(auths),
        )
        out.append(parser.render(values).encode("utf-8"))
    good = out[5]
    odd = [
        b"this is not an nginx line",
        b"",
        good + b"\r",
        good.replace(b"node", "n\u00f6de \u30a8".encode()),  # raw UTF-8
        good.replace(b"node", b"n\xffde\xc3"),  # invalid UTF-8
        good.replace(b"node", b"n" * 6000),  # longer than a block
        good.replace(b"node", b"n" * 70_000),  # over the line limit
        good[: len(good) // 2],
    ]
    for index, line in enumerate(odd):
        out.insert(17 + index * 41, line)
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    idp = LocalIdP()
    (root / "jwks.json").write_text(json.dumps(idp.jwks()))
    (root / "config.toml").write_text("")
    for name, (escape, template) in FORMATS.items():
        parser = compile_format(parse_log_format_string(template, escape=escape))
        lines = render_lines(parser, idp, 500)
        (root / f"{name}-a.log").write_bytes(b"\n".join(lines[:300]) + b"\n")
        (root / f"{name}-b.log").write_bytes(b"\n".join(lines[300:]))  # no final newline
    return root


MODES = [
    ["--json"],
    ["--json", "--only-failures"],
    ["--json", "--all"],
    ["--json", "--since", "2027-01-01T00:00:30+00:00"],
    ["--json", "--since", "2027-01-01T05:30:10.5+05:30"],
]


def both_paths(
    workdir: Path, name: str, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[int, str, str], tuple[int, str, str], int]:
    """(record path, bulk path, lines the bulk path answered from their groups)."""
    escape, template = FORMATS[name]
    log_format = template if escape == "default" else f"escape={escape} '{template}'"
    argv = [
        "scan", str(workdir / f"{name}-a.log"), str(workdir / f"{name}-b.log"),
        "--log-format", log_format, "--jwks", str(workdir / "jwks.json"),
        "--config", str(workdir / "config.toml"), "--expect-aud", LocalIdP().api_app_id,
        *extra,
    ]  # fmt: skip

    def run(*, bulk: bool) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with monkeypatch.context() as patch:
            if bulk:
                patch.setattr(bulkscan, "READ_CHUNK", 4096)
            else:
                patch.setattr(bulkscan, "readable_once", lambda path: False)
            status = scan_command.scan(build_parser().parse_args(argv), out, err, processes=1)
        return status, out.getvalue(), err.getvalue()

    answered = 0
    bind = scan_command.scan_logs.__globals__["Answers"].bind

    def counting(self: object) -> bulkscan.Answer:
        answer = bind(self)

        def counted(*args: object) -> bytes | None:
            nonlocal answered
            said = answer(*args)  # type: ignore[arg-type]
            answered += said is not None
            return said

        return counted

    generic = run(bulk=False)
    with monkeypatch.context() as patch:
        patch.setattr(scan_command.scan_logs.__globals__["Answers"], "bind", counting)
        fast = run(bulk=True)
    return generic, fast, answered


@pytest.mark.parametrize("extra", MODES, ids=" ".join)
@pytest.mark.parametrize("name", sorted(FORMATS))
def test_answers_print_what_the_record_path_prints(
    workdir: Path, name: str, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    generic, fast, answered = both_paths(workdir, name, extra, monkeypatch)
    assert fast == generic
    status, out, err = generic
    rows = [json.loads(row) for row in out.splitlines()]
    files = {row["file"] for row in rows}
    # Not vacuous: both files, lines answered from groups, failures and odd lines seen.
    assert len(files) == 2 or "--only-failures" in extra
    assert answered > 100
    assert status == 1
    assert "lines did not match" in err
    if extra == ["--json"]:
        assert len(rows) > 250
        assert {row["outcome"] for row in rows} >= {"ok", "fail"}
        assert any(row["time"] is None for row in rows) or name != "extended"


def test_one_instant_in_two_zones_shows_each_its_own_offset() -> None:
    # Equal datetimes (one instant) hash alike: a memo by datetime alone gave the first
    # zone's text to the other (seen when one second was logged in two zones).
    encoder = JsonLines()
    for _ in range(2):
        for zone in ZONES:
            at = START.astimezone(zone)
            assert encoder.time_text(at) == json.dumps(at.isoformat())
            assert encoder.time_text(None) == "null"


@pytest.mark.parametrize("name", ["extended", "json"])
def test_since_at_every_edge_of_a_second(
    workdir: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --since on a second, a microsecond either side of one, mid-second, in another zone:
    # next_second's cut of each minute must put every line on the record path's side.
    base = datetime(2027, 1, 1, 0, 0, 20, tzinfo=UTC)
    for step in range(0, 150, 13):
        for shift in (timedelta(0), timedelta(microseconds=1), timedelta(microseconds=-1)):
            since = (base + timedelta(seconds=step) + shift).astimezone(ZONES[step % 3])
            generic, fast, _ = both_paths(
                workdir, name, ["--json", "--since", since.isoformat()], monkeypatch
            )
            assert fast == generic, since
