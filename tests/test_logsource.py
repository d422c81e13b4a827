"""Choosing log files and their format from flags, the config file and nginx.conf."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.logs import selection as logsource
from inspector.logs.follow import FollowEvent, StartAt
from inspector.logs.selection import (
    LogSelectionError,
    iter_records,
    select_logs,
    start_from,
)
from inspector.settings import Config, ConfigError, LogSettings, Settings
from parsers.records import LogRecord, ParseFailure, Source

EXTENDED = """log_format extended '$remote_addr - $remote_user [$time_local] '
                   '"$request" $status $body_bytes_sent '
                   'referer:"$http_referer" '
                   'ua:"$http_user_agent" '
                   'content-type:"$http_content_type" '
                   'authorization:"$http_authorization" '
                   'mcp-protocol-version:"$http_mcp_protocol_version"';"""

LINE = (
    '127.0.0.1 - - [22/Nov/2026:00:00:01 +0000] "POST /ords/mcp HTTP/1.1" 401 0 '
    'referer:"-" ua:"Claude-User" content-type:"application/json" '
    'authorization:"Bearer abc.def.ghi" mcp-protocol-version:"2025-06-18"'
)
COMBINED_LINE = '127.0.0.1 - - [22/Nov/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"'


def args(*argv: str, base: Settings | None = None) -> LogSettings:
    """The log settings ``tail ARGV`` runs with, over ``base`` (no file: empty)."""
    parsed = build_parser().parse_args(["tail", *argv])
    return settings_from_args(parsed, base=base or Settings()).logs


def write_conf(tmp_path: Path, body: str) -> Path:
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"events {{}}\nhttp {{\n{body}\n}}\n")
    return conf


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A configuration with an extended log and a plain combined log."""
    return write_conf(
        tmp_path,
        f"""{EXTENDED}
server {{
    access_log {tmp_path}/plain.log;
    access_log {tmp_path}/extended.log extended;
}}""",
    )


@pytest.fixture
def no_nginx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As on a host without nginx: the default configuration path does not exist."""
    missing = tmp_path / "no-such-dir" / "nginx.conf"
    monkeypatch.setattr(logsource, "find_config_path", lambda explicit: (missing, "default"))


def parse(selection: logsource.LogSelection, path: str, line: str) -> LogRecord | ParseFailure:
    return selection.parsers[path].parse(line, Source(path, 1, 0))


def test_without_paths_the_log_recording_authorization_is_chosen(
    site: Path, tmp_path: Path
) -> None:
    selection = select_logs(args("--nginx-conf", str(site)))
    assert selection.paths == (f"{tmp_path}/extended.log",)
    assert selection.format_name == "extended"
    assert selection.how == f"format 'extended' from {site} line 3"
    assert str(site) in selection.looked_at
    record = parse(selection, selection.paths[0], LINE)
    assert isinstance(record, LogRecord) and record.authorization == "Bearer abc.def.ghi"


def test_explicit_path_gets_the_format_nginx_writes_it_with(site: Path, tmp_path: Path) -> None:
    plain = str(tmp_path / "plain.log")
    selection = select_logs(args(plain, "--nginx-conf", str(site)))
    assert selection.paths == (plain,)
    assert selection.format_name == "combined"
    assert isinstance(parse(selection, plain, COMBINED_LINE), LogRecord)


def test_unknown_path_gets_the_one_format_recording_authorization(
    site: Path, tmp_path: Path
) -> None:
    other = str(tmp_path / "copied-from-elsewhere.log")
    selection = select_logs(args(other, "-", "--nginx-conf", str(site)))
    assert selection.format_name == "extended"
    assert isinstance(parse(selection, other, LINE), LogRecord)
    assert isinstance(parse(selection, "-", LINE), LogRecord)
    assert selection.warnings == ()


def test_without_any_known_format_combined_is_used_with_a_warning(
    tmp_path: Path, no_nginx: None
) -> None:
    log = tmp_path / "access.log"
    log.write_text(COMBINED_LINE + "\n")
    selection = select_logs(args(str(log)))
    assert selection.format_name == "combined"
    assert any("no Authorization field" in w for w in selection.warnings)
    assert isinstance(parse(selection, str(log), COMBINED_LINE), LogRecord)


def test_a_file_in_the_reference_format_is_recognised_without_a_config(
    tmp_path: Path, no_nginx: None
) -> None:
    log = tmp_path / "extended.log"
    log.write_text(LINE + "\n" + LINE + "\n")
    selection = select_logs(args(str(log)))
    assert selection.format_name == "extended"
    assert "recognised" in selection.how
    assert isinstance(parse(selection, str(log), LINE), LogRecord)


def test_log_format_string_with_json_escape(tmp_path: Path) -> None:
    log = str(tmp_path / "json.log")
    template = '{"addr":"$remote_addr","auth":"$http_authorization","ua":"$http_user_agent"}'
    selection = select_logs(args(log, "--log-format", template, "--escape", "json"))
    assert "--log-format" in selection.how
    record = parse(selection, log, '{"addr":"10.0.0.1","auth":"Bearer x.y.z","ua":"a\\"b"}')
    assert isinstance(record, LogRecord)
    assert (record.authorization, record.user_agent) == ("Bearer x.y.z", 'a"b')


def test_bad_log_format_string_is_one_clear_error(tmp_path: Path) -> None:
    log = str(tmp_path / "x.log")
    with pytest.raises(LogSelectionError, match=r"^--log-format: .* has no \$variables"):
        select_logs(args(log, "--log-format", "plain text"))
    with pytest.raises(LogSelectionError, match=r"^--log-format: .*bogus"):
        select_logs(args(log, "--log-format", "log_format x escape=bogus '$a';"))


def test_format_by_name_picks_its_logs_and_unknown_names_list_the_known_ones(
    site: Path, tmp_path: Path
) -> None:
    selection = select_logs(args("--format", "extended", "--nginx-conf", str(site)))
    assert selection.paths == (f"{tmp_path}/extended.log",)
    with pytest.raises(LogSelectionError) as err:
        select_logs(args("--format", "extnded", "--nginx-conf", str(site)))
    assert "'extnded'" in str(err.value) and "combined, extended" in str(err.value)


def test_no_log_recording_authorization_says_what_was_seen(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, f"server {{ access_log {tmp_path}/access.log; }}")
    with pytest.raises(LogSelectionError) as err:
        select_logs(args("--nginx-conf", str(conf)))
    message = str(err.value)
    assert f"{tmp_path}/access.log (combined" in message
    assert "no log_format records $http_authorization" in message
    assert "--nginx-conf" in message and "\n" not in message


def test_unreadable_nginx_conf_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.conf"
    with pytest.raises(LogSelectionError) as err:
        select_logs(args("--nginx-conf", str(missing)))
    assert str(missing) in str(err.value) and "\n" not in str(err.value)
    # Even with a log named, a configuration the user pointed at must be readable.
    with pytest.raises(LogSelectionError):
        select_logs(args(str(tmp_path / "a.log"), "--nginx-conf", str(missing)))


def test_config_file_section_supplies_paths_format_and_nginx_conf(
    site: Path, tmp_path: Path
) -> None:
    config = Config(
        sections={
            "logs": {
                "paths": [str(tmp_path / "a.log"), str(tmp_path / "b.log")],
                "format": "extended",
                "nginx_conf": str(site),
            }
        }
    )
    selection = select_logs(args(base=Settings.from_config(config)))
    assert selection.paths == (str(tmp_path / "a.log"), str(tmp_path / "b.log"))
    assert selection.format_name == "extended"
    # Flags beat the file.
    flagged = select_logs(args(str(tmp_path / "c.log"), base=Settings.from_config(config)))
    assert flagged.paths == (str(tmp_path / "c.log"),)
    with pytest.raises(ConfigError, match=r"\[logs\] paths: must be a list"):
        Settings.from_config(Config(sections={"logs": {"paths": 3}}))


def test_start_flags() -> None:
    assert start_from(args()) == StartAt("end")
    assert start_from(args("--from-start")) == StartAt("start")
    assert start_from(args("--last", "7")) == StartAt("last", 7)
    assert start_from(args(), default=StartAt("start")) == StartAt("start")
    with pytest.raises(ConfigError, match="--last -1"):
        args("--last", "-1")
    with pytest.raises(LogSelectionError):
        start_from(LogSettings(last=-1))


def test_iter_records_parses_each_line_with_its_files_parser(site: Path, tmp_path: Path) -> None:
    extended = tmp_path / "extended.log"
    plain = tmp_path / "plain.log"
    extended.write_text(LINE + "\nnot a log line\n")
    plain.write_text(COMBINED_LINE + "\n")
    selection = select_logs(args(str(extended), str(plain), "--nginx-conf", str(site)))
    items = list(iter_records(selection, StartAt("start"), follow=False, poll=False))
    records = [x for x in items if isinstance(x, LogRecord)]
    failures = [x for x in items if isinstance(x, ParseFailure)]
    events = [x for x in items if isinstance(x, FollowEvent)]
    assert [(r.source.file, r.source.line, r.status) for r in records] == [
        (str(extended), 1, 401),
        (str(plain), 1, 200),
    ]
    assert [(f.source.line, f.source.offset) for f in failures] == [(2, len(LINE) + 1)]
    assert [e.kind for e in events] == ["eof", "eof"]


def test_input_that_cannot_be_looked_at_first_tries_extended_then_combined(
    tmp_path: Path, no_nginx: None
) -> None:
    # `ssh host tail -F .../extended.log | token-inspector tail -` on a machine without nginx.
    later = str(tmp_path / "not-written-yet.log")
    selection = select_logs(args("-", later))
    for path in ("-", later):
        extended = parse(selection, path, LINE)
        combined = parse(selection, path, COMBINED_LINE)
        assert isinstance(extended, LogRecord) and extended.authorization == "Bearer abc.def.ghi"
        assert isinstance(combined, LogRecord) and combined.user_agent == "curl/8.5.0"
        failure = parse(selection, path, "junk")
        assert isinstance(failure, ParseFailure) and "remote_addr" in failure.reason
    assert any("tried with the reference 'extended' format" in w for w in selection.warnings)


def test_a_log_cancelled_by_access_log_off_is_never_chosen(tmp_path: Path) -> None:
    # nginx writes nothing to a log whose level also says `access_log off`, so following it
    # would show an empty screen forever.
    conf = write_conf(
        tmp_path,
        f"""{EXTENDED}
server {{
    access_log {tmp_path}/extended.log extended;
    access_log off;
}}""",
    )
    with pytest.raises(LogSelectionError, match="no access log"):
        select_logs(args("--nginx-conf", str(conf)))


def test_of_two_levels_only_the_written_log_is_chosen(tmp_path: Path) -> None:
    conf = write_conf(
        tmp_path,
        f"""{EXTENDED}
server {{
    listen 8081;
    access_log {tmp_path}/cancelled.log extended;
    access_log off;
}}
server {{
    listen 8082;
    access_log {tmp_path}/written.log extended;
}}""",
    )
    selection = select_logs(args("--nginx-conf", str(conf)))
    assert selection.paths == (f"{tmp_path}/written.log",)
