"""``scan --json``'s per-line shortcuts give what the slow path gives.

Two shortcuts for logs where every line is new text (unique request lines, a new second
on every line): request paths that no redaction rule can touch are written without
running the redaction (``fastpath.is_quiet``), and a ``$time_local`` second of a known
minute is spliced from that minute instead of parsed (``Answers.next_second``). Each is
held to the slow path on a varied corpus, and whole scans (zones, minute, day and year
boundaries, ``--since``, odd seconds, escapes) to the record path, byte for byte.
"""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import cast

import pytest

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP
from inspector.judge.analyzer import Analyzer
from inspector.judge.fastpath import Answers, JsonLines, is_quiet
from inspector.logs import bulkscan
from parsers.nginx.log_format import compile_format, parse_log_format_string, split_request
from parsers.nginx.time import format_time_local, parse_time_local
from parsers.redaction import redact_text

PARSER = compile_format(parse_log_format_string(EXTENDED_TEMPLATE))
PIECES = (
    "/ords/demo/mcp/", "?request_id=", "0123", "a", "Z", ".", "=", "&", "%2e", "%", "\\",
    '"', "\\x22", "token", "TOKEN", "Bearer ", "bAsIc", "dpop", "Negotiate", "authorization",
    "code", "sig", "jwt", "passw", "pwd", "api_key", "apikey", "assertion", "client_secret",
    "eyJhbGciOiJSUzI1NiJ9", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln", "x" * 31, "y" * 32,
    "AbC-_+~" * 5, "é", "/", " ", "-", "~",
)  # fmt: skip


def corpus(count: int) -> list[str]:
    """Texts built from pieces every redaction rule looks for, and plain ones."""
    rng = random.Random(13)
    out = [
        "/ords/demo/mcp/?request_id=0000000005",
        "/.well-known/oauth-protected-resource?request_id=7",
        "/a.b/c",
        "",
    ]
    for _ in range(count):
        out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8))))
    return out


def test_a_quiet_text_is_what_the_redaction_leaves_alone() -> None:
    texts = corpus(20_000)
    quiet = [text for text in texts if is_quiet(text)]
    # Not vacuous: plenty of texts are quiet, and plenty are not.
    assert 1000 < len(quiet) < len(texts) - 1000
    assert is_quiet("/ords/demo/mcp/?request_id=0000000005")
    for text in quiet:
        assert redact_text(text) == text, text


def test_the_encoder_redacts_a_path_as_the_redaction_does() -> None:
    encoder = JsonLines()
    for text in corpus(5000):
        expected = json.dumps(redact_text(text))
        assert encoder.redacted(text) == expected, text
        assert encoder.request("GET", text) == f'"method": "GET", "path": {expected}'


def clocks() -> list[str]:
    """``$time_local`` texts: every second across minute, day and year ends, in zones."""
    out = []
    for zone in (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))):
        start = datetime(2026, 12, 31, 23, 58, 30, tzinfo=zone)
        out += [format_time_local(start + timedelta(seconds=i)) for i in range(150)]
    base = "21/Nov/2026:10:00:00 +0000"
    # Seconds parse_time_local reads (" 5", "+5") or refuses ("60", "99", "5x", "٣٣").
    out += [base[:18] + odd + base[20:] for odd in (" 5", "+5", "60", "99", "5x", "٣٣", "07")]
    return out


@pytest.mark.parametrize(
    "since",
    [
        None,
        datetime(2027, 1, 1, 0, 0, 10, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, 10, 1, tzinfo=UTC),  # a microsecond after a second
        datetime(2027, 1, 1, 0, 0, 9, 999_999, tzinfo=UTC),  # and before one
        datetime(2027, 1, 1, 5, 29, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 12, 31, 16, 0, 59, 500_000, tzinfo=timezone(-timedelta(hours=8))),
        datetime(2026, 12, 31, 23, 59, tzinfo=UTC),  # a minute's start
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, tzinfo=UTC),
    ],
)
def test_next_second_is_the_parsed_moment(since: datetime | None) -> None:
    # Times never reach the analyzer.
    fast = Answers(cast(Analyzer, None), JsonLines(), since, False, False)
    slow = Answers(cast(Analyzer, None), JsonLines(), since, False, False)
    spliced = before = 0
    for clock in clocks():
        moment = parse_time_local(clock)
        expected = None if moment is None else slow.learn_time(clock, moment)
        got = fast.next_second(clock)
        if got is None:
            if moment is not None:
                fast.learn_minute(clock, fast.learn_time(clock, moment))
            continue
        spliced += 1
        assert expected is not None
        # The datetime is left out; the text reads back to the same one.
        assert got[:3] == expected[:3], clock
        assert got[3] is None
        assert got[2] == (since is not None and moment < since), clock
        before += got[2]
    # Every second after the first of each minute is spliced.
    assert spliced > 400
    # Not vacuous: some seconds are before --since, some after.
    assert since is None or since.year in (1970, 9999) or 0 < before < spliced


def lines(idp: LocalIdP) -> list[str]:
    rng = random.Random(7)
    tokens = [idp.mint(idp.entra_v2_claims(now=1_798_761_000 + i)) for i in range(40)]
    zones = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8)))
    start = datetime(2026, 12, 31, 23, 59, 0, tzinfo=UTC)
    requests = (
        "POST /ords/demo/mcp/?request_id={i:06d} HTTP/1.1",
        "GET /ords/demo/mcp/%2e%2e/{i} HTTP/1.1",
        "GET /ords/demo/mcp/\\x22q\\x22?n={i} HTTP/1.1",
        "GET /x?access_token=abcDEF0123456789ghijKLMN{i} HTTP/1.1",
        "GET /Bearer/{i} HTTP/1.1",
        "GET /a.b.c/{i}.json HTTP/1.1",
        "GET /q?code={i} HTTP/1.1",
        "-",
    )
    out = []
    for i in range(600):
        at = (start + timedelta(seconds=i)).astimezone(zones[(i // 97) % 3])
        clock = format_time_local(at)
        if i % 53 == 7:
            clock = clock[:18] + rng.choice((" 5", "60", "5x")) + clock[20:]
        request = rng.choice(requests).format(i=i)
        auth = f"Bearer {rng.choice(tokens)}" if rng.random() < 0.8 else None
        out.append(
            PARSER.render(
                {
                    "remote_addr": f"192.0.2.{i % 250}",
                    "time_local": clock,
                    "request": None if request == "-" else request,
                    "status": rng.choice(("200", "401", "403")),
                    "body_bytes_sent": "12",
                    "http_user_agent": rng.choice(("node", "Claude-User/1.0")),
                    "http_authorization": auth,
                }
            )
        )
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("per-line")
    idp = LocalIdP()
    (root / "jwks.json").write_text(json.dumps(idp.jwks()))
    (root / "config.toml").write_text("")
    (root / "lines.log").write_text("\n".join(lines(idp)) + "\n")
    return root


@pytest.mark.parametrize(
    "extra", [["--json"], ["--json", "--since", "2027-01-01T00:00:30+00:00"]], ids=["all", "since"]
)
def test_new_seconds_and_paths_give_the_record_paths_output(
    workdir: Path, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*, bulk: bool) -> tuple[int, str, str]:
        argv = [
            "scan", str(workdir / "lines.log"), "--log-format", EXTENDED_TEMPLATE,
            "--jwks", str(workdir / "jwks.json"), "--config", str(workdir / "config.toml"),
            "--expect-aud", LocalIdP().api_app_id, *extra,
        ]  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        with monkeypatch.context() as patch:
            if bulk:
                patch.setattr(bulkscan, "READ_CHUNK", 8192)
            else:
                patch.setattr(bulkscan, "readable_once", lambda path: False)
            status = scan_command.scan(build_parser().parse_args(argv), out, err, processes=1)
        return status, out.getvalue(), err.getvalue()

    generic = run(bulk=False)
    rows = [json.loads(row) for row in generic[1].splitlines()]
    assert len(rows) > 100
    assert any(row["time"] is None for row in rows) or "--since" in extra
    assert run(bulk=True) == generic


def test_learned_request_members_are_the_encoders() -> None:
    answers = Answers(cast(Analyzer, None), JsonLines(), None, False, False)
    methods = ("GET", "POST", "B\\x22AD")
    for i, text in enumerate(corpus(3000)):
        request = methods[i % 3] + " " + text + " HTTP/1.1"
        method, path, _ = split_request(request)
        assert answers.learn_request(request) == JsonLines().request(method, path), request
    assert answers.learn_request(None) == '"method": null, "path": null'
    odd = ("", " ", "GET", "GET /", "GET  HTTP/1.1", "  x", "a b c d", "G\x7fT /\x01 H", "é / x")
    for request in odd:
        method, path, _ = split_request(request)
        assert answers.learn_request(request) == JsonLines().request(method, path), request


def test_unique_quiet_paths_do_not_fill_the_redaction_memo() -> None:
    encoder = JsonLines()
    answers = Answers(cast(Analyzer, None), encoder, None, False, False)
    for i in range(500):
        answers.learn_request(f"GET /ords/demo/mcp/?request_id={i:010d} HTTP/1.1")
    assert len(encoder._redacted) <= 2  # None, and the method


def test_a_quiet_path_is_known_by_the_rest_of_it_before_its_digits() -> None:
    answers = Answers(cast(Analyzer, None), JsonLines(), None, False, False)
    rng = random.Random(5)
    texts = corpus(3000)
    # Trailing runs of _LONG_RUN characters (letters, digits, "_-+=~") around its length
    # of 32, with the digits after them; digits after a word's first letters; Unicode
    # digits (not stripped).
    texts += ["/q?" + "a" * n + "=" + "7" * d for n in range(16, 34) for d in range(0, 20)]
    texts += ["/tok" + "1" * 3, "/x" + "9" * 40, "/x-" + "٣" * 3, "/a.b" + "1", "/" + "5" * 31]
    checked = quiet = 0
    for text in texts:
        for digits in ("", "0", "12", "0000000001", str(rng.randrange(10**12))):
            path = text + digits
            expected = is_quiet(path)
            assert answers.quiet_path(path) == expected, path
            assert answers.quiet_path(path) == expected, path  # and from the memo
            checked += 1
            quiet += expected
    # Not vacuous: both answers, and the boundary of the long run on either side.
    assert 1000 < quiet < checked - 1000
    assert answers.quiet_path("/q?" + "a" * 20 + "=" + "1" * 10)
    assert not answers.quiet_path("/q?" + "a" * 20 + "=" + "1" * 11)
