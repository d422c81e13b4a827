"""The key store: caching, rollover, rate limits, offline files, trust, TLS and threads."""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from inspector.demo.idp import generate_ec_key, generate_rsa_key, keys_from
from inspector.keys.jwks import KeySet, KeysUnavailable, load_jwks, parse_jwks
from inspector.keys.store import KeyStore
from tests.support.clock import FakeClock
from tests.support.faulty_idp import FaultyIdP

# An upper bound for waits on events, never a delay anything depends on.
WAIT = 10.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def metadata_fetches(idp: FaultyIdP) -> int:
    return sum(1 for p in idp.request_log if "well-known" in p)


def jwks_fetches(idp: FaultyIdP) -> int:
    return idp.count(idp.jwks_uri)


# -- discovery-backed lookups ---------------------------------------------------------


def test_kid_is_found_through_discovery(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    lookup = store.lookup(idp.issuer_v2, idp.keys[0].kid, claims=idp.entra_v2_claims())
    assert lookup.status == "found" and lookup.found
    assert lookup.key is not None
    assert lookup.matched_by == "kid"
    assert lookup.jwks_uri == idp.jwks_uri
    assert lookup.metadata_issuer == idp.issuer_v2
    assert lookup.fetched_at == clock.now
    assert lookup.discovery is not None and lookup.discovery.metadata_url == idp.metadata_url
    assert "found in" in lookup.detail


def test_keys_are_cached_until_the_ttl(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock, ttl=3600)
    kid = idp.keys[0].kid
    store.lookup(idp.issuer_v2, kid)
    requests_after_first = len(idp.request_log)
    clock.advance(3599)
    assert store.lookup(idp.issuer_v2, kid).status == "found"
    assert len(idp.request_log) == requests_after_first
    clock.advance(2)
    assert store.lookup(idp.issuer_v2, kid).status == "found"
    # Expired: metadata and keys are fetched again.
    assert metadata_fetches(idp) == 6
    assert jwks_fetches(idp) == 2


def test_rollover_unknown_kid_triggers_one_refresh_then_is_found(
    idp: FaultyIdP, clock: FakeClock
) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    store.lookup(idp.issuer_v2, idp.keys[0].kid)
    assert jwks_fetches(idp) == 1
    new = idp.rotate(generate_rsa_key("rolled-over"))
    clock.advance(120)
    lookup = store.lookup(idp.issuer_v2, new.kid)
    assert lookup.status == "found"
    assert "after refreshing" in lookup.detail
    assert jwks_fetches(idp) == 2
    # A kid refresh re-reads the keys only; the metadata is still fresh.
    assert metadata_fetches(idp) == 3
    assert store.lookup(idp.issuer_v2, new.kid).status == "found"
    assert jwks_fetches(idp) == 2


def test_unknown_kid_refreshes_once_then_is_not_found(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    store.lookup(idp.issuer_v2, idp.keys[0].kid)
    clock.advance(61)
    lookup = store.lookup(idp.issuer_v2, "no-such-kid")
    assert lookup.status == "kid-not-found"
    assert "after refreshing once" in lookup.detail
    assert repr(idp.keys[0].kid) in lookup.detail
    assert jwks_fetches(idp) == 2


def test_random_kid_flood_is_rate_limited_per_minute(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock, min_refresh_interval=60)
    first = store.lookup(idp.issuer_v2, uuid.uuid4().hex)
    assert first.status == "kid-not-found"
    fetches: list[int] = []
    for _minute in range(3):
        before = len(idp.request_log)
        for _ in range(100):
            lookup = store.lookup(idp.issuer_v2, uuid.uuid4().hex)
            assert lookup.status == "kid-not-found"
            clock.advance(0.5)
        fetches.append(len(idp.request_log) - before)
        clock.advance(10)
    # 100 lookups spread over 50 s, plus 10 s: every minute at most one JWKS fetch.
    assert all(n <= 1 for n in fetches), fetches
    assert sum(fetches) >= 1
    assert metadata_fetches(idp) == 3
    # The last lookup of the last minute came 49.5 s after that minute's refresh.
    limited = lookup
    assert "not refreshed" in limited.detail and "at most one per 60 s" in limited.detail


def test_forced_refresh_ignores_the_rate_limit(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    store.lookup(idp.issuer_v2, idp.keys[0].kid)
    new = idp.rotate(generate_rsa_key("pressed-r"))
    assert store.lookup(idp.issuer_v2, new.kid).status == "kid-not-found"
    store.refresh(idp.issuer_v2)
    assert store.lookup(idp.issuer_v2, new.kid).status == "found"
    store.refresh()
    assert jwks_fetches(idp) == 3


def test_server_down_is_unavailable_with_a_one_line_detail(idp: FaultyIdP) -> None:
    issuer = idp.issuer_v2
    idp.down()
    lookup = KeyStore(allow_private=True).lookup(issuer, "k1")
    assert lookup.status == "unavailable"
    assert lookup.key is None
    assert "connection refused" in lookup.detail
    assert "\n" not in lookup.detail


def test_failed_fetch_is_retried_only_after_the_interval(idp: FaultyIdP, clock: FakeClock) -> None:
    idp.fail_next(100, status=500)
    store = KeyStore(allow_private=True, clock=clock)
    assert store.lookup(idp.issuer_v2, "k").status == "unavailable"
    tried = len(idp.request_log)
    for _ in range(20):
        assert store.lookup(idp.issuer_v2, "k").status == "unavailable"
    assert len(idp.request_log) == tried
    idp.clear_behaviours()
    clock.advance(61)
    assert store.lookup(idp.issuer_v2, idp.keys[0].kid).status == "found"


def test_failed_refresh_keeps_the_previous_keys(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock, ttl=100)
    kid = idp.keys[0].kid
    assert store.lookup(idp.issuer_v2, kid).status == "found"
    idp.down()
    clock.advance(101)
    lookup = store.lookup(idp.issuer_v2, kid)
    assert lookup.status == "found"
    state = store.state()[idp.issuer_v2]
    assert state.status == "error"
    assert state.key_count == 1
    assert state.label().startswith("error: connection refused")
    assert "using 1 keys from" in state.label()


def test_unknown_kid_when_the_refresh_fails_says_so(idp: FaultyIdP, clock: FakeClock) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    store.lookup(idp.issuer_v2, idp.keys[0].kid)
    idp.fail_next(1, status=502)
    clock.advance(61)
    lookup = store.lookup(idp.issuer_v2, "rolled")
    assert lookup.status == "kid-not-found"
    assert "refresh failed: HTTP 502" in lookup.detail
    # The keys fetched before the failure are still used.
    assert store.lookup(idp.issuer_v2, idp.keys[0].kid).status == "found"


def test_hanging_server_is_bounded_by_the_timeout(idp: FaultyIdP) -> None:
    idp.hang(30)
    lookup = KeyStore(allow_private=True, timeout=0.5).lookup(idp.issuer_v2, "k")
    assert lookup.status == "unavailable"
    assert "no response within 0.5 s" in lookup.detail


def test_oversized_jwks_is_refused(idp: FaultyIdP) -> None:
    idp.set_metadata_override(path=f"/{idp.tenant_id}/discovery/v2.0/keys", body=b" " * 2_000_000)
    lookup = KeyStore(allow_private=True).lookup(idp.issuer_v2, idp.keys[0].kid)
    assert lookup.status == "unavailable"
    assert "larger than 1024 KiB refused" in lookup.detail


def test_issuer_mismatch_makes_keys_unavailable(idp: FaultyIdP) -> None:
    idp.set_metadata_override({"issuer": "https://other.example/", "jwks_uri": idp.jwks_uri})
    lookup = KeyStore(allow_private=True).lookup(idp.issuer_v2, idp.keys[0].kid)
    assert lookup.status == "unavailable"
    assert "does not match the token's iss" in lookup.detail
    assert jwks_fetches(idp) == 0


# -- which key, when the token does not say -------------------------------------------


def test_no_kid_with_a_single_key_uses_it(idp: FaultyIdP) -> None:
    lookup = KeyStore(allow_private=True).lookup(idp.issuer_v2, None)
    assert lookup.status == "found"
    assert lookup.matched_by == "only-key"


def test_no_kid_with_several_keys_returns_the_candidates(idp: FaultyIdP) -> None:
    idp.keys.append(generate_rsa_key("second"))
    lookup = KeyStore(allow_private=True).lookup(idp.issuer_v2, None)
    assert lookup.status == "no-kid-match"
    assert lookup.key is None
    assert len(lookup.candidates) == 2
    assert "each must be tried" in lookup.detail


def test_x5t_names_the_key_when_kid_is_missing(idp: FaultyIdP) -> None:
    second = generate_rsa_key("second")
    idp.keys.append(second)
    lookup = KeyStore(allow_private=True).lookup(idp.issuer_v1, None, x5t=second.x5t)
    assert lookup.status == "found"
    assert lookup.matched_by == "x5t"


def test_explicit_jwks_uri_skips_discovery(idp: FaultyIdP) -> None:
    # The ORDS profile's p_jwk_url: ORDS uses it, whatever the metadata says.
    lookup = KeyStore(allow_private=True).lookup(
        idp.issuer_v2, idp.keys[0].kid, jwks_uri=idp.jwks_uri_v1
    )
    assert lookup.status == "found"
    assert lookup.jwks_uri == idp.jwks_uri_v1
    assert idp.request_log == [f"/{idp.tenant_id}/discovery/keys"]


def test_missing_issuer_is_unavailable() -> None:
    lookup = KeyStore(allow_private=True).lookup(None, "k")
    assert lookup.status == "unavailable"
    assert "no iss" in lookup.detail


# -- offline files --------------------------------------------------------------------


def test_offline_jwks_needs_no_network(tmp_path: Path) -> None:
    key = generate_rsa_key("offline-1")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys_from([key, generate_ec_key("offline-ec")])))
    store = KeyStore(offline_jwks=path)
    # Port 9 on loopback: nothing listens, and nothing may be asked.
    lookup = store.lookup("http://127.0.0.1:9/tenant/v2.0", "offline-1")
    assert lookup.status == "found"
    # A file is where the keys came from, never a URL ORDS could fetch them from.
    assert (lookup.jwks_uri, lookup.source) == (None, f"file:{path}")
    missing = store.lookup("http://127.0.0.1:9/tenant/v2.0", "nope")
    assert (missing.status, missing.jwks_uri, missing.source) == (
        "kid-not-found",
        None,
        f"file:{path}",
    )
    assert store.state()[f"file:{path}"].label().startswith("ok (2 keys")


def test_offline_metadata_with_network_keys(tmp_path: Path, idp: FaultyIdP) -> None:
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(idp.metadata()))
    store = KeyStore(offline_metadata=path)
    lookup = store.lookup(idp.issuer_v2, idp.keys[0].kid)
    assert lookup.status == "found"
    assert lookup.jwks_uri == lookup.source == idp.metadata()["jwks_uri"]
    assert idp.request_log == [f"/{idp.tenant_id}/discovery/v2.0/keys"]
    wrong = store.lookup(idp.issuer_v1, idp.keys[0].kid)
    assert wrong.status == "unavailable"
    assert wrong.detail.startswith("offline metadata: metadata issuer")


def test_offline_metadata_and_jwks_together(tmp_path: Path) -> None:
    key = generate_rsa_key("both")
    meta = tmp_path / "metadata.json"
    meta.write_text(
        json.dumps(
            {
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
                "jwks_uri": "https://login.microsoftonline.com/common/discovery/v2.0/keys",
            }
        )
    )
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys_from([key])))
    store = KeyStore(offline_metadata=meta, offline_jwks=jwks)
    issuer = "https://login.microsoftonline.com/t1/v2.0"
    found = store.lookup(issuer, "both", claims={"tid": "t1"})
    assert found.status == "found"
    # Keys from the file; the URL they are published at is the metadata's jwks_uri.
    assert found.jwks_uri == "https://login.microsoftonline.com/common/discovery/v2.0/keys"
    assert found.source == f"file:{jwks}"
    assert store.lookup(issuer, "both", claims={"tid": "t2"}).status == "unavailable"


def test_broken_offline_jwks_file(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text("{not json")
    lookup = KeyStore(offline_jwks=path).lookup("https://idp.example", "k")
    assert lookup.status == "unavailable"
    assert "is not JSON" in lookup.detail
    missing = load_jwks(tmp_path / "missing.json")
    assert isinstance(missing, KeysUnavailable) and not missing.refused


def test_unusable_jwks_entries_are_skipped() -> None:
    good = generate_rsa_key("good").public_jwk
    parsed = parse_jwks(
        {
            "keys": [
                {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
                {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
                {"kty": "RSA", "kid": "broken"},
                "not an object",
                good,
            ]
        },
        "test",
    )
    assert isinstance(parsed, KeySet)
    assert [k.kid for k in parsed.keys] == ["good"]
    assert len(parsed.skipped) == 4
    assert any("symmetric key refused" in s for s in parsed.skipped)
    nothing = parse_jwks({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "test")
    assert isinstance(nothing, KeysUnavailable) and "no usable signing key" in nothing.reason
    assert parse_jwks({"keys": "x"}, "test") == KeysUnavailable("JWKS has no 'keys' list")


# -- trust, limits, TLS, threads ------------------------------------------------------


def test_untrusted_issuer_is_refused_without_a_request(idp: FaultyIdP) -> None:
    store = KeyStore(trusted_issuers=["https://login.microsoftonline.com/t/v2.0"])
    lookup = store.lookup(idp.issuer_v2, idp.keys[0].kid)
    assert lookup.status == "untrusted-issuer"
    assert "discovery refused" in lookup.detail
    assert idp.request_log == []


def test_trusted_issuer_is_discovered(idp: FaultyIdP) -> None:
    store = KeyStore(trusted_issuers=[idp.issuer_v2])
    assert store.lookup(idp.issuer_v2, idp.keys[0].kid).status == "found"


def test_number_of_issuers_contacted_is_bounded(idp: FaultyIdP) -> None:
    # Full of anchored issuers (never evicted: tests/test_key_store_lru.py), the store
    # refuses an invented one without a request.
    anchored = (idp.issuer_v2, idp.issuer_v1)
    store = KeyStore(allow_private=True, max_sources=2, anchored_issuers=anchored)
    assert store.lookup(idp.issuer_v2, idp.keys[0].kid).status == "found"
    assert store.lookup(idp.issuer_v1, idp.keys[0].kid).status == "found"
    before = len(idp.request_log)
    third = store.lookup(f"{idp.base_url}/other/v2.0", "k")
    assert third.status == "unavailable"
    assert "already tracking 2 issuers" in third.detail
    assert len(idp.request_log) == before


def test_https_with_a_test_ca_from_requests_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with FaultyIdP(scheme="https", ssl_context=server_ctx) as server:
        kid = server.keys[0].kid
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        trusted = KeyStore(allow_private=True).lookup(server.issuer_v2, kid)
        assert trusted.status == "found", trusted.detail
        assert trusted.jwks_uri and trusted.jwks_uri.startswith("https://127.0.0.1:")
        # A bundle holding some other CA: the server's certificate must now fail.
        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
        untrusted = KeyStore(allow_private=True).lookup(server.issuer_v2, kid)
        assert untrusted.status == "unavailable"
        assert "TLS error" in untrusted.detail


def test_ca_set_on_the_session_beats_requests_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    session = requests.Session()
    session.verify = str(bundle)
    with FaultyIdP(scheme="https", ssl_context=server_ctx) as server:
        lookup = KeyStore(allow_private=True, session=session).lookup(
            server.issuer_v2, server.keys[0].kid
        )
        assert lookup.status == "found", lookup.detail


class Gate:
    """Holds every request the IdP receives until the test opens it.

    Lets a test keep a fetch in flight for exactly as long as it needs, instead of making
    the IdP hang for a guessed fraction of a second.
    """

    def __init__(self, idp: FaultyIdP, monkeypatch: pytest.MonkeyPatch) -> None:
        self.arrived = threading.Event()
        self._open = threading.Event()
        answer = idp._before_response

        def held() -> int | None:
            self.arrived.set()
            self._open.wait(WAIT)
            return answer()

        monkeypatch.setattr(idp, "_before_response", held)

    def open(self) -> None:
        self._open.set()


def run_together(count: int, work: Callable[[], object], gate: Gate) -> None:
    """``count`` threads call ``work`` at once while the first request is held at the IdP.

    The gate opens only once a request is held and every thread is on its way into
    ``work``, so the others meet a fetch in flight (or, if the store failed to share it,
    send their own requests, which the test's fetch counts then show).
    """
    started = threading.Semaphore(0)
    barrier = threading.Barrier(count)

    def worker() -> None:
        barrier.wait()
        started.release()
        work()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    try:
        assert gate.arrived.wait(WAIT), "no request reached the IdP"
        for _ in range(count):
            assert started.acquire(timeout=WAIT), "a worker never started"
    finally:
        gate.open()
        for t in threads:
            t.join(WAIT)
    assert not any(t.is_alive() for t in threads)


def test_concurrent_lookups_fetch_once(idp: FaultyIdP, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(idp, monkeypatch)
    store = KeyStore(allow_private=True)
    statuses: list[str] = []
    run_together(
        12, lambda: statuses.append(store.lookup(idp.issuer_v2, idp.keys[0].kid).status), gate
    )
    assert statuses == ["found"] * 12
    assert metadata_fetches(idp) == 3
    assert jwks_fetches(idp) == 1


def test_concurrent_unknown_kids_refresh_once(
    idp: FaultyIdP, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KeyStore(allow_private=True, clock=clock)
    store.lookup(idp.issuer_v2, idp.keys[0].kid)
    clock.advance(61)
    gate = Gate(idp, monkeypatch)
    run_together(10, lambda: store.lookup(idp.issuer_v2, uuid.uuid4().hex), gate)
    assert jwks_fetches(idp) == 2


def test_state_reports_fetching_while_in_flight(
    idp: FaultyIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "fetching" is observed while the IdP really holds the request, whatever the speed.
    gate = Gate(idp, monkeypatch)
    store = KeyStore(allow_private=True)
    worker = threading.Thread(target=store.lookup, args=(idp.issuer_v2, idp.keys[0].kid))
    worker.start()
    try:
        assert gate.arrived.wait(WAIT), "the key store never reached the IdP"
        assert store.state()[idp.issuer_v2].label() == "fetching"
    finally:
        gate.open()
        worker.join(WAIT)
    assert not worker.is_alive()
    assert store.state()[idp.issuer_v2].label().startswith("ok (1 keys, ")
