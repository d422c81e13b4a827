"""Helpers shared by the analysis tests: a real key source over a LocalIdP's published keys.

``JwksKeys`` implements the analyzer's key-source protocol from a JWKS *document* (what
``--jwks FILE`` would hold) with pyjwt, so signature tests use real keys and real
verification without a network. Tests of the production ``KeyStore`` live with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK


@dataclass(frozen=True)
class Lookup:
    status: str
    key: PyJWK | None
    jwks_uri: str | None
    detail: str = ""


@dataclass(frozen=True)
class Result:
    verified: bool
    detail: str = ""


class JwksKeys:
    """Keys by issuer from JWKS documents; unknown issuers are ``untrusted-issuer``."""

    def __init__(self, jwks_by_issuer: Mapping[str, Mapping[str, Any]]) -> None:
        self._jwks = {iss: dict(doc) for iss, doc in jwks_by_issuer.items()}
        self.lookups = 0

    def lookup(
        self, issuer: str | None, kid: str | None, *, claims: Mapping[str, Any] | None = None
    ) -> Lookup:
        self.lookups += 1
        doc = self._jwks.get(issuer or "")
        uri = f"{issuer}/keys"
        if doc is None:
            return Lookup("untrusted-issuer", None, None, "issuer not trusted")
        for jwk in doc.get("keys", []):
            if jwk.get("kid") == kid:
                return Lookup("found", PyJWK(jwk), uri)
        return Lookup("kid-not-found", None, uri, f"{len(doc.get('keys', []))} keys")


def pyjwt_verifier(token: str, key: PyJWK, *, algorithms: Any) -> Result:
    """Signature only (claims are judged by the checks, not by pyjwt)."""
    try:
        jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidTokenError as exc:
        return Result(False, str(exc))
    return Result(True, "ok")
