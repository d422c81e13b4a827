"""SSRF hardening (review finding M1): which addresses a metadata or key fetch may reach.

Every form below reaches the cloud metadata service or another host the tool must never
contact on a token's word. Refusals happen before any packet leaves: the numeric and
metadata-name forms are never even resolved, so these tests need no network.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.judge.engine import build_analyzer
from inspector.keys.http import ANY_ADDRESS, PUBLIC_ONLY, HttpClient, url_problem
from inspector.keys.store import KeyStore
from inspector.settings import Config, ConfigError, Settings
from tests.support.faulty_idp import FaultyIdP

BYPASSES = [
    "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one decimal number
    "http://0xa9fea9fe/latest/meta-data/",  # ... as one hex number
    "http://169.254.43518/latest/meta-data/",  # ... as a.b.N
    "http://0251.0376.0251.0376/",  # ... in octal parts
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",  # the same, in hex
    "http://[::169.254.169.254]/",  # IPv4-compatible IPv6
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64
    "http://[2002:a9fe:a9fe::]/",  # 6to4
    "http://169.254.169.254/",
    "http://[fd00:ec2::254]/",  # AWS IMDS over IPv6
    "http://100.100.100.200/",  # Alibaba Cloud metadata
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.google.internal./computeMetadata/v1/",
    "http://metadata/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://224.0.0.1/",
]


@pytest.fixture(scope="module")
def idp() -> Iterator[FaultyIdP]:
    with FaultyIdP() as server:
        yield server


@pytest.mark.parametrize("url", BYPASSES)
@pytest.mark.parametrize("policy", [ANY_ADDRESS, PUBLIC_ONLY], ids=["anchored", "unanchored"])
def test_every_bypass_form_is_refused_before_any_lookup(
    url: str, policy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[object] = []

    def no_lookup(host: object, *args: object, **kwargs: object) -> Any:
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "no lookups in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    fetched = HttpClient(timeout=1, policy=policy).get_json(url)
    assert fetched.document is None
    assert fetched.error is not None and fetched.error.startswith("refusing to contact"), fetched
    assert url_problem(url, policy) == fetched.error
    assert looked_up == []


def _resolving_to(
    monkeypatch: pytest.MonkeyPatch, *answers: list[str]
) -> list[tuple[object, object]]:
    """``getaddrinfo`` answers ``answers[i]`` on its i-th call (the last one from then on)."""
    calls: list[tuple[object, object]] = []

    def fake(host: object, port: object, *args: object, **kwargs: object) -> Any:
        addresses = answers[min(len(calls), len(answers) - 1)]
        calls.append((host, port))
        out = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr: tuple[Any, ...] = (
                (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            )
            out.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return out

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return calls


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "::ffff:169.254.169.254", "fe80::1", "100.100.100.200"]
)
def test_a_name_resolving_to_a_forbidden_address_is_refused(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _resolving_to(monkeypatch, ["93.184.216.34", address])
    fetched = HttpClient(timeout=1).get_json("https://idp.example/.well-known/x")
    assert fetched.error is not None
    assert fetched.error.startswith("idp.example: refusing to contact"), fetched.error


def test_dns_rebinding_is_caught_when_the_socket_is_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check sees a public address; the connect gets loopback (a rebinding resolver).
    calls = _resolving_to(monkeypatch, ["93.184.216.34"], ["127.0.0.1"])
    connects: list[object] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        connects.append(address)
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    fetched = HttpClient(timeout=1, policy=PUBLIC_ONLY).get_json("https://rebind.example/x")
    assert len(calls) == 2  # judged, then resolved again to open the socket
    assert fetched.error == "refusing to contact 127.0.0.1 (loopback)"
    assert connects == []


def test_the_socket_goes_to_the_address_that_was_judged(
    idp: FaultyIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "lab-idp.test" exists only for this test; its one answer is the IdP on loopback.
    _resolving_to(monkeypatch, ["127.0.0.1"])
    path = idp.metadata_url.removeprefix(idp.base_url)
    url = f"http://lab-idp.test:{idp.port}{path}"
    fetched = HttpClient(timeout=2).get_json(url)
    assert fetched.ok, fetched.describe()
    refused = HttpClient(timeout=2, policy=PUBLIC_ONLY).get_json(url)
    assert refused.error is not None
    assert "refusing" in refused.error


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1:8443/x", "loopback"),
        ("https://[::1]:8443/x", "loopback"),
        ("https://10.1.2.3/x", "private"),
        ("https://192.168.0.10/x", "private"),
        ("https://172.16.5.4/x", "private"),
        ("https://100.64.0.1/x", "non-global"),
        ("https://[fc00::1]/x", "private"),
        ("https://[::ffff:10.0.0.1]/x", "private"),
        ("http://idp.example/x", "plain http"),
    ],
)
def test_unanchored_issuers_reach_only_public_https(url: str, reason: str) -> None:
    problem = url_problem(url, PUBLIC_ONLY)
    assert problem is not None and reason in problem
    assert url_problem(url, ANY_ADDRESS) is None


def test_localhost_is_loopback_after_resolution() -> None:
    fetched = HttpClient(timeout=1, policy=PUBLIC_ONLY).get_json("https://localhost:9/x")
    assert fetched.error == "localhost: refusing to contact 127.0.0.1 (loopback)" or (
        fetched.error == "localhost: refusing to contact ::1 (loopback)"
    )


def test_redirect_to_a_forbidden_address_is_refused(idp: FaultyIdP) -> None:
    idp.set_metadata_override(
        path="/hop",
        status=302,
        body=b"",
        headers={"Location": "http://[::ffff:169.254.169.254]/latest/meta-data/"},
    )
    try:
        fetched = HttpClient(timeout=2).get_json(f"{idp.base_url}/hop")
    finally:
        idp.clear_behaviours()
    assert fetched.error is not None
    assert fetched.error.startswith("redirect refused: refusing to contact 169.254.169.254")


# -- the key store: anchored issuers versus issuers only a token named -------------------


def test_unanchored_loopback_issuer_is_not_discovered(idp: FaultyIdP) -> None:
    lookup = KeyStore(timeout=2).lookup(idp.issuer_v2, idp.keys[0].kid)
    assert lookup.status == "unavailable"
    assert "refusing to contact 127.0.0.1 (loopback)" in lookup.detail
    assert "--trusted-issuer" in lookup.detail and "--allow-private-idp" in lookup.detail


@pytest.mark.parametrize("how", ["trusted", "expected-or-profile", "opted-in"])
def test_anchored_or_opted_in_loopback_issuer_is_discovered(idp: FaultyIdP, how: str) -> None:
    if how == "trusted":
        store = KeyStore(timeout=2, trusted_issuers=[idp.issuer_v2])
    elif how == "expected-or-profile":
        store = KeyStore(timeout=2)
        store.anchor(idp.issuer_v2)
    else:
        store = KeyStore(timeout=2, allow_private=True)
    lookup = store.lookup(idp.issuer_v2, idp.keys[0].kid)
    assert lookup.status == "found", lookup.detail


def test_explicit_jwks_url_is_the_users_choice(idp: FaultyIdP) -> None:
    # A profile's p_jwk_url (or --jwk-url) may live on a private network.
    lookup = KeyStore(timeout=2).lookup(idp.issuer_v2, idp.keys[0].kid, jwks_uri=idp.jwks_uri)
    assert lookup.status == "found", lookup.detail


# -- the opt-in and the anchors from flags and the config ----------------------------------


def _store(sections: dict[str, dict[str, Any]], *argv: str) -> KeyStore:
    args = build_parser().parse_args(["decode", *argv])
    settings = settings_from_args(args, base=Settings.from_config(Config(sections=sections)))
    keys = build_analyzer(settings).keys
    assert keys is not None
    return keys


def test_allow_private_comes_from_the_flag_or_the_config() -> None:
    assert _store({}).allow_private is False
    assert _store({}, "--allow-private-idp").allow_private is True
    assert _store({"keys": {"allow_private_issuers": True}}).allow_private is True


def test_allow_private_issuers_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match="allow_private_issuers: must be true or false"):
        _store({"keys": {"allow_private_issuers": "yes"}})


def test_trusted_and_expected_issuers_are_anchored() -> None:
    keys = _store({"expect": {"issuer": "https://idp.test/exp"}}, "--trusted-issuer", "https://t/")
    assert keys.is_anchored("https://t/") and keys.is_anchored("https://idp.test/exp")
    assert not keys.is_anchored("https://other.test/")
