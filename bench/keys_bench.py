"""Key lookup and signature verification throughput, against pyjwt's own decode.

Baseline: ``jwt.decode`` with a prepared public key (what any verifier pays). Measured:
a cached ``KeyStore.lookup`` (the per-token cost once keys are fetched), our
``verify_signature``, and a flood of unknown ``kid`` values (must stay network-free).
Then the once-a-minute refresh: a flood of unknown ``kid`` values spread over more than a
minute of simulated time (the store's clock is injected and advanced per lookup, nothing
sleeps), counting the HTTP requests the IdP saw: at most one key refresh per minute.
Everything runs against the loopback IdP, in this process.

Run: ``python -m bench.keys_bench [--flood N] [--minutes M]``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
import uuid
from collections.abc import Callable

import jwt

from inspector.demo.idp import LocalIdP
from inspector.judge.expectations import ORDS_ALGORITHMS
from inspector.keys.signature import verify_signature
from inspector.keys.store import KeyStore


def rate(label: str, n: int, fn: Callable[[], object], baseline: float | None = None) -> float:
    """Run ``fn`` ``n`` times and print calls per second (and the ratio to a baseline)."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    per_second = n / (time.perf_counter() - start)
    ratio = f"  ({per_second / baseline:.2f}x baseline)" if baseline else ""
    print(f"{label:<44} {per_second:>12,.0f}/s{ratio}")
    return per_second


class SimulatedClock:
    """A monotonic clock the bench moves forward by hand: minutes pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refresh_flood(idp: LocalIdP, lookups: int, minutes: float) -> int:
    """Unknown kids over ``minutes`` of simulated time; print the requests; 0 if within limit.

    The limit: the first fetch, then one refresh per full minute (the store's
    ``min_refresh_interval``), each refresh being one JWKS request.
    """
    clock = SimulatedClock()
    store = KeyStore(trusted_issuers=[idp.issuer_v2], clock=clock)
    before = len(idp.request_log)
    store.lookup(idp.issuer_v2, idp.keys[0].kid)
    first = len(idp.request_log) - before
    step = minutes * 60 / lookups
    started = time.perf_counter()
    for _ in range(lookups):
        clock.now += step
        store.lookup(idp.issuer_v2, uuid.uuid4().hex)
    took = time.perf_counter() - started
    refreshes = len(idp.request_log) - before - first
    allowed = math.floor(minutes * 60 / store.min_refresh_interval)
    print(f"refresh flood: {lookups:,} unknown kids over {minutes:g} simulated min "
          f"({lookups / took:,.0f} lookups/s): {first} request(s) for the first fetch, then "
          f"{refreshes} (at most {allowed}: one per {store.min_refresh_interval:g} s)")  # fmt: skip
    return 0 if refreshes <= allowed else 1


def main() -> int:
    """Print the figures; exit 1 if the unknown-kid floods reached the IdP too often."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=20_000, help="unknown kids per flood")
    parser.add_argument("--minutes", type=float, default=3.5, help="simulated refresh flood")
    opts = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1")
    with LocalIdP() as idp:
        token = idp.mint(idp.entra_v2_claims())
        public = idp.keys[0].private_key.public_key()
        # The loopback IdP is a lab IdP: anchor it, as a user would with --trusted-issuer.
        store = KeyStore(trusted_issuers=[idp.issuer_v2])
        kid = idp.keys[0].kid
        lookup = store.lookup(idp.issuer_v2, kid)
        assert lookup.key is not None
        key = lookup.key
        base = rate(
            "baseline: jwt.decode (RS256, 2048-bit)",
            2000,
            lambda: jwt.decode(
                token,
                public,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False},
            ),
        )
        rate(
            "verify_signature (RS256)",
            2000,
            lambda: verify_signature(token, key, algorithms=ORDS_ALGORITHMS),
            base,
        )
        rate("KeyStore.lookup, cached kid", 20000, lambda: store.lookup(idp.issuer_v2, kid), base)
        before = len(idp.request_log)
        rate(
            "KeyStore.lookup, random unknown kid",
            opts.flood,
            lambda: store.lookup(idp.issuer_v2, uuid.uuid4().hex),
            base,
        )
        print(f"HTTP requests during the unknown-kid flood: {len(idp.request_log) - before}")
        return refresh_flood(idp, opts.flood, opts.minutes)


if __name__ == "__main__":
    raise SystemExit(main())
