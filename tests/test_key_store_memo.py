"""The key store remembers a found key: a known kid costs a dict hit, with the same answer.

Every token of an issuer names one of a few kids; the store keeps the found lookup per
(kid, x5t) for the keys it was found in, at the age text it gave. A new fetch (TTL,
rotation, forced refresh), a moved age or another kid takes the full way, and only
found keys are remembered: unknown kids keep their refresh policy.
"""

from __future__ import annotations

import pytest

from inspector.demo.idp import generate_rsa_key
from inspector.keys.store import KeyLookup, KeyStore
from tests.support.clock import FakeClock
from tests.support.faulty_idp import FaultyIdP


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def jwks_fetches(idp: FaultyIdP) -> int:
    return idp.count(idp.jwks_uri)


def computed(store: KeyStore, issuer: str, kid: str | None, x5t: str | None = None) -> KeyLookup:
    """The lookup computed the full way: the store's memos emptied first."""
    for entry in store._entries.values():
        entry.found.clear()
        entry.attributed = None
    return store.lookup(issuer, kid, x5t=x5t)


def same(a: KeyLookup, b: KeyLookup) -> bool:
    return a == b and a.key is b.key and a.discovery is b.discovery


def test_a_known_kid_is_answered_from_the_memo(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    kid = idp.keys[0].kid
    first = store.lookup(idp.issuer_v2, kid)
    clock.advance(0.2)  # the same age text
    again = store.lookup(idp.issuer_v2, kid)
    assert first.found and again is first
    assert same(again, computed(store, idp.issuer_v2, kid))
    assert jwks_fetches(idp) == 1


def test_the_age_text_moves_the_answer(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    kid = idp.keys[0].kid
    first = store.lookup(idp.issuer_v2, kid)
    clock.advance(30)
    later = store.lookup(idp.issuer_v2, kid)
    assert later is not first and "fetched 30 s ago" in later.detail
    assert same(later, computed(store, idp.issuer_v2, kid))


def test_rotation_and_refresh_are_not_hidden_by_the_memo(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    old = idp.keys[0].kid
    assert store.lookup(idp.issuer_v2, old).found
    new = idp.rotate(generate_rsa_key("rolled-over"), keep_old=False)
    clock.advance(120)
    # The old kid was found before: still remembered for the old keys, which are current.
    assert store.lookup(idp.issuer_v2, old).found
    rolled = store.lookup(idp.issuer_v2, new.kid)
    assert rolled.found and "after refreshing" in rolled.detail
    # New keys: the old kid is gone, whatever the memo held.
    clock.advance(61)
    gone = store.lookup(idp.issuer_v2, old)
    assert gone.status == "kid-not-found"
    # The refreshed answer is not reused for the plain lookups that follow.
    plain = store.lookup(idp.issuer_v2, new.kid)
    assert plain.found and "after refreshing" not in plain.detail
    assert same(plain, computed(store, idp.issuer_v2, new.kid))
    assert jwks_fetches(idp) == 3


def test_a_forced_refresh_gives_a_new_answer(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    kid = idp.keys[0].kid
    first = store.lookup(idp.issuer_v2, kid)
    before = store.completed
    store.refresh(idp.issuer_v2)
    assert store.wait_for_fetch(before, 10.0)
    after = store.lookup(idp.issuer_v2, kid)
    assert after is not first and after.found
    assert same(after, computed(store, idp.issuer_v2, kid))


def test_an_unknown_kid_is_never_remembered(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    assert store.lookup(idp.issuer_v2, idp.keys[0].kid).found
    assert store.lookup(idp.issuer_v2, "nobody").status == "kid-not-found"
    clock.advance(61)
    idp.rotate(generate_rsa_key("nobody"))
    # Past the rate limit the unknown kid refreshes the keys and is found.
    found = store.lookup(idp.issuer_v2, "nobody")
    assert found.found and "after refreshing" in found.detail
    assert jwks_fetches(idp) == 2
    # Found in the keys as they are now: from here on it is a known kid.
    assert store.lookup(idp.issuer_v2, "nobody") is store.lookup(idp.issuer_v2, "nobody")


def test_x5t_and_the_single_key_are_remembered_apart(idp: FaultyIdP, clock: FakeClock) -> None:
    idp.rotate(generate_rsa_key("second"))
    store = KeyStore(allow_private=True, clock=clock)
    second = idp.keys[0]
    by_x5t = store.lookup(idp.issuer_v1, None, x5t=second.x5t)
    assert by_x5t.matched_by == "x5t"
    assert store.lookup(idp.issuer_v1, None, x5t=second.x5t) is by_x5t
    several = store.lookup(idp.issuer_v1, None)
    assert several.status == "no-kid-match"
    assert same(by_x5t, computed(store, idp.issuer_v1, None, second.x5t))
