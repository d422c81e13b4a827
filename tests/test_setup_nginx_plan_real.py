"""The nginx plan applied to a bare reference-like configuration, run by a real nginx.

The test applies the plan's FileChanges itself (the applier is tested elsewhere), checks
the result with ``nginx -t``, starts nginx and asks it for what the plan says it serves:
both metadata URIs (with CORS and the preflight), the challenge on ORDS's 401, a token
log line without the signature, and the user's own http-level log still written.
"""

from __future__ import annotations

import base64
import json
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from inspector.doctor import DoctorOptions, Status, run_doctor
from inspector.setup.model import FileChange, ResourceFacts, unified_diff
from inspector.setup.nginx_plan import NginxPlan, NginxPlanOptions, plan_nginx
from parsers.nginx.conf import parse_config
from parsers.nginx.safe_log import (
    QUERY_MARKER,
    SAFE_LOG_MAP,
    SAFE_REQUEST_MAPS,
    SIGNATURE_MARKER,
)
from tests.support.faulty_idp import FaultyIdP
from tests.support.nginx import (
    HEADERS_MORE_MODULE,
    NginxServer,
    check_config,
    free_port,
    main_conf,
    requires_headers_more,
)
from tests.support.reference_site import ORDS_CHALLENGE, OrdsStandIn

pytestmark = [requires_headers_more, pytest.mark.nginx]

MCP_PATH = "/ords/hr/mcp/server"
ISSUER = "https://login.example/tenant/v2.0"


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


HEADER = b64({"alg": "RS256", "kid": "k1", "typ": "JWT"})
PAYLOAD = b64({"iss": ISSUER, "sub": "alice", "aud": "ords"})
SIGNATURE = "c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ" * 2


def bare_conf(backend_port: int) -> str:
    """The reference without metadata, challenge rewrite or token log; an http-level log."""
    return main_conf(
        textwrap.dedent(
            f"""
            http {{
                client_body_temp_path @PREFIX@/tmp/body;
                proxy_temp_path @PREFIX@/tmp/proxy;
                log_format main '$remote_addr "$request" $status';
                access_log @PREFIX@/logs/main.log main;
                server {{
                    listen 127.0.0.1:@PORT@;
                    server_name localhost;
                    location /ords/ {{
                        proxy_pass http://127.0.0.1:{backend_port};
                    }}
                }}
            }}
            """
        )
    )


def apply(changes: tuple[FileChange, ...]) -> None:
    for change in changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        change.path.write_text(change.after, encoding="utf-8", errors="surrogateescape")


def planned(
    server: NginxServer, facts: ResourceFacts, *, conf_text: str | None = None, **kw: object
) -> NginxPlan:
    """Plan, apply the plan's changes, check them with nginx -t, reload a running nginx.

    With ``conf_text`` the configuration is written first and nginx is not running. Else
    nginx runs already: it holds its port, so the port in the planned URLs stays its own.
    """
    conf = server.write_conf(conf_text) if conf_text is not None else server.conf_path
    options = NginxPlanOptions(
        token_log=server.prefix / "logs" / "mcp-tokens.log",
        headers_more_module=HEADERS_MORE_MODULE,
        **kw,  # type: ignore[arg-type]
    )
    plan = plan_nginx(parse_config(conf, strict=False, prefix=server.prefix), facts, options)
    assert plan.blockers == ()
    apply(plan.changes)
    checked = check_config(conf, server.prefix)
    assert checked.returncode == 0, checked.stderr
    if conf_text is None:
        server.reload(conf.read_text())
    return plan


VARIANTS = {
    "server-log-off": ("server_name localhost;", "server_name localhost; access_log off;"),
    "inherited-headers-and-error-page": (
        "server_name localhost;",
        "server_name localhost; add_header X-Frame-Options DENY; error_page 502 /50x.html;",
    ),
    "location-log": (
        "proxy_pass",
        "access_log @PREFIX@/logs/ords.log main; proxy_pass",
    ),
}


@pytest.mark.parametrize("full_tokens", [False, True], ids=["safe", "full"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_pass_nginx_t_and_answer_the_challenge(
    tmp_path: Path, variant: str, full_tokens: bool
) -> None:
    old, new = VARIANTS[variant]
    backend = OrdsStandIn()
    backend.start()
    try:
        with NginxServer(tmp_path / "nginx") as server:
            server.start(bare_conf(backend.port).replace(old, new, 1))
            # A quote and an encoded space in the path: quoted for nginx, matched decoded.
            mcp_url = f"http://127.0.0.1:{server.port}/ords/o'brien%20x/mcp"
            facts = ResourceFacts(mcp_url, (ISSUER,), ("api://o'brien/mcp:connect",))
            plan = planned(server, facts, full_tokens=full_tokens)
            status, headers, _ = server.request("/ords/o'brien%20x/mcp", method="POST", body=b"{}")
            assert status == 401
            assert headers["www-authenticate"] == plan.challenge
            path = urlsplit(plan.metadata_urls[0]).path
            status, headers, body = server.request(path)
            assert status == 200, body
            if variant == "inherited-headers-and-error-page":
                # Repeated in our location (its own add_header cancels the server's).
                assert headers["x-frame-options"] == "DENY"
            assert json.loads(body)["resource"] == mcp_url
            assert plan.token_log is not None
            server.stop()
            assert "POST /ords/o'brien%20x/mcp" in plan.token_log.read_text()
            if variant == "location-log":
                # The user's location log still gets the rewritten 401.
                ords_log = (server.prefix / "logs" / "ords.log").read_text()
                assert "POST /ords/o'brien%20x/mcp" in ords_log
    finally:
        backend.stop()


def test_bare_configuration_serves_what_the_plan_says(tmp_path: Path) -> None:
    backend = OrdsStandIn()
    backend.start()
    try:
        with NginxServer(tmp_path / "nginx") as server:
            server.start(bare_conf(backend.port))
            conf = server.conf_path
            mcp_url = f"http://127.0.0.1:{server.port}{MCP_PATH}"
            scope = f"{mcp_url}/mcp:connect"
            facts = ResourceFacts(mcp_url, (ISSUER,), (scope,), "HR on ORDS")
            token_log = server.prefix / "logs" / "mcp-tokens.log"
            options = NginxPlanOptions(token_log=token_log, headers_more_module=HEADERS_MORE_MODULE)
            config = parse_config(conf, strict=False, prefix=server.prefix)
            plan = plan_nginx(config, facts, options)
            assert plan.blockers == ()
            apply(plan.changes)

            checked = check_config(conf, server.prefix)
            assert checked.returncode == 0, checked.stderr
            again = plan_nginx(
                parse_config(conf, strict=False, prefix=server.prefix), facts, options
            )
            assert again.changes == (), unified_diff(again.changes)
            assert again.blockers == ()

            server.reload(conf.read_text())
            status, headers, body = server.request(
                MCP_PATH,
                method="POST",
                headers={"Authorization": f"Bearer {HEADER}.{PAYLOAD}.{SIGNATURE}"},
                body=b"{}",
            )
            assert status == 401
            assert headers["www-authenticate"] == plan.challenge
            assert ORDS_CHALLENGE not in str(headers)
            assert headers["access-control-expose-headers"] == "WWW-Authenticate"

            for url in plan.metadata_urls:
                path = url.removeprefix(f"http://127.0.0.1:{server.port}")
                status, headers, body = server.request(
                    path, headers={"Origin": "https://claude.ai"}
                )
                assert status == 200, (path, body)
                assert headers["content-type"] == "application/json"
                assert headers["access-control-allow-origin"] == "*"
                assert json.loads(body) == plan.documents[path]
                assert json.loads(body)["resource"] == mcp_url
                status, headers, _ = server.request(path, method="OPTIONS")
                assert status == 204
                assert "GET" in headers["access-control-allow-methods"]
            server.stop()

            logged = token_log.read_text()
            assert f"Bearer {HEADER}.{PAYLOAD}.{SIGNATURE_MARKER}" in logged
            assert SIGNATURE not in logged
            main_log = (server.prefix / "logs" / "main.log").read_text().splitlines()
            assert len(main_log) == 5  # POST, two GETs, two OPTIONS: the user's log kept
    finally:
        backend.stop()


def test_debian_layout_edits_the_file_each_block_is_in(tmp_path: Path) -> None:
    """nginx.conf + modules-enabled + sites-enabled: each include goes into its block's file."""
    with NginxServer(tmp_path / "nginx", port=free_port()) as server:
        conf_dir = server.prefix / "conf"
        for sub in ("modules-enabled", "sites-enabled"):
            (conf_dir / sub).mkdir(parents=True)
        (conf_dir / "modules-enabled" / "50-mod-http-headers-more-filter.conf").write_text(
            f"load_module {HEADERS_MORE_MODULE};\n"
        )
        site = conf_dir / "sites-enabled" / "default"
        site.write_text(
            server.render(
                "server {\n"
                "\tlisten 127.0.0.1:@PORT@ default_server;\n"
                "\tserver_name _;\n"
                "\tlocation / {\n"
                "\t\tproxy_pass http://127.0.0.1:9;\n"
                "\t}\n"
                "}\n"
            )
        )
        text = main_conf(
            "http {\n"
            "    proxy_temp_path @PREFIX@/tmp/proxy;\n"
            "    access_log @PREFIX@/logs/access.log;\n"
            "    include sites-enabled/*;\n"
            "}\n"
        )
        text = "include modules-enabled/*.conf;\n" + text
        facts = ResourceFacts(f"http://127.0.0.1:{server.port}/mcp", (ISSUER,))
        plan = planned(server, facts, conf_text=text)
        edited = {c.path.name for c in plan.changes if c.before is not None}
        assert edited == {"nginx.conf", "default"}
        assert "load_module" not in server.conf_path.read_text().replace(
            "include modules-enabled", ""
        )
        lines = site.read_text().splitlines()
        assert lines[1].startswith("\tinclude ") and lines[5].startswith("\t\tinclude ")
        assert 'resource_metadata="' in plan.challenge and "scope=" not in plan.challenge


def test_doctor_passes_challenge_metadata_and_log_steps_on_the_plan(tmp_path: Path) -> None:
    backend = OrdsStandIn()
    backend.start()
    try:
        with FaultyIdP() as idp, NginxServer(tmp_path / "nginx") as server:
            server.start(bare_conf(backend.port))
            mcp_url = f"http://127.0.0.1:{server.port}{MCP_PATH}"
            facts = ResourceFacts(mcp_url, (idp.issuer,), (f"{mcp_url}/mcp:connect",), "HR")
            planned(server, facts)
            # nginx creates the log with its umask; a token log should not be world-readable.
            (server.prefix / "logs" / "mcp-tokens.log").chmod(0o640)
            options = DoctorOptions(mcp_url, allow_http=True, nginx_conf=server.conf_path)
            report = run_doctor(options)
        assert not report.failed, report.codes(Status.FAIL)
        passed = set(report.codes(Status.PASS))
        assert {
            "challenge-401",
            "challenge-no-ords-realm",
            "challenge-resource-metadata",
            "challenge-scope",
            "cors-present",
            "prm-reachable",
            "prm-resource",
            "prm-authorization-servers",
            "prm-scopes",
            "nginx-authorization-log",
            "nginx-log-signature-free",
            "nginx-headers-more-loaded",
        } <= passed
    finally:
        backend.stop()


# ORDS's own error answers through the MCP location: what an MCP client must get unchanged.
ORDS_404 = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no such tool"}}'
ORDS_500 = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"ORA-00942"}}'


class ErrorsUpstream:
    """ORDS answering 404 (``.../missing``) and 500 (``.../boom``) with JSON-RPC error
    bodies, and 401 with its realm challenge for anything else."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if self.path.endswith("/missing"):
                    status, body, extra = 404, ORDS_404, ()
                elif self.path.endswith("/boom"):
                    status, body, extra = 500, ORDS_500, ()
                else:
                    status, body = 401, b'{"code":"Unauthorized"}'
                    extra = (("WWW-Authenticate", ORDS_CHALLENGE),)
                self.send_response(status)
                for name, value in extra:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.port = int(self._server.server_address[1])
        self._stopped = False

    def stop(self) -> None:
        """Stop answering: the port is closed, so nginx makes its own 502."""
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()


SITE_404 = b"the site's own 404 page\n"
SITE_50X = b"the site's own 50x page\n"


def pages_conf(backend_port: int, intercept: bool) -> str:
    """A server with the usual error pages at server level (a distribution's default)."""
    return main_conf(
        textwrap.dedent(
            f"""
            http {{
                client_body_temp_path @PREFIX@/tmp/body;
                proxy_temp_path @PREFIX@/tmp/proxy;
                access_log off;
                server {{
                    listen 127.0.0.1:@PORT@;
                    server_name localhost;
                    root @PREFIX@/html;
                    error_page 404 /404.html;
                    error_page 500 502 503 504 /50x.html;
                    location /ords/ {{
                        {"proxy_intercept_errors on;" if intercept else ""}
                        proxy_pass http://127.0.0.1:{backend_port};
                    }}
                }}
            }}
            """
        )
    )


@pytest.mark.parametrize("intercept", [False, True], ids=["not-intercepting", "intercepting"])
def test_interception_for_the_401_leaves_ords_other_errors_as_they_were(
    tmp_path: Path, intercept: bool
) -> None:
    """Only the 401 changes: ORDS's own 404 and 500 reach the client as before setup."""
    upstream = ErrorsUpstream()
    try:
        with NginxServer(tmp_path / "nginx") as server:
            html = server.prefix / "html"
            html.mkdir(parents=True)
            (html / "404.html").write_bytes(SITE_404)
            (html / "50x.html").write_bytes(SITE_50X)
            server.start(pages_conf(upstream.port, intercept))
            paths = ("/ords/hr/mcp/missing", "/ords/hr/mcp/boom", "/no-such-file")
            before = [server.request(p, method="POST" if "ords" in p else "GET") for p in paths]
            if intercept:
                assert [(s, b) for s, _, b in before[:2]] == [(404, SITE_404), (500, SITE_50X)]
            else:
                assert [(s, b) for s, _, b in before[:2]] == [(404, ORDS_404), (500, ORDS_500)]
            assert before[2][0] == 404 and before[2][2] == SITE_404

            mcp_url = f"http://127.0.0.1:{server.port}/ords/hr/mcp"
            plan = planned(server, ResourceFacts(mcp_url, (ISSUER,), ("mcp:connect",)))

            status, headers, _ = server.request("/ords/hr/mcp", method="POST", body=b"{}")
            assert status == 401
            assert headers["www-authenticate"] == plan.challenge
            after = [server.request(p, method="POST" if "ords" in p else "GET") for p in paths]
            # Status, body and content type exactly as before setup, for every path.
            assert [(s, h.get("content-type"), b) for s, h, b in after] == [
                (s, h.get("content-type"), b) for s, h, b in before
            ]
            if intercept:
                (warning,) = [w for w in plan.warnings if "proxy_intercept_errors is on" in w]
                assert "404, 500, 502, 503, 504" in warning and "changes nothing" in warning
                assert not any("no longer applies" in n for n in plan.notes)
            else:
                (note,) = [n for n in plan.notes if "no longer applies" in n]
                assert "404, 500, 502, 503, 504" in note and "built-in page" in note
                assert not any("error_page" in w for w in plan.warnings)

            # An error nginx makes itself in the MCP location: ORDS is down.
            upstream.stop()
            status, _, body = server.request("/ords/hr/mcp/x", method="POST", body=b"{}")
            assert status == 502
            if intercept:
                assert body == SITE_50X  # repeated beside setup's error_page 401
            else:
                # As the note says: nginx's built-in page, no longer the site's.
                assert body != SITE_50X and b"502 Bad Gateway" in body
    finally:
        upstream.stop()


# What a user's http block may define already under the names setup's http file uses.
_OWN_MAPS = SAFE_LOG_MAP + SAFE_REQUEST_MAPS
_RAW_REQUEST_MAP = "map $request $Request_Without_Token { default $request; }\n"
NAME_CLASHES = {
    # Formats of the same names with other templates: setup's get other names.
    "formats": ("log_format extended_safe '$status';\nlog_format token_inspector_full '$uri';\n"),
    # The user's copies of setup's maps: kept, not defined a second time.
    "same-maps": _OWN_MAPS + "log_format extended_safe '$status';\n",
    # A map of one of the names that writes something else: kept, with a warning.
    "other-map": _RAW_REQUEST_MAP,
}


def with_http_extra(backend_port: int, extra: str) -> str:
    """The bare configuration with ``extra`` at the top of its http block."""
    indented = textwrap.indent(extra, "    ")
    return bare_conf(backend_port).replace("http {\n", "http {\n" + indented, 1)


@pytest.mark.parametrize("clash", sorted(NAME_CLASHES))
def test_user_definitions_of_setup_names_pass_nginx_t(tmp_path: Path, clash: str) -> None:
    with NginxServer(tmp_path / "nginx") as server:
        facts = ResourceFacts(f"http://127.0.0.1:{server.port}{MCP_PATH}", (ISSUER,))
        text = with_http_extra(9, NAME_CLASHES[clash])
        plan = planned(server, facts, conf_text=text, full_tokens=True)  # runs nginx -t
        (http,) = [c.after for c in plan.changes if c.path.name == "http.conf"]
        again = plan_nginx(
            parse_config(server.conf_path, strict=False, prefix=server.prefix),
            facts,
            NginxPlanOptions(
                token_log=server.prefix / "logs" / "mcp-tokens.log",
                headers_more_module=HEADERS_MORE_MODULE,
                full_tokens=True,
            ),
        )
        assert again.changes == (), unified_diff(again.changes)
    maps = {line.split()[2] for line in http.splitlines() if line.startswith("map ")}
    if clash == "formats":
        assert "log_format extended_safe_2 '" in http
        assert "log_format token_inspector_full_2 '" in http
        assert maps == {
            "$token_without_signature",
            "$request_without_token",
            "$referer_without_token",
        }
    elif clash == "same-maps":
        assert "log_format extended_safe_2 '" in http
        assert maps == set()
        assert sum("is kept (the same)" in n for n in plan.notes) == 3
    else:
        assert maps == {"$token_without_signature", "$referer_without_token"}
        (warning,) = [w for w in plan.warnings if "$request_without_token" in w]
        assert f"{server.conf_path}:" in warning and "docs/safe-token-log.md" in warning


def test_users_own_safe_maps_log_no_query_token(tmp_path: Path) -> None:
    backend = OrdsStandIn()
    backend.start()
    try:
        with NginxServer(tmp_path / "nginx") as server:
            server.start(with_http_extra(backend.port, NAME_CLASHES["same-maps"]))
            facts = ResourceFacts(f"http://127.0.0.1:{server.port}{MCP_PATH}", (ISSUER,))
            planned(server, facts)
            token = f"{HEADER}.{PAYLOAD}.{SIGNATURE}"
            status, _, _ = server.request(
                f"{MCP_PATH}?access_token={token}",
                method="POST",
                headers={"Authorization": f"Bearer {token}"},
                body=b"{}",
            )
            assert status == 401
            server.stop()
        logged = (server.prefix / "logs" / "mcp-tokens.log").read_text()
    finally:
        backend.stop()
    assert f"{MCP_PATH}?{QUERY_MARKER}" in logged
    assert f"Bearer {HEADER}.{PAYLOAD}.{SIGNATURE_MARKER}" in logged
    assert SIGNATURE not in logged
