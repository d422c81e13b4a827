"""End to end: a real nginx writes the extended log while the live screen follows it.

``watch`` finds the log through nginx.conf (the access log whose format records
``$http_authorization``), keys come from a loopback IdP, and a logrotate-style rename +
reopen shows up in the status bar's rotation count.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge.verdicts import Outcome
from inspector.tui.app import InspectorApp
from tests.support.nginx import EXTENDED_LOG_FORMAT, NginxServer, requires_nginx
from tests.tui.conftest import SIZE, plain, wait_for
from tests.tui.nginx_watch import MCP_LOCATION, post, running_site, watch_session

pytestmark = [pytest.mark.nginx, requires_nginx]

SITE = (
    EXTENDED_LOG_FORMAT
    + r"""
log_format plain '$remote_addr [$time_local] "$request" $status';
server {
    listen 127.0.0.1:@PORT@;
    access_log @PREFIX@/logs/extended.log extended;
    access_log @PREFIX@/logs/plain.log plain;
"""
    + MCP_LOCATION
    + r"""
}
"""
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[LocalIdP, NginxServer]]:
    with running_site(tmp_path, SITE) as running:
        yield running


async def test_watch_follows_what_nginx_logs(
    site: tuple[LocalIdP, NginxServer], tmp_path: Path
) -> None:
    idp, server = site
    session = watch_session(idp, server, tmp_path)
    log = server.prefix / "logs" / "extended.log"
    assert session.files == (str(log),)  # plain.log does not record the header

    app = InspectorApp(session, tick_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        assert post(server, None, "openai-mcp/1.0.0") == 401
        good = idp.mint(idp.entra_v2_claims())
        assert post(server, good, "ChatGPT-User/1.0") == 200
        forged = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
        assert post(server, forged, "Claude-User/1.0") == 200
        await wait_for(
            pilot, lambda: app.store.counters.attempts == 3 and not app.store.pending, timeout=20
        )
        no_token, accepted, forged_row = (e.attempt for e in app.store)
        assert no_token.client == "ChatGPT" and no_token.token is None
        assert accepted.token is not None and accepted.token.verified is True
        assert accepted.client == "ChatGPT"
        assert forged_row.client == "Claude"
        assert forged_row.outcome is Outcome.FAIL
        assert "signature-invalid" in {v.code for v in forged_row.verdicts}
        # The screen never shows the token itself.
        assert good not in plain(app.detail.query_one("#detail-body"))

        # logrotate: rename, then nginx reopens (USR1) and writes a new file.
        log.rename(log.with_name("extended.log.1"))
        server.reopen(wait_for=log)
        assert post(server, good, "ChatGPT-User/1.0") == 200
        await wait_for(
            pilot, lambda: app.store.counters.attempts == 4 and not app.store.pending, timeout=20
        )
        await wait_for(pilot, lambda: app.store.counters.rotations == 1, timeout=20)
        await wait_for(pilot, lambda: "rotations 1" in plain(app.status_bar))
