"""Key lookup and signature verification throughput, against pyjwt's own decode.

Baseline: ``jwt.decode`` with a prepared public key (what any verifier pays). Measured:
a cached ``KeyStore.lookup`` (the per-token cost once keys are fetched), our
``verify_signature``, and a flood of unknown ``kid`` values (must stay network-free).
Everything runs against the loopback IdP, in this process.
"""

from __future__ import annotations

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


def main() -> None:
    """Print the figures."""
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
            20000,
            lambda: store.lookup(idp.issuer_v2, uuid.uuid4().hex),
            base,
        )
        print(f"HTTP requests during the unknown-kid flood: {len(idp.request_log) - before}")


if __name__ == "__main__":
    main()
