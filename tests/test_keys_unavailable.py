"""Why keys are missing is a typed record, not a string searched for "refus": only a
refusal by the address policy is blamed on the policy (a server refusing the connection
is the server's doing, and lifting the policy would not help)."""

from __future__ import annotations

import pytest

from inspector.keys.http import PUBLIC_ONLY, HttpClient, JsonFetch
from inspector.keys.store import KeyStore

ISSUER = "https://idp.example.test/tenant/v2.0"
POLICY = PUBLIC_ONLY.describe()


def _lookup_with(monkeypatch: pytest.MonkeyPatch, fetch: JsonFetch) -> str:
    # Every GET answers ``fetch`` (nothing leaves the process).
    monkeypatch.setattr(HttpClient, "get_json", lambda self, url: fetch)
    lookup = KeyStore(timeout=1).lookup(ISSUER, "kid")
    assert lookup.status == "unavailable"
    return lookup.detail


def test_a_refused_connection_is_not_blamed_on_the_address_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detail = _lookup_with(monkeypatch, JsonFetch(ISSUER, None, None, "connection refused"))
    assert "connection refused" in detail
    assert POLICY not in detail


def test_a_policy_refusal_says_how_to_lift_it(monkeypatch: pytest.MonkeyPatch) -> None:
    refusal = "refusing to contact 10.0.0.7 (private or non-global address)"
    detail = _lookup_with(monkeypatch, JsonFetch(ISSUER, None, None, refusal, refused=True))
    assert f"{POLICY}: {refusal}" in detail


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/keys",  # refused before sending: the URL itself
        "https://localhost:9/keys",  # refused at connect time: what the name resolved to
    ],
)
def test_the_client_marks_its_own_refusals(url: str) -> None:
    fetched = HttpClient(policy=PUBLIC_ONLY, timeout=2).get_json(url)
    assert fetched.refused, fetched.error
    assert fetched.error is not None and "refusing" in fetched.error


def test_a_server_refusing_the_connection_is_no_policy_refusal() -> None:
    import socket

    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetched = HttpClient(timeout=2).get_json(f"http://127.0.0.1:{port}/keys")
    assert fetched.error == "connection refused"
    assert not fetched.refused
