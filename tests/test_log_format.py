"""The log_format line parser: field splitting, escaping modes, records, failures, render."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from parsers.nginx.conf import COMBINED, EXTENDED, LogFormat
from parsers.nginx.escape import escape_default, escape_json, unescape_default, unescape_json
from parsers.nginx.log_format import (
    LineParser,
    compile_format,
    parse_log_format_string,
    split_request,
    split_template,
)
from parsers.nginx.record_builder import RECORD_SHELL, new_record
from parsers.nginx.safe_log import SAFE_FORMAT
from parsers.nginx.time import format_time_local, parse_time_local
from parsers.records import LogRecord, ParseFailure, Source

SRC = Source("/var/log/nginx/extended.log", 7, 1234)
TOKEN = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiJhbGljZSJ9" * 4 + ".c2lnbmF0dXJl"


def extended_line(ua: str = "ChatGPT-User/1.0", auth: str = f"Bearer {TOKEN}") -> str:
    return (
        '20.1.2.3 - - [21/Nov/2026:10:00:00 +0100] "POST /ords/demo/mcp/ HTTP/1.1" 401 77 '
        f'referer:"-" ua:"{ua}" content-type:"application/json" authorization:"{auth}" '
        'mcp-protocol-version:"2025-06-18"'
    )


def record(parser: LineParser, line: str | bytes, **kw: bool) -> LogRecord:
    result = parser.parse(line, SRC, **kw)
    assert isinstance(result, LogRecord), result
    return result


def failure(parser: LineParser, line: str | bytes, **kw: bool) -> ParseFailure:
    result = parser.parse(line, SRC, **kw)
    assert isinstance(result, ParseFailure), result
    return result


# -- the reference format ------------------------------------------------------------------


def test_extended_line_gives_every_well_known_field() -> None:
    rec = record(compile_format(EXTENDED), extended_line() + "\n")
    assert rec.source == SRC
    assert rec.time == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert rec.time.utcoffset() == timedelta(hours=1)
    assert (rec.remote_addr, rec.method, rec.path, rec.protocol) == (
        "20.1.2.3",
        "POST",
        "/ords/demo/mcp/",
        "HTTP/1.1",
    )
    assert rec.status == 401
    assert rec.user_agent == "ChatGPT-User/1.0"
    assert rec.authorization == f"Bearer {TOKEN}"
    assert rec.fields["remote_user"] is None
    assert rec.fields["http_referer"] is None
    assert rec.fields["http_mcp_protocol_version"] == "2025-06-18"
    assert rec.fields["body_bytes_sent"] == "77"
    assert not rec.truncated and not rec.best_effort


def test_variables_are_listed_once_in_order() -> None:
    parser = compile_format(EXTENDED)
    assert parser.variables[:3] == ("remote_addr", "remote_user", "time_local")
    assert len(parser.variables) == 11


def test_bytes_crlf_and_missing_newline_are_all_accepted() -> None:
    parser = compile_format(EXTENDED)
    line = extended_line()
    assert record(parser, line.encode() + b"\r\n").status == 401
    assert record(parser, line.encode()).status == 401
    assert record(parser, line).status == 401


def test_utf8_user_agent_is_unescaped_to_text() -> None:
    rec = record(compile_format(EXTENDED), extended_line(ua=r"\xE3\x81\x82-agent/1.0"))
    assert rec.user_agent == "あ-agent/1.0"


def test_invalid_utf8_becomes_replacement_character() -> None:
    rec = record(compile_format(EXTENDED), extended_line(ua=r"bad\xFF\xFEend"))
    assert rec.user_agent == "bad\ufffd\ufffdend"


def test_quotes_and_backslashes_inside_values() -> None:
    # nginx writes '"' as \x22 and '\' as \x5C, so the first real quote ends the field.
    rec = record(
        compile_format(EXTENDED), extended_line(ua=r"curl \x22quoted\x22 C:\x5Cpath \x09tab")
    )
    assert rec.user_agent == 'curl "quoted" C:\\path \ttab'


def test_dash_is_none_but_empty_and_dash_prefixed_values_are_kept() -> None:
    parser = compile_format(EXTENDED)
    rec = record(parser, extended_line(ua="", auth="-"))
    assert rec.user_agent == ""
    assert rec.authorization is None
    assert record(parser, extended_line(ua="-x")).user_agent == "-x"
    assert record(parser, extended_line(ua="--")).user_agent == "--"


def test_request_is_split_and_odd_requests_survive() -> None:
    assert split_request("GET / HTTP/1.0") == ("GET", "/", "HTTP/1.0")
    assert split_request("GET /old") == ("GET", "/old", None)
    assert split_request("GET /a b HTTP/1.1") == ("GET", "/a b", "HTTP/1.1")
    assert split_request("\x16\x03\x01") == (None, None, None)
    line = extended_line().replace("POST /ords/demo/mcp/ HTTP/1.1", r"\x16\x03\x01\x02")
    rec = record(compile_format(EXTENDED), line)
    assert rec.method is None and rec.fields["request"] == "\x16\x03\x01\x02"


def test_truncated_flag_is_carried() -> None:
    parser = compile_format(EXTENDED)
    assert record(parser, extended_line(), truncated=True).truncated
    cut = failure(parser, extended_line()[:120], truncated=True)
    assert cut.reason.startswith("line cut at the length limit")


# -- failures ------------------------------------------------------------------------------


def test_failure_names_what_was_expected_and_where() -> None:
    parser = compile_format(EXTENDED)
    bad = failure(parser, extended_line().replace(" 401 77 ", " 401 77x "))
    assert bad.reason == "expected ' referer:\"' after $body_bytes_sent at column 81"
    assert bad.source == SRC
    bad = failure(parser, extended_line().replace(" 401 ", " 40 "))
    assert bad.reason.startswith("expected $status (a 3-digit status)")
    assert "column 75" in bad.reason


def test_failure_excerpt_is_redacted_and_short() -> None:
    parser = compile_format(EXTENDED)
    line = extended_line().replace("HTTP/1.1", "HTTP/1.1 junk\x01") + "x" * 500
    bad = failure(parser, line)
    assert TOKEN not in bad.excerpt
    assert "\x01" not in bad.excerpt
    assert len(bad.excerpt) <= 201


def test_failure_for_empty_and_trailing_text() -> None:
    parser = compile_format(EXTENDED)
    assert failure(parser, b"\n").reason == "empty line"
    extra = failure(parser, extended_line() + " extra")
    assert extra.reason.startswith("unexpected text after ")


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe\x00garbage", "x" * 70000, b'"' * 1000, b"\\" * 1000, "\u2028\ud800"],
)
def test_garbage_never_raises(data: str | bytes) -> None:
    result = compile_format(EXTENDED).parse(data, SRC)
    assert isinstance(result, ParseFailure)


# -- other formats ---------------------------------------------------------------------------


def test_combined_format() -> None:
    parser = compile_format(COMBINED)
    rec = record(
        parser,
        '127.0.0.1 - alice [21/Nov/2026:10:00:00 +0000] "GET /x?a=1 HTTP/2.0" 200 0 '
        '"https://chatgpt.com/" "Claude-User/1.0 (+https://claude.ai)"',
    )
    assert rec.fields["remote_user"] == "alice"
    assert rec.user_agent == "Claude-User/1.0 (+https://claude.ai)"
    assert rec.path == "/x?a=1" and rec.protocol == "HTTP/2.0"
    assert rec.authorization is None


def test_braced_variables() -> None:
    parser = compile_format(
        parse_log_format_string("${remote_addr}:${status}:${http_authorization}")
    )
    assert parser.variables == ("remote_addr", "status", "http_authorization")
    rec = record(parser, "10.0.0.1:200:Bearer abc def")
    assert (rec.remote_addr, rec.status, rec.authorization) == ("10.0.0.1", 200, "Bearer abc def")


def test_variable_names_are_case_insensitive_like_nginx() -> None:
    parser = compile_format(parse_log_format_string('$Remote_Addr "$HTTP_USER_AGENT"'))
    assert record(parser, '1.2.3.4 "ua x"').user_agent == "ua x"


def test_repeated_variable_must_hold_the_same_value() -> None:
    parser = compile_format(parse_log_format_string('$remote_addr $status "$remote_addr"'))
    assert record(parser, '1.2.3.4 200 "1.2.3.4"').remote_addr == "1.2.3.4"
    assert record(parser, '- 200 "-"').remote_addr is None
    bad = failure(parser, '1.2.3.4 200 "5.6.7.8"')
    assert "$remote_addr (same as before)" in bad.reason


def test_msec_and_iso8601_times() -> None:
    msec = compile_format(parse_log_format_string("$msec $status"))
    assert record(msec, "1795305824.276 200").time == datetime(
        2026, 11, 22, 0, 3, 44, 276000, tzinfo=UTC
    )
    iso = compile_format(parse_log_format_string("$time_iso8601 $status"))
    rec = record(iso, "2026-11-21T10:00:00+09:00 200")
    assert rec.time == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    assert rec.time.utcoffset() == timedelta(hours=9)


def test_custom_format_with_request_time_and_forwarded_for() -> None:
    fmt = parse_log_format_string(
        '$remote_addr $http_x_forwarded_for [$time_local] "$request" $status '
        "$request_time $upstream_response_time $http_x_forwarded_for"
    )
    parser = compile_format(fmt)
    # Bare header values may hold spaces; the shapes around them still split the line.
    rec = record(
        parser,
        '10.0.0.9 1.1.1.1, 2.2.2.2 [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 '
        "0.012 0.010, 0.002 1.1.1.1, 2.2.2.2",
    )
    assert rec.fields["http_x_forwarded_for"] == "1.1.1.1, 2.2.2.2"
    assert rec.fields["request_time"] == "0.012"
    assert rec.fields["upstream_response_time"] == "0.010, 0.002"


def test_request_parts_from_separate_variables() -> None:
    parser = compile_format(
        parse_log_format_string("$request_method $request_uri $server_protocol $status")
    )
    rec = record(parser, "PUT /a?b=c HTTP/1.1 204")
    assert (rec.method, rec.path, rec.protocol, rec.status) == ("PUT", "/a?b=c", "HTTP/1.1", 204)
    uri = compile_format(parse_log_format_string("$request_method $uri"))
    assert record(uri, "GET /x").path == "/x"


def test_json_format() -> None:
    fmt = parse_log_format_string(
        '{"ua":"$http_user_agent","auth":"$http_authorization","s":$status,'
        '"rt":$request_time,"x":"$http_x_missing"}',
        escape="json",
    )
    parser = compile_format(fmt)
    # What nginx 1.22 writes for a user agent with quotes, backslash, tab, DEL, UTF-8, \x01.
    line = (
        b'{"ua":"a \\"q\\" \\\\ b\\t\x7f\xe3\x81\x82\\u0001","auth":"Bearer t","s":200,'
        b'"rt":0.001,"x":""}\n'
    )
    rec = record(parser, line)
    assert rec.user_agent == 'a "q" \\ b\t\x7fあ\x01'
    assert rec.authorization == "Bearer t"
    assert rec.status == 200
    assert rec.fields["x"] is None if "x" in rec.fields else True
    assert rec.fields["http_x_missing"] is None


def test_escape_none_is_best_effort() -> None:
    parser = compile_format(
        parse_log_format_string('$remote_addr "$http_user_agent" $status', escape="none")
    )
    rec = record(parser, '1.2.3.4 "a "quoted" ua" 200')
    assert rec.best_effort
    assert rec.user_agent == 'a "quoted" ua'


def test_group_names_that_are_not_identifiers() -> None:
    parser = compile_format(parse_log_format_string("$1 $status"))
    assert record(parser, "abc 200").fields == {"1": "abc", "status": "200"}


# -- parse_log_format_string -------------------------------------------------------------------


def test_format_string_accepts_nginx_quoting_and_whole_directives() -> None:
    quoted = parse_log_format_string(
        "'$remote_addr - $remote_user [$time_local] '\n  '\"$request\" $status'", name="x"
    )
    assert quoted.template == '$remote_addr - $remote_user [$time_local] "$request" $status'
    assert quoted.name == "x"
    directive = parse_log_format_string('log_format j escape=json \'{"a":"$status"}\';')
    assert (directive.name, directive.escape, directive.template) == (
        "j",
        "json",
        '{"a":"$status"}',
    )
    prefixed = parse_log_format_string("escape=json '$status'")
    assert prefixed.escape == "json" and prefixed.template == "$status"
    # A bare template may well start with a quoted field.
    bare = parse_log_format_string('"$request" $status "$http_user_agent"')
    assert bare.template == '"$request" $status "$http_user_agent"'
    assert bare.name == "custom" and bare.escape == "default"


@pytest.mark.parametrize(
    ("template", "escape"),
    [
        ("$ bad", "default"),
        ("$status", "yaml"),
        ("log_format x '$ bad';", "default"),
        ("log_format x '$status", "default"),
    ],
)
def test_invalid_format_strings_raise_value_error(template: str, escape: str) -> None:
    with pytest.raises(ValueError):
        compile_format(parse_log_format_string(template, escape=escape))


def test_split_template() -> None:
    assert split_template('a $b${c}"$D') == ["a ", ("b",), ("c",), '"', ("d",)]


# -- render --------------------------------------------------------------------------------


def test_render_writes_lines_like_nginx() -> None:
    parser = compile_format(EXTENDED)
    line = parser.render(
        {
            "remote_addr": "20.1.2.3",
            "time_local": "21/Nov/2026:10:00:00 +0100",
            "request": "POST /ords/demo/mcp/ HTTP/1.1",
            "status": "401",
            "body_bytes_sent": "77",
            "http_user_agent": 'あ "x" \\',
            "http_content_type": "application/json",
            "http_authorization": "Bearer t",
            "http_mcp_protocol_version": "2025-06-18",
        }
    )
    assert line == (
        '20.1.2.3 - - [21/Nov/2026:10:00:00 +0100] "POST /ords/demo/mcp/ HTTP/1.1" 401 77 '
        'referer:"-" ua:"\\xE3\\x81\\x82 \\x22x\\x22 \\x5C" content-type:"application/json" '
        'authorization:"Bearer t" mcp-protocol-version:"2025-06-18"'
    )
    assert record(parser, line).user_agent == 'あ "x" \\'


def test_render_json_and_none_write_missing_as_empty() -> None:
    parser = compile_format(parse_log_format_string('{"ua":"$http_user_agent"}', escape="json"))
    assert parser.render({}) == '{"ua":""}'
    assert parser.render({"http_user_agent": 'a"\n\x01é'}) == '{"ua":"a\\"\\n\\u0001é"}'


def test_escape_helpers_round_trip() -> None:
    text = 'a"\\\x00\x1f\x7fé\U0001f600'
    assert escape_default(text) == "a\\x22\\x5C\\x00\\x1F\\x7F\\xC3\\xA9\\xF0\\x9F\\x98\\x80"
    assert unescape_default(escape_default(text)) == text
    assert unescape_json(escape_json(text)) == text
    # Not something nginx writes, but it must not crash or invent bytes.
    assert unescape_default("\\q\\x4") == "\\q\\x4"
    assert unescape_json("\\ud800x") == "\ufffdx"
    assert unescape_json('bad "quote') == 'bad "quote'


# -- times and records ----------------------------------------------------------------------


def test_time_local_round_trip_and_bad_values() -> None:
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    assert format_time_local(when) == "03/Feb/2026:04:05:06 -0330"
    assert parse_time_local(format_time_local(when)) == when
    assert parse_time_local("31/Feb/2026:00:00:00 +0000") is None
    assert parse_time_local("21/Foo/2026:00:00:00 +0000") is None


def test_fast_record_builder_builds_real_records() -> None:
    assert RECORD_SHELL is not None, "the fast path is expected to be usable with LogRecord"
    args = (SRC, None, "a", "GET", "/", "HTTP/1.1", 200, "ua", "Bearer x", {"k": "v"}, True, False)
    fast = new_record(*args)
    slow = LogRecord(*args)
    assert type(fast) is LogRecord
    assert fast == slow and hash(fast.source) == hash(slow.source)
    assert repr(fast) == repr(slow)
    assert dataclasses.replace(fast, status=500).status == 500
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.status = 1  # type: ignore[misc]
    parsed = record(compile_format(EXTENDED), extended_line())
    assert type(parsed) is LogRecord
    assert parsed == dataclasses.replace(parsed)


# -- generated parse function ------------------------------------------------------------------


def test_generated_parser_without_fast_records_gives_equal_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import parsers.nginx.log_format as log_format

    fast = compile_format(EXTENDED)
    monkeypatch.setattr(log_format, "RECORD_SHELL", None)
    slow = compile_format(EXTENDED)
    for line in (extended_line(), extended_line(ua=r"\xE3\x81\x82"), extended_line(auth="-")):
        assert fast.parse(line, SRC) == slow.parse(line, SRC)
        assert type(slow.parse(line, SRC)) is LogRecord


def test_generated_parser_for_a_format_without_well_known_variables() -> None:
    parser = compile_format(parse_log_format_string("$host:$server_port $bytes_sent"))
    rec = record(parser, "example.com:443 512")
    assert (rec.time, rec.method, rec.status, rec.remote_addr, rec.user_agent) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert rec.fields == {"host": "example.com", "server_port": "443", "bytes_sent": "512"}


def test_code_generator_refuses_names_it_would_paste_into_source() -> None:
    from parsers.nginx.line_codegen import ParsePlan, generate_source

    plan = ParsePlan(
        groups={"x'); import os; ('": "g"},
        time_key="x'); import os; ('",
        escapable=(),
        unescape=False,
        renamed=False,
        fast_records=False,
        best_effort=False,
    )
    with pytest.raises(ValueError, match="unsafe variable name"):
        generate_source(plan)


def test_caches_stay_bounded() -> None:
    parser = compile_format(EXTENDED)
    for i in range(5000):
        line = extended_line(ua=f"\\xE3\\x81\\x82/{i}").replace("/ords/demo/mcp/", f"/r{i}")
        assert record(parser, line).path == f"/r{i}"
    function: Any = parser.parse
    closure = dict(zip(function.__code__.co_freevars, function.__closure__ or (), strict=True))
    env = function.__globals__
    assert len(env["unescaped"]) <= 4096 and len(env["requests"]) <= 4096
    assert closure["last_text"].cell_contents == "21/Nov/2026:10:00:00 +0100"


# -- hostile lines ---------------------------------------------------------------------------


@pytest.mark.parametrize("escape", ["default", "json", "none"])
def test_adjacent_bare_fields_get_one_lazy_pattern_between_quotes(escape: str) -> None:
    parser = compile_format(
        parse_log_format_string(
            '$http_x_forwarded_for $http_user_agent "$http_referer" $upstream_addr $status',
            escape=escape,
        )
    )
    # Two lazy fields that can reach each other make a failing 64 KiB line take minutes.
    segments = parser.pattern.split('"') if escape != "none" else [parser.pattern]
    assert all(segment.count("*?") + segment.count("+?") <= 1 for segment in segments)
    # escape=none gets one lazy field in all: the first; later ones hold no delimiter.
    upstream = "10.0.0.1:80" if escape == "none" else "10.0.0.1:80, 10.0.0.2:80"
    rec = record(parser, f'1.1.1.1, 2.2.2.2 curl "-" {upstream} 502')
    assert rec.fields["http_x_forwarded_for"] == "1.1.1.1, 2.2.2.2"
    assert rec.fields["upstream_addr"] == upstream
    assert rec.status == 502


@pytest.mark.parametrize(
    "line",
    ["a " * 32000 + "x", 'a "' * 20000, "1.2.3.4 - " + "a [" * 20000, "\\" * 65536],
)
def test_hostile_long_lines_fail_cleanly(line: str) -> None:
    formats = [
        EXTENDED,
        COMBINED,
        parse_log_format_string("$http_x_forwarded_for $http_user_agent $status"),
        parse_log_format_string('$remote_user "$http_user_agent" $status', escape="none"),
        parse_log_format_string('{"a":"$http_user_agent","b":$http_x_b}', escape="json"),
    ]
    for fmt in formats:
        bad = failure(compile_format(fmt), line, truncated=True)
        assert bad.reason.startswith("line cut at the length limit")


def test_a_format_recording_the_header_and_the_safe_token_reads_the_header() -> None:
    # Both name the Authorization header for log readers; with both in one format the
    # header as sent is the token and the safe value is a variable of its own name.
    parser = compile_format(
        LogFormat("both", "default", 'a:"$http_authorization" s:"$token_without_signature"')
    )
    assert parser.variables == ("http_authorization", "token_without_signature")
    assert parser.format.variables == ("http_authorization", "token_without_signature")
    safe = "Bearer e30.e30.[signature not logged]"
    rec = record(parser, f'a:"Bearer {TOKEN}" s:"{safe}"')
    assert rec.authorization == f"Bearer {TOKEN}"
    alone = compile_format(LogFormat("safe", "default", "x $token_without_signature"))
    assert alone.variables == ("http_authorization",)


def test_the_safe_request_and_referer_are_read_as_request_and_referer() -> None:
    parser = compile_format(SAFE_FORMAT)
    line = (
        '127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "POST /ords/demo/mcp/?[query-not-logged] '
        'HTTP/1.1" 401 0 referer:"https://a.example/?[query-not-logged]" ua:"c" '
        'content-type:"-" authorization:"-" mcp-protocol-version:"-"'
    )
    record = parser.parse(line, Source("x", 1, 0))
    assert isinstance(record, LogRecord)
    assert (record.method, record.path, record.protocol) == (
        "POST",
        "/ords/demo/mcp/?[query-not-logged]",
        "HTTP/1.1",
    )
    assert record.fields["http_referer"] == "https://a.example/?[query-not-logged]"
    # A format writing $request as sent keeps the safe one under its own name.
    mixed = compile_format(
        parse_log_format_string('"$request" "$request_without_token" $referer_without_token')
    )
    assert mixed.variables == ("request", "request_without_token", "http_referer")
