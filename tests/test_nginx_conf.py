"""The nginx configuration parser: grammar, includes, log formats, access logs, discovery."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from inspector.logs.nginx_host import find_config_path, find_prefix
from parsers.nginx.conf import (
    COMBINED_TEMPLATE,
    DEFAULT_CONF_PATH,
    DUPLICATE_LOG_FORMAT,
    INCLUDE_FAILED,
    INVALID_ACCESS_LOG,
    INVALID_LOG_FORMAT,
    NOT_ALLOWED_HERE,
    SYNTAX,
    UNKNOWN_LOG_FORMAT,
    UNREADABLE,
    NginxConfigError,
    logs_recording_authorization,
    parse_config,
    parse_config_text,
)
from parsers.nginx.lexer import tokenize
from tests.support.nginx import NginxServer, http_conf, requires_nginx

EXTENDED_CONF = r"""
log_format extended '$remote_addr - $remote_user [$time_local] '
                   '"$request" $status $body_bytes_sent '
                   'referer:"$http_referer" '
                   'ua:"$http_user_agent" '
                   'content-type:"$http_content_type" '
                   'authorization:"$http_authorization" '
                   'mcp-protocol-version:"$http_mcp_protocol_version"';
"""
EXTENDED_TEMPLATE = (
    "$remote_addr - $remote_user [$time_local] "
    '"$request" $status $body_bytes_sent '
    'referer:"$http_referer" '
    'ua:"$http_user_agent" '
    'content-type:"$http_content_type" '
    'authorization:"$http_authorization" '
    'mcp-protocol-version:"$http_mcp_protocol_version"'
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# -- grammar -------------------------------------------------------------------------------


def test_reference_extended_format_concatenates_its_strings() -> None:
    config = parse_config_text(
        "http {\n" + EXTENDED_CONF + "access_log /var/log/nginx/extended.log extended;\n}\n"
    )
    fmt = config.log_formats["extended"]
    assert fmt.template == EXTENDED_TEMPLATE
    assert fmt.escape == "default"
    assert fmt.line == 3
    assert "http_authorization" in fmt.variables
    (log,) = config.access_logs
    assert (log.path, log.format_name, log.line) == ("/var/log/nginx/extended.log", "extended", 10)
    assert logs_recording_authorization(config) == [log]


def test_builtin_combined_is_always_there_and_is_the_default_format() -> None:
    config = parse_config_text("http { server { access_log /tmp/a.log; } }")
    combined = config.log_formats["combined"]
    assert combined.template == COMBINED_TEMPLATE
    assert combined.file is None and combined.line is None
    assert config.access_logs[0].format_name == "combined"
    assert logs_recording_authorization(config) == []


def test_comments_quotes_and_escapes() -> None:
    text = r"""
    # a comment with ; { } and 'quotes'
    http {  # trailing comment
        log_format  "q name"  escape=json  "{\"a\":\"$arg_a\"}" '\'x\'' ;
        server_name a#b;   # '#' inside a word is not a comment
    }
    """
    config = parse_config_text(textwrap.dedent(text))
    fmt = config.log_formats["q name"]
    assert fmt.escape == "json"
    assert fmt.template == '{"a":"$arg_a"}\'x\''
    (server_name,) = config.iter_directives("server_name")
    assert server_name.args == ("a#b",)


def test_braced_variables_stay_in_bare_words_and_templates() -> None:
    config = parse_config_text(
        "http { log_format b ${remote_addr}-${status}x; access_log /l b; set $x ${host}y; }"
    )
    assert config.log_formats["b"].template == "${remote_addr}-${status}x"
    assert config.log_formats["b"].variables == ("remote_addr", "status")
    (set_directive,) = config.iter_directives("set")
    assert set_directive.args == ("$x", "${host}y")


def test_tree_keeps_contexts_and_blocks() -> None:
    config = parse_config_text(
        textwrap.dedent(
            """
            load_module modules/ngx_http_headers_more_filter_module.so;
            events {}
            http {
                server {
                    listen 443 ssl;
                    location /mcp {
                        proxy_intercept_errors on;
                        error_page 401 = @ords_401;
                    }
                    location @ords_401 {
                        internal;
                        more_clear_headers 'WWW-Authenticate';
                    }
                }
            }
            """
        )
    )
    (clear,) = config.iter_directives("more_clear_headers")
    assert clear.context == ("http", "server", "location @ords_401")
    assert clear.args == ("WWW-Authenticate",)
    (load,) = config.iter_directives("load_module")
    assert load.context == () and load.block is None
    (http,) = config.iter_directives("http")
    assert http.block is not None and http.block[0].name == "server"
    assert [d.args for d in config.iter_directives("location")] == [("/mcp",), ("@ords_401",)]
    (events,) = config.iter_directives("events")
    assert events.block == ()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("http {\n  server {\n    listen 80;\n  }\n", 4, 'expecting "}"'),
        ("http {\n}\n}\n", 3, 'unexpected "}"'),
        ("http {\n  access_log /a\n}\n", 3, 'unexpected "}"'),
        ("http {\n  access_log /a", 2, "unexpected end of file"),
        ("http {\n  log_format x '$a\n\n", 2, "unterminated"),
        ("http {\n  log_format x '$a'b;\n}", 2, 'unexpected "b"'),
        ("http {\n  ;\n}", 2, 'unexpected ";"'),
        ("{\n}", 1, 'unexpected "{"'),
        ("http {\n log_format x escape=yaml '$a';\n}", 2, "escaping"),
        ("http {\n log_format x '$ bad';\n}", 2, "invalid variable"),
        ("http {\n log_format a '$a';\n log_format a '$b';\n}", 3, "duplicate"),
        ("http {\n log_format combined '$a';\n}", 2, "duplicate"),
        ("http {\n access_log /a nosuch;\n}", 2, 'unknown log format "nosuch"'),
        ("http {\n access_log /a combined bogus=1;\n}", 2, "invalid parameter"),
    ],
)
def test_syntax_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(NginxConfigError) as info:
        parse_config_text(text, path="/etc/nginx/test.conf")
    assert info.value.file == "/etc/nginx/test.conf"
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith(f"/etc/nginx/test.conf:{line}: ")


def test_tokenizer_line_numbers_follow_multiline_strings() -> None:
    tokens = list(tokenize("a 'x\ny' b;\nc;"))
    assert [(t.value, t.line) for t in tokens] == [
        ("a", 1),
        ("x\ny", 1),
        ("b", 2),
        (";", 2),
        ("c", 3),
        (";", 3),
    ]


# -- access_log ----------------------------------------------------------------------------


def test_access_log_options_off_and_syslog() -> None:
    config = parse_config_text(
        textwrap.dedent(
            """
            http {
                log_format main '$remote_addr $http_authorization';
                access_log /var/log/a.log main buffer=32k flush=5s gzip=4 if=$loggable;
                access_log /var/log/b.log main gzip;
                access_log syslog:server=unix:/dev/log,tag=nginx main;
                server {
                    access_log off;
                }
                server {
                    listen 8080;
                }
            }
            stream {
                log_format basic '$remote_addr';
                access_log /var/log/stream.log basic;
            }
            """
        ),
        path="nginx.conf",
    )
    a, b, syslog, off = config.access_logs
    assert dict(a.options) == {"buffer": "32k", "flush": "5s", "gzip": "4", "if": "$loggable"}
    assert dict(b.options) == {"gzip": ""}
    assert syslog.syslog and not syslog.off
    assert off.off and off.context == ("http", "server")
    assert [log.path for log in logs_recording_authorization(config)] == [
        "/var/log/a.log",
        "/var/log/b.log",
    ]
    assert any("syslog target skipped" in note for note in config.notes)
    assert any("stream" in note for note in config.notes)
    assert "basic" not in config.log_formats


def test_http_without_access_log_gets_a_note() -> None:
    config = parse_config_text("http { server { listen 80; } }")
    assert config.access_logs == ()
    assert any("no access_log" in note for note in config.notes)


# -- include -------------------------------------------------------------------------------


def test_includes_with_globs_relative_to_main_directory(tmp_path: Path) -> None:
    main = write(
        tmp_path / "nginx.conf",
        """
        events {}
        http {
            include snippets/log.inc;
            include conf.d/*.conf;
            include empty.d/*.conf;
        }
        """,
    )
    write(tmp_path / "conf.d" / "b.conf", "server { access_log /b.log extended; }\n")
    write(
        tmp_path / "conf.d" / "a.conf",
        "server {\n    include snippets/nested.inc;\n}\n",
    )
    write(tmp_path / "snippets" / "nested.inc", "location / { access_log /a.log; }\n")
    write(tmp_path / "snippets" / "log.inc", EXTENDED_CONF)
    config = parse_config(main)
    # Glob matches are read in sorted order; nested includes resolve from the main dir too.
    assert [log.path for log in config.access_logs] == ["/a.log", "/b.log"]
    a_log, b_log = config.access_logs
    assert a_log.file == str(tmp_path / "snippets" / "nested.inc")
    assert a_log.context == ("http", "server", "location /")
    assert b_log.file == str(tmp_path / "conf.d" / "b.conf") and b_log.line == 1
    assert config.log_formats["extended"].file == str(tmp_path / "snippets" / "log.inc")
    assert config.files == (
        str(main),
        str(tmp_path / "snippets" / "log.inc"),
        str(tmp_path / "conf.d" / "a.conf"),
        str(tmp_path / "snippets" / "nested.inc"),
        str(tmp_path / "conf.d" / "b.conf"),
    )
    assert any("empty.d/*.conf matched no files" in note for note in config.notes)
    assert [log.path for log in logs_recording_authorization(config)] == ["/b.log"]


def test_missing_plain_include_is_an_error_naming_the_including_line(tmp_path: Path) -> None:
    main = write(tmp_path / "nginx.conf", "http {\n\n    include missing.conf;\n}\n")
    with pytest.raises(NginxConfigError) as info:
        parse_config(main)
    assert info.value.file == str(main)
    assert info.value.line == 3
    assert "missing.conf" in str(info.value)


def test_error_inside_included_file_names_that_file(tmp_path: Path) -> None:
    main = write(tmp_path / "nginx.conf", "http {\n include bad.conf;\n}\n")
    write(tmp_path / "bad.conf", "server {\n listen 80\n}\n")
    with pytest.raises(NginxConfigError) as info:
        parse_config(main)
    assert info.value.file == str(tmp_path / "bad.conf")
    assert info.value.line == 3


def test_include_loop_is_reported_not_recursed_forever(tmp_path: Path) -> None:
    main = write(tmp_path / "nginx.conf", "include loop.conf;\n")
    write(tmp_path / "loop.conf", "include loop.conf;\n")
    with pytest.raises(NginxConfigError, match="nested too deeply"):
        parse_config(main)


def test_unreadable_main_file(tmp_path: Path) -> None:
    with pytest.raises(NginxConfigError) as info:
        parse_config(tmp_path / "absent.conf")
    assert info.value.file == str(tmp_path / "absent.conf")
    assert info.value.line is None


# -- find_config_path ----------------------------------------------------------------------


def fake_nginx(directory: Path, stderr: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "nginx"
    script.write_text(f"#!/bin/sh\ncat >&2 <<'EOF'\n{stderr}\nEOF\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_explicit_path_wins(tmp_path: Path) -> None:
    fake_nginx(tmp_path / "bin", "configure arguments: --conf-path=/opt/x.conf")
    assert find_config_path(tmp_path / "mine.conf", search_path=str(tmp_path / "bin")) == (
        tmp_path / "mine.conf",
        "explicit",
    )


def test_conf_path_from_nginx_V_on_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_nginx(
        tmp_path / "bin",
        "nginx version: nginx/1.22.1\nconfigure arguments: --prefix=/usr/share/nginx "
        "--conf-path=/opt/nginx/conf/nginx.conf --http-log-path=/var/log/nginx/access.log",
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert find_config_path(None) == (Path("/opt/nginx/conf/nginx.conf"), "nginx -V")


def test_relative_conf_path_is_under_the_prefix(tmp_path: Path) -> None:
    fake_nginx(
        tmp_path / "bin", "configure arguments: --prefix=/usr/local/nginx --conf-path=conf/n.conf"
    )
    found = find_config_path(None, search_path=str(tmp_path / "bin"))
    assert found == (Path("/usr/local/nginx/conf/n.conf"), "nginx -V")


def test_missing_binary_falls_back_to_default(tmp_path: Path) -> None:
    assert find_config_path(None, search_path=str(tmp_path)) == (DEFAULT_CONF_PATH, "default")


def test_binary_without_conf_path_falls_back_to_default(tmp_path: Path) -> None:
    fake_nginx(tmp_path / "bin", "nginx: [alert] something odd")
    found = find_config_path(None, search_path=str(tmp_path / "bin"))
    assert found == (DEFAULT_CONF_PATH, "default")


# -- real nginx agrees -----------------------------------------------------------------------

VALID_FOR_REAL_NGINX = [
    http_conf(
        EXTENDED_CONF
        + r"""
        log_format j escape=json '{"ua":"$http_user_agent","auth":"${http_authorization}",'
                                 '"t":"$time_iso8601","ms":$msec,"rt":$request_time}';
        log_format n escape=none '$remote_addr "$http_user_agent"';
        server {
            listen 127.0.0.1:@PORT@;
            access_log @PREFIX@/logs/extended.log extended buffer=4k flush=1s;
            access_log @PREFIX@/logs/j.log j if=$http_authorization;
            access_log @PREFIX@/logs/c.log;
            location /mcp { access_log off; return 204; }
        }
        """
    ),
]


@requires_nginx
@pytest.mark.nginx
@pytest.mark.parametrize("conf", VALID_FOR_REAL_NGINX)
def test_configs_we_accept_are_accepted_by_nginx(tmp_path: Path, conf: str) -> None:
    server = NginxServer(tmp_path / "prefix")
    result = server.check(conf)
    assert result.returncode == 0, result.stderr
    config = parse_config(server.conf_path)
    assert config.log_formats["extended"].template == EXTENDED_TEMPLATE
    assert config.log_formats["j"].escape == "json"
    # http_conf() adds "access_log off" at http level: nginx's default log stays untouched.
    assert [log.path for log in config.access_logs if not log.off] == [
        f"{server.prefix}/logs/extended.log",
        f"{server.prefix}/logs/j.log",
        f"{server.prefix}/logs/c.log",
    ]
    assert [log.path for log in logs_recording_authorization(config)] == [
        f"{server.prefix}/logs/extended.log",
        f"{server.prefix}/logs/j.log",
    ]


@requires_nginx
@pytest.mark.nginx
@pytest.mark.parametrize(
    "body",
    [
        "log_format x '$remote_addr';\nlog_format x '$status';",
        "log_format x escape=yaml '$remote_addr';",
        "server { access_log /tmp/x.log nosuch; }",
        "server { listen 80 }",
    ],
)
def test_configs_we_reject_are_rejected_by_nginx(tmp_path: Path, body: str) -> None:
    server = NginxServer(tmp_path / "prefix")
    result = server.check(http_conf(body))
    assert result.returncode != 0
    with pytest.raises(NginxConfigError):
        parse_config(server.conf_path)


def test_if_map_and_types_blocks_parse_structurally() -> None:
    config = parse_config_text(
        textwrap.dedent(
            r"""
            http {
                types { text/html html htm; application/json json; }
                map $http_authorization $has_token {
                    default 0;
                    "~^Bearer\s" 1;
                    '' 0;
                }
                server {
                    location / {
                        if ($request_method = "POST") {
                            access_log /var/log/nginx/post.log combined if=$has_token;
                        }
                    }
                    access_log /var/log/nginx/$host.log;
                    access_log /var/log/nginx/z.log.gz combined gzip=9;
                }
            }
            """
        )
    )
    (mapping,) = config.iter_directives("map")
    assert mapping.block is not None
    assert [d.name for d in mapping.block] == ["default", "~^Bearer\\s", ""]
    post, by_host, _ = config.access_logs
    # nginx too splits a quoted word from the ")" glued to it.
    assert post.context == ("http", "server", "location /", "if ($request_method = POST )")
    assert post.options["if"] == "$has_token"
    assert by_host.path == "/var/log/nginx/$host.log"
    assert any("depends on variables" in note for note in config.notes)
    assert any("gzip-compressed" in note for note in config.notes)


# -- which access logs nginx writes ------------------------------------------------------------

AUTH_FORMAT = 'log_format ext \'$remote_addr "$request" $status auth:"$http_authorization"\';'


def effective(http_body: str) -> list[str]:
    config = parse_config_text(f"http {{\n{AUTH_FORMAT}\n{textwrap.dedent(http_body)}\n}}")
    return [log.path for log in config.effective_logs]


@pytest.mark.parametrize(
    ("http_body", "written"),
    [
        # "off" cancels every access_log on its level, before or after it.
        ("access_log /h1 ext; access_log off; access_log /h2 ext; server { listen 80; }", []),
        ("server { access_log /s ext; access_log off; }", []),
        ("server { location / { access_log off; access_log /l ext; } }", []),
        # A level with access_log directives of its own does not inherit the outer ones...
        ("access_log /h ext; server { access_log /s; }", ["/s"]),
        ("access_log /h ext; server { location / { access_log /l; } }", ["/h", "/l"]),
        # ...and one without any inherits them, even across an "off" at a sibling level.
        ("access_log /h ext; server { location /x { access_log off; } }", ["/h"]),
        ("access_log off; server { location /m { access_log /m ext; } }", ["/m"]),
        # Nested locations, "if" in a location and limit_except are levels too.
        (
            "access_log off; server { location /a { location /a/b { access_log /b ext; } "
            "if ($arg_x) { access_log /if ext; } "
            "limit_except GET { access_log /le ext; } } }",
            ["/b", "/if", "/le"],
        ),
        # An http-level log replaced in every server is never written.
        ("access_log /h ext; server { access_log /s1; } server { access_log off; }", ["/s1"]),
        # A fragment without servers: the http level is all there is.
        ("access_log /h ext;", ["/h"]),
    ],
)
def test_effective_logs_follow_nginx_inheritance(http_body: str, written: list[str]) -> None:
    assert effective(http_body) == written


def test_cancelled_log_does_not_count_as_recording_the_token() -> None:
    config = parse_config_text(
        "http {\n"
        + AUTH_FORMAT
        + "\nserver {\n listen 80;\n access_log /var/log/nginx/ext.log ext;\n access_log off;\n}\n}"
    )
    assert [log.path for log in config.access_logs] == ["/var/log/nginx/ext.log", "off"]
    assert logs_recording_authorization(config) == []
    assert any(
        "/var/log/nginx/ext.log is never written: access_log off on the same level (<string>:6)"
        in note
        for note in config.notes
    )


def test_server_without_any_access_log_gets_the_default_log_note() -> None:
    config = parse_config_text(
        "http {\n server { listen 80; access_log off; }\n server { listen 81; }\n}"
    )
    assert any(
        "no access_log applies to server (<string>:3)" in note and "--http-log-path" in note
        for note in config.notes
    )


def test_format_names_match_ignoring_case_and_keep_their_defined_spelling() -> None:
    config = parse_config_text(
        "http { log_format Ext '$http_authorization'; server { access_log /e eXT; } }"
    )
    (log,) = config.access_logs
    assert log.format_name == "Ext"
    assert logs_recording_authorization(config) == [log]


def serve(prefix: Path, server_block: str, paths: tuple[str, ...], token: str) -> Path:
    """Run nginx with the extended format and ``server_block``, send ``paths``; the conf."""
    with NginxServer(prefix) as server:
        server.start(http_conf(EXTENDED_CONF + server_block))
        for path in paths:
            server.request(path, headers={"Authorization": f"Bearer {token}"})
        server.stop()  # graceful: every log line is written
    return server.conf_path


@requires_nginx
@pytest.mark.nginx
def test_real_nginx_writes_exactly_the_effective_logs(tmp_path: Path) -> None:
    conf = serve(
        tmp_path / "prefix",
        """
        server {
            listen 127.0.0.1:@PORT@;
            access_log @PREFIX@/logs/cancelled.log extended;
            access_log off;
            location /a { return 204; }
            location /b { access_log @PREFIX@/logs/b.log extended; return 204; }
            location /c {
                access_log @PREFIX@/logs/c_cancelled.log extended;
                access_log off;
                return 204;
            }
            location /d {
                location /d/e { access_log @PREFIX@/logs/e.log; return 204; }
                if ($arg_x) { access_log @PREFIX@/logs/if.log extended; }
                return 204;
            }
        }
        """,
        ("/a", "/b", "/c", "/d", "/d/e", "/d?x=1", "/other"),
        "x.y.z",
    )
    config = parse_config(conf)
    logs = tmp_path / "prefix" / "logs"
    with_lines = sorted(
        str(f) for f in logs.glob("*.log") if f.name != "error.log" and f.stat().st_size
    )
    # nginx opens (creates) the cancelled files too, but never writes a line to them.
    assert (logs / "cancelled.log").exists()
    assert sorted(log.path for log in config.effective_logs) == with_lines
    assert sorted(log.path for log in logs_recording_authorization(config)) == [
        str(logs / "b.log"),
        str(logs / "if.log"),
    ]


# -- lenient mode: what nginx -t refuses, as problems -----------------------------------------

REFUSED = [
    ("server { access_log /tmp/x.log nosuch; }", UNKNOWN_LOG_FORMAT, "nosuch"),
    # nginx looks a format up when it reads the access_log: defined later is undefined.
    (
        "server { access_log /tmp/x.log late; }\nlog_format late '$status';",
        UNKNOWN_LOG_FORMAT,
        "late",
    ),
    # The second argument is always the format name.
    ("server { access_log /tmp/x.log buffer=4k; }", UNKNOWN_LOG_FORMAT, "buffer=4k"),
    ("log_format x '$remote_addr';\nlog_format x '$status';", DUPLICATE_LOG_FORMAT, "x"),
    ("log_format x escape=yaml '$remote_addr';", INVALID_LOG_FORMAT, "x"),
    ("server { access_log off combined; }", INVALID_ACCESS_LOG, None),
    ("server { access_log /tmp/x.log combined bogus=1; }", INVALID_ACCESS_LOG, None),
    ("server { access_log /tmp/x.log combined flush=1s; }", INVALID_ACCESS_LOG, None),
    ("server { log_format y '$status'; }", NOT_ALLOWED_HERE, None),
    ("server { if ($arg_a) { access_log /tmp/y.log; } }", NOT_ALLOWED_HERE, None),
    ("include /nonexistent/nginx-test.conf;", INCLUDE_FAILED, "/nonexistent/nginx-test.conf"),
]


@pytest.mark.parametrize(("body", "code", "subject"), REFUSED)
def test_lenient_mode_reports_what_strict_mode_raises(
    tmp_path: Path, body: str, code: str, subject: str | None
) -> None:
    conf = write(tmp_path / "nginx.conf", f"events {{}}\nhttp {{\n{body}\n}}\n")
    with pytest.raises(NginxConfigError) as info:
        parse_config(conf)
    config = parse_config(conf, strict=False)
    (problem,) = config.problems
    assert (problem.file, problem.line, problem.code, problem.subject) == (
        str(conf),
        info.value.line,
        code,
        subject,
    )
    assert info.value.code == code
    assert str(problem) == str(info.value)


@requires_nginx
@pytest.mark.nginx
@pytest.mark.parametrize(("body", "code", "subject"), REFUSED)
def test_what_we_report_as_problems_nginx_refuses(
    tmp_path: Path, body: str, code: str, subject: str | None
) -> None:
    server = NginxServer(tmp_path / "prefix")
    result = server.check(http_conf(body))
    assert result.returncode != 0
    assert parse_config(server.conf_path, strict=False).problems[0].code == code


def test_lenient_mode_keeps_everything_else(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nginx.conf",
        """
        http {
            log_format ext '$http_authorization';
            include missing.conf;
            server {
                access_log /var/log/nginx/typo.log extnded;
                access_log /var/log/nginx/ext.log ext;
            }
        }
        """,
    )
    config = parse_config(conf, strict=False)
    assert [(p.code, p.line, p.subject) for p in config.problems] == [
        (INCLUDE_FAILED, 4, "missing.conf"),
        (UNKNOWN_LOG_FORMAT, 6, "extnded"),
    ]
    assert [log.path for log in logs_recording_authorization(config)] == ["/var/log/nginx/ext.log"]


def test_lenient_mode_still_raises_on_syntax_and_unreadable_files(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "http {\n server {\n}\n")
    with pytest.raises(NginxConfigError) as info:
        parse_config(conf, strict=False)
    assert info.value.code == SYNTAX
    with pytest.raises(NginxConfigError) as info:
        parse_config(tmp_path / "absent.conf", strict=False)
    assert info.value.code == UNREADABLE


# -- the prefix: where relative access_log paths live --------------------------------------------


def test_relative_log_paths_resolve_against_the_prefix_includes_against_the_conf_dir(
    tmp_path: Path,
) -> None:
    conf = write(
        tmp_path / "etc" / "nginx.conf",
        """
        http {
            include snippets/ext.inc;
            access_log logs/rel.log ext;
            access_log /var/log/abs.log ext;
            access_log syslog:server=unix:/dev/log ext;
            server { listen 80; }
        }
        """,
    )
    write(tmp_path / "etc" / "snippets" / "ext.inc", "log_format ext '$http_authorization';\n")
    prefix = tmp_path / "usr" / "share" / "nginx"
    config = parse_config(conf, prefix=prefix)
    rel, absolute, syslog = config.access_logs
    assert (rel.path, rel.written_path) == (str(prefix / "logs" / "rel.log"), "logs/rel.log")
    assert (absolute.path, absolute.written_path) == ("/var/log/abs.log", "/var/log/abs.log")
    assert syslog.path == "syslog:server=unix:/dev/log"
    assert config.prefix == prefix
    assert not any("resolved against" in note for note in config.notes)


def test_without_a_prefix_the_conf_directory_parent_is_assumed_with_a_note(
    tmp_path: Path,
) -> None:
    conf = write(tmp_path / "conf" / "nginx.conf", "http { access_log logs/a.log; }\n")
    config = parse_config(conf)
    assert config.access_logs[0].path == str(tmp_path / "logs" / "a.log")
    assert config.prefix == tmp_path
    assert any(f"resolved against {tmp_path}" in note for note in config.notes)


def test_prefix_from_nginx_V_only_when_it_is_built_for_this_file(tmp_path: Path) -> None:
    conf = write(tmp_path / "etc" / "nginx.conf", "events {}\n")
    fake_nginx(
        tmp_path / "bin",
        f"configure arguments: --prefix=/usr/share/nginx --conf-path={conf}",
    )
    assert find_prefix(conf, search_path=str(tmp_path / "bin")) == Path("/usr/share/nginx")
    assert find_prefix(tmp_path / "other.conf", search_path=str(tmp_path / "bin")) is None
    assert find_prefix(conf, search_path=str(tmp_path / "nowhere")) is None
    fake_nginx(tmp_path / "bin2", "configure arguments: --conf-path=conf/nginx.conf")
    assert find_prefix(
        Path("/usr/local/nginx/conf/nginx.conf"), search_path=str(tmp_path / "bin2")
    ) == Path("/usr/local/nginx")


@requires_nginx
@pytest.mark.nginx
def test_real_nginx_writes_relative_logs_under_its_prefix(tmp_path: Path) -> None:
    server_block = """
        server {
            listen 127.0.0.1:@PORT@;
            access_log logs/relative.log extended;
            location / { return 204; }
        }
    """
    conf = serve(tmp_path / "prefix", server_block, ("/",), "a.b.c")
    # NginxServer runs "nginx -p PREFIX" with conf/nginx.conf under it: the layout
    # parse_config assumes without a prefix, and the prefix find_prefix would report.
    for config in (parse_config(conf, prefix=tmp_path / "prefix"), parse_config(conf)):
        (log,) = logs_recording_authorization(config)
        assert log.written_path == "logs/relative.log"
        assert Path(log.path).read_text().count("Bearer a.b.c") == 1
