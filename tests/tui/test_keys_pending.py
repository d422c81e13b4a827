"""One slow issuer never holds the screen (issue 9, item 1): rows say "keys pending".

Real engine: an ``EngineSession`` over two attempts, the first naming an issuer whose
server trickles its answer (``tests/support/trickle.py``), the second a working loopback
IdP. The good attempt must show its real outcome while the slow one shows ``… keys`` and
``keys-pending``; when the slow fetch ends (here: its server goes away, so the test does
not depend on the clock) the row is judged again in place. Before the fix neither row
appeared: attempts were analysed one at a time behind the key fetch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from inspector.demo.idp import LocalIdP
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.verdicts import Outcome
from inspector.keys.store import KeyStore
from inspector.tui.app import InspectorApp
from inspector.tui.engine_session import EngineSession
from inspector.tui.model import Entry
from parsers.records import LogRecord, Source
from tests.support.trickle import TrickleServer
from tests.tui.conftest import SIZE, wait_for


def record(line: int, token: str) -> LogRecord:
    return LogRecord(
        Source("access.log", line, 0),
        datetime.now(UTC),
        "192.0.2.7",
        "POST",
        "/ords/hr/mcp/",
        "HTTP/1.1",
        200,
        "Claude-User/1.0",
        f"Bearer {token}",
    )


def cells(app: InspectorApp, entry: Entry) -> dict[str, str]:
    row = app.table.get_row(entry.key)
    return {key: str(value) for key, value in zip(app.table.column_keys, row, strict=True)}


async def test_a_slow_issuer_shows_keys_pending_while_others_are_judged(idp: LocalIdP) -> None:
    slow = TrickleServer("headers").__enter__()
    try:
        await _pending_then_judged(idp, slow)
    finally:
        slow.__exit__(None, None, None)


async def _pending_then_judged(idp: LocalIdP, slow: TrickleServer) -> None:
    slow_token = idp.mint(idp.entra_v2_claims(iss=slow.url + "/tenant/v2.0"))
    good_token = idp.mint(idp.entra_v2_claims())

    def records(stop: threading.Event) -> Iterator[object]:
        yield record(1, slow_token)
        yield record(2, good_token)
        stop.wait()  # a followed log: quiet from here on

    # A long timeout: the slow fetch ends when the test closes its server, not before.
    keys = KeyStore(timeout=30, allow_private=True)
    session = EngineSession(
        records=records,
        files=("access.log",),
        title="access.log",
        analyzer=Analyzer(keys, Expectations()),
        keys=keys,
    )
    app = InspectorApp(session, tz=UTC, tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:

        def entries() -> list[Entry]:
            return list(app.store)

        def good_judged() -> bool:
            rows = entries()
            token = rows[1].attempt.token if len(rows) == 2 else None
            return token is not None and token.verified is True

        await wait_for(pilot, good_judged)
        stalled, good = entries()
        assert "keys-pending" in [v.code for v in stalled.attempt.verdicts]
        assert cells(app, stalled)["outcome"] == "… keys"
        assert cells(app, stalled)["cause"] == "keys-pending"
        assert app.store.pending == 1
        assert good.attempt.outcome is Outcome.OK
        assert cells(app, good)["outcome"] == "✔ ok"
        assert "keys-pending" not in [v.code for v in good.attempt.verdicts]

        # The slow server goes away: its fetch ends, and the row is judged again.
        slow.__exit__(None, None, None)
        await wait_for(pilot, lambda: app.store.pending == 0)
        stalled = entries()[0]
        codes = [v.code for v in stalled.attempt.verdicts]
        assert "keys-pending" not in codes and "jwks-unavailable" in codes
        assert cells(app, stalled)["cause"] == "jwks-unavailable"
        assert cells(app, stalled)["outcome"] == "▲ warn"
        assert app.store.counters.attempts == 2  # judged again in place, not added
