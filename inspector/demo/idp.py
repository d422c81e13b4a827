"""A real OpenID Connect identity provider on loopback, for the demo and the tests.

It serves discovery documents and a JWKS over HTTP(S) from a ``ThreadingHTTPServer``
bound to 127.0.0.1 on an ephemeral port, and mints signed tokens shaped like Microsoft
Entra ID access tokens. The tests' subclass (``tests/support/faulty_idp.py``) adds
misbehaviour on request (errors, hangs, refused connections, overridden documents, key
rotation), so failure handling is exercised against a real socket rather than a mock.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import ssl
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

Flavour = Literal["entra", "generic"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# A made-up tenant; deliberately not any real Microsoft tenant id.
DEFAULT_TENANT_ID = "5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17"
# The API app registration the tokens are issued for (the ORDS MCP server), and the client.
DEFAULT_API_APP_ID = "0f6c3a8d-2b9e-4f71-8d5c-4a1e9b7c3d20"
DEFAULT_CLIENT_APP_ID = "c8e2d4f6-1a3b-4c5d-9e7f-0a1b2c3d4e5f"
DEFAULT_GENERIC_PATH = "/oauth2/default"

_EC_ALGS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_EC_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class SigningKey:
    """A private signing key and the public JWK the IdP publishes for it."""

    kid: str
    alg: str
    private_key: PrivateKey
    public_jwk: dict[str, Any]

    @property
    def x5t(self) -> str | None:
        """The certificate thumbprint (Entra v1 tokens carry it in the header)."""
        value = self.public_jwk.get("x5t")
        return value if isinstance(value, str) else None

    def public_pem(self) -> bytes:
        """The public key in PEM form (tests use it to show HMAC confusion is refused)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _self_signed_der(private_key: PrivateKey, common_name: str) -> bytes:
    # Entra publishes each key with an X.509 certificate (x5c) and its SHA-1 thumbprint
    # (x5t); v1 tokens name the key by x5t too, so the local IdP does the same.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(private_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def generate_rsa_key(kid: str | None = None, bits: int = 2048, alg: str = "RS256") -> SigningKey:
    """A fresh RSA key with an Entra-like JWK (``kty``, ``use``, ``kid``, ``x5t``, ``x5c``).

    The JWK carries no ``alg``, as Entra's do not: verifiers must infer it.
    """
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = _self_signed_der(private, "local-idp signing key")
    x5t = _b64url(hashlib.sha1(der).digest())  # noqa: S324 - x5t is defined as SHA-1
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.pop("key_ops", None)
    jwk.update(
        {
            "kid": kid or x5t,
            "use": "sig",
            "x5t": x5t,
            "x5c": [base64.b64encode(der).decode("ascii")],
        }
    )
    return SigningKey(kid=kid or x5t, alg=alg, private_key=private, public_jwk=jwk)


def generate_ec_key(kid: str | None = None, curve: str = "P-256") -> SigningKey:
    """A fresh EC key; the JWK states its ``alg`` (ES256 for P-256)."""
    private = ec.generate_private_key(_EC_CURVES[curve])
    alg = _EC_ALGS[curve]
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.pop("key_ops", None)
    kid = kid or f"ec-{uuid.uuid4().hex[:12]}"
    jwk.update({"kid": kid, "use": "sig", "alg": alg})
    return SigningKey(kid=kid, alg=alg, private_key=private, public_jwk=jwk)


@dataclass(frozen=True)
class Answer:
    """What the IdP sends for one GET."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    # False: no Content-Length, the client finds the size only by reading to the end.
    send_length: bool = True


class LocalIdP:
    """An OIDC provider on ``127.0.0.1:<ephemeral port>``; use it as a context manager.

    ``flavour="entra"`` serves Entra's per-tenant v2.0 and v1 documents, the templated
    ``common``/``organizations`` documents and the JWKS at Entra's paths. Like Entra it
    answers only ``{issuer}/.well-known/openid-configuration``, so MCP-order discovery
    sees two 404s first. ``flavour="generic"`` serves RFC 8414
    ``/.well-known/oauth-authorization-server[/path]`` and the OIDC documents for an
    issuer with a path (``path_issuer=True``, Okta style) or without one.
    """

    def __init__(
        self,
        *,
        flavour: Flavour = "entra",
        tenant_id: str = DEFAULT_TENANT_ID,
        keys: list[SigningKey] | None = None,
        scheme: Literal["http", "https"] = "http",
        ssl_context: ssl.SSLContext | None = None,
        path_issuer: bool = True,
        api_app_id: str = DEFAULT_API_APP_ID,
        client_app_id: str = DEFAULT_CLIENT_APP_ID,
    ) -> None:
        if scheme == "https" and ssl_context is None:
            raise ValueError("scheme='https' needs an ssl_context (e.g. from trustme)")
        self.flavour: Flavour = flavour
        self.tenant_id = tenant_id
        self.scheme = scheme
        self.ssl_context = ssl_context
        self.path_issuer = path_issuer
        self.api_app_id = api_app_id
        self.client_app_id = client_app_id
        # Mutable on purpose: tests append, replace or remove keys to simulate rollover.
        self.keys: list[SigningKey] = list(keys) if keys is not None else [generate_rsa_key()]
        # Paths requested, in order (the demo and the benchmarks count fetches with it).
        self.request_log: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 (the first time on an ephemeral port) and serve in a thread."""
        if self._server is not None:
            return self
        server = _QuietServer(("127.0.0.1", self._port), _handler_for(self))
        server.daemon_threads = True
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (0 before the first start)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:<port>``, no trailing slash."""
        return f"{self.scheme}://127.0.0.1:{self._port}"

    @property
    def issuer_path(self) -> str:
        """The path part of the issuer of this flavour (``""`` for a host-only issuer)."""
        if self.flavour == "entra":
            return f"/{self.tenant_id}/v2.0"
        return DEFAULT_GENERIC_PATH if self.path_issuer else ""

    @property
    def issuer(self) -> str:
        """The issuer of tokens minted by default (v2.0 for Entra)."""
        return self.base_url + self.issuer_path

    @property
    def issuer_v2(self) -> str:
        """Entra v2.0 issuer shape: ``{base}/{tenant}/v2.0``."""
        return f"{self.base_url}/{self.tenant_id}/v2.0"

    @property
    def issuer_v1(self) -> str:
        """Entra v1 issuer shape on this host: ``{base}/{tenant}/`` (trailing slash)."""
        return f"{self.base_url}/{self.tenant_id}/"

    @property
    def jwks_uri(self) -> str:
        """Where the keys are published (Entra: the v2.0 keys endpoint)."""
        if self.flavour == "entra":
            return f"{self.base_url}/{self.tenant_id}/discovery/v2.0/keys"
        return f"{self.issuer}/v1/keys"

    @property
    def jwks_uri_v1(self) -> str:
        """Entra's v1 keys endpoint (same keys here, as in practice)."""
        return f"{self.base_url}/{self.tenant_id}/discovery/keys"

    @property
    def metadata_url(self) -> str:
        """The discovery document a client should find for :attr:`issuer`."""
        if self.flavour == "entra":
            return f"{self.issuer_v2}/.well-known/openid-configuration"
        return f"{self.base_url}/.well-known/oauth-authorization-server{self.issuer_path}"

    @property
    def metadata_url_v1(self) -> str:
        """Entra v1 document: ``{base}/{tenant}/.well-known/openid-configuration``."""
        return f"{self.base_url}/{self.tenant_id}/.well-known/openid-configuration"

    @property
    def common_metadata_url(self) -> str:
        """Entra's multi-tenant document whose issuer is templated with ``{tenantid}``."""
        return f"{self.base_url}/common/v2.0/.well-known/openid-configuration"

    # -- keys and documents ------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        """The JWKS document as served."""
        return {"keys": [dict(k.public_jwk) for k in list(self.keys)]}

    def metadata(self, issuer: str | None = None, jwks_uri: str | None = None) -> dict[str, Any]:
        """An OpenID/OAuth metadata document for ``issuer`` (default :attr:`issuer`)."""
        iss = issuer or self.issuer
        base = iss.rstrip("/")
        doc: dict[str, Any] = {
            "issuer": iss,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": jwks_uri or self.jwks_uri,
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
        }
        if self.flavour == "entra":
            doc["tenant_region_scope"] = "EU"
            doc["cloud_instance_name"] = "microsoftonline.com"
        return doc

    def _documents(self) -> dict[str, dict[str, Any]]:
        base = self.base_url
        if self.flavour == "entra":
            tenant = self.tenant_id
            template_v2 = f"{base}/{{tenantid}}/v2.0"
            common_jwks = f"{base}/common/discovery/v2.0/keys"
            return {
                f"/{tenant}/v2.0/.well-known/openid-configuration": self.metadata(),
                f"/{tenant}/.well-known/openid-configuration": self.metadata(
                    self.issuer_v1, self.jwks_uri_v1
                ),
                "/common/v2.0/.well-known/openid-configuration": self.metadata(
                    template_v2, common_jwks
                ),
                "/organizations/v2.0/.well-known/openid-configuration": self.metadata(
                    template_v2, common_jwks
                ),
                "/common/.well-known/openid-configuration": self.metadata(
                    f"{base}/{{tenantid}}/", f"{base}/common/discovery/keys"
                ),
            }
        doc = self.metadata()
        path = self.issuer_path
        return {
            f"/.well-known/oauth-authorization-server{path}": doc,
            f"{path}/.well-known/openid-configuration": doc,
        }

    def _jwks_paths(self) -> set[str]:
        if self.flavour == "entra":
            t = self.tenant_id
            return {
                f"/{t}/discovery/v2.0/keys",
                f"/{t}/discovery/keys",
                "/common/discovery/v2.0/keys",
                "/common/discovery/keys",
            }
        return {urlsplit(self.jwks_uri).path}

    def respond(self, path: str) -> tuple[int, bytes, str]:
        """Status, body and content type for a GET of ``path``."""
        if path in self._jwks_paths():
            return 200, json.dumps(self.jwks()).encode(), "application/json"
        doc = self._documents().get(path)
        if doc is not None:
            return 200, json.dumps(doc).encode(), "application/json"
        return 404, b'{"error":"not_found"}', "application/json"

    def answer(self, path: str) -> Answer:
        """What a GET of ``path`` gets (the tests' subclass may answer otherwise)."""
        status, body, content_type = self.respond(path)
        return Answer(status, body, content_type)

    # -- tokens ------------------------------------------------------------------------

    def mint(
        self,
        claims: Mapping[str, Any],
        *,
        key: SigningKey | None = None,
        header: Mapping[str, Any] | None = None,
        alg: str | None = None,
    ) -> str:
        """Sign ``claims`` as a compact JWS with ``key`` (default: the first published key).

        The header gets ``kid``; ``header`` entries are merged over it, and an entry whose
        value is ``None`` removes that header (e.g. ``{"kid": None}``). ``alg="none"``
        produces an unsigned token.
        """
        signer = key or self.keys[0]
        algorithm = alg or signer.alg
        fields: dict[str, Any] = {"typ": "JWT", "kid": signer.kid}
        fields.update(header or {})
        fields = {name: value for name, value in fields.items() if value is not None}
        if algorithm == "none":
            return jwt.encode(dict(claims), "", algorithm="none", headers=fields)
        return jwt.encode(dict(claims), signer.private_key, algorithm=algorithm, headers=fields)

    def entra_v2_claims(self, *, now: float | None = None, **overrides: Any) -> dict[str, Any]:
        """Claims of a v2.0 Entra access token for the API, after Microsoft's example."""
        iat = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "aud": self.api_app_id,
            "iss": self.issuer_v2,
            "iat": iat,
            "nbf": iat,
            "exp": iat + 3900,
            "aio": "AXQAi/8UAAAAo3x2bQ9Lh2vN7pW3lZr8sQfT1kYcXmJeD4gHa6uBnV0=",
            "azp": self.client_app_id,
            "azpacr": "1",
            "name": "Abe Lincoln",
            "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
            "preferred_username": "abeli@contoso.example",
            "rh": "1.AQoAfBrpWz96jk2cG7XbRK1xGY06bA8rK3FPjVxKHpt8PSAKAOU.",
            "roles": ["ORDSUsers"],
            "scp": "mcp:connect",
            "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ",
            "tid": self.tenant_id,
            "uti": "fqiBqXLPj0eQa82S-IYFAA",
            "ver": "2.0",
        }
        claims.update(overrides)
        return claims

    def entra_v1_claims(self, *, now: float | None = None, **overrides: Any) -> dict[str, Any]:
        """Claims of a v1.0 Entra access token (``appid``, ``upn``, ``unique_name``)."""
        iat = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "aud": f"api://{self.api_app_id}",
            "iss": self.issuer_v1,
            "iat": iat,
            "nbf": iat,
            "exp": iat + 3900,
            "acr": "1",
            "aio": "E2ZgYJg/ZL3vO3X6r2mN9wAA",
            "amr": ["pwd"],
            "appid": self.client_app_id,
            "appidacr": "1",
            "family_name": "Lincoln",
            "given_name": "Abe",
            "ipaddr": "192.0.2.10",
            "name": "Abe Lincoln",
            "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
            "rh": "1.AQoAfBrpWz96jk2cG7XbRK1xGY06bA8rK3FPjVxKHpt8PSAKAOU.",
            "roles": ["ORDSUsers"],
            "scp": "mcp:connect",
            "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA",
            "tid": self.tenant_id,
            "unique_name": "abeli@contoso.example",
            "upn": "abeli@contoso.example",
            "uti": "FVsGxYXI30-TuikuuUoFAA",
            "ver": "1.0",
        }
        claims.update(overrides)
        return claims

    def mint_entra_v1(self, *, key: SigningKey | None = None, **overrides: Any) -> str:
        """A v1 token whose header carries both ``kid`` and ``x5t``, as Entra's do."""
        signer = key or self.keys[0]
        header: dict[str, Any] = {"x5t": signer.x5t} if signer.x5t else {}
        return self.mint(self.entra_v1_claims(**overrides), key=signer, header=header)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or fail TLS verification hang up mid-request; that is
        # what the failure tests do on purpose, not an error worth a traceback.
        pass


def _handler_for(idp: LocalIdP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "local-idp/1"
        # One request per connection: after down() no pooled keep-alive connection can
        # still reach a handler thread, so "down" really means connection refused.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            idp.request_log.append(path)
            reply = idp.answer(path)
            self._send(
                reply.status,
                reply.body,
                reply.content_type,
                reply.headers,
                send_length=reply.send_length,
            )

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: Mapping[str, str] | None = None,
            *,
            send_length: bool = True,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if send_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                # The client gave up (timeout tests): nothing to tell it any more.
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def keys_from(keys: Sequence[SigningKey]) -> dict[str, Any]:
    """A JWKS document for ``keys`` (for offline JWKS files in tests and the demo)."""
    return {"keys": [dict(k.public_jwk) for k in keys]}
