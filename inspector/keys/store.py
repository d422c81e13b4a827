"""Signing keys for an issuer: discovery, fetching, caching and lookup by ``kid``.

Tokens arrive from a log by the thousand and their ``iss``/``kid`` are attacker-chosen, so
the :class:`KeyStore` caches per issuer (one hour by default), refreshes once when a
``kid`` is unknown (key rollover), never fetches more than once per issuer per
``min_refresh_interval`` however many unknown ``kid`` values arrive, keeps one fetch in
flight per issuer, and bounds how many issuers it tracks: when full, the least recently
used issuer nobody anchored makes room (never an anchored issuer or a key source the user
named), so invented issuers cannot crowd out the real one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import jwt
import requests

from inspector.keys.discovery import (
    OCI_IAM_DEFAULT_ISSUER,
    Discovery,
    discover,
    load_metadata,
    metadata_from_document,
)
from inspector.keys.http import (
    DEFAULT_TIMEOUT,
    PUBLIC_ONLY,
    Deadline,
    HttpClient,
    one_line,
    shown_url,
)
from inspector.keys.jwks import (
    KeySet,
    KeysUnavailable,
    fetch_jwks,
    load_jwks,
)

# --debug: fetches, cache hits and refusals, per issuer (escaped: issuers come from tokens).
log = logging.getLogger(__name__)

LookupStatus = Literal[
    "found", "kid-not-found", "unavailable", "untrusted-issuer", "no-kid-match", "pending"
]
StateStatus = Literal["idle", "fetching", "ok", "error"]
MatchedBy = Literal["kid", "x5t", "only-key"]

# Issuers (or key URLs) the store tracks at once: a log full of invented issuers must not
# turn the inspector into a request generator, nor crowd out the issuers that matter.
DEFAULT_MAX_SOURCES = 32
# An issuer's discovery (up to three metadata URLs) and its JWKS, all together, get this
# many times the fetch timeout: a slow issuer is given up, not waited for.
ISSUER_DEADLINE_FACTOR = 2


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """The answer to "which key signed this token?", with what was tried, in one line."""

    status: LookupStatus
    key: jwt.PyJWK | None
    kid: str | None
    # The URL the issuer publishes these keys at (what ORDS's p_jwk_url must name), or
    # None: keys from an offline JWKS file have no URL unless offline metadata gives one.
    jwks_uri: str | None
    metadata_issuer: str | None
    detail: str
    # Clock value (the store's clock) of the fetch that produced the keys.
    fetched_at: float | None
    # For "no-kid-match" (and duplicate kids): every key the token may have been signed
    # with; verification tries each and says which matched.
    candidates: tuple[jwt.PyJWK, ...] = ()
    matched_by: MatchedBy | None = None
    discovery: Discovery | None = field(default=None, compare=False)
    # Where the keys were read: their URL, or ``file:<path>`` for an offline JWKS.
    source: str | None = None
    # Bytes of the fetched JWKS and seconds its fetch took (None for a file).
    jwks_size: int | None = None
    jwks_seconds: float | None = None

    @property
    def found(self) -> bool:
        """True when exactly the key to verify with is known."""
        return self.status == "found" and self.key is not None


@dataclass(frozen=True, slots=True)
class IssuerKeyState:
    """What the status bar shows for one issuer (or key URL, or key file)."""

    name: str
    status: StateStatus
    key_count: int
    # Seconds since the keys were fetched; ``None`` before the first success.
    age: float | None
    detail: str | None
    jwks_uri: str | None
    # True when the last fetch was cut off by its deadline (a stalled or dribbling server).
    timed_out: bool = False

    def label(self) -> str:
        """``fetching`` / ``ok (3 keys, 5 min)`` / ``error: connection refused``."""
        if self.status == "fetching":
            return "fetching"
        if self.status == "ok":
            return f"ok ({self.key_count} keys, {_age(self.age)})"
        if self.status == "error":
            stale = f" (using {self.key_count} keys from {_age(self.age)} ago)"
            return f"error: {self.detail}" + (stale if self.key_count else "")
        return "idle"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


# "domain": metadata discovered under a configured OCI IAM domain URL (``target``).
SourceKind = Literal["discover", "url", "file", "domain"]
OCI_NO_DOMAIN = (
    "OCI IAM keys live under the domain URL: name it with --oci-domain URL or "
    "[keys] oci_domain, or give the JWK URL"
)
_Why = Literal["refreshed", "refresh-failed", "limited"]
# Found keys remembered per source (see _Entry.found).
_FOUND_MEMO = 256
# (generation, age text, discovery, lookup) of a found key.
_Found = tuple[int, str, "Discovery | None", "KeyLookup"]


@dataclass(eq=False)
class _Entry:
    """Mutable cache state of one key source; fields are guarded by the store's lock."""

    name: str
    kind: SourceKind
    target: str
    fetch_lock: threading.Lock = field(default_factory=threading.Lock)
    keys: KeySet | None = None
    discovery: Discovery | None = None
    jwks_uri: str | None = None
    fetched_at: float | None = None
    attempted_at: float | None = None
    error: str | None = None
    generation: int = 0
    fetching: bool = False
    # A background fetch was started and has not finished (``lookup(wait=False)``).
    scheduled: bool = False
    timed_out: bool = False
    # Claims of the latest token that caused a fetch: a forced refresh reuses its tid.
    claims: Mapping[str, Any] | None = None
    # (kid, x5t) -> (generation, age text, discovery, lookup): a key found in these keys
    # (see KeyStore._lookup_in), and the last lookup attributed with the keys it was for.
    found: dict[tuple[str | None, str | None], _Found] = field(default_factory=dict)
    attributed: tuple[KeyLookup, KeySet | None, KeyLookup] | None = None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    keys: KeySet | None
    discovery: Discovery | None
    jwks_uri: str | None
    fetched_at: float | None
    attempted_at: float | None
    error: str | None
    generation: int


class KeyStore:
    """Per-issuer key cache with rate-limited refresh; safe to call from many threads.

    Sources, first match wins: an explicit ``jwks_uri`` passed to :meth:`lookup` (e.g.
    the ORDS profile's ``p_jwk_url``); ``offline_jwks`` (every issuer, no network);
    ``offline_metadata`` (its ``jwks_uri``, after checking its issuer); discovery from
    the token's ``iss``, refused for issuers outside a non-empty ``trusted_issuers``.

    Discovery for an issuer nobody anchored (not in ``trusted_issuers`` or
    ``anchored_issuers``: only a token named it) reaches public https addresses only,
    unless ``allow_private``; explicit and offline sources are the user's own choice and
    only the always-refused addresses (metadata services, link-local...) apply to them.
    """

    def __init__(
        self,
        *,
        offline_jwks: Path | None = None,
        offline_metadata: Path | None = None,
        trusted_issuers: Sequence[str] = (),
        ttl: float = 3600,
        min_refresh_interval: float = 60,
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_sources: int = DEFAULT_MAX_SOURCES,
        http: HttpClient | None = None,
        anchored_issuers: Sequence[str] = (),
        allow_private: bool = False,
        oci_domain: str | None = None,
    ) -> None:
        self.offline_jwks = offline_jwks
        # The user's OCI IAM domain URL: where tokens with OCI's shared issuer get keys.
        self.oci_domain = oci_domain
        self.offline_metadata = offline_metadata
        self.trusted_issuers = tuple(trusted_issuers)
        self.anchored_issuers = tuple(anchored_issuers)
        self.allow_private = allow_private
        self.ttl = ttl
        self.min_refresh_interval = min_refresh_interval
        self.clock = clock
        self.max_sources = max_sources
        self.http = http or HttpClient(session=session, timeout=timeout)
        self._lock = threading.Lock()
        # Least recently used first.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._metadata_file: Discovery | None = None
        self._listeners: list[Callable[[], None]] = []
        # Fetches completed so far: a caller holding pending lookups compares it.
        self.completed = 0
        self._done = threading.Condition()

    # -- public API --------------------------------------------------------------------

    def lookup(
        self,
        issuer: str | None,
        kid: str | None,
        *,
        claims: Mapping[str, Any] | None = None,
        x5t: str | None = None,
        jwks_uri: str | None = None,
        wait: bool = True,
    ) -> KeyLookup:
        """Find the key for a token from ``issuer`` whose header names ``kid`` (and ``x5t``).

        Never raises; every failure is a status with a one-line ``detail``. With
        ``wait=False`` a lookup that needs a fetch starts it in the background and says
        ``pending`` at once (keys past their lifetime still answer meanwhile); the fetch
        is the same single one per issuer that waiting lookups share, and every completed
        fetch bumps :attr:`completed` and calls the listeners (:meth:`add_listener`).
        """
        if not issuer and jwks_uri is None and self.offline_jwks is None:
            return KeyLookup(
                "unavailable", None, kid, None, None, "token has no iss: keys cannot be found", None
            )
        issuer = issuer or ""
        source = self._source_for(issuer, claims, jwks_uri)
        if isinstance(source, KeyLookup):
            return replace(source, kid=kid)
        entry, discovery = source
        # Key files are read at once: only the network is worth not waiting for.
        wait = wait or entry.kind == "file"
        found = self._lookup_in(entry, discovery, issuer, kid, claims, x5t, wait)
        keys = entry.keys
        memo = entry.attributed
        if memo is not None and memo[0] is found and memo[1] is keys:
            return memo[2]
        attributed = _attributed(entry, found, keys)
        entry.attributed = (found, keys, attributed)
        return attributed

    def _lookup_in(
        self,
        entry: _Entry,
        discovery: Discovery | None,
        issuer: str,
        kid: str | None,
        claims: Mapping[str, Any] | None,
        x5t: str | None,
        wait: bool,
    ) -> KeyLookup:
        snap = self._ensure_fresh(entry, claims, wait)
        if snap is None:
            return self._pending(kid)
        discovery = discovery or snap.discovery
        meta_issuer = discovery.metadata_issuer if discovery else None
        if snap.keys is None:
            when = self._ago(snap.attempted_at)
            return KeyLookup(
                "unavailable",
                None,
                kid,
                snap.jwks_uri,
                meta_issuer,
                one_line(f"no keys for {issuer!r}: {snap.error} (last tried {when})", 300),
                None,
                discovery=discovery,
            )
        # A key found before in these very keys, at the same age text: the same answer
        # (every token of an issuer names one of a few kids). Only found keys are kept;
        # unknown kids and refreshes take the way below every time.
        age = self._keys_age(snap)
        memo = entry.found.get((kid, x5t))
        if (
            memo is not None
            and memo[0] == snap.generation
            and memo[1] == age
            and memo[2] is discovery
        ):
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "keys for %s from the cache: %s", shown_url(issuer), shown_url(memo[3].detail)
                )
            return memo[3]
        result = self._match(snap, kid, x5t, refreshed=False)
        first = result is not None
        if result is None and (kid is not None or x5t is not None):
            # Unknown kid: the issuer may have rolled its keys over since the last fetch.
            if self._may_refresh(snap):
                if not wait:
                    self._start(entry, snap.generation, claims, rediscover=False)
                    return self._pending(kid)
                snap = self._refresh(entry, snap.generation, claims, rediscover=False)
                if snap.keys is not None:
                    result = self._match(snap, kid, x5t, refreshed=True)
                    if result is None:
                        why: _Why = "refreshed" if snap.error is None else "refresh-failed"
                        return self._not_found(snap, kid, x5t, meta_issuer, discovery, why)
            else:
                return self._not_found(snap, kid, x5t, meta_issuer, discovery, "limited")
        if result is None:
            assert snap.keys is not None
            return self._no_kid(snap, meta_issuer, discovery)
        status, key, candidates, matched_by, how = result
        if not first:
            age = self._keys_age(snap)
        detail = f"{how} in {snap.jwks_uri or entry.target} ({age})"
        if log.isEnabledFor(logging.DEBUG):
            log.debug("keys for %s from the cache: %s", shown_url(issuer), shown_url(detail))
        found = KeyLookup(
            status,
            key,
            kid,
            snap.jwks_uri,
            meta_issuer,
            one_line(detail, 300),
            snap.fetched_at,
            candidates,
            matched_by,
            discovery,
        )
        if first:
            if len(entry.found) >= _FOUND_MEMO:
                entry.found.clear()  # x5t values come from tokens: bounded
            entry.found[(kid, x5t)] = (snap.generation, age, discovery, found)
        return found

    def refresh(self, issuer: str | None = None) -> None:
        """Fetch again now, ignoring the cache and the rate limit (the TUI's ``r`` key)."""
        with self._lock:
            if issuer is None:
                self._metadata_file = None
            entries = [
                e for e in self._entries.values() if issuer is None or issuer in (e.name, e.target)
            ]
        # All at once: one slow issuer must not hold the others' refresh.
        workers = [
            threading.Thread(
                target=self._refresh,
                args=(entry, self._snapshot(entry).generation, None),
                kwargs={"rediscover": True},
                name="inspector-keys",
                daemon=True,
            )
            for entry in entries
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()  # each fetch ends by its own deadline

    def state(self) -> Mapping[str, IssuerKeyState]:
        """Per key source: fetching / ok / error, key count and age.

        Keys are the issuer for discovered keys, ``jwks:<url>`` for an explicit or
        offline-metadata ``jwks_uri``, and ``file:<path>`` for an offline JWKS.
        """
        now = self.clock()
        with self._lock:
            entries = list(self._entries.values())
            result: dict[str, IssuerKeyState] = {}
            for e in entries:
                status: StateStatus
                if e.fetching:
                    status = "fetching"
                elif e.error is not None:
                    status = "error"
                elif e.keys is not None:
                    status = "ok"
                else:
                    status = "idle"
                result[e.name] = IssuerKeyState(
                    name=e.name,
                    status=status,
                    key_count=len(e.keys.keys) if e.keys else 0,
                    age=None if e.fetched_at is None else max(0.0, now - e.fetched_at),
                    detail=e.error,
                    jwks_uri=e.jwks_uri,
                    timed_out=e.timed_out,
                )
        return result

    # -- sources -----------------------------------------------------------------------

    def _source_for(
        self, issuer: str, claims: Mapping[str, Any] | None, jwks_uri: str | None
    ) -> tuple[_Entry, Discovery | None] | KeyLookup:
        if jwks_uri is not None:
            return self._with(self._entry_or_refusal(f"jwks:{jwks_uri}", "url", jwks_uri, issuer))
        discovery: Discovery | None = None
        metadata_jwks: str | None = None
        if self.offline_metadata is not None:
            discovery = self._offline_discovery(issuer, claims)
            if not discovery.ok:
                return KeyLookup(
                    "unavailable",
                    None,
                    None,
                    None,
                    discovery.metadata_issuer,
                    one_line(f"offline metadata: {discovery.problem}", 300),
                    None,
                    discovery=discovery,
                )
            metadata_jwks = discovery.jwks_uri
        if self.offline_jwks is not None:
            path = str(self.offline_jwks)
            got = self._entry_or_refusal(f"file:{path}", "file", path, issuer)
            return self._with(got, discovery)
        if metadata_jwks is not None:
            got = self._entry_or_refusal(f"jwks:{metadata_jwks}", "url", metadata_jwks, issuer)
            return self._with(got, discovery)
        if issuer == OCI_IAM_DEFAULT_ISSUER:
            # Shared by every OCI domain: only the domain the user named can vouch.
            if self.oci_domain is None:
                return KeyLookup("unavailable", None, None, None, None, OCI_NO_DOMAIN, None)
            domain = self.oci_domain
            return self._with(self._entry_or_refusal(f"oci:{domain}", "domain", domain, issuer))
        if self.trusted_issuers and issuer not in self.trusted_issuers:
            log.debug("issuer %s is not a trusted issuer: not discovered", shown_url(issuer))
            return KeyLookup(
                "untrusted-issuer",
                None,
                None,
                None,
                None,
                one_line(
                    f"issuer {issuer!r} is not among the trusted issuers "
                    f"({', '.join(self.trusted_issuers)}): discovery refused",
                    300,
                ),
                None,
            )
        return self._with(self._entry_or_refusal(issuer, "discover", issuer, issuer))

    @staticmethod
    def _with(
        got: _Entry | KeyLookup, discovery: Discovery | None = None
    ) -> tuple[_Entry, Discovery | None] | KeyLookup:
        return got if isinstance(got, KeyLookup) else (got, discovery)

    def _entry_or_refusal(
        self, name: str, kind: SourceKind, target: str, issuer: str
    ) -> _Entry | KeyLookup:
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                self._entries.move_to_end(name)
                return entry
            if len(self._entries) >= self.max_sources and not self._evict_one(kind, target):
                return KeyLookup(
                    "unavailable",
                    None,
                    None,
                    None,
                    None,
                    one_line(
                        f"not fetching keys for {issuer!r}: already tracking "
                        f"{self.max_sources} issuers (use --trusted-issuer)",
                        300,
                    ),
                    None,
                )
            entry = _Entry(name=name, kind=kind, target=target)
            self._entries[name] = entry
            return entry

    def _evictable(self, kind: SourceKind, target: str) -> bool:
        # Key URLs and files come from the user (flags, config, profile), never a token.
        return kind == "discover" and not self.is_anchored(target)

    def _evict_one(self, kind: SourceKind, target: str) -> bool:
        """Forget the least recently used idle unanchored issuer (under the lock).

        A source the user named is let in even when no issuer can make room: the bound
        is against invented issuers, and the user's own list is short.
        """
        for name, entry in self._entries.items():
            if self._evictable(entry.kind, entry.target) and not (
                entry.fetching or entry.scheduled
            ):
                del self._entries[name]
                return True
        return not self._evictable(kind, target)

    def _offline_discovery(self, issuer: str, claims: Mapping[str, Any] | None) -> Discovery:
        assert self.offline_metadata is not None
        with self._lock:
            loaded = self._metadata_file
        if loaded is None:
            loaded = load_metadata(self.offline_metadata)
            with self._lock:
                self._metadata_file = loaded
        if loaded.metadata is None:
            return loaded
        # Checked per token: a templated issuer resolves with each token's tid.
        return metadata_from_document(
            loaded.metadata, str(self.offline_metadata), issuer=issuer, claims=claims
        )

    # -- fetching ----------------------------------------------------------------------

    def _snapshot(self, entry: _Entry) -> _Snapshot:
        with self._lock:
            return _Snapshot(
                entry.keys,
                entry.discovery,
                entry.jwks_uri,
                entry.fetched_at,
                entry.attempted_at,
                entry.error,
                entry.generation,
            )

    def _may_refresh(self, snap: _Snapshot) -> bool:
        return (
            snap.attempted_at is None
            or self.clock() - snap.attempted_at >= self.min_refresh_interval
        )

    def _ensure_fresh(
        self, entry: _Entry, claims: Mapping[str, Any] | None, wait: bool
    ) -> _Snapshot | None:
        """The entry's keys, fetched first when needed; None: being fetched (``wait=False``)."""
        snap = self._snapshot(entry)
        if snap.attempted_at is None:
            if not wait:
                self._start(entry, snap.generation, claims, rediscover=True)
                return None
            return self._refresh(entry, snap.generation, claims, rediscover=True)
        expired = snap.fetched_at is None or self.clock() - snap.fetched_at >= self.ttl
        if expired and self._may_refresh(snap):
            if not wait:
                self._start(entry, snap.generation, claims, rediscover=True)
                # Keys past their lifetime answer until the new ones arrive.
                return snap if snap.keys is not None else None
            return self._refresh(entry, snap.generation, claims, rediscover=True)
        return snap

    def _start(
        self,
        entry: _Entry,
        seen_generation: int,
        claims: Mapping[str, Any] | None,
        *,
        rediscover: bool,
    ) -> None:
        """Run ``_refresh`` in a background thread, unless one is already on its way."""
        with self._lock:
            if entry.scheduled:
                return
            entry.scheduled = True

        def run() -> None:
            try:
                self._refresh(entry, seen_generation, claims, rediscover=rediscover)
            finally:
                with self._lock:
                    entry.scheduled = False

        threading.Thread(target=run, name="inspector-keys", daemon=True).start()

    def _pending(self, kid: str | None) -> KeyLookup:
        # The verdict names the issuer; the detail says how long it may take at most.
        detail = f"deadline {self.issuer_deadline:g} s"
        return KeyLookup("pending", None, kid, None, None, detail, None)

    @property
    def issuer_deadline(self) -> float:
        """Seconds one issuer's discovery and keys may take together, at most."""
        return ISSUER_DEADLINE_FACTOR * self.http.timeout

    def wait_for_fetch(self, seen: int | None, timeout: float) -> bool:
        """Wait until :attr:`completed` differs from ``seen`` (False: ``timeout`` passed)."""
        with self._done:
            return self._done.wait_for(lambda: self.completed != seen, timeout)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (from the fetching thread) after every completed fetch."""
        with self._lock:
            self._listeners.append(listener)

    def after_fork(self) -> None:
        """In a forked child: drop the parent's locks, connections and running fetches.

        The parent's threads do not exist here (an entry left "fetching" would never
        finish), and its kept-alive connections must not carry the child's requests.
        """
        self._lock = threading.Lock()
        self._done = threading.Condition()
        self.http.reset_session()
        for entry in self._entries.values():
            entry.fetch_lock = threading.Lock()
            entry.scheduled = False
            entry.fetching = False

    def _refresh(
        self,
        entry: _Entry,
        seen_generation: int,
        claims: Mapping[str, Any] | None,
        *,
        rediscover: bool,
    ) -> _Snapshot:
        """Fetch unless another thread completed a fetch since ``seen_generation``."""
        with entry.fetch_lock:
            with self._lock:
                if entry.generation != seen_generation:
                    # Someone else fetched while this thread waited: use their result.
                    return self._snapshot_locked(entry)
                entry.fetching = True
                jwks_uri = entry.jwks_uri
                discovery = entry.discovery
                if claims is not None:
                    entry.claims = claims
                claims = entry.claims
            # Discovery and the JWKS together: one issuer gets twice the fetch timeout.
            deadline = Deadline(ISSUER_DEADLINE_FACTOR * self.http.timeout)
            try:
                error: str | None = None
                keys: KeySet | None = None
                with deadline:
                    discovery, jwks_uri, loaded = self._load(
                        entry, discovery, jwks_uri, claims, rediscover
                    )
                if isinstance(loaded, KeySet):
                    keys = loaded
                else:
                    error = loaded.reason
            except Exception as exc:  # a lookup must never raise
                keys, error = None, one_line(f"{type(exc).__name__}: {exc}", 200)
            with self._lock:
                now = self.clock()
                entry.attempted_at = now
                entry.generation += 1
                entry.fetching = False
                entry.timed_out = deadline.timed_out
                entry.discovery = discovery
                entry.jwks_uri = jwks_uri
                if keys is not None:
                    entry.keys, entry.fetched_at, entry.error = keys, now, None
                else:
                    # Keep the previous keys: a failed refresh should not forget them.
                    entry.error = error
                self.completed += 1
                snap = self._snapshot_locked(entry)
                listeners = list(self._listeners)
        with self._done:
            self._done.notify_all()
        for listener in listeners:
            with contextlib.suppress(Exception):  # a listener's failure is its own business
                listener()
        return snap

    def _load(
        self,
        entry: _Entry,
        discovery: Discovery | None,
        jwks_uri: str | None,
        claims: Mapping[str, Any] | None,
        rediscover: bool,
    ) -> tuple[Discovery | None, str | None, KeySet | KeysUnavailable]:
        """Read the entry's keys: (discovery, jwks_uri, keys or why not)."""
        loaded: KeySet | KeysUnavailable
        log.debug("fetching keys (%s): %s", entry.kind, shown_url(entry.target))
        if entry.kind == "file":
            return discovery, entry.target, load_jwks(Path(entry.target))
        if entry.kind == "url":
            return discovery, entry.target, fetch_jwks(entry.target, self.http)
        if entry.kind == "domain":
            # The user's own domain URL: no public-only policy, as for a key URL.
            if rediscover or jwks_uri is None:
                discovery = discover(
                    OCI_IAM_DEFAULT_ISSUER, claims=claims, http=self.http, base=entry.target
                )
                jwks_uri = discovery.jwks_uri
            if jwks_uri is None:
                problem = (discovery.problem if discovery else None) or "no jwks_uri"
                return discovery, None, KeysUnavailable(problem)
            return discovery, jwks_uri, fetch_jwks(jwks_uri, self.http)
        # The jwks_uri of an unanchored issuer is as attacker-chosen as its iss.
        http = self._client_for(entry.target)
        if rediscover or jwks_uri is None:
            discovery = discover(entry.target, claims=claims, http=http)
            jwks_uri = discovery.jwks_uri
        if jwks_uri is None:
            problem = (discovery.problem if discovery else None) or "no jwks_uri"
            loaded = KeysUnavailable(problem, refused=discovery is not None and discovery.refused)
        else:
            loaded = fetch_jwks(jwks_uri, http)
        if http.policy.public_only and isinstance(loaded, KeysUnavailable) and loaded.refused:
            # Say which policy refused, and how to lift it.
            loaded = replace(loaded, reason=f"{http.policy.describe()}: {loaded.reason}")
        return discovery, jwks_uri, loaded

    def anchor(self, *issuers: str) -> None:
        """Add issuers the user vouched for (the current ORDS profile's, once read)."""
        with self._lock:
            self.anchored_issuers = tuple(dict.fromkeys((*self.anchored_issuers, *issuers)))

    def is_anchored(self, issuer: str) -> bool:
        """True when the user named ``issuer`` (trusted, expected or the profile's)."""
        return issuer in self.trusted_issuers or issuer in self.anchored_issuers

    def _client_for(self, issuer: str) -> HttpClient:
        if self.allow_private or self.is_anchored(issuer):
            return self.http
        log.debug("issuer %s is not anchored: public https addresses only", shown_url(issuer))
        return self.http.with_policy(PUBLIC_ONLY)

    @staticmethod
    def _snapshot_locked(entry: _Entry) -> _Snapshot:
        return _Snapshot(
            entry.keys,
            entry.discovery,
            entry.jwks_uri,
            entry.fetched_at,
            entry.attempted_at,
            entry.error,
            entry.generation,
        )

    # -- matching ----------------------------------------------------------------------

    def _match(
        self, snap: _Snapshot, kid: str | None, x5t: str | None, *, refreshed: bool
    ) -> tuple[LookupStatus, jwt.PyJWK, tuple[jwt.PyJWK, ...], MatchedBy, str] | None:
        assert snap.keys is not None
        after = " after refreshing the JWKS" if refreshed else ""
        if kid is not None:
            hits = snap.keys.with_kid(kid)
            if hits:
                how = f"kid {kid!r} found{after}"
                return "found", hits[0].key, tuple(h.key for h in hits), "kid", how
            return None
        if x5t is not None:
            hits = snap.keys.with_x5t(x5t)
            if hits:
                how = f"no kid; x5t {x5t!r} found{after}"
                return "found", hits[0].key, tuple(h.key for h in hits), "x5t", how
        if len(snap.keys.keys) == 1:
            only = snap.keys.keys[0].key
            return "found", only, (only,), "only-key", "no kid; the JWKS has a single key"
        return None

    def _not_found(
        self,
        snap: _Snapshot,
        kid: str | None,
        x5t: str | None,
        meta_issuer: str | None,
        discovery: Discovery | None,
        why: _Why,
    ) -> KeyLookup:
        assert snap.keys is not None
        if kid is None:
            return self._no_kid(snap, meta_issuer, discovery)
        if why == "refreshed":
            tail = "after refreshing once"
        elif why == "refresh-failed":
            tail = f"refresh failed: {snap.error}; keys from {self._ago(snap.fetched_at)}"
        else:
            tail = (
                f"not refreshed: last fetch {self._ago(snap.attempted_at)}, "
                f"at most one per {self.min_refresh_interval:g} s"
            )
        detail = f"kid {kid!r} not in {snap.jwks_uri} ({tail}); published kids: {snap.keys.kids()}"
        return KeyLookup(
            "kid-not-found",
            None,
            kid,
            snap.jwks_uri,
            meta_issuer,
            one_line(detail, 300),
            snap.fetched_at,
            discovery=discovery,
        )

    def _no_kid(
        self, snap: _Snapshot, meta_issuer: str | None, discovery: Discovery | None
    ) -> KeyLookup:
        assert snap.keys is not None
        keys = snap.keys.keys
        detail = (
            f"token names no key (no kid, no matching x5t); {len(keys)} keys in "
            f"{snap.jwks_uri}: each must be tried"
        )
        return KeyLookup(
            "no-kid-match",
            None,
            None,
            snap.jwks_uri,
            meta_issuer,
            one_line(detail, 300),
            snap.fetched_at,
            tuple(k.key for k in keys),
            discovery=discovery,
        )

    def _keys_age(self, snap: _Snapshot) -> str:
        count = len(snap.keys.keys) if snap.keys else 0
        return f"{count} keys, fetched {self._ago(snap.fetched_at)}"

    def _ago(self, when: float | None) -> str:
        if when is None:
            return "never"
        return f"{_age(max(0.0, self.clock() - when))} ago"


def _attributed(entry: _Entry, found: KeyLookup, keys: KeySet | None) -> KeyLookup:
    """Say where the keys were read (``source``), and keep ``jwks_uri`` a URL or None.

    A file path is no p_jwk_url: for an offline JWKS the URL is the offline metadata's
    ``jwks_uri`` when there is one, else unknown.
    """
    if entry.kind != "file":
        size, seconds = (keys.size, keys.elapsed) if keys is not None else (None, None)
        return replace(found, source=found.jwks_uri, jwks_size=size, jwks_seconds=seconds)
    published = found.discovery.jwks_uri if found.discovery is not None else None
    return replace(found, jwks_uri=published, source=f"file:{entry.target}")
