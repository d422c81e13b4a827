"""The analysis engine: a log record in, an ``Attempt`` with its verdicts out.

Every consumer (``scan``, ``tail``, the TUI, the profile configurator, ``doctor``) goes
through ``Analyzer``; none re-implements a check. A token seen on many lines is decoded,
its key looked up and its signature verified once: results are cached by the token's
SHA-256 in a bounded LRU shared by every analyzer derived with ``with_expectations``.
Time checks are cheap and depend on the request, so they run every time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inspector import checks, rules
from inspector.attempt import Attempt, TokenReport
from inspector.checks import KeyCheck
from inspector.clients import ClientTable
from inspector.expectations import Expectations
from inspector.idp import idp_family, subject_of
from inspector.jwks import KeyStore
from inspector.signature import check_signature
from inspector.verdicts import Verdict, outcome_of
from parsers.authorization import parse_authorization
from parsers.records import LogRecord
from parsers.redaction import redact_credential
from parsers.token import DecodedToken, TokenKind, decode_token

# Algorithms a signature may be verified with when the key allows it. ORDS accepts only
# RS*, but verifying an ES256/PS256 token still tells the admin whether it is genuine.
# Never taken from the token: HMAC and "none" are absent on purpose.
VERIFIABLE_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
DEFAULT_CACHE_SIZE = 4096
# A key lookup that failed for a transient reason is retried after this many seconds.
UNAVAILABLE_RETRY_SECONDS = 30.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """Everything about one token that does not depend on expectations or time."""

    decoded: DecodedToken
    key: KeyCheck
    idp: str | None
    subject: str | None
    report: TokenReport
    verdicts: tuple[Verdict, ...]
    # Monotonic deadline after which the entry is recomputed (transient key failures).
    stale_after: float | None = None


class _LRU:
    """A small thread-safe LRU map; values are computed outside the lock."""

    def __init__(self, size: int) -> None:
        self._size = max(1, size)
        self._data: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: bytes, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class Analyzer:
    """Decode, verify and judge tokens the way ORDS would, with explanations.

    ``keys`` is a ``KeyStore`` (or None: signatures are then not checked);
    ``expectations`` what the profile requires; ``clock`` the time used when a record has
    none; ``clients`` the user-agent table. Safe to share between threads.
    """

    def __init__(
        self,
        keys: KeyStore | None,
        expectations: Expectations,
        *,
        clock: Callable[[], datetime] = _utcnow,
        clients: ClientTable | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        _facts: _LRU | None = None,
    ) -> None:
        self.keys = keys
        self.expectations = expectations
        self.clock = clock
        self.clients = clients or ClientTable.build()
        self._facts = _facts if _facts is not None else _LRU(cache_size)
        # Expectation-dependent verdicts per token; private to this analyzer.
        self._judged = _LRU(cache_size)

    def with_expectations(self, expectations: Expectations) -> Analyzer:
        """The same engine judging against ``expectations``, sharing decode/key caches."""
        return Analyzer(
            self.keys,
            expectations,
            clock=self.clock,
            clients=self.clients,
            _facts=self._facts,
        )

    @property
    def cache_stats(self) -> tuple[int, int, int]:
        """(hits, misses, entries) of the shared token cache."""
        return self._facts.hits, self._facts.misses, len(self._facts)

    # -- public entry points --------------------------------------------------------------

    def analyze(self, record: LogRecord, *, now: datetime | None = None) -> Attempt:
        """Judge one log record: credentials, token, status interplay.

        Time checks use the request's time; ``now`` (or the clock) only when the record
        has none.
        """
        auth = parse_authorization(record.authorization)
        verdicts = checks.check_credentials(auth, record.status)
        report: TokenReport | None = None
        subject: str | None = None
        token = auth.credentials
        # Basic credentials are a password: never decoded, never shown.
        if token and auth.scheme in ("Bearer", "DPoP", None):
            at = record.time or now or self.clock()
            facts = self._facts_for(token)
            report, subject = facts.report, facts.subject
            verdicts.extend(self._judge(token, facts, at))
        verdicts.extend(
            checks.check_status(
                record.status, verdicts, has_token=auth.is_bearer, exp=self.expectations
            )
        )
        final = tuple(verdicts)
        return Attempt(
            record=record,
            client=self.clients.classify(record.user_agent),
            subject=subject,
            token=report,
            verdicts=final,
            outcome=outcome_of(final),
        )

    def analyze_token(
        self, token: str, *, at: datetime | None = None, status: int | None = None
    ) -> tuple[TokenReport, tuple[Verdict, ...]]:
        """Judge a bare token (no log line): what ``decode`` and the configurator use.

        ``at`` is the time to judge at (default now); ``status`` the server's answer, if
        known, for the rejected-by-server / accepted-despite-errors verdicts.
        """
        facts = self._facts_for(token)
        verdicts = self._judge(token, facts, at or self.clock())
        verdicts.extend(
            checks.check_status(status, verdicts, has_token=True, exp=self.expectations)
        )
        return facts.report, tuple(verdicts)

    def facts(self, token: str) -> TokenFacts:
        """Decoded token, key check, IdP and subject (cached)."""
        return self._facts_for(token)

    # -- internals -----------------------------------------------------------------------

    def _judge(self, token: str, facts: TokenFacts, at: datetime) -> list[Verdict]:
        out = list(facts.verdicts)
        if facts.decoded.kind is not TokenKind.JWS:
            return out
        key = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        judged: tuple[Verdict, ...] | None = self._judged.get(key)
        if judged is None:
            judged = self._judge_claims(facts)
            self._judged.put(key, judged)
        out.extend(judged)
        out.extend(checks.check_times(facts.decoded.claims, at, self.expectations))
        return out

    def _judge_claims(self, facts: TokenFacts) -> tuple[Verdict, ...]:
        claims, exp = facts.decoded.claims, self.expectations
        out: list[Verdict] = []
        out.extend(checks.check_issuer(claims, exp, facts.idp))
        out.extend(checks.check_audience(claims, exp))
        out.extend(checks.check_authorization_claims(claims, exp))
        out.extend(checks.check_upn(claims, exp, facts.idp))
        out.extend(checks.check_jwk_url(exp))
        if (
            exp.jwk_url is None
            and facts.key.status == "verified"
            and (facts.key.jwks_uri or "").startswith(("https://", "http://"))
            and exp.issuer is None
        ):
            out.append(rules.PROFILE_JWK_URL.verdict(jwks_uri=facts.key.jwks_uri))
        return tuple(out)

    def _facts_for(self, token: str) -> TokenFacts:
        # The key check depends on where keys come from, so the JWK URL is part of the key.
        key = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest() + (
            self.expectations.jwk_url or ""
        ).encode("utf-8", "surrogateescape")
        cached: TokenFacts | None = self._facts.get(key)
        if cached is not None and (
            cached.stale_after is None or time.monotonic() < cached.stale_after
        ):
            return cached
        facts = self._compute_facts(token)
        self._facts.put(key, facts)
        if cached is not None:
            # A stale entry was recomputed; expectation verdicts may depend on the key.
            self._judged.clear()
        return facts

    def _compute_facts(self, token: str) -> TokenFacts:
        decoded = decode_token(token)
        idp = idp_family(decoded.claims) if decoded.kind is TokenKind.JWS else None
        key = self._check_key(token, decoded, idp)
        verdicts = [*checks.check_shape(decoded), *checks.check_header(decoded, idp)]
        verdicts.extend(checks.check_keys(key, decoded.claims.get("iss")))
        report = TokenReport(
            fingerprint=decoded.fingerprint,
            kind=decoded.kind.value,
            idp=idp,
            header=dict(decoded.header),
            claims=dict(decoded.claims),
            verified=key.verified,
            key_id=key.kid,
            jwks_uri=key.jwks_uri,
            redacted=redact_credential(token),
        )
        stale = (
            time.monotonic() + UNAVAILABLE_RETRY_SECONDS if key.status == "unavailable" else None
        )
        return TokenFacts(
            decoded=decoded,
            key=key,
            idp=idp,
            subject=subject_of(decoded.claims),
            report=report,
            verdicts=tuple(verdicts),
            stale_after=stale,
        )

    def _check_key(self, token: str, decoded: DecodedToken, idp: str | None) -> KeyCheck:
        kid = decoded.kid
        if decoded.kind is not TokenKind.JWS:
            return KeyCheck("skipped", None, kid, detail=f"{decoded.kind.value} token")
        alg = decoded.alg
        if alg not in VERIFIABLE_ALGORITHMS:
            return KeyCheck("skipped", None, kid, detail=f"alg {alg} cannot be verified")
        if checks.is_graph_token(decoded, idp):
            return KeyCheck("skipped", None, kid, detail="only Microsoft Graph can verify it")
        if self.keys is None:
            return KeyCheck("no-keys", None, kid, detail="no key source configured")
        iss = decoded.claims.get("iss")
        x5t = decoded.header.get("x5t")
        try:
            # ORDS fetches keys from p_jwk_url, not from the token's issuer: when the
            # profile (or the user) names it, that is where the key must be.
            lookup = self.keys.lookup(
                iss if isinstance(iss, str) else "",
                kid,
                claims=decoded.claims,
                x5t=x5t if isinstance(x5t, str) else None,
                jwks_uri=self.expectations.jwk_url,
            )
            if lookup.status in ("found", "no-kid-match"):
                result = check_signature(token, lookup, algorithms=VERIFIABLE_ALGORITHMS)
            else:
                return KeyCheck(lookup.status, None, kid, lookup.jwks_uri, lookup.detail)
        except Exception as exc:  # key sources do I/O on hostile input: never stop a scan
            return KeyCheck("unavailable", None, kid, detail=_one_line(exc))
        if result.verified is True:
            return KeyCheck("verified", True, kid, lookup.jwks_uri, result.detail)
        if result.verified is False:
            return KeyCheck("signature-invalid", False, kid, lookup.jwks_uri, result.detail)
        return KeyCheck("skipped", None, kid, lookup.jwks_uri, result.detail)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
