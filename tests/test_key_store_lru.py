"""The key store forgets junk issuers, never anchored ones (issue 9, item 7).

It tracks a bounded number of issuers. It used to keep the first 32 for ever, so a log
naming 32 invented issuers starved the real one for the rest of a ``watch``. Now the least
recently used issuer nobody anchored makes room; an anchored one is never evicted. The junk
issuers here are paths on the loopback IdP that answer 404 (quick failures).
"""

from __future__ import annotations

import pytest

from inspector.keys.store import DEFAULT_MAX_SOURCES, KeyStore
from tests.support.faulty_idp import FaultyIdP

JUNK = 40


def junk(idp: FaultyIdP, count: int = JUNK) -> list[str]:
    return [f"{idp.base_url}/junk-{n}/v2.0" for n in range(count)]


@pytest.mark.parametrize("anchored", [False, True], ids=["unanchored", "anchored"])
def test_the_real_issuer_gets_keys_after_40_junk_issuers(idp: FaultyIdP, anchored: bool) -> None:
    real = idp.issuer_v2
    store = KeyStore(allow_private=True, anchored_issuers=(real,) if anchored else ())
    assert JUNK > DEFAULT_MAX_SOURCES
    for issuer in junk(idp):
        assert store.lookup(issuer, "kid").status == "unavailable"
    found = store.lookup(real, idp.keys[0].kid)
    assert found.status == "found", found.detail
    assert len(store.state()) <= DEFAULT_MAX_SOURCES


def test_an_anchored_issuer_is_never_evicted(idp: FaultyIdP) -> None:
    real = idp.issuer_v2
    store = KeyStore(allow_private=True, anchored_issuers=(real,))
    assert store.lookup(real, idp.keys[0].kid).status == "found"
    fetched = idp.count(idp.jwks_uri)
    for issuer in junk(idp):
        store.lookup(issuer, "kid")
    assert real in store.state()
    assert store.lookup(real, idp.keys[0].kid).status == "found"
    assert idp.count(idp.jwks_uri) == fetched  # still cached: not evicted and fetched again


def test_the_least_recently_used_unanchored_issuer_makes_room(idp: FaultyIdP) -> None:
    store = KeyStore(allow_private=True, max_sources=3)
    first, second, third, fourth = junk(idp, 4)
    for issuer in (first, second, third):
        store.lookup(issuer, "kid")
    store.lookup(first, "kid")  # used again: now the second is the oldest
    store.lookup(fourth, "kid")
    assert set(store.state()) == {first, third, fourth}


def test_anchored_issuers_only_leave_no_room_for_junk(idp: FaultyIdP) -> None:
    anchored = junk(idp, 2)
    store = KeyStore(allow_private=True, max_sources=2, anchored_issuers=anchored)
    for issuer in anchored:
        store.lookup(issuer, "kid")
    refused = store.lookup(f"{idp.base_url}/other/v2.0", "kid")
    assert refused.status == "unavailable" and "already tracking 2 issuers" in refused.detail
    assert set(store.state()) == set(anchored)
