"""Real nginx writes the log; our config parser finds the formats and our parser reads it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parsers.nginx.conf import logs_recording_authorization, parse_config
from parsers.nginx.log_format import compile_format
from parsers.records import LogRecord, Source
from tests.support.nginx import EXTENDED_LOG_FORMAT, NginxServer, http_conf, requires_nginx

pytestmark = [requires_nginx, pytest.mark.nginx]

HTTP = (
    EXTENDED_LOG_FORMAT
    + r"""
log_format jsonish escape=json
    '{"t":"$time_iso8601","ms":$msec,"ua":"${http_user_agent}","auth":"$http_authorization",'
    '"req":"$request","s":$status,"rt":$request_time,"xff":"$http_x_forwarded_for"}';
log_format custom '$remote_addr $http_x_forwarded_for [$time_local] "$request" $status '
                  '$request_time $upstream_response_time $http_authorization';
log_format raw escape=none '$remote_addr "$http_user_agent" $status';
server {
    listen 127.0.0.1:@PORT@;
    access_log @PREFIX@/logs/extended.log extended;
    access_log @PREFIX@/logs/json.log jsonish;
    access_log @PREFIX@/logs/custom.log custom;
    access_log @PREFIX@/logs/raw.log raw;
    access_log @PREFIX@/logs/combined.log;
    location /ords/ { return 401; }
    location / { return 200 "ok\n"; }
}
"""
)

TOKEN = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiJhbGljZSJ9" * 60 + ".c2ln"
# (path, headers) pairs: odd user agents, quotes, UTF-8 and broken UTF-8, absent headers.
REQUESTS: list[tuple[str, dict[str, str | bytes]]] = [
    ("/ords/demo/mcp/", {"User-Agent": "ChatGPT-User/1.0", "Authorization": f"Bearer {TOKEN}"}),
    ("/ords/demo/mcp/", {"User-Agent": "Claude-User/1.0 (+https://claude.ai)"}),
    ("/", {"User-Agent": 'curl "quoted" C:\\dir \\x41 {"j":1}'}),
    ("/", {"User-Agent": "エージェント/1.0 ünïcödé".encode()}),
    ("/", {"User-Agent": b"bad\xff\xfeutf8 tab\there del\x7f ctl\x01"}),
    ("/", {"User-Agent": "", "X-Forwarded-For": "1.1.1.1, 2.2.2.2"}),
    ("/", {}),
    ('/p?q="x"&u=%E3%81%82', {"User-Agent": "-", "Content-Type": "application/json"}),
]


def expected_text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[NginxServer, datetime, datetime]:
    prefix = tmp_path_factory.mktemp("nginx")
    server = NginxServer(prefix)
    started = datetime.now(UTC) - timedelta(seconds=1)
    server.start(http_conf(HTTP))
    try:
        for path, headers in REQUESTS:
            server.request(path, headers=headers)
    finally:
        server.stop()  # graceful: every line is flushed
    return server, started, datetime.now(UTC) + timedelta(seconds=1)


def parse_log(server: NginxServer, name: str) -> list[LogRecord]:
    config = parse_config(server.conf_path)
    (log,) = [log for log in config.access_logs if log.path.endswith(f"/{name}.log")]
    parser = compile_format(config.log_formats[log.format_name])
    lines = Path(log.path).read_bytes().split(b"\n")
    assert lines[-1] == b""
    out = []
    for number, line in enumerate(lines[:-1], 1):
        result = parser.parse(line, Source(log.path, number, 0))
        assert isinstance(result, LogRecord), (line, result)
        out.append(result)
    assert len(out) == len(REQUESTS)
    return out


def test_config_finds_the_logs_that_record_tokens(
    logged: tuple[NginxServer, datetime, datetime],
) -> None:
    server, _, _ = logged
    config = parse_config(server.conf_path)
    found = sorted(Path(log.path).name for log in logs_recording_authorization(config))
    assert found == ["custom.log", "extended.log", "json.log"]


@pytest.mark.parametrize("name", ["extended", "combined", "custom", "json", "raw"])
def test_parser_reproduces_what_was_sent(
    logged: tuple[NginxServer, datetime, datetime], name: str
) -> None:
    server, started, ended = logged
    records = parse_log(server, name)
    missing = "" if name == "extended" else None  # nginx writes "" for an empty header...
    for rec, (path, headers) in zip(records, REQUESTS, strict=True):
        if name in ("json", "raw"):
            missing = None  # ...and json/none escaping cannot tell it from an absent one
        ua = headers.get("User-Agent")
        if name in ("extended", "combined", "json", "raw"):
            if ua is None or expected_text(ua) == "-":
                assert rec.user_agent is None
            elif expected_text(ua) == "":
                assert rec.user_agent == missing or (name == "combined" and rec.user_agent == "")
            else:
                assert rec.user_agent == expected_text(ua), name
        if name != "raw":
            assert rec.status == (401 if path.startswith("/ords/") else 200)
            assert rec.time is not None and started <= rec.time <= ended
        if name in ("extended", "custom", "json"):
            auth = headers.get("Authorization")
            assert rec.authorization == (expected_text(auth) if auth else None)
        if name != "raw":
            assert (rec.method, rec.path, rec.protocol) == ("GET", path, "HTTP/1.1")
        if name != "json":
            assert rec.remote_addr == "127.0.0.1"
        assert rec.best_effort == (name == "raw")


def test_forwarded_for_with_spaces_in_bare_and_quoted_fields(
    logged: tuple[NginxServer, datetime, datetime],
) -> None:
    server, _, _ = logged
    for name in ("custom", "json"):
        records = parse_log(server, name)
        assert records[5].fields["http_x_forwarded_for"] == "1.1.1.1, 2.2.2.2"
        assert records[0].fields["http_x_forwarded_for"] is None
        assert records[0].fields["request_time"] is not None


def test_reopen_after_rename_writes_a_new_file(tmp_path: Path) -> None:
    with NginxServer(tmp_path / "prefix") as server:
        server.start(
            http_conf(
                """
                server {
                    listen 127.0.0.1:@PORT@;
                    access_log @PREFIX@/logs/a.log;
                    location / { return 204; }
                }
                """
            )
        )
        log = server.prefix / "logs" / "a.log"
        server.request("/one")
        server.wait_for_log(log, 1)
        log.rename(log.with_suffix(".log.1"))
        server.reopen(wait_for=log)
        server.request("/two")
        (line,) = server.wait_for_log(log, 1)
        assert b"GET /two " in line
        assert server.running
    assert not server.running
