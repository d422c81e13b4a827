"""The analyzer on log records: status interplay, caching, threads, hostile input."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.judge.analyzer import Analyzer
from inspector.judge.clients import ClientTable
from inspector.judge.expectations import Expectations, privilege_protects, role_privileges
from inspector.judge.verdicts import Outcome
from inspector.keys.store import KeyStore
from inspector.ords.standin import InMemoryOrds
from inspector.settings import ClientSettings, ConfigError
from parsers.records import LogRecord, Source
from tests.support.faulty_idp import FaultyIdP
from tests.support.https_keys import https_keys

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(
    authorization: str | None,
    status: int | None = 200,
    *,
    ua: str | None = "openai-mcp/1.0.0",
    time: datetime | None = WHEN,
    line: int = 1,
) -> LogRecord:
    return LogRecord(
        source=Source("extended.log", line, 0),
        time=time,
        remote_addr="192.0.2.7",
        method="POST",
        path="/ords/app/mcp/",
        protocol="HTTP/1.1",
        status=status,
        user_agent=ua,
        authorization=authorization,
    )


@pytest.fixture(scope="module")
def idp() -> FaultyIdP:
    return FaultyIdP()


@pytest.fixture(scope="module")
def keys(idp: FaultyIdP, tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    path = tmp_path_factory.mktemp("keys") / "jwks.json"
    path.write_text(json.dumps(idp.jwks()))
    return KeyStore(offline_jwks=path)


@pytest.fixture(scope="module")
def good(idp: FaultyIdP) -> str:
    return idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), upn="abe@contoso.example"))


@pytest.fixture
def analyzer(keys: KeyStore, idp: FaultyIdP) -> Analyzer:
    exp = Expectations(issuer=idp.issuer_v2, audience=idp.api_app_id, role_claim="/roles")
    return Analyzer(keys, exp)


def codes(attempt_verdicts: object) -> list[str]:
    return [v.code for v in attempt_verdicts]  # type: ignore[attr-defined]


def test_clean_token_accepted_is_ok(analyzer: Analyzer, good: str) -> None:
    attempt = analyzer.analyze(record(f"Bearer {good}", 200))
    assert attempt.outcome is Outcome.OK
    assert attempt.verdicts == ()
    assert attempt.client == "ChatGPT"
    assert attempt.subject == "abe@contoso.example"
    assert attempt.token is not None and attempt.token.verified is True
    assert good not in json.dumps(attempt.as_dict())


def test_clean_token_rejected_points_at_ords(analyzer: Analyzer, good: str) -> None:
    attempt = analyzer.analyze(record(f"Bearer {good}", 401))
    assert codes(attempt.verdicts) == ["rejected-by-server"]
    assert attempt.outcome is Outcome.FAIL


def test_forbidden_with_clean_token_is_rejected_by_server(analyzer: Analyzer, good: str) -> None:
    assert codes(analyzer.analyze(record(f"Bearer {good}", 403)).verdicts) == ["rejected-by-server"]


def test_success_despite_errors(analyzer: Analyzer, idp: FaultyIdP) -> None:
    bad = idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), aud="api://other"))
    attempt = analyzer.analyze(record(f"Bearer {bad}", 200))
    assert codes(attempt.verdicts) == ["audience-mismatch", "accepted-despite-errors"]
    assert "audience-mismatch" in attempt.verdicts[-1].message


def test_rejection_explained_by_the_token_adds_nothing(analyzer: Analyzer, idp: FaultyIdP) -> None:
    bad = idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), aud="api://other"))
    assert codes(analyzer.analyze(record(f"Bearer {bad}", 401)).verdicts) == ["audience-mismatch"]


def test_unauthenticated_401_is_no_token(analyzer: Analyzer) -> None:
    attempt = analyzer.analyze(record(None, 401, ua="Claude-User"))
    assert codes(attempt.verdicts) == ["no-token"]
    assert attempt.client == "Claude"
    assert "metadata" in attempt.verdicts[0].explanation
    assert attempt.token is None


def test_basic_credentials_are_never_decoded(analyzer: Analyzer) -> None:
    attempt = analyzer.analyze(record("Basic dXNlcjpzZWNyZXQ=", 401))
    assert codes(attempt.verdicts) == ["not-bearer"]
    assert attempt.token is None


def test_bare_token_is_not_bearer_but_still_analysed(analyzer: Analyzer, good: str) -> None:
    attempt = analyzer.analyze(record(good, 401))
    assert codes(attempt.verdicts)[0] == "not-bearer"
    assert attempt.token is not None and attempt.token.verified is True


def test_times_are_judged_at_the_request_not_now(analyzer: Analyzer, good: str) -> None:
    # Minted for WHEN: valid then, long expired by the test's wall clock.
    assert analyzer.analyze(record(f"Bearer {good}", 200)).verdicts == ()
    later = record(f"Bearer {good}", 200, time=WHEN + timedelta(hours=3))
    assert "expired" in codes(analyzer.analyze(later).verdicts)


def test_record_without_time_uses_now(analyzer: Analyzer, good: str) -> None:
    rec = record(f"Bearer {good}", 200, time=None)
    assert analyzer.analyze(rec, now=WHEN).verdicts == ()
    assert "expired" in codes(analyzer.analyze(rec, now=WHEN + timedelta(days=1)).verdicts)


def test_each_token_is_decoded_and_verified_once(keys: KeyStore, idp: FaultyIdP) -> None:
    analyzer = Analyzer(keys, Expectations())
    tokens = [idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), oid=str(i))) for i in range(3)]
    for i in range(300):
        analyzer.analyze(record(f"Bearer {tokens[i % 3]}", 200, line=i))
    _, misses, entries = analyzer.cache_stats
    assert (misses, entries) == (3, 3)
    # A bare token seen before (decode, the configurator) is not decoded again either.
    analyzer.analyze_token(tokens[0])
    assert analyzer.cache_stats[1] == 3


def test_cache_is_bounded(keys: KeyStore, idp: FaultyIdP) -> None:
    analyzer = Analyzer(None, Expectations(), cache_size=4)
    for i in range(10):
        analyzer.analyze_token(idp.mint({"iss": "x", "n": i}))
    assert analyzer.cache_stats[2] == 4


def test_with_expectations_shares_the_token_cache(analyzer: Analyzer, good: str) -> None:
    analyzer.analyze_token(good, at=WHEN)
    other = analyzer.with_expectations(Expectations(issuer="https://elsewhere/"))
    before = other.cache_stats[1]
    _, verdicts = other.analyze_token(good, at=WHEN)
    assert other.cache_stats[1] == before
    assert "issuer-mismatch" in codes(verdicts)
    _, original = analyzer.analyze_token(good, at=WHEN)
    assert original == ()


def test_proposed_profile_answers_will_this_token_pass(
    analyzer: Analyzer, good: str, idp: FaultyIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspector.judge.ords_objects import JwtProfile

    report, _ = analyzer.analyze_token(good, at=WHEN)
    # Judging under a profile fetches its p_jwk_url: a real one, on loopback.
    with https_keys(idp.keys, tmp_path) as key_host:
        key_host.trust(monkeypatch)
        profile = JwtProfile(
            issuer=report.claims["iss"],
            audience=report.claims["aud"],
            jwk_url=key_host.url,
            role_claim_name="roles",
        )
        under = analyzer.with_expectations(Expectations.from_profile(profile))
        _, verdicts = under.analyze_token(good, at=WHEN)
    assert "role-claim-pointer" in codes(verdicts)


def test_clients_table_is_extendable() -> None:
    table = ClientTable.from_settings(ClientSettings(((r"^MyBot/", "My bot"),)))
    assert table.classify("MyBot/2 (Mozilla/5.0)") == "My bot"
    assert table.classify("Mozilla/5.0 (X11)") == "browser"
    assert table.classify("curl/8.5.0") == "curl"
    assert table.classify(None) == "other"
    with pytest.raises(ConfigError):
        ClientTable.build([("(", "broken")])


def test_threads_share_one_analyzer(analyzer: Analyzer, idp: FaultyIdP) -> None:
    tokens = [idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), oid=str(i))) for i in range(8)]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(200):
                attempt = analyzer.analyze(record(f"Bearer {tokens[(i + offset) % 8]}", 200))
                assert attempt.outcome is Outcome.OK
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@settings(max_examples=300, deadline=None)
@given(token=st.text(max_size=400), status=st.sampled_from([None, 200, 401, 403, 500]))
def test_any_string_as_token_yields_verdicts(token: str, status: int | None) -> None:
    analyzer = Analyzer(None, Expectations(issuer="https://i/", audience="a", roles=("R",)))
    report, verdicts = analyzer.analyze_token(token, at=WHEN, status=status)
    assert isinstance(verdicts, tuple)
    assert report.fingerprint


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.none(), st.text(max_size=400)), status=st.integers(0, 999))
def test_any_authorization_header_yields_an_attempt(value: str | None, status: int) -> None:
    analyzer = Analyzer(None, Expectations(require_upn=True, allowed_age=60))
    attempt = analyzer.analyze(record(value, status))
    json.dumps(attempt.as_dict())
    assert attempt.outcome in set(Outcome)


@settings(max_examples=200, deadline=None)
@given(
    claims=st.dictionaries(
        st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "roles", "scp", "scope", "upn", "ver"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        ),
    )
)
def test_any_claim_values_yield_verdicts(claims: dict[str, object]) -> None:
    import base64

    def seg(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    token = f"{seg({'alg': 'RS256', 'kid': 'k'})}.{seg(claims)}.c2ln"
    exp = Expectations(
        issuer="https://i/",
        audience="a",
        roles=("R",),
        scopes=("s",),
        require_upn=True,
        allowed_age=60,
        allowed_skew=30,
    )
    _, verdicts = Analyzer(None, exp).analyze_token(token, at=WHEN, status=200)
    found = {v.code for v in verdicts}
    try:
        json.dumps(claims, allow_nan=False)
    except ValueError:
        # NaN/Infinity are not JSON (RFC 8259): such a payload is malformed, nothing else.
        assert "malformed-token" in found, found
        return
    # Without a key source the signature is never taken as checked.
    assert "signature-unchecked" in found, found
    # A 200 for a token with an error verdict is news: ORDS accepted what we would reject.
    assert "audience-mismatch" not in found or "accepted-despite-errors" in found
    # Every expectation the claims do not meet is named, whatever their shapes.
    if claims.get("iss") != "https://i/":
        assert "issuer-mismatch" in found, found
    if not isinstance(claims.get("exp"), int | float) or isinstance(claims.get("exp"), bool):
        assert "exp-missing" in found, found
    if not (isinstance(claims.get("upn"), str) and claims["upn"]):
        assert "upn-missing" in found, found


def test_key_rollover_is_picked_up_after_kid_not_found(
    idp: FaultyIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    import inspector.judge.analyzer as analyzer_module
    from inspector.demo.idp import generate_rsa_key

    first, second = generate_rsa_key(kid="rolled-1"), generate_rsa_key(kid="rolled-2")
    with FaultyIdP(keys=list(idp.keys)) as live:
        store = KeyStore(trusted_issuers=[live.issuer], min_refresh_interval=0)
        analyzer = Analyzer(store, Expectations())
        rec = record(f"Bearer {live.mint(live.entra_v2_claims(), key=first)}", 200, time=None)
        assert "kid-not-found" in codes(analyzer.analyze(rec).verdicts)
        live.rotate(first)
        # Within the retry interval the cached answer stands, until invalidated by hand.
        assert "kid-not-found" in codes(analyzer.analyze(rec).verdicts)
        analyzer.invalidate()
        assert analyzer.analyze(rec).outcome is Outcome.OK

        monkeypatch.setattr(analyzer_module, "UNAVAILABLE_RETRY_SECONDS", 0.0)
        rec = record(f"Bearer {live.mint(live.entra_v2_claims(), key=second)}", 200, time=None)
        assert "kid-not-found" in codes(analyzer.analyze(rec).verdicts)
        live.rotate(second)
        attempt = analyzer.analyze(rec)
    assert attempt.token is not None and attempt.token.verified is True


# --- with what a connected schema says (Expectations.from_schema) ------------------------------


def reference_roles(*extra_roles: str) -> dict[str, tuple[str, ...]]:
    """The in-memory ORDS's seeded role and privilege, plus roles holding nothing."""
    ords = InMemoryOrds()
    for name in extra_roles:
        ords.add_role(name)
    return role_privileges(ords.roles(), ords.privileges())


def mint(idp: FaultyIdP, **claims: object) -> str:
    return idp.mint(idp.entra_v2_claims(now=WHEN.timestamp(), **claims))


def role_based(idp: FaultyIdP) -> Expectations:
    """A role-based profile's expectations (keys from the offline JWKS, not a JWK URL)."""
    return Expectations(
        issuer=idp.issuer_v2, audience=idp.api_app_id, role_claim="/roles", profile_state="present"
    )


def test_without_a_database_a_clean_401_stays_rejected_by_server(
    keys: KeyStore, idp: FaultyIdP
) -> None:
    attempt = Analyzer(keys, Expectations()).analyze(record(f"Bearer {mint(idp)}", 401))
    assert codes(attempt.verdicts)[-1] == "rejected-by-server"
    assert "no-profile" not in codes(attempt.verdicts)


def test_schema_without_profile_says_no_profile(keys: KeyStore, idp: FaultyIdP) -> None:
    analyzer = Analyzer(keys, Expectations.from_schema(None, reference_roles()))
    attempt = analyzer.analyze(record(f"Bearer {mint(idp)}", 401))
    found = codes(attempt.verdicts)
    assert found[0] == "no-profile"
    assert "rejected-by-server" not in found
    # What a profile would need is still said, so the fix can be applied from here.
    assert {"profile-issuer", "profile-audience"} <= set(found)
    assert attempt.outcome is Outcome.FAIL
    # A 200 without a profile: the module is not protected by a JWT profile at all.
    accepted = analyzer.analyze(record(f"Bearer {mint(idp)}", 200))
    assert codes(accepted.verdicts)[-1] == "accepted-despite-errors"
    assert "no-profile" in accepted.verdicts[-1].message


def test_role_based_profile_and_known_roles(keys: KeyStore, idp: FaultyIdP) -> None:
    analyzer = Analyzer(
        keys, role_based(idp).merged(Expectations(ords_roles=reference_roles("Reader")))
    )
    good = analyzer.analyze(record(f"Bearer {mint(idp)}", 200))
    assert good.outcome is Outcome.OK, codes(good.verdicts)
    near = analyzer.analyze(record(f"Bearer {mint(idp, roles=['ordsusers'])}", 401))
    assert codes(near.verdicts) == ["role-missing"]
    assert "case differs" in near.verdicts[0].message
    idle = analyzer.analyze(record(f"Bearer {mint(idp, roles=['Reader'])}", 401))
    assert codes(idle.verdicts) == ["role-without-privilege"]
    # The same engine without the roles (no database) can only point at ORDS.
    blind = analyzer.with_expectations(role_based(idp))
    assert codes(blind.analyze(record(f"Bearer {mint(idp, roles=['Reader'])}", 401)).verdicts) == [
        "rejected-by-server"
    ]


def scope_based(idp: FaultyIdP) -> Expectations:
    """A scope-based profile's expectations (no role claim), as the schema reports it."""
    return Expectations(issuer=idp.issuer_v2, audience=idp.api_app_id, profile_state="present")


def test_scope_based_profile_and_known_privileges(keys: KeyStore, idp: FaultyIdP) -> None:
    ords = InMemoryOrds()
    schema = Expectations(ords_privileges=privilege_protects(ords.privileges()))
    analyzer = Analyzer(keys, scope_based(idp).merged(schema))
    good = analyzer.analyze(record(f"Bearer {mint(idp, scp='oracle.example.mcp')}", 200))
    assert good.outcome is Outcome.OK, codes(good.verdicts)
    # The IdP's default scope names no ORDS privilege: ORDS answers 401, and this says why.
    wrong = analyzer.analyze(record(f"Bearer {mint(idp)}", 401))
    assert codes(wrong.verdicts) == ["scope-missing"]
    assert '["mcp:connect"]' in wrong.verdicts[0].message
    assert '"oracle.example.mcp"' in wrong.verdicts[0].message
    # Without the privileges (no database) the same 401 can only point at ORDS.
    blind = analyzer.with_expectations(scope_based(idp))
    assert codes(blind.analyze(record(f"Bearer {mint(idp)}", 401)).verdicts) == [
        "rejected-by-server"
    ]
