"""The analysis engine: a log record in, an ``Attempt`` with its verdicts out.

Every consumer (``scan``, ``tail``, the TUI, the profile configurator, ``doctor``) goes
through ``Analyzer``; none re-implements a check. A token seen on many lines is decoded,
its key looked up and its signature verified once: results are cached by the token's
SHA-256 in a bounded LRU shared by every analyzer derived with ``with_expectations``.
Each analyzer also keeps, per distinct Authorization value, every verdict that depends
neither on time nor on the response status, so a log line costs a dictionary lookup, a
few time comparisons and a memoized status verdict.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from inspector.judge import checks, rules
from inspector.judge.attempt import Attempt, TokenReport
from inspector.judge.checks import KeyCheck
from inspector.judge.clients import ClientTable
from inspector.judge.expectations import ORDS_MAX_SKEW, Expectations
from inspector.judge.idp import idp_family, subject_of
from inspector.judge.verdicts import Outcome, Verdict, outcome_of
from inspector.keys.signature import check_signature
from inspector.keys.store import KeyStore
from parsers.authorization import Authorization, parse_authorization
from parsers.records import LogRecord
from parsers.redaction import redact_credential
from parsers.token import DecodedToken, TokenKind, decode_token

# Algorithms a signature may be verified with when the key allows it. ORDS accepts only
# RS*, but verifying an ES256/PS256 token still tells the admin whether it is genuine.
# Never taken from the token: HMAC and "none" are absent on purpose.
VERIFIABLE_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
# Distinct tokens whose judgement is kept (decode, key check, verdicts, per Authorization
# value): a busy server sees thousands a day, each reused for an hour, and a cache
# smaller than the tokens in use recomputes every one of them on nearly every line.
# About 15 KB each at most: bounded, whatever the number of tokens in a log.
DEFAULT_CACHE_SIZE = 16384
# Memos of small values (status and client verdicts).
_SMALL_MEMO = 4096
# A key lookup that failed for a transient reason (keys unreachable, or a kid the IdP
# may publish soon after a rollover) is retried after this many seconds. The KeyStore
# rate-limits the fetches behind it.
UNAVAILABLE_RETRY_SECONDS = 30.0
_RETRIED_STATUSES = ("unavailable", "kid-not-found")


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
    # exp, nbf, iat as numbers (None when absent or unusable), for the per-line fast path.
    times: tuple[float | None, float | None, float | None] = (None, None, None)


@dataclass(frozen=True, slots=True)
class _HeaderEntry:
    """One distinct Authorization value, judged except for time and status."""

    auth: Authorization
    facts: TokenFacts | None
    verdicts: tuple[Verdict, ...]
    codes: tuple[str, ...]
    outcome: Outcome
    # True for a value with neither scheme nor credentials ("", spaces): no credentials.
    empty: bool
    # (start, end, time verdicts) of the last line judged: the verdicts hold for request
    # times in [start, end) (or at start only, when start == end). Replaced whole, so a
    # race only costs a recompute.
    memo: list[tuple[float, float, tuple[Verdict, ...]]] = field(default_factory=list)
    # (id(time verdicts), id(status verdicts)) -> (those two, all verdicts, outcome).
    finals: dict[
        tuple[int, int],
        tuple[tuple[Verdict, ...], tuple[Verdict, ...], tuple[Verdict, ...], Outcome],
    ] = field(default_factory=dict)
    # Privileges protecting a requested path -> the ORDS role/scope verdicts for it.
    scoped: dict[frozenset[str], tuple[Verdict, ...]] = field(default_factory=dict)
    # (id(time verdicts), id(scoped verdicts)) -> (those two, joined).
    joined: dict[
        tuple[int, int],
        tuple[tuple[Verdict, ...], tuple[Verdict, ...], tuple[Verdict, ...]],
    ] = field(default_factory=dict)


class _LRU:
    """A small thread-safe LRU map; values are computed outside the lock."""

    def __init__(self, size: int) -> None:
        self._size = max(1, size)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: Any) -> None:
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
        cache_size: int | None = None,
        _facts: _LRU | None = None,
    ) -> None:
        if cache_size is None:
            cache_size = DEFAULT_CACHE_SIZE
        self.keys = keys
        self.expectations = expectations
        self.clock = clock
        self.clients = clients or ClientTable.build()
        self._facts = _facts if _facts is not None else _LRU(cache_size)
        # Expectation-dependent verdicts per token; private to this analyzer.
        self._judged = _LRU(cache_size)
        # Per distinct Authorization value (a log repeats the same header thousands of
        # times): everything but the time and status checks, keyed by the exact string.
        # A plain dict (emptied when full) rather than an LRU: this lookup runs for every
        # log line, and dict operations are atomic under the GIL.
        self._headers: dict[str, _HeaderEntry] = {}
        self._headers_max = max(1, cache_size)
        self._client_names: dict[str | None, str] = {}
        self._status_memo: dict[tuple[int, bool, tuple[str, ...] | None], tuple[Verdict, ...]] = {}
        # Role and scope checks follow the requested path when the privileges' paths are
        # known: the token-level judgement then leaves the ORDS part to each request.
        self._scoped = checks.path_scoped(expectations)
        self._claims_exp = (
            checks.without_ords_authorization(expectations) if self._scoped else expectations
        )
        self._skew = checks.effective_skew(expectations)
        self._jwk_url_key = (expectations.jwk_url or "").encode("utf-8", "surrogatepass")
        age = expectations.allowed_age
        if age is None:
            age = checks.global_age(expectations)
        self._max_age = age if age is not None and age > 0 else None
        # Whole seconds in the exact range (see _time_window), worked out once.
        self._exact_settings = all(
            v is None or (float(v).is_integer() and 0 <= v < _EXACT_TO)
            for v in (self._skew, self._max_age)
        )
        # ORDS's global skew adds a verdict near the limits: no time windows then.
        self._no_window = checks.global_skew_decides(expectations)
        # Settings under which check_times always has something to say: no fast path.
        self._slow_times = (
            expectations.allowed_skew is not None and expectations.allowed_skew > ORDS_MAX_SKEW
        )

    def with_expectations(self, expectations: Expectations) -> Analyzer:
        """The same engine judging against ``expectations``, sharing decode/key caches."""
        return Analyzer(
            self.keys,
            expectations,
            clock=self.clock,
            clients=self.clients,
            _facts=self._facts,
        )

    def invalidate(self) -> None:
        """Forget every cached judgement (after keys were refreshed by hand, say)."""
        self._facts.clear()
        self._judged.clear()
        self._headers.clear()

    @property
    def cache_stats(self) -> tuple[int, int, int]:
        """(hits, misses, entries) of the shared token cache."""
        return self._facts.hits, self._facts.misses, len(self._facts)

    # -- public entry points --------------------------------------------------------------

    def analyze(
        self, record: LogRecord, *, now: datetime | None = None, wait: bool = True
    ) -> Attempt:
        """Judge one log record: credentials, token, status interplay.

        Time checks use the request's time; ``now`` (or the clock) only when the record
        has none. With ``wait=False`` a token whose issuer's keys are not fetched yet is
        judged at once with ``keys-pending`` (:func:`keys_pending`); the fetch goes on in
        the background and a later call judges it in full.
        """
        return self._analyze(record, now, wait)[0]

    def _analyze(
        self, record: LogRecord, now: datetime | None, wait: bool
    ) -> tuple[Attempt, _HeaderEntry | None]:
        """``analyze``, and the Authorization value's entry it judged with."""
        status = record.status
        auth = record.authorization
        entry = self._header_entry(auth, wait) if auth else None
        report: TokenReport | None = None
        subject: str | None = None
        if entry is None or entry.empty:
            # No credentials: only the status can say something (no-token on a 401/403).
            final = () if status is None else self._status(status, False, (), None)
            outcome = outcome_of(final)
        else:
            final = entry.verdicts
            codes = entry.codes
            facts = entry.facts
            timed: tuple[Verdict, ...] = ()
            if facts is not None:
                report, subject = facts.report, facts.subject
                if facts.decoded.kind is TokenKind.JWS:
                    at = request_start(record) or now or self.clock()
                    timed = self._times_memo(entry, facts, at)
                    if self._scoped:
                        # Folded into the time verdicts: both are per request, not per token.
                        scoped = self._scoped_memo(entry, facts, record.path)
                        if scoped:
                            timed = self._joined(entry, timed, scoped)
                    if timed:
                        final = final + timed
                        codes = codes + tuple(v.code for v in timed)
            extra = (
                () if status is None else self._status(status, entry.auth.is_bearer, final, codes)
            )
            if not timed and not extra:
                # The common case (a token fine at its time, no status verdict) reuses
                # the entry's tuple and outcome: nothing is allocated but the Attempt.
                outcome = entry.outcome
            else:
                # Time and status verdicts come from memos, so the same pair is the same
                # objects: so is the result, and consumers keyed on it (JSON) hit.
                combo = entry.finals.get((id(timed), id(extra)))
                if combo is not None and combo[0] is timed and combo[1] is extra:
                    final, outcome = combo[2], combo[3]
                else:
                    final = final + extra
                    outcome = outcome_of(final)
                    if len(entry.finals) >= _FINALS_MAX:
                        entry.finals.clear()
                    entry.finals[(id(timed), id(extra))] = (timed, extra, final, outcome)
        attempt = Attempt(
            record=record,
            client=self._client(record.user_agent),
            subject=subject,
            token=report,
            verdicts=final,
            outcome=outcome,
        )
        return attempt, entry

    def analyze_window(
        self, record: LogRecord, *, now: datetime | None = None, wait: bool = True
    ) -> tuple[Attempt, float, float]:
        """``analyze(record)`` and the times ``[start, end)`` over which its result holds.

        Any record with the same ``authorization``, ``status`` and ``user_agent`` (the only
        fields ``analyze`` reads besides ``time``) whose ``time.timestamp()`` lies in the
        window gets the same client, subject, token report, verdicts (messages included)
        and outcome. A time verdict's message names a duration ("expired 5m 3s before"),
        so its window is the stretch over which that text stays the same. The window is
        empty (``start >= end``) when the record has no time or the key check is to be
        retried.
        """
        attempt, entry = self._analyze(record, now, wait)
        if record.time is None or self._scoped or _REQUEST_TIME in record.fields:
            # Path-scoped verdicts depend on the request path, and times at the request's
            # start on its $request_time: no window of log times covers either.
            return attempt, _INF, -_INF
        if entry is None or entry.empty or entry.facts is None:
            return attempt, -_INF, _INF
        if entry.facts.stale_after is not None:
            return attempt, _INF, -_INF
        if entry.facts.decoded.kind is not TokenKind.JWS:
            return attempt, -_INF, _INF
        stamp = record.time.timestamp()
        # analyze just judged this time through the entry's memo: its window is there.
        memo = entry.memo
        start, end = memo[0][:2] if memo else (_INF, -_INF)
        if not start <= stamp < end:
            return attempt, _INF, -_INF
        return attempt, start, end

    def _time_window(self, facts: TokenFacts, stamp: float) -> tuple[float, float]:
        """The times around ``stamp`` at which ``check_times`` says the very same thing.

        Follows ``check_times`` condition by condition, and ``checks.duration`` for the
        texts. Only whole-second claims and settings, and times between 2004 and 2038,
        are given a window: there every sum and difference below is exact in a float,
        so the bounds agree with those comparisons to the bit.
        """
        if facts.decoded.kind is not TokenKind.JWS:
            return -_INF, _INF
        if self._no_window:
            return _INF, -_INF
        start, end = _EXACT_FROM, _EXACT_TO
        expires, not_before, issued = facts.times
        skew = self._skew
        age = self._max_age
        if not start <= stamp < end or not self._exact_settings:
            return _INF, -_INF
        # Run for every line judged again: a loop, not a generator (times are floats).
        for v in facts.times:
            if v is not None and not (v.is_integer() and 0 <= v < _EXACT_TO):
                return _INF, -_INF
        if expires is not None:
            limit = expires + skew
            if stamp < limit:
                end = min(end, limit)
            else:  # expired; the message says how long before
                low, width = _duration_step(stamp - expires)
                start = max(start, limit, expires + low)
                end = min(end, expires + low + width)
        if not_before is not None:
            limit = not_before - skew
            if stamp >= limit:
                start = max(start, limit)
            else:  # not yet valid: int(not_before - now) in [low, low + width)
                end = min(end, limit)
                low, width = _duration_step(not_before - stamp)
                start = max(start, math.nextafter(not_before - low - width, _INF))
                end = min(end, math.nextafter(not_before - low, _INF))
        if age is not None and issued is not None:
            limit = issued + age + skew
            if stamp <= limit:
                end = min(end, math.nextafter(limit, _INF))
            else:  # too old; the message says how old
                low, width = _duration_step(stamp - issued)
                start = max(start, math.nextafter(limit, _INF), issued + low)
                end = min(end, issued + low + width)
        return start, end

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
        out = [
            *checks.with_refresh_hint(facts.verdicts, self.expectations),
            *self._claims_verdicts(token, facts),
        ]
        if facts.decoded.kind is TokenKind.JWS:
            if self._scoped:
                # No request: any protecting privilege counts.
                claims = facts.decoded.claims
                out.extend(checks.check_ords_authorization(claims, self.expectations, None))
            out.extend(self._times(facts, at))
        return out

    def _scoped_memo(
        self, entry: _HeaderEntry, facts: TokenFacts, path: str | None
    ) -> tuple[Verdict, ...]:
        paths = self.expectations.ords_paths or {}
        allowed = None if path is None else checks.protecting_privileges(path, paths)
        key = allowed if allowed is not None else _ANY_PATH
        found = entry.scoped.get(key)
        if found is None:
            found = tuple(
                checks.check_ords_authorization(facts.decoded.claims, self.expectations, allowed)
            )
            if len(entry.scoped) >= _FINALS_MAX:
                entry.scoped.clear()
            entry.scoped[key] = found
        return found

    @staticmethod
    def _joined(
        entry: _HeaderEntry, timed: tuple[Verdict, ...], scoped: tuple[Verdict, ...]
    ) -> tuple[Verdict, ...]:
        # The same pair gives the same tuple object: the finals memo is keyed on identity.
        key = (id(timed), id(scoped))
        found = entry.joined.get(key)
        if found is None or found[0] is not timed or found[1] is not scoped:
            if len(entry.joined) >= _FINALS_MAX:
                entry.joined.clear()
            found = (timed, scoped, scoped + timed)
            entry.joined[key] = found
        return found[2]

    def _claims_verdicts(
        self, token: str, facts: TokenFacts, digest: bytes | None = None
    ) -> tuple[Verdict, ...]:
        if facts.decoded.kind is not TokenKind.JWS:
            return ()
        if facts.key.status == "pending":
            # They depend on the key check (profile-jwk-url): not kept until it is done.
            return self._judge_claims(facts)
        key = digest or _digest(token)
        judged: tuple[Verdict, ...] | None = self._judged.get(key)
        if judged is None:
            judged = self._judge_claims(facts)
            self._judged.put(key, judged)
        return judged

    def _header_entry(self, authorization: str, wait: bool = True) -> _HeaderEntry:
        entry: _HeaderEntry | None = self._headers.get(authorization)
        if entry is not None and (
            entry.facts is None
            or entry.facts.stale_after is None
            or time.monotonic() < entry.facts.stale_after
        ):
            return entry
        auth = parse_authorization(authorization)
        verdicts = checks.check_credentials(auth, None)
        facts = None
        token = auth.credentials
        # Basic credentials are a password: never decoded, never shown.
        if token and auth.scheme in ("Bearer", "DPoP", None):
            # Both caches are keyed by the token's SHA-256: hashed once.
            digest = _digest(token)
            facts = self._facts_for(token, wait, digest)
            verdicts.extend(checks.with_refresh_hint(facts.verdicts, self.expectations))
            verdicts.extend(self._claims_verdicts(token, facts, digest))
        final = tuple(verdicts)
        entry = _HeaderEntry(
            auth,
            facts,
            final,
            tuple(v.code for v in final),
            outcome_of(final),
            auth.scheme is None and auth.credentials is None,
        )
        headers = self._headers
        if len(headers) >= self._headers_max:
            # The oldest sixteenth goes (dicts keep insertion order): emptying it all
            # would judge every token in use again at once, and one at a time walks every
            # slot deleted before (a dict keeps them until it grows) on each new token.
            try:
                for old in list(islice(headers, max(1, len(headers) // 16))):
                    del headers[old]
            except (KeyError, RuntimeError):
                headers.clear()  # another thread changed it meanwhile
        headers[authorization] = entry
        return entry

    def _times_memo(
        self, entry: _HeaderEntry, facts: TokenFacts, at: datetime
    ) -> tuple[Verdict, ...]:
        stamp = at.timestamp()
        memo = entry.memo
        if memo:
            start, end, found = memo[0]
            if start <= stamp < end or stamp == start:
                return found
        verdicts = tuple(self._times(facts, at))
        start, end = self._time_window(facts, stamp)
        if not start <= stamp < end:
            start = end = stamp  # this very time only
        memo[:] = [(start, end, verdicts)]
        return verdicts

    def _status(
        self,
        status: int,
        has_token: bool,
        verdicts: tuple[Verdict, ...],
        codes: tuple[str, ...] | None,
    ) -> tuple[Verdict, ...]:
        """Status verdicts, memoized: they depend only on the status and the codes.

        ``codes`` None means the request carried no credentials at all.
        """
        key = (status, has_token, codes)
        found = self._status_memo.get(key)
        if found is None:
            found = tuple(
                checks.check_credentials(Authorization(None, None), status)
                if codes is None
                else checks.check_status(
                    status, verdicts, has_token=has_token, exp=self.expectations
                )
            )
            if len(self._status_memo) > _SMALL_MEMO:
                self._status_memo.clear()
            self._status_memo[key] = found
        return found

    def _client(self, user_agent: str | None) -> str:
        name = self._client_names.get(user_agent)
        if name is None:
            name = self.clients.classify(user_agent)
            if len(self._client_names) > _SMALL_MEMO:
                self._client_names.clear()
            self._client_names[user_agent] = name
        return name

    def _times(self, facts: TokenFacts, at: datetime) -> list[Verdict]:
        # Most lines carry a token that is within its lifetime: answer those with a few
        # comparisons and build verdicts (and their messages) only when something fails.
        expires, not_before, issued = facts.times
        if expires is not None and not self._slow_times:
            now = at.timestamp()
            skew = self._skew
            if (
                now < expires + skew
                and (not_before is None or now + skew >= not_before)
                and (
                    self._max_age is None
                    or (issued is not None and now - issued <= self._max_age + skew)
                )
            ):
                return []
        # The numbers check_times would read from the claims, kept since the first line.
        return checks.times_verdicts(expires, not_before, issued, at.timestamp(), self.expectations)

    def _judge_claims(self, facts: TokenFacts) -> tuple[Verdict, ...]:
        claims, exp = facts.decoded.claims, self.expectations
        # The missing profile first: it is why ORDS said 401, whatever else is wrong.
        out: list[Verdict] = checks.check_profile(exp, facts.idp)
        out.extend(checks.check_issuer(claims, exp, facts.idp))
        out.extend(checks.check_idp(claims, facts.idp))
        out.extend(checks.check_audience(claims, exp))
        out.extend(checks.check_authorization_claims(claims, self._claims_exp))
        out.extend(checks.check_upn(claims, exp, facts.idp))
        out.extend(checks.check_jwk_url(exp))
        out.extend(checks.check_ords_settings(facts.key, exp))
        if (
            exp.jwk_url is None
            and facts.key.status == "verified"
            and (facts.key.jwks_uri or "").startswith(("https://", "http://"))
            and exp.issuer is None
        ):
            out.append(rules.PROFILE_JWK_URL.verdict(jwks_uri=facts.key.jwks_uri))
        return tuple(out)

    def _facts_for(self, token: str, wait: bool = True, digest: bytes | None = None) -> TokenFacts:
        # The key check depends on where keys come from, so the JWK URL is part of the key.
        key = (digest or _digest(token)) + self._jwk_url_key
        cached: TokenFacts | None = self._facts.get(key)
        if cached is not None and (
            cached.stale_after is None or time.monotonic() < cached.stale_after
        ):
            return cached
        facts = self._compute_facts(token, wait)
        if facts.key.status == "pending":
            return facts  # judged again when the keys are there
        self._facts.put(key, facts)
        if cached is not None:
            # A stale entry was recomputed; expectation verdicts may depend on the key.
            self._judged.clear()
        return facts

    def _compute_facts(self, token: str, wait: bool = True) -> TokenFacts:
        decoded = decode_token(token)
        idp = idp_family(decoded.claims) if decoded.kind is TokenKind.JWS else None
        key = self._check_key(token, decoded, idp, wait)
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
            key_source=key.source,
        )
        stale = (
            time.monotonic() + UNAVAILABLE_RETRY_SECONDS
            if key.status in _RETRIED_STATUSES
            else None
        )
        if key.status == "pending":
            stale = time.monotonic()  # stale at once: the next line asks the key store again
        claims = decoded.claims
        return TokenFacts(
            decoded=decoded,
            key=key,
            idp=idp,
            subject=subject_of(claims),
            report=report,
            verdicts=tuple(verdicts),
            stale_after=stale,
            times=(
                checks.numeric_date(claims.get("exp")),
                checks.numeric_date(claims.get("nbf")),
                checks.numeric_date(claims.get("iat")),
            ),
        )

    def _check_key(
        self, token: str, decoded: DecodedToken, idp: str | None, wait: bool = True
    ) -> KeyCheck:
        kid = decoded.kid
        if decoded.kind is not TokenKind.JWS and not decoded.signed_non_jwt:
            return KeyCheck("skipped", None, kid, detail=f"{decoded.kind.value} token")
        alg = decoded.alg
        if alg not in VERIFIABLE_ALGORITHMS:
            return KeyCheck("skipped", None, kid, detail=f"alg {alg} cannot be verified")
        if checks.is_graph_token(decoded, idp):
            return KeyCheck("skipped", None, kid, detail="only Microsoft Graph can verify it")
        unsigned = not decoded.signature_logged
        if self.keys is None:
            if unsigned:
                return KeyCheck("signature-not-logged", None, kid)
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
                wait=wait,
            )
            if unsigned and lookup.status in ("found", "no-kid-match", "untrusted-issuer"):
                # The kid was looked up (kid-not-found and unreachable keys still say so);
                # only the verification itself needs what the log dropped.
                found = lookup.status == "found"
                return KeyCheck(
                    "signature-not-logged",
                    None,
                    kid,
                    lookup.jwks_uri if found else None,
                    "",
                    lookup.source if found else None,
                    lookup.jwks_size,
                    lookup.jwks_seconds,
                )
            if lookup.status in ("found", "no-kid-match"):
                result = check_signature(token, lookup, algorithms=VERIFIABLE_ALGORITHMS)
            else:
                return KeyCheck(
                    lookup.status,
                    None,
                    kid,
                    lookup.jwks_uri,
                    lookup.detail,
                    lookup.source,
                    lookup.jwks_size,
                    lookup.jwks_seconds,
                )
        except Exception as exc:  # key sources do I/O on hostile input: never stop a scan
            return KeyCheck("unavailable", None, kid, detail=_one_line(exc))
        status = {True: "verified", False: "signature-invalid", None: "skipped"}[result.verified]
        if result.limited:
            status = "keys-refused"
        return KeyCheck(
            status,
            result.verified,
            kid,
            lookup.jwks_uri,
            result.detail,
            lookup.source,
            lookup.jwks_size,
            lookup.jwks_seconds,
        )


_INF = math.inf
# The memo key of a record without a path: judged against every protecting privilege.
_ANY_PATH = frozenset({"\0any path"})
# Verdict combinations kept per Authorization value (time buckets x statuses).
_FINALS_MAX = 64
# Times in [2**30, 2**31) (2004-2038) are multiples of 2**-22 s: adding a minute to one,
# or taking a whole-second claim below 2**31 from one, is exact. Windows stay in there.
_EXACT_FROM = float(2**30)
_EXACT_TO = float(2**31 - 2**20)


_REQUEST_TIME = "request_time"
# nginx's $request_time is seconds with milliseconds; a day bounds any real request.
_MAX_REQUEST_SECONDS = 86400.0


def request_start(record: LogRecord) -> datetime | None:
    """When ORDS saw the request: the log time less ``$request_time`` when the format logs it.

    nginx writes ``$time_local``/``$time_iso8601``/``$msec`` when the request ends; ORDS
    checked the token at its start. A missing or absurd ``$request_time`` (it is text from
    the log line) leaves the log time.
    """
    when = record.time
    text = record.fields.get(_REQUEST_TIME)
    if when is None or not text:
        return when
    try:
        seconds = float(text)
    except ValueError:
        return when
    if not 0 <= seconds <= _MAX_REQUEST_SECONDS:  # also refuses nan
        return when
    return when - timedelta(seconds=seconds)


def keys_pending(attempt: Attempt) -> bool:
    """True when ``attempt`` was judged while its issuer's keys were still being fetched."""
    token = attempt.token
    if token is None or token.verified is not None:
        return False
    return any(v.code == _PENDING_CODE for v in attempt.verdicts)


_PENDING_CODE = rules.KEYS_PENDING.code


def _duration_step(seconds: float) -> tuple[int, int]:
    """``(low, width)``: ``checks.duration`` gives one text for ``[low, low + width)``."""
    whole = int(seconds)
    if whole < 3600:
        return whole, 1
    step = 60 if whole < 86400 else 3600
    return whole - whole % step, step


def _digest(token: str) -> bytes:
    """The token's SHA-256, the key of the token caches."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
