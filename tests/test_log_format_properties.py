"""Property tests: the parser never raises, and render -> parse gives the values back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.nginx.conf import COMBINED, EXTENDED, LogFormat
from parsers.nginx.log_format import (
    LineParser,
    compile_format,
    parse_log_format_string,
    split_template,
)
from parsers.nginx.time import format_time_local
from parsers.records import LogRecord, ParseFailure, Source

SRC = Source("prop.log", 1, 0)
CUSTOM = parse_log_format_string(
    '$remote_addr [$time_local] "$request" $status $request_time $msec '
    '"$http_x_forwarded_for" ${http_user_agent}|$http_authorization'
)
JSON = parse_log_format_string(
    '{"time":"$time_iso8601","ua":"$http_user_agent","auth":"$http_authorization",'
    '"req":"$request","s":$status,"rt":$request_time,"xff":"$http_x_forwarded_for"}',
    escape="json",
)
NONE = parse_log_format_string(
    '$remote_addr [$time_local] "$http_user_agent" $status', escape="none"
)
FORMATS = [EXTENDED, COMBINED, CUSTOM, JSON, NONE]
PARSERS = {fmt.name + fmt.escape + fmt.template: compile_format(fmt) for fmt in FORMATS}

# Any text nginx could be asked to log (no lone surrogates: they are not characters).
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
NO_SPACE = st.text(st.characters(codec="utf-8", exclude_characters=" "), min_size=1, max_size=20)
NO_QUOTE = st.text(st.characters(codec="utf-8", exclude_characters='"'), min_size=1, max_size=30)
TIMES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
ZONES = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def _value_strategy(fmt: LogFormat, name: str) -> st.SearchStrategy[str | None]:
    """Values nginx could log for ``name`` in ``fmt``, excluding what it writes ambiguously."""
    strategy: st.SearchStrategy[str]
    if name == "time_local":
        strategy = st.builds(lambda t, z: format_time_local(t.astimezone(z)), TIMES, ZONES)
    elif name == "time_iso8601":
        strategy = st.builds(lambda t, z: t.astimezone(z).isoformat(), TIMES, ZONES)
    elif name in ("request_time", "msec"):
        strategy = st.builds(
            lambda s, ms: f"{s}.{ms:03d}", st.integers(0, 2**40), st.integers(0, 999)
        )
    elif name == "status":
        strategy = st.integers(100, 599).map(str)
    elif name == "body_bytes_sent":
        strategy = st.integers(0, 2**40).map(str)
    elif fmt.escape == "none":
        strategy = NO_QUOTE if name != "remote_addr" else NO_SPACE
    elif name in ("remote_addr",):
        strategy = NO_SPACE
    else:
        strategy = ANY_TEXT
        delimiter = _bare_delimiter(fmt, name)
        if delimiter:
            # A bare value containing the literal that follows it is ambiguous in nginx's
            # own output ("a|b|c" for "$x|$y"); no parser can split it back.
            strategy = strategy.filter(lambda v: delimiter not in v)
    # "-" (and "" outside default escaping) is how nginx writes "no value": they read as None.
    missing = {"-"} if fmt.escape == "default" else {"-", ""}
    return st.one_of(st.none(), strategy.filter(lambda v: v not in missing))


def _bare_delimiter(fmt: LogFormat, name: str) -> str | None:
    elements = split_template(fmt.template)
    for index, element in enumerate(elements):
        if element != (name,) or index + 1 >= len(elements):
            continue
        before = elements[index - 1] if index else ""
        after = elements[index + 1]
        quoted = isinstance(before, str) and before.endswith('"')
        if isinstance(after, str) and not (quoted and after.startswith('"')):
            return after[0]
    return None


def _values(fmt: LogFormat, parser: LineParser) -> st.SearchStrategy[dict[str, str | None]]:
    return st.fixed_dictionaries({name: _value_strategy(fmt, name) for name in parser.variables})


def _round_trip(fmt: LogFormat) -> Callable[[], None]:
    parser = PARSERS[fmt.name + fmt.escape + fmt.template]

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values=_values(fmt, parser), as_bytes=st.booleans())
    def check(values: dict[str, str | None], as_bytes: bool) -> None:
        line = parser.render(values)
        data: str | bytes = line.encode("utf-8") + b"\n" if as_bytes else line
        result = parser.parse(data, SRC)
        assert isinstance(result, LogRecord), (line, result)
        assert dict(result.fields) == values
        assert result.best_effort == (fmt.escape == "none")
        if values.get("status") is not None:
            assert result.status == int(values["status"] or 0)
        assert result.user_agent == values.get("http_user_agent")
        assert result.authorization == values.get("http_authorization")
        if values.get("time_local") or values.get("time_iso8601"):
            assert result.time is not None and result.time.tzinfo is not None

    return check


test_extended_round_trip = _round_trip(EXTENDED)
test_combined_round_trip = _round_trip(COMBINED)
test_custom_round_trip = _round_trip(CUSTOM)
test_json_round_trip = _round_trip(JSON)
test_none_round_trip = _round_trip(NONE)


@settings(max_examples=400, deadline=None)
@given(
    data=st.one_of(st.binary(max_size=400), st.text(max_size=400)), which=st.sampled_from(FORMATS)
)
def test_any_input_gives_a_record_or_a_failure(data: bytes | str, which: LogFormat) -> None:
    parser = PARSERS[which.name + which.escape + which.template]
    result = parser.parse(data, SRC)
    assert isinstance(result, LogRecord | ParseFailure)
    if isinstance(result, ParseFailure):
        assert result.reason and result.source == SRC
        # The parser turns its own exceptions into this failure: it must never need to.
        assert not result.reason.startswith("internal parser error"), result.reason
        assert len(result.excerpt) <= 201


@settings(max_examples=400, deadline=None)
@given(
    which=st.sampled_from(FORMATS),
    position=st.integers(0, 10_000),
    junk=st.text(max_size=5),
    cut=st.booleans(),
)
def test_mutated_valid_lines_never_raise(
    which: LogFormat, position: int, junk: str, cut: bool
) -> None:
    parser = PARSERS[which.name + which.escape + which.template]
    line = parser.render(
        {
            "remote_addr": "1.2.3.4",
            "time_local": "21/Nov/2026:10:00:00 +0000",
            "time_iso8601": "2026-11-21T10:00:00+00:00",
            "request": "GET / HTTP/1.1",
            "status": "200",
            "request_time": "0.001",
            "msec": "1795305824.276",
            "http_user_agent": 'ua "x" é',
            "http_authorization": "Bearer abc.def.ghi",
        }
    )
    position %= len(line) + 1
    mutated = line[:position] + junk + ("" if cut else line[position:])
    result = parser.parse(mutated, SRC, truncated=cut)
    assert isinstance(result, LogRecord | ParseFailure)
    assert result.source == SRC
    if isinstance(result, ParseFailure):
        assert not result.reason.startswith("internal parser error"), result.reason
    elif not junk and not cut and "http_authorization" in parser.variables:
        assert result.authorization == "Bearer abc.def.ghi"
