"""What the end-to-end watch tests share: a real nginx site, a POST to it, and the watch
session built from its nginx.conf the way `token-inspector watch` builds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.cli.watch import build_session
from inspector.demo.idp import LocalIdP
from inspector.settings import Settings
from tests.support.nginx import NginxServer, http_conf

MCP_LOCATION = r"""
    location /ords/demo/mcp/ {
        if ($http_authorization = "") { return 401; }
        return 200 "ok";
    }
"""


@contextmanager
def running_site(tmp_path: Path, site: str) -> Iterator[tuple[LocalIdP, NginxServer]]:
    """A loopback IdP and an nginx serving ``site`` (an ``http {}`` body)."""
    with LocalIdP() as idp, NginxServer(tmp_path / "nginx") as server:
        server.start(http_conf(site))
        yield idp, server


def post(server: NginxServer, token: str | None, agent: str) -> int:
    """POST to the MCP location, with ``token`` as a bearer token when given."""
    headers = {"User-Agent": agent, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, _, _ = server.request("/ords/demo/mcp/", method="POST", headers=headers, body=b"{}")
    return status


def watch_session(idp: LocalIdP, server: NginxServer, tmp_path: Path) -> Any:
    """``watch --no-db`` on the site's nginx.conf, trusting the loopback IdP (the admin's
    own, so its keys may be discovered on 127.0.0.1), with an empty config file."""
    config = tmp_path / "empty.toml"
    config.write_text("")
    args = build_parser().parse_args(
        [
            *("watch", "--no-db", "--nginx-conf", str(server.conf_path)),
            *("--config", str(config), "--trusted-issuer", idp.issuer_v2),
        ]
    )
    return build_session(args, settings_from_args(args, base=Settings()))
