"""Step 4: the JWKS behind ``jwks_uri`` must hold a key ORDS can verify with."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from inspector.doctor import _adapters as keys
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.expectations import ORDS_ALGORITHMS


@dataclass(frozen=True, slots=True)
class KeySet:
    """What the JWKS held: usable key ids and a short description of every key."""

    uri: str
    usable: tuple[str, ...]
    described: tuple[str, ...]


def describe_key(jwk: Mapping[str, Any]) -> str:
    """``kid=abc kty=RSA alg=RS256`` (public fields only)."""
    parts = [f"{name}={jwk[name]}" for name in ("kid", "kty", "alg", "use") if name in jwk]
    return " ".join(parts) or "(empty key)"


def usable_by_ords(jwk: Mapping[str, Any]) -> bool:
    """RSA signing key whose algorithm (if stated) is one ORDS accepts."""
    if jwk.get("kty") != "RSA" or not jwk.get("n") or not jwk.get("e"):
        return False
    if jwk.get("use") not in (None, "sig"):
        return False
    return jwk.get("alg") in (None, *ORDS_ALGORITHMS)


def check_jwks(options: DoctorOptions, jwks_uri: str) -> Generator[Finding, None, KeySet | None]:
    """Fetch the JWKS and count the keys ORDS can use."""
    try:
        document = keys.fetch_jwks(jwks_uri, timeout=options.timeout)
    except ValueError as exc:
        yield Finding(
            "jwks-unreachable",
            Status.FAIL,
            "the JWKS could not be fetched (ORDS will not verify any token)",
            f"{jwks_uri}: {exc}",
            "make jwks_uri reachable over https from the ORDS host (proxy, firewall, CA)",
        )
        return None
    entries = [k for k in document["keys"] if isinstance(k, dict)]
    described = tuple(describe_key(k) for k in entries)
    usable = tuple(str(k.get("kid", "")) for k in entries if usable_by_ords(k))
    if not usable:
        yield Finding(
            "jwks-no-usable-keys",
            Status.FAIL,
            "no RSA signing key for RS256/RS384/RS512: ORDS cannot verify tokens from this IdP",
            "; ".join(described) or "(empty key set)",
            "configure the IdP to sign access tokens with RS256",
        )
    else:
        yield Finding(
            "jwks-usable-keys",
            Status.PASS,
            f"{len(usable)} of {len(entries)} key(s) usable by ORDS",
            ", ".join(usable),
        )
    return KeySet(jwks_uri, usable, described)
