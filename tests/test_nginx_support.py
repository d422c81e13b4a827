"""The nginx test harness itself: a reload returns only once the new configuration serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.nginx import NginxError, NginxServer, http_conf, main_conf, requires_nginx

pytestmark = [pytest.mark.nginx, requires_nginx]


def answering(text: str) -> str:
    return http_conf(f"""
        server {{
            listen 127.0.0.1:@PORT@;
            location / {{ return 200 "{text}\\n"; }}
        }}
    """)


def test_reload_returns_when_the_new_configuration_answers(tmp_path: Path) -> None:
    with NginxServer(tmp_path / "nginx") as server:
        server.start(answering("one"))
        assert server.request("/")[2] == b"one\n"
        for text in ("two", "three"):
            server.reload(answering(text))
            # No wait here: reload() has already seen the old workers go.
            assert server.request("/")[2] == f"{text}\n".encode()


def test_reload_with_a_refused_configuration_raises_and_keeps_serving(tmp_path: Path) -> None:
    with NginxServer(tmp_path / "nginx") as server:
        server.start(answering("one"))
        refused = r'(?s)did not reload.*unknown directive "no_such_directive"'
        with pytest.raises(NginxError, match=refused):
            server.reload(main_conf("http { no_such_directive on; }"))
        assert server.running
        assert server.request("/")[2] == b"one\n"
