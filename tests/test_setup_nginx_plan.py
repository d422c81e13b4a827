"""The nginx planner without running nginx: which blocks it picks, what it keeps, what it
writes, nginx's inheritance traps, idempotence and hostile values.

``test_setup_nginx_plan_real.py`` runs the planned configuration in a real nginx.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from inspector.setup.model import FileChange, ResourceFacts
from inspector.setup.nginx_locate import choose_server, find_location, url_target
from inspector.setup.nginx_plan import NginxPlan, NginxPlanOptions, plan_nginx
from parsers.nginx.conf import parse_config, parse_config_text
from parsers.nginx.model import Directive
from parsers.nginx.safe_log import SAFE_LOG_MAP, safe_log_config

MCP = "https://mcp.example.com/ords/hr/mcp/server"
ISSUER = "https://login.example/tenant/v2.0"
SCOPE = f"{MCP}/mcp:connect"
FACTS = ResourceFacts(MCP, (ISSUER,), (SCOPE,), "HR")

BARE = """
http {
    log_format main '$remote_addr "$request" $status';
    access_log /var/log/nginx/main.log main;
    server {
        listen 443 ssl;
        server_name mcp.example.com;
        location /ords/ {
            proxy_pass http://127.0.0.1:8080;
        }
    }
}
"""


class Site:
    """A configuration in a temp dir, planned with a headers-more module that exists."""

    def __init__(self, root: Path, text: str, **files: str) -> None:
        self.root = root
        self.conf = root / "nginx.conf"
        self.conf.write_text(textwrap.dedent(text).lstrip())
        for name, body in files.items():
            (root / name.replace("__", ".")).write_text(textwrap.dedent(body).lstrip())
        self.module = root / "ngx_http_headers_more_filter_module.so"
        self.module.write_bytes(b"")
        self.snippets = root / "token-inspector"

    def options(self, **kw: object) -> NginxPlanOptions:
        values: dict[str, object] = {
            "token_log": Path("/var/log/nginx/mcp-tokens.log"),
            "headers_more_module": self.module,
        }
        values.update(kw)
        return NginxPlanOptions(**values)  # type: ignore[arg-type]

    def plan(self, facts: ResourceFacts = FACTS, **kw: object) -> NginxPlan:
        config = parse_config(self.conf, strict=False, prefix=self.root)
        return plan_nginx(config, facts, self.options(**kw))

    def apply(self, plan: NginxPlan) -> None:
        for change in plan.changes:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            change.path.write_text(change.after)

    def change(self, plan: NginxPlan, name: str) -> FileChange:
        matches = [c for c in plan.changes if c.path.name.startswith(name)]
        assert len(matches) == 1, [c.path for c in plan.changes]
        return matches[0]


def added_lines(change: FileChange) -> list[str]:
    before = (change.before or "").splitlines()
    after = change.after.splitlines()
    for line in before:
        after.remove(line)
    return after


# -- choosing the server -------------------------------------------------------------------


def servers(text: str) -> list[Directive]:
    config = parse_config_text(textwrap.dedent(text), strict=False)
    return list(config.iter_directives("server"))


def chosen(text: str, url: str) -> int | None:
    found = servers(text)
    server = choose_server(found, url_target(url)).server
    return None if server is None else found.index(server)


NAMES = """
http {
    server { listen 80; server_name _; }
    server { listen 80 default_server; server_name other.example; }
    server { listen 80; server_name *.example.com; }
    server { listen 80; server_name mcp.example.*; }
    server { listen 80; server_name ~^api\\d+\\.example\\.org$; }
    server { listen 80; server_name mcp.example.com; }
    server { listen 443 ssl; server_name mcp.example.com; }
    server { listen 8080; server_name .deep.example.net; }
    server { listen 127.0.0.1:9000; }
    server { listen 9000; }
}
"""


@pytest.mark.parametrize(
    ("url", "index"),
    [
        ("http://mcp.example.com/x", 5),  # exact name beats wildcards
        ("http://a.b.example.com/x", 2),  # leading wildcard
        ("http://mcp.example.org/x", 3),  # trailing wildcard
        ("http://api42.example.org/x", 4),  # regex
        ("http://nobody.example/x", 1),  # default_server of the port
        ("https://mcp.example.com/x", 6),  # the port follows the scheme
        ("http://deep.example.net:8080/x", 7),  # ".name" matches the name itself
        ("http://127.0.0.1:9000/x", 8),  # a listen on the address beats the wildcard
        ("http://10.0.0.1:9000/x", 9),
        ("http://mcp.example.com:81/x", None),
    ],
)
def test_server_is_chosen_by_nginx_rules(url: str, index: int | None) -> None:
    assert chosen(NAMES, url) == index


def test_without_default_server_the_first_on_the_port_is_chosen() -> None:
    text = "http { server { listen 80; server_name a; } server { listen 80; server_name b; } }"
    assert chosen(text, "http://c/x") == 0
    assert chosen("http { server { server_name a; } }", "http://c/x") == 0  # listen *:80
    on_localhost = "http { server { listen 80; } server { listen localhost:80; } }"
    assert chosen(on_localhost, "http://127.0.0.1/x") == 1


# -- finding the location ------------------------------------------------------------------

LOCATIONS = """
http { server {
    location / { }
    location /ords/ { location /ords/hr/ { } location ~ \\.json$ { } }
    location ^~ /static/ { }
    location ~ ^/static/.*\\.png$ { }
    location ~* \\.PNG$ { }
    location = /exact { }
    location /exact { }
    location ~ ^/api/ { }
    location ~ ^/api/v1 { }
    location /api/ { }
    location @named { }
} }
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ords/hr/mcp/server", ["location /ords/", "location /ords/hr/"]),
        ("/ords/x.json", ["location /ords/", "location ~ \\.json$"]),
        ("/static/a.png", ["location ^~ /static/"]),  # ^~ skips the regexes
        ("/img/a.png", ["location ~* \\.PNG$"]),  # case-insensitive regex
        ("/exact", ["location = /exact"]),
        ("/exact/more", ["location /exact"]),
        ("/api/v1/x", ["location ~ ^/api/"]),  # first regex in order wins over the prefix
        ("/other", ["location /"]),
    ],
)
def test_location_follows_nginx_matching(path: str, expected: list[str]) -> None:
    server = servers(LOCATIONS)[0]
    assert [d.label for d in find_location(server.block or (), path)] == expected


def test_no_server_or_no_location_is_a_blocker(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE)
    plan = site.plan(ResourceFacts("https://mcp.example.com:8443/x", (ISSUER,)))
    assert plan.changes == ()
    assert "no server block serves https://mcp.example.com:8443" in plan.blockers[0]
    plan = site.plan(ResourceFacts("https://mcp.example.com/mcp", (ISSUER,)))
    assert plan.changes == ()
    assert "no location in this server serves /mcp" in plan.blockers[0]


# -- what is planned -----------------------------------------------------------------------


def test_bare_configuration_plan(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE)
    plan = site.plan()
    assert plan.blockers == ()
    assert plan.metadata_urls == (
        "https://mcp.example.com/.well-known/oauth-protected-resource/ords/hr/mcp/server",
        "https://mcp.example.com/.well-known/oauth-protected-resource",
    )
    assert plan.challenge == (
        f'Bearer resource_metadata="{plan.metadata_urls[0]}", scope="{SCOPE}"'
    )
    document = {
        "resource": MCP,
        "authorization_servers": [ISSUER],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "HR",
    }
    assert dict(plan.documents["/.well-known/oauth-protected-resource"]) == document
    assert set(plan.documents) == {
        "/.well-known/oauth-protected-resource/ords/hr/mcp/server",
        "/.well-known/oauth-protected-resource",
    }
    conf = site.change(plan, "nginx.conf")
    # One line per block, indented like the block's first line; nothing else touched.
    assert added_lines(conf) == [
        f"load_module {site.module};",
        f"    include {site.snippets}/http.conf;",
        f"        include {site.snippets}/server-mcp-example-com-ords-hr-mcp-server.conf;",
        f"            include {site.snippets}/location-mcp-example-com-ords-hr-mcp-server.conf;",
    ]
    location = site.change(plan, "location-").after
    assert "proxy_intercept_errors on;\nerror_page 401 = @token_inspector_401;\n" in location
    server = site.change(plan, "server-").after
    assert "more_clear_headers 'WWW-Authenticate';" in server
    assert f"add_header WWW-Authenticate '{plan.challenge}' always;" in server
    assert "access_log /var/log/nginx/mcp-tokens.log extended_safe;" in server
    assert json.loads(site.change(plan, "protected-resource-").after) == document
    assert "extended_safe" in site.change(plan, "http.conf").after
    assert plan.token_log == Path("/var/log/nginx/mcp-tokens.log")


def test_planning_again_after_applying_changes_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE)
    first = site.plan()
    assert first.changes == site.plan().changes  # deterministic before applying too
    site.apply(first)
    again = site.plan()
    assert again.changes == ()
    assert again.blockers == ()
    assert again.challenge == first.challenge
    assert any("already includes" in note for note in again.notes)


def test_http_level_access_log_is_repeated_beside_the_token_log(tmp_path: Path) -> None:
    server = Site(tmp_path, BARE).plan()
    text = next(c.after for c in server.changes if c.path.name.startswith("server-"))
    assert "access_log /var/log/nginx/main.log main;" in text


def test_server_with_its_own_log_repeats_nothing(tmp_path: Path) -> None:
    text = BARE.replace(
        "listen 443 ssl;", "listen 443 ssl;\n        access_log /var/log/nginx/site.log main;"
    )
    site = Site(tmp_path, text)
    server = site.change(site.plan(), "server-").after
    assert "access_log /var/log/nginx/mcp-tokens.log extended_safe;" in server
    assert "main.log" not in server and "site.log" not in server


def test_server_access_log_off_puts_the_token_log_in_the_location(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE.replace("listen 443 ssl;", "listen 443 ssl;\n access_log off;"))
    plan = site.plan()
    assert "\naccess_log" not in site.change(plan, "server-").after
    assert "access_log /var/log/nginx/mcp-tokens.log extended_safe;" in (
        site.change(plan, "location-").after
    )


def test_logs_of_an_enclosing_location_are_repeated_in_the_mcp_location(tmp_path: Path) -> None:
    text = BARE.replace(
        "proxy_pass http://127.0.0.1:8080;",
        "access_log /var/log/nginx/ords.log main;\n"
        "            location /ords/hr/ { proxy_pass http://127.0.0.1:8080; }",
    )
    site = Site(tmp_path, text)
    location = site.change(site.plan(), "location-").after
    assert "access_log /var/log/nginx/mcp-tokens.log extended_safe;" in location
    assert "access_log /var/log/nginx/ords.log main;" in location


def test_mcp_location_access_log_off_means_no_token_log(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE.replace("proxy_pass", "access_log off;\n proxy_pass"))
    plan = site.plan()
    assert plan.token_log is None
    assert any("access_log off" in w for w in plan.warnings)


def test_inherited_add_header_is_repeated_and_error_page_is_not(tmp_path: Path) -> None:
    text = BARE.replace(
        "server_name mcp.example.com;",
        "server_name mcp.example.com;\n"
        "        add_header Strict-Transport-Security 'max-age=63072000' always;\n"
        "        add_header Access-Control-Allow-Origin https://one.example;\n"
        "        error_page 502 /50x.html;",
    )
    site = Site(tmp_path, text)
    plan = site.plan()
    server = site.change(plan, "server-").after
    # Each of our three locations repeats the server's header; our own CORS one wins.
    assert server.count("add_header Strict-Transport-Security max-age=63072000 always;") == 3
    assert "one.example" not in server
    # Repeated beside setup's error_page 401 (with interception on), the page would
    # replace ORDS's own 502s too: not repeated, and the note says what that costs.
    location = site.change(plan, "location-").after
    assert "error_page 401 = @token_inspector_401;" in location
    assert "502" not in location
    (note,) = [n for n in plan.notes if "no longer applies" in n]
    assert "nginx.conf:" in note and "error_page for 502" in note and "built-in" in note
    assert not any("error_page" in w for w in plan.warnings)
    site.apply(plan)
    assert site.plan().changes == ()


def test_pages_repeated_by_an_earlier_setup_are_taken_out(tmp_path: Path) -> None:
    """Setup's location file as an earlier version wrote it (pages repeated beside the
    error_page 401): planning again drops them, so ORDS's own 502s pass through again."""
    text = BARE.replace(
        "server_name mcp.example.com;",
        "server_name mcp.example.com;\n        error_page 502 /50x.html;",
    )
    site = Site(tmp_path, text)
    site.apply(site.plan())
    (location,) = site.snippets.glob("location-*.conf")
    location.write_text(location.read_text() + "error_page 502 /50x.html;\n")
    again = site.plan()
    assert "502" not in site.change(again, "location-").after
    assert any("no longer applies" in n for n in again.notes)


INTERCEPTING_SERVER = BARE.replace(
    "server_name mcp.example.com;",
    "server_name mcp.example.com;\n"
    "        proxy_intercept_errors on;\n"
    "        error_page 404 /404.html;\n"
    "        error_page 500 502 =503 /50x.html;",
)


def test_pages_inherited_with_interception_on_already_are_repeated(tmp_path: Path) -> None:
    site = Site(tmp_path, INTERCEPTING_SERVER)
    plan = site.plan()
    location = site.change(plan, "location-").after
    # Interception was on: ORDS's 404/5xx were replaced already, and still are.
    assert "error_page 404 /404.html;" in location
    assert "error_page 500 502 =503 /50x.html;" in location
    (warning,) = [w for w in plan.warnings if "error_page" in w or "error pages" in w]
    assert "404, 500, 502 responses" in warning and "changes nothing" in warning
    assert "repeats them" in warning
    site.apply(plan)
    assert site.plan().changes == ()


def test_own_pages_of_an_intercepting_location_are_named(tmp_path: Path) -> None:
    text = BARE.replace(
        "proxy_pass", "proxy_intercept_errors on;\n error_page 404 /404.html;\n proxy_pass"
    )
    site = Site(tmp_path, text)
    plan = site.plan()
    location = site.change(plan, "location-").after
    assert "404" not in location and "proxy_intercept_errors" not in location
    (warning,) = [w for w in plan.warnings if "error pages" in w]
    assert "ORDS's own 404 responses" in warning and "changes nothing" in warning
    assert "repeats" not in warning


def test_own_pages_of_the_location_are_warned_about_when_setup_intercepts(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path, BARE.replace("proxy_pass", "error_page 500 /50x.html;\n proxy_pass"))
    plan = site.plan()
    location = site.change(plan, "location-").after
    assert "proxy_intercept_errors on;" in location and "500" not in location
    (warning,) = [w for w in plan.warnings if "error_page" in w]
    assert "nginx.conf:" in warning and "ORDS's own 500 responses" in warning
    assert "remove those codes" in warning


def test_a_kept_error_page_401_with_other_codes_is_warned_about(tmp_path: Path) -> None:
    """The user's own ``error_page 401`` relies on setup's interception: their other codes
    in the same list would be intercepted too."""
    text = BARE.replace(
        "server_name mcp.example.com;",
        "server_name mcp.example.com;\n"
        "        error_page 401 404 = @mine;\n"
        "        location @mine { return 401; }",
    )
    site = Site(tmp_path, text)
    plan = site.plan()
    location = site.change(plan, "location-").after
    assert "proxy_intercept_errors on;" in location and "error_page" not in location
    (warning,) = [w for w in plan.warnings if "ORDS's own" in w]
    assert "ORDS's own 404 responses" in warning and "sees ORDS's 401" in warning


def test_existing_metadata_location_is_kept_and_compared(tmp_path: Path) -> None:
    same = {
        "resource": MCP,
        "authorization_servers": [ISSUER],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "HR",
    }
    (tmp_path / "prm.json").write_text(json.dumps(same))
    (tmp_path / "other.json").write_text(json.dumps({**same, "resource": "https://x/"}))
    text = BARE.replace(
        "location /ords/ {",
        f"location = /.well-known/oauth-protected-resource {{ alias {tmp_path}/other.json; }}\n"
        "        location = /.well-known/oauth-protected-resource/ords/hr/mcp/server "
        f"{{ alias {tmp_path}/prm.json; }}\n"
        "        location /ords/ {",
    )
    site = Site(tmp_path, text)
    plan = site.plan()
    assert plan.blockers == ()
    server = site.change(plan, "server-").after
    assert "location = /.well-known" not in server
    assert not any(c.path.suffix == ".json" for c in plan.changes)
    assert any("serves the planned document" in n for n in plan.notes)
    (warning,) = [w for w in plan.warnings if "different document" in w]
    assert "resource" in warning and "nginx.conf:" in warning


def test_existing_error_page_401_is_kept(tmp_path: Path) -> None:
    text = BARE.replace(
        "proxy_pass http://127.0.0.1:8080;",
        "proxy_pass http://127.0.0.1:8080;\n"
        "            proxy_intercept_errors on;\n"
        "            error_page 401 = @ords_401;\n"
        "        }\n"
        "        location @ords_401 {\n"
        "            more_clear_headers 'WWW-Authenticate';\n"
        "            add_header WWW-Authenticate 'Bearer realm=\"x\"' always;\n"
        "            return 401;",
    )
    site = Site(tmp_path, text)
    plan = site.plan()
    assert plan.blockers == ()
    assert "error_page" not in "".join(c.after for c in plan.changes if "location-" in c.path.name)
    assert "@token_inspector_401" not in "".join(c.after for c in plan.changes)
    assert any("Bearer realm" in w and "error_page 401" in w for w in plan.warnings)
    # headers-more is used already: no load_module added.
    assert "load_module" not in site.change(plan, "nginx.conf").after


def test_proxy_intercept_errors_off_is_a_blocker(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE.replace("proxy_pass", "proxy_intercept_errors off;\n proxy_pass"))
    (blocker,) = site.plan().blockers
    assert "proxy_intercept_errors on;" in blocker and "nginx.conf:" in blocker


def test_headers_more_missing_is_a_blocker(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE)
    plan = site.plan(headers_more_module=tmp_path / "missing.so")
    (blocker,) = plan.blockers
    assert "apt-get install libnginx-mod-http-headers-more-filter" in blocker
    assert "Oracle Linux/RHEL" in blocker and "confirmed" in blocker


def test_headers_more_loaded_from_modules_enabled_is_seen(tmp_path: Path) -> None:
    (tmp_path / "modules-enabled").mkdir()
    (tmp_path / "modules-enabled" / "50-mod-http-headers-more-filter.conf").write_text(
        "load_module modules/ngx_http_headers_more_filter_module.so;\n"
    )
    site = Site(tmp_path, "include modules-enabled/*.conf;\n" + textwrap.dedent(BARE))
    plan = site.plan(headers_more_module=tmp_path / "missing.so")
    assert plan.blockers == ()
    assert "load_module" not in site.change(plan, "nginx.conf").after


def test_raw_token_log_is_left_with_a_warning(tmp_path: Path) -> None:
    text = BARE.replace(
        "    access_log /var/log/nginx/main.log main;",
        "    log_format extended 'a:\"$http_authorization\"';\n"
        "    access_log /srv/logs/extended.log extended;",
    )
    site = Site(tmp_path, text)
    plan = site.plan(token_log=None)
    (warning,) = [w for w in plan.warnings if "replay" in w]
    assert f"{site.conf}:4" in warning and "extended_safe" in warning
    assert plan.token_log == Path("/srv/logs/mcp-tokens.log")  # next to the existing one
    assert "access_log /srv/logs/extended.log extended;" in site.change(plan, "nginx.conf").after


@pytest.mark.parametrize(
    ("recorded", "named"),
    [
        ('"$request" referer:"$http_referer"', "$request, $http_referer"),
        ("$request_uri", "$request_uri"),
        ("$args", "$args"),
        ("$query_string", "$query_string"),
        ("${arg_access_token}", "$arg_access_token"),
    ],
)
def test_kept_safe_log_that_records_the_query_is_warned_about(
    tmp_path: Path, recorded: str, named: str
) -> None:
    # An older "safe" format: the signature is dropped, the query and referer are not.
    text = BARE.replace(
        "    access_log /var/log/nginx/main.log main;",
        "    " + SAFE_LOG_MAP.replace("\n", "\n    ") + "\n"
        f"    log_format mysafe '{recorded} a:\"$token_without_signature\"';\n"
        "    access_log logs/safe.log mysafe;",
    )
    site = Site(tmp_path, text)
    plan = site.plan(token_log=None)
    line = site.conf.read_text().splitlines().index("    access_log logs/safe.log mysafe;") + 1
    fmt_line = line - 1
    (warning,) = [w for w in plan.warnings if "?access_token=" in w]
    assert warning.startswith(f"{site.conf}:{line}: access_log ")
    assert f"log_format mysafe at {site.conf}:{fmt_line} records {named} as sent" in warning
    assert "Fix: 'access_log logs/safe.log extended_safe;'" in warning
    # The log is still the token log (nothing is added); the fix's format is defined.
    assert plan.token_log == tmp_path / "logs" / "safe.log"
    assert "log_format extended_safe '" in site.change(plan, "http.conf").after


def test_safe_log_without_raw_query_gets_no_query_warning(tmp_path: Path) -> None:
    text = BARE.replace("http {", "http {\n" + safe_log_config(), 1).replace(
        "/var/log/nginx/main.log main", "logs/safe.log extended_safe"
    )
    plan = Site(tmp_path, text).plan()
    assert not [w for w in plan.warnings if "?access_token=" in w]


def test_full_tokens_logs_the_header_with_a_warning(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE)
    plan = site.plan(full_tokens=True)
    http = site.change(plan, "http.conf").after
    assert "log_format token_inspector_full '" in http and "$http_authorization" in http
    assert "extended_safe" in http  # still defined: switching back changes one line
    server = site.change(plan, "server-").after
    assert "access_log /var/log/nginx/mcp-tokens.log token_inspector_full;" in server
    (warning,) = [w for w in plan.warnings if "full bearer tokens" in w]
    assert "replay" in warning and "again without" in warning


def test_existing_safe_format_name_is_reused_or_avoided(tmp_path: Path) -> None:
    text = BARE.replace("http {", "http {\n" + safe_log_config(), 1).replace(
        "/var/log/nginx/main.log main", "logs/safe.log extended_safe"
    )
    site = Site(tmp_path, text)
    plan = site.plan()
    assert not any(c.path.name == "http.conf" for c in plan.changes)  # all there already
    # The user's own safe log is the token log: none is added, its path is resolved.
    assert plan.token_log == tmp_path / "logs" / "safe.log"
    assert "mcp-tokens" not in site.change(plan, "server-").after
    other = BARE.replace("http {", "http {\n log_format extended_safe '$status';", 1)
    site = Site(tmp_path, other)
    plan = site.plan()
    assert "log_format extended_safe_2 '" in site.change(plan, "http.conf").after
    assert "mcp-tokens.log extended_safe_2;" in site.change(plan, "server-").after


def test_include_keeps_tab_indentation_and_crlf(tmp_path: Path) -> None:
    text = textwrap.dedent(BARE).lstrip().replace("    ", "\t").replace("\n", "\r\n")
    site = Site(tmp_path, "")
    site.conf.write_bytes(text.encode())
    conf = site.change(site.plan(), "nginx.conf")
    assert f"\t\tinclude {site.snippets}/server-" in conf.after
    assert "\n" not in conf.after.replace("\r\n", "")


def test_one_line_blocks_get_the_include_before_the_closing_brace(tmp_path: Path) -> None:
    text = BARE.replace(
        "location /ords/ {\n            proxy_pass http://127.0.0.1:8080;\n        }",
        "location /ords/ { proxy_pass http://127.0.0.1:8080; }",
    )
    site = Site(tmp_path, text)
    plan = site.plan()
    (blocker,) = plan.blockers
    assert "include" in blocker and "yourself" in blocker


# -- hostile values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "fragment"),
    [
        (ResourceFacts(MCP, (ISSUER,), ('x" always; return 200 "',)), "not an OAuth scope"),
        (ResourceFacts(MCP, (ISSUER,), ("a\nb",)), "not an OAuth scope"),
        (ResourceFacts(MCP, (ISSUER,), ("$host",)), "variable"),
        (ResourceFacts(MCP + ";\ninclude /etc/shadow;", (ISSUER,)), "control character"),
        (ResourceFacts(MCP + "/{x}", (ISSUER,)), "does not belong"),
        (ResourceFacts(MCP + "/$uri", (ISSUER,)), "variable"),
        (ResourceFacts(MCP + "/a;b", (ISSUER,)), "does not belong"),
        (ResourceFacts(MCP + "/%0a", (ISSUER,)), "control character"),
        (ResourceFacts(MCP + "/../etc", (ISSUER,)), "normalises"),
        (ResourceFacts("https://user:pw@mcp.example.com/x", (ISSUER,)), "credentials"),
        (ResourceFacts(MCP, ()), "no authorization server"),
        (ResourceFacts("mcp.example.com/x", (ISSUER,)), "not an http(s) URL"),
        (ResourceFacts("https://mcp.example.com:99999/x", (ISSUER,)), "invalid port"),
        (ResourceFacts(MCP, ("https://idp\r\n/",)), "control character"),
        (ResourceFacts(MCP, (ISSUER,), (), "name\nwith newline"), "control character"),
    ],
)
def test_hostile_values_are_refused(tmp_path: Path, facts: ResourceFacts, fragment: str) -> None:
    plan = Site(tmp_path, BARE).plan(facts)
    assert plan.changes == ()
    assert any(fragment in b for b in plan.blockers), plan.blockers


def test_hostile_paths_are_refused(tmp_path: Path) -> None:
    plan = Site(tmp_path, BARE).plan(token_log=Path("/var/log/$host.log"))
    assert plan.changes == ()
    assert "variable" in plan.blockers[0]


def test_quotes_in_accepted_values_are_escaped(tmp_path: Path) -> None:
    url = "https://mcp.example.com/ords/o'brien/mcp"
    facts = ResourceFacts(url, ('https://idp.example/"x"',), ("s'1",), 'name "quoted"')
    site = Site(tmp_path, BARE)
    plan = site.plan(facts)
    assert plan.blockers == ()
    server = site.change(plan, "server-").after
    assert "add_header WWW-Authenticate 'Bearer resource_metadata=" in server
    assert "o\\'brien" in server and "scope=\"s\\'1\"' always;" in server
    # What nginx reads back is the challenge itself.
    config = parse_config_text(f"http {{ server {{ {server} }} }}", strict=False)
    sent = [d for d in config.walk() if d.name == "add_header" and d.args[0] == "WWW-Authenticate"]
    assert sent[0].args[1] == plan.challenge
    document = json.loads(site.change(plan, "protected-resource-").after)
    assert document["authorization_servers"] == ['https://idp.example/"x"']
    assert document["resource_name"] == 'name "quoted"'


def test_a_second_mcp_url_on_the_same_server_plans_no_duplicate(tmp_path: Path) -> None:
    site = Site(tmp_path, BARE)
    site.apply(site.plan())
    other = ResourceFacts("https://mcp.example.com/ords/sales/mcp", (ISSUER,), ("s",))
    plan = site.plan(other)
    assert plan.blockers == ()
    server = site.change(plan, "server-mcp-example-com-ords-sales").after
    # The first URL's root document stays (with a warning); only the path-suffixed is new.
    assert "location = /.well-known/oauth-protected-resource/ords/sales/mcp {" in server
    assert "location = /.well-known/oauth-protected-resource {" not in server
    assert any("different document" in w for w in plan.warnings)
    # Both URLs are served by 'location /ords/': its 401 rewrite is the first plan's,
    # kept, with a warning that it names the other URL's metadata.
    assert "location @" not in server
    assert any("error_page 401" in w and "/ords/sales/mcp" in w for w in plan.warnings)
    # The first plan's token log is there already: kept, not written twice.
    assert "access_log" not in server.replace("access_log_", "")
    assert plan.token_log == Path("/var/log/nginx/mcp-tokens.log")
    assert site.plan().changes == ()  # the first URL's plan is still applied as it was


def test_server_level_return_and_auth_are_warned_about(tmp_path: Path) -> None:
    text = BARE.replace(
        "server_name mcp.example.com;",
        "server_name mcp.example.com;\n auth_basic 'staff';\n return 301 https://x/;",
    )
    warnings = Site(tmp_path, text).plan().warnings
    assert any("'return' at server level" in w for w in warnings)
    assert any("auth_basic applies to the metadata" in w for w in warnings)


def test_a_token_log_that_does_not_exist_yet_is_named_for_the_applier_to_create(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path, BARE)
    log = tmp_path / "logs" / "mcp-tokens.log"
    plan = site.plan(token_log=log)
    assert plan.token_log == log and plan.new_token_log == log
    assert any(f"{log}: created empty" in note for note in plan.notes)
    log.parent.mkdir()
    log.touch()
    assert site.plan(token_log=log).new_token_log is None  # already there: left alone
