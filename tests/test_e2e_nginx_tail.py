"""End to end with a real nginx: its extended log, followed and parsed, across a rotation."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.logs.follow import LogFollower, RawLine
from inspector.logs.selection import select_logs
from inspector.settings import Settings
from parsers.records import LogRecord, Source
from tests.follow_support import Collector
from tests.support.nginx import EXTENDED_LOG_FORMAT, NginxServer, http_conf, requires_nginx

pytestmark = [requires_nginx, pytest.mark.nginx]

SITE = (
    EXTENDED_LOG_FORMAT
    + """
server {
    listen 127.0.0.1:@PORT@;
    access_log @PREFIX@/logs/extended.log extended;
    location / { return 401; }
}
"""
)

ODD_AGENTS = [
    b"openai-mcp/1.0.0",
    b'Mozilla/5.0 "quoted" back\\slash \xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88',
    b"evil \x1b[31mred\x1b[0m \x7f",
    b"",
]


@pytest.fixture(scope="module")
def tokens() -> list[str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return [
        jwt.encode({"sub": f"user{i}", "aud": "api://test"}, key, "RS256", {"kid": "k1"})
        for i in range(6)
    ]


@pytest.mark.parametrize("poll", [False, True], ids=["watchdog", "poll"])
def test_nginx_log_is_followed_parsed_and_survives_rotation(
    tmp_path: Path, tokens: list[str], poll: bool
) -> None:
    with NginxServer(tmp_path / "nginx") as server:
        server.start(http_conf(SITE))
        log = server.prefix / "logs" / "extended.log"
        args = build_parser().parse_args(["tail", "--nginx-conf", str(server.conf_path)])
        selection = select_logs(settings_from_args(args, base=Settings()).logs)
        assert selection.paths == (str(log),)
        parser = selection.parsers[str(log)]
        follower = LogFollower(selection.paths, poll=poll, poll_interval=0.05 if poll else 30.0)
        follower.start()
        c = Collector(follower)
        try:
            c.wait_event("opened")
            for i, agent in enumerate(ODD_AGENTS):
                headers: dict[str, str | bytes] = {
                    "User-Agent": agent,
                    "Authorization": f"Bearer {tokens[i]}",
                }
                assert server.request(f"/mcp/{i}", method="POST", headers=headers)[0] == 401
            c.wait_lines(len(ODD_AGENTS))
            records = [_parse(parser, line) for line in c.lines]
            assert [r.path for r in records] == [f"/mcp/{i}" for i in range(len(ODD_AGENTS))]
            assert [r.authorization for r in records] == [
                f"Bearer {t}" for t in tokens[: len(ODD_AGENTS)]
            ]
            # An empty header is logged as "" (not "-"), so it stays an empty string.
            assert [r.user_agent for r in records] == [a.decode("utf-8") for a in ODD_AGENTS]
            assert {(r.method, r.status, r.remote_addr) for r in records} == {
                ("POST", 401, "127.0.0.1")
            }

            # logrotate "create" mode: rename, requests still land in the old file, reopen.
            log.rename(log.with_name("extended.log.1"))
            for i in range(3):
                server.request(f"/before-reopen/{i}", headers={"Authorization": "Bearer b"})
            server.reopen(wait_for=log)
            for i in range(3):
                server.request(f"/after-reopen/{i}", headers={"Authorization": "Bearer a"})
            c.wait_lines(len(ODD_AGENTS) + 6)
            c.wait_event("rotated")
        finally:
            follower.stop()
    paths = [str(_parse(parser, line).path) for line in c.lines[len(ODD_AGENTS) :]]
    assert sorted(paths) == sorted(
        [f"/before-reopen/{i}" for i in range(3)] + [f"/after-reopen/{i}" for i in range(3)]
    )
    after = [x for x in c.lines if b"/after-reopen/" in x.data]
    assert [x.line for x in after] == [1, 2, 3]  # the new file is counted from its start


def _parse(parser: object, line: RawLine) -> LogRecord:
    record = parser.parse(line.data, Source(line.file, line.line or 0, line.offset))  # type: ignore[attr-defined]
    assert isinstance(record, LogRecord), record
    return record
