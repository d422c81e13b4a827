"""A JWKS served over HTTPS on 127.0.0.1, for tests that need a real ``p_jwk_url``.

ORDS takes only an ``https://`` JWK URL, and proposing or checking a profile fetches it, so a
made-up ``https://keys.example/...`` would send the test to DNS. Instead the keys are
published by a :class:`LocalIdP` on loopback with a certificate from a trustme CA, trusted
through ``REQUESTS_CA_BUNDLE`` the way an admin trusts an internal CA.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from inspector.demo.idp import LocalIdP, SigningKey


@dataclass(frozen=True)
class HttpsKeys:
    """Where the keys are published, and the CA bundle that makes the certificate trusted."""

    server: LocalIdP
    ca_bundle: Path

    @property
    def url(self) -> str:
        """An ``https://127.0.0.1:PORT/...`` JWKS URL."""
        return self.server.jwks_uri

    @property
    def other_url(self) -> str:
        """A second URL serving the same keys (for tests that need two distinct ones)."""
        return self.server.jwks_uri_v1

    def trust(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Trust the test CA for this test (tests/conftest.py keeps proxies off loopback)."""
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(self.ca_bundle))


@contextmanager
def https_keys(keys: Sequence[SigningKey], directory: Path) -> Iterator[HttpsKeys]:
    """Serve ``keys`` over HTTPS on 127.0.0.1 until the block ends.

    The server has its own issuer URL, so it never stands in for the issuer a token names:
    only the JWKS URLs are meant to be used.
    """
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    bundle = directory / "test-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with LocalIdP(keys=list(keys), scheme="https", ssl_context=server_ctx) as server:
        yield HttpsKeys(server, bundle)
