"""End to end: the live screen follows a safe token log (signatures dropped by nginx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge.verdicts import Outcome
from inspector.tui.app import InspectorApp
from parsers.nginx.safe_log import SAFE_FORMAT_NAME, safe_log_config
from tests.support.nginx import NginxServer, requires_nginx
from tests.tui.conftest import SIZE, plain, wait_for
from tests.tui.nginx_watch import MCP_LOCATION, post, running_site, watch_session

pytestmark = [pytest.mark.nginx, requires_nginx]

SITE = (
    safe_log_config()
    + r"""
server {
    listen 127.0.0.1:@PORT@;
    access_log @PREFIX@/logs/safe.log """
    + SAFE_FORMAT_NAME
    + r""";
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


async def test_watch_judges_the_safe_log(
    site: tuple[LocalIdP, NginxServer], tmp_path: Path
) -> None:
    idp, server = site
    session = watch_session(idp, server, tmp_path)
    assert session.files == (str(server.prefix / "logs" / "safe.log"),)

    app = InspectorApp(session, tick_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        good = idp.mint(idp.entra_v2_claims())
        assert post(server, good, "ChatGPT-User/1.0") == 200
        forged = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
        assert post(server, forged, "Claude-User/1.0") == 200
        await wait_for(
            pilot, lambda: app.store.counters.attempts == 2 and not app.store.pending, timeout=20
        )
        accepted, forged_row = (e.attempt for e in app.store)
        for row in (accepted, forged_row):
            assert row.token is not None and row.token.verified is None
            codes = {v.code for v in row.verdicts}
            assert "signature-not-logged" in codes and "signature-invalid" not in codes
            assert row.outcome is not Outcome.FAIL
        assert accepted.client == "ChatGPT"
        assert accepted.token is not None and accepted.token.claims["iss"] == idp.issuer_v2
        await pilot.pause()
        body = plain(app.detail.query_one("#detail-body"))
        assert "signature-not-logged" in body or "Signature not logged" in body
        assert good.rsplit(".", 1)[1] not in body
