"""A token judged again (at a new second, with another status) through the engine's
memos gives the very JSON a fresh engine gives, with the time checks read from the
claims as ``checks.check_times`` reads them and the line encoded by ``json.dumps``.

The corpus is built for the shortcuts: tokens valid, expiring mid-sequence, not yet
valid, too old, without exp, with float, huge or boolean times, forged, with an unknown
kid, alg none, garbage, duplicate members; times that cross the duration text's minute
and hour steps; statuses that change from line to line; skew, age and ORDS's global
settings.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge import checks
from inspector.judge.analyzer import Analyzer, TokenFacts
from inspector.judge.attempt import Attempt
from inspector.judge.expectations import Expectations
from inspector.judge.fastpath import JsonLines
from inspector.judge.verdicts import Severity, Verdict, outcome_of
from inspector.keys.store import KeyStore
from parsers.ords_config import merge
from parsers.records import LogRecord, Source

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = BASE.timestamp()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def corpus(idp: LocalIdP) -> list[str]:
    claims = idp.entra_v2_claims(now=NOW - 120)
    rogue = generate_rsa_key(kid=idp.keys[0].kid)
    stranger = generate_rsa_key(kid="nobody-publishes-this")
    head = b64(json.dumps({"alg": "RS256", "kid": idp.keys[0].kid}).encode())
    duplicated = b'{"iss": "a", "exp": 1, "exp": 99999999999}'
    return [
        idp.mint(claims),
        idp.mint({**claims, "exp": int(NOW) + 5}),  # expires in the sequence
        idp.mint({**claims, "exp": int(NOW) - 3540}),  # 59m before: crosses 1h 0m
        idp.mint({**claims, "exp": NOW + 2.5}),  # a float exp: no window
        idp.mint({**claims, "nbf": int(NOW) + 70}),  # not yet valid, then valid
        idp.mint({**claims, "iat": int(NOW) - 650}),  # too old under an age limit
        idp.mint({k: v for k, v in claims.items() if k != "exp"}),
        idp.mint({**claims, "exp": 10**30}),
        idp.mint({**claims, "exp": True, "nbf": "soon"}),
        idp.mint({**claims, "exp": int(NOW) - 86400 * 3 - 5}),  # days
        idp.mint({**claims, "exp": int(NOW) + 3}, key=rogue),  # forged
        idp.mint({**claims, "exp": int(NOW) - 30}, key=stranger),  # unknown kid
        idp.mint({**claims, "exp": int(NOW) - 10}, alg="none"),
        f"{head}.{b64(duplicated)}.{b64(b'x' * 256)}",
        f"{head}.{b64(json.dumps({'exp': int(NOW) - 2}).encode())}.AAAA",
        "garbage.token.%%",
        "opaque-credential-0123456789",
    ]


def records(tokens: list[str]) -> Iterator[LogRecord]:
    """Each token on many lines, a second apart and across step boundaries, statuses mixed."""
    rng = random.Random(13)
    offsets = [*range(0, 75), 119, 120, 121, 3599, 3600, 3601, 3661, 7200, 86399, 86400]
    line = 0
    for offset in offsets:
        for token in rng.sample(tokens, len(tokens)):
            line += 1
            yield LogRecord(
                Source("r.log", line, 0),
                BASE + timedelta(seconds=offset),
                "192.0.2.1",
                "POST",
                "/ords/demo/mcp/",
                "HTTP/1.1",
                rng.choice((200, 200, 401, 403, None)),
                "Claude-User/1.0",
                f"Bearer {token}",
            )


def expectations(idp: LocalIdP) -> dict[str, Expectations]:
    strict = merge({"security.jwt.allowed.skew": "0", "security.jwt.allowed.age": "600"}, {})
    return {
        "none": Expectations(),
        "profile": Expectations(issuer=idp.issuer_v2, audience=idp.api_app_id),
        "skew-age": Expectations(allowed_skew=30, allowed_age=600),
        "ords-global": Expectations(issuer=idp.issuer_v2).with_ords_config(strict),
    }


def from_claims(self: Analyzer, facts: TokenFacts, at: datetime) -> list[Verdict]:
    """The time checks as the generic path has them: read from the claims each time."""
    return checks.check_times(facts.decoded.claims, at, self.expectations)


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalIdP, Path]:
    idp = LocalIdP()
    jwks = tmp_path_factory.mktemp("rejudge") / "jwks.json"
    jwks.write_text(json.dumps(idp.jwks()))
    return idp, jwks


@pytest.mark.parametrize("name", ["none", "profile", "skew-age", "ords-global"])
def test_a_token_judged_again_gives_what_a_fresh_engine_gives(
    setting: tuple[LocalIdP, Path], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp, jwks = setting
    exp = expectations(idp)[name]
    lines = list(records(corpus(idp)))
    keys = KeyStore(offline_jwks=jwks)
    analyzer, encoder = Analyzer(keys, exp), JsonLines()
    fast = []
    for record in lines:
        attempt, _, _ = analyzer.analyze_window(record)
        fast.append(encoder.encode(attempt))
    codes = {v["code"] for text in fast for v in json.loads(text)["verdicts"]}
    assert {"expired", "signature-invalid", "kid-not-found"} <= codes, codes
    with monkeypatch.context() as patch:
        patch.setattr(Analyzer, "_times", from_claims)
        for record, text in zip(lines, fast, strict=True):
            attempt = Analyzer(keys, exp).analyze(record)
            assert text == json.dumps(attempt.as_dict(), default=str), record.source.line


def test_time_verdicts_from_kept_numbers_are_check_times(
    setting: tuple[LocalIdP, Path],
) -> None:
    idp, _ = setting
    for exp in expectations(idp).values():
        analyzer = Analyzer(None, exp)
        for token in corpus(idp):
            facts = analyzer.facts(token)
            if facts.decoded.kind.value != "jws":
                continue
            for offset in (-90, -1, 0, 1, 2.5, 59, 60, 3599, 3600, 90000):
                at = BASE + timedelta(seconds=offset)
                kept = analyzer._times(facts, at)
                assert kept == checks.check_times(facts.decoded.claims, at, exp), (token, at)


def hostile_verdicts() -> list[Verdict]:
    texts = ['quote " and backslash \\', "é ü 漢字 \u2028", "ctrl \x00\x1f\x7f", "tab\tnl\n", ""]
    return [
        Verdict(f"code-{i}", sev, text, "", "") for i, text in enumerate(texts) for sev in Severity
    ]


def test_verdict_json_is_what_json_dumps_writes() -> None:
    attempt = Attempt(
        LogRecord(Source("v.log", 1, 0), BASE, None, None, None, None, 200, None, None),
        "client",
        None,
        None,
        tuple(hostile_verdicts()),
        outcome_of(hostile_verdicts()),
    )
    encoder = JsonLines()
    for _ in range(2):  # encoded, then from the memo
        assert encoder.encode(attempt) == json.dumps(attempt.as_dict(), default=str)
