"""Step 4: the JWKS behind ``jwks_uri`` must hold a key ORDS can verify with."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.probe import reach_of, refused
from inspector.judge.expectations import ORDS_ALGORITHMS
from inspector.keys.jwks import JsonWebKey, KeySet, key_limit_problem, parse_jwks


@dataclass(frozen=True, slots=True)
class OrdsKeys:
    """The key set as fetched and the key ids ORDS can verify with."""

    uri: str
    keys: KeySet | None
    usable: tuple[str, ...]


def usable_by_ords(key: JsonWebKey) -> bool:
    """An RSA key for RS256/RS384/RS512 (ORDS verifies nothing else) within the key limits."""
    return (
        key.key.key_type == "RSA"
        and key.key.algorithm_name in ORDS_ALGORITHMS
        and key_limit_problem(key.key) is None
    )


def _describe(key: JsonWebKey) -> str:
    problem = key_limit_problem(key.key)
    shown = f"{key.kid or '(no kid)'} {key.key.key_type}/{key.key.algorithm_name}"
    return shown if problem is None else f"{shown} ({problem})"


def check_jwks(
    options: DoctorOptions, jwks_uri: str, server: str | None = None
) -> Generator[Finding, None, OrdsKeys | None]:
    """Fetch the JWKS (with the keys module's client and parser) and find ORDS-usable keys.

    ``server``: the authorization server whose metadata named ``jwks_uri``; the key set
    may be reached where that server may (an anchored issuer's keys on its network).
    """
    reach = reach_of(options)
    refusal = reach.refusal(jwks_uri, via=server)
    if refusal is not None:
        yield refused("the jwks_uri", jwks_uri, refusal)
        return None
    fetched = reach.client(jwks_uri, options.timeout, via=server).get_json(jwks_uri)
    if fetched.error is not None or fetched.document is None:
        yield Finding(
            "jwks-unreachable",
            Status.FAIL,
            "the JWKS could not be fetched (ORDS will not verify any token)",
            f"{jwks_uri}: {fetched.describe()}",
            "make jwks_uri reachable over https from the ORDS host (proxy, firewall, CA)",
        )
        return None
    parsed = parse_jwks(fetched.document, jwks_uri)
    keys = parsed if isinstance(parsed, KeySet) else None
    usable = tuple(k.kid or "(no kid)" for k in keys.keys if usable_by_ords(k)) if keys else ()
    if not usable:
        seen = [_describe(k) for k in keys.keys] + list(keys.skipped) if keys else [str(parsed)]
        yield Finding(
            "jwks-no-usable-keys",
            Status.FAIL,
            "no RSA signing key for RS256/RS384/RS512: ORDS cannot verify tokens from this IdP",
            "; ".join(seen),
            "configure the IdP to sign access tokens with RS256",
        )
    else:
        total = len(keys.keys) + len(keys.skipped) if keys else 0
        yield Finding(
            "jwks-usable-keys",
            Status.PASS,
            f"{len(usable)} of {total} key(s) usable by ORDS",
            ", ".join(usable),
        )
    return OrdsKeys(jwks_uri, keys, usable)
