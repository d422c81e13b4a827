"""The reference deployment on loopback: real nginx in front of an ORDS stand-in, plus an IdP.

It mirrors the setup users have (domain reference, section 2): nginx serves the
protected-resource metadata as a static file, proxies ``/ords/`` to a backend that answers
like ORDS (``401`` with ``Bearer realm="Oracle REST Data Services"``), rewrites that 401 in
``@ords_401`` with the headers-more module, and writes the ``extended`` access log that
records ``$http_authorization``. A :class:`LocalIdP` serves the authorization-server
metadata and JWKS.

:class:`SiteVariant` flips one thing at a time so each broken variant produces one doctor
finding. Used by the doctor tests and the TUI's doctor screen tests::

    with LocalIdP() as idp, ReferenceSite(tmp_path, idp) as site:
        report = run_doctor(DoctorOptions(site.mcp_url, allow_http=True,
                                          nginx_conf=site.conf_path))

``@PORT@``/``@PREFIX@`` are filled by :class:`NginxServer`; everything listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from inspector.demo.idp import LocalIdP
from tests.support.nginx import HEADERS_MORE_MODULE, NginxServer, http_conf

ORDS_CHALLENGE = 'Bearer realm="Oracle REST Data Services", error="invalid_token"'
MCP_PATH = "/ords/hr/mcp/server"

EXTENDED_FORMAT = (
    "'$remote_addr - $remote_user [$time_local] '\n"
    "        '\"$request\" $status $body_bytes_sent '\n"
    "        'referer:\"$http_referer\" '\n"
    "        'ua:\"$http_user_agent\" '\n"
    "        'content-type:\"$http_content_type\" '\n"
    "        'authorization:\"$http_authorization\" '\n"
    "        'mcp-protocol-version:\"$http_mcp_protocol_version\"'"
)


@dataclass(frozen=True)
class SiteVariant:
    """What differs from the reference; the defaults are the working setup.

    ``scope`` and ``authorization_server`` may contain ``{app}`` / ``{issuer}`` / ``{mcp}``,
    filled with the IdP's API app id and issuer and the MCP URL. ``resource`` ``None``
    means the MCP URL itself. The scope is Entra's working pattern since 2026: the App ID
    URI is the MCP URL (``api://{app}/...`` now fails with AADSTS9010010).
    """

    resource_metadata: bool = True
    scope: str | None = "{mcp}/mcp:connect"
    scopes_supported: tuple[str, ...] | None = ("{mcp}/mcp:connect",)
    resource: str | None = None
    metadata_file: bool = True
    authorization_server: str = "{issuer}"
    clear_ords_challenge: bool = True
    load_headers_more: bool = True
    cors: bool = True
    log_mode: int = 0o640
    # The format the access_log names; "extended" is defined, anything else is not.
    access_log_format: str = "extended"
    extra_document: dict[str, Any] = field(default_factory=dict)


class OrdsStandIn:
    """A backend answering every request like ORDS without a valid token: 401 + realm.

    ``protected`` (asked on each request) False answers 200 instead, as ORDS does for a
    module no privilege protects.
    """

    def __init__(self, protected: Callable[[], bool] | None = None) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.protected = protected
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                owner.requests.append((self.command, self.path, self.headers.get("Authorization")))
                if owner.protected is not None and not owner.protected():
                    self._open()
                    return
                body = b'{"code":"Unauthorized","message":"Unauthorized"}'
                self.send_response(401)
                self.send_header("WWW-Authenticate", ORDS_CHALLENGE)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _open(self) -> None:
                body = b'{"jsonrpc":"2.0","id":1,"result":{}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        """The port nginx proxies to."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class ReferenceSite:
    """nginx + ORDS stand-in set up like the reference, for one :class:`SiteVariant`.

    ``tls`` is ``(certificate_pem_path, key_pem_path)`` to listen with https.
    """

    def __init__(
        self,
        root: Path,
        idp: LocalIdP,
        variant: SiteVariant | None = None,
        *,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.root = root
        self.idp = idp
        self.variant = variant or SiteVariant()
        self.tls = tls
        self.backend = OrdsStandIn()
        self.nginx = NginxServer(root / "nginx")
        self.well_known = root / "well-known"

    # -- addresses ---------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        """``https`` with ``tls``, else ``http``."""
        return "https" if self.tls else "http"

    @property
    def origin(self) -> str:
        """``scheme://127.0.0.1:port``."""
        return f"{self.scheme}://127.0.0.1:{self.nginx.port}"

    @property
    def mcp_url(self) -> str:
        """The MCP endpoint URL a connector is given."""
        return self.origin + MCP_PATH

    @property
    def conf_path(self) -> Path:
        """The nginx.conf nginx runs with."""
        return self.nginx.conf_path

    @property
    def log_path(self) -> Path:
        """The extended access log (holds bearer tokens)."""
        return self.nginx.prefix / "logs" / "extended.log"

    # -- documents and configuration ---------------------------------------------------

    def fill(self, text: str) -> str:
        """``{app}``, ``{issuer}`` and ``{mcp}`` replaced with the IdP's values and the MCP URL."""
        return (
            text.replace("{app}", self.idp.api_app_id)
            .replace("{issuer}", self.idp.issuer)
            .replace("{mcp}", self.mcp_url)
        )

    def metadata_document(self) -> dict[str, Any]:
        """The protected-resource metadata the static file holds."""
        v = self.variant
        document: dict[str, Any] = {
            "resource": v.resource if v.resource is not None else self.mcp_url,
            "authorization_servers": [self.fill(v.authorization_server)],
            "bearer_methods_supported": ["header"],
            "resource_name": "HR MCP server on ORDS",
        }
        if v.scopes_supported is not None:
            document["scopes_supported"] = [self.fill(s) for s in v.scopes_supported]
        document.update(v.extra_document)
        return document

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value nginx adds in ``@ords_401``."""
        v = self.variant
        params = []
        if v.resource_metadata:
            # $http_host keeps the port; the reference's $host would drop it.
            params.append(
                'resource_metadata="$scheme://$http_host/.well-known/oauth-protected-resource"'
            )
        if v.scope is not None:
            params.append(f'scope="{self.fill(v.scope)}"')
        return "Bearer " + ",".join(params) if params else "Bearer"

    def conf_text(self, variant: SiteVariant | None = None) -> str:
        """nginx.conf for ``variant`` (default: this site's), with @PORT@/@PREFIX@ left in."""
        v = variant or self.variant
        listen = "listen 127.0.0.1:@PORT@" + (" ssl" if self.tls else "") + ";"
        tls = ""
        if self.tls:
            tls = f"ssl_certificate {self.tls[0]};\n        ssl_certificate_key {self.tls[1]};"
        cors = ""
        if v.cors:
            cors = (
                "add_header Access-Control-Allow-Origin $http_origin always;\n"
                "            add_header Access-Control-Expose-Headers WWW-Authenticate always;"
            )
        clear = "more_clear_headers 'WWW-Authenticate';" if v.clear_ords_challenge else ""
        body = f"""
            log_format extended {EXTENDED_FORMAT};
            server {{
                {listen}
                {tls}
                # In the server block: http_conf's "access_log off" cancels http-level logs.
                access_log @PREFIX@/logs/extended.log {v.access_log_format};
                location = /.well-known/oauth-protected-resource {{
                    default_type application/json;
                    alias {self.well_known}/oauth-protected-resource.json;
                    add_header Access-Control-Allow-Origin * always;
                }}
                location /ords/ {{
                    proxy_pass http://127.0.0.1:{self.backend.port};
                    proxy_intercept_errors on;
                    error_page 401 = @ords_401;
                }}
                location @ords_401 {{
                    internal;
                    {clear}
                    add_header WWW-Authenticate '{self.challenge()}' always;
                    {cors}
                    return 401;
                }}
            }}
        """
        modules = (HEADERS_MORE_MODULE,) if v.load_headers_more else ()
        return http_conf(body, load_modules=modules)

    def write_variant_conf(self, variant: SiteVariant, name: str) -> Path:
        """A rendered nginx.conf for ``variant`` next to the running one (nginx not restarted).

        For variants nginx refuses to start with (undefined format, headers-more not
        loaded): the doctor reads the file while the working site keeps serving.
        """
        path = self.nginx.prefix / "conf" / name
        path.write_text(self.nginx.render(self.conf_text(variant)))
        return path

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ReferenceSite:
        """Write the metadata file, start the backend and nginx, set the log's mode."""
        self.well_known.mkdir(parents=True, exist_ok=True)
        if self.variant.metadata_file:
            (self.well_known / "oauth-protected-resource.json").write_text(
                json.dumps(self.metadata_document(), indent=2)
            )
        self.backend.start()
        try:
            self.nginx.start(self.conf_text())
        except Exception:
            self.backend.stop()
            raise
        self.log_path.chmod(self.variant.log_mode)
        return self

    def stop(self) -> None:
        """Stop nginx and the backend."""
        self.nginx.stop()
        self.backend.stop()

    def __enter__(self) -> ReferenceSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
