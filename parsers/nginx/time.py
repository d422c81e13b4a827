"""Timestamps as nginx logs them (``$time_local``, ``$time_iso8601``, ``$msec``).

``datetime.strptime`` costs more than matching the whole line, and a busy log repeats the
same second many times, so conversions are hand-rolled and memoised.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

_MONTHS = {
    "Jan": 1,
    "Feb": 2,
    "Mar": 3,
    "Apr": 4,
    "May": 5,
    "Jun": 6,
    "Jul": 7,
    "Aug": 8,
    "Sep": 9,
    "Oct": 10,
    "Nov": 11,
    "Dec": 12,
}
_CACHE_LIMIT = 4096
_local_cache: dict[str, datetime | None] = {}
_iso_cache: dict[str, datetime | None] = {}
_zones: dict[str, timezone] = {}


def _zone(offset: str) -> timezone:
    zone = _zones.get(offset)
    if zone is None:
        sign = -1 if offset[0] == "-" else 1
        minutes = int(offset[1:3]) * 60 + int(offset[3:5])
        zone = UTC if minutes == 0 else timezone(sign * timedelta(minutes=minutes))
        _zones[offset] = zone
    return zone


def parse_time_local(value: str) -> datetime | None:
    """``21/Nov/2026:10:00:00 +0100`` -> aware datetime; None when malformed."""
    try:
        return _local_cache[value]
    except KeyError:
        pass
    result: datetime | None
    try:
        if len(value) != 26 or value[2] != "/" or value[20] != " ":
            raise ValueError(value)
        result = datetime(
            int(value[7:11]),
            _MONTHS[value[3:6]],
            int(value[0:2]),
            int(value[12:14]),
            int(value[15:17]),
            int(value[18:20]),
            tzinfo=_zone(value[21:26]),
        )
    except (ValueError, KeyError, IndexError):
        result = None
    if len(_local_cache) >= _CACHE_LIMIT:
        _local_cache.clear()
    _local_cache[value] = result
    return result


def parse_time_iso8601(value: str) -> datetime | None:
    """``2026-11-21T10:00:00+01:00`` -> aware datetime; None when malformed or naive."""
    try:
        return _iso_cache[value]
    except KeyError:
        pass
    result: datetime | None
    try:
        result = datetime.fromisoformat(value)
        if result.tzinfo is None:
            result = None
    except ValueError:
        result = None
    if len(_iso_cache) >= _CACHE_LIMIT:
        _iso_cache.clear()
    _iso_cache[value] = result
    return result


def parse_msec(value: str) -> datetime | None:
    """``1795305824.276`` (seconds since the epoch) -> aware UTC datetime; None when bad."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def format_time_local(when: datetime) -> str:
    """The ``$time_local`` text nginx writes for an aware datetime."""
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    month = next(name for name, number in _MONTHS.items() if number == when.month)
    return (
        f"{when.day:02d}/{month}/{when.year:04d}:{when.hour:02d}:{when.minute:02d}:"
        f"{when.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    )
