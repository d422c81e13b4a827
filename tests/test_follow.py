"""The follower on real files: start positions, partial and long lines, several files, gzip."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.logs import backscan
from inspector.logs.follow import FollowEvent, LogFollower, RawLine, StartAt, read_last_lines
from tests.follow_support import Collector


def numbered(start: int, stop: int, prefix: str = "line") -> bytes:
    return b"".join(f"{prefix} {i}\n".encode() for i in range(start, stop))


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


@pytest.fixture(params=["watchdog", "poll"])
def mode(request: pytest.FixtureRequest) -> dict[str, object]:
    # With watchdog the periodic stat is made rare, so only file events can wake the reader.
    if request.param == "poll":
        return {"poll": True, "poll_interval": 0.05}
    return {"poll": False, "poll_interval": 30.0}


Make = Callable[..., Collector]


@pytest.fixture
def follow(mode: dict[str, object]) -> Iterator[Make]:
    followers: list[LogFollower] = []

    def make(paths: list[str], **kwargs: object) -> Collector:
        follower = LogFollower(paths, **{**mode, **kwargs})  # type: ignore[arg-type]
        followers.append(follower)
        follower.start()
        return Collector(follower)

    yield make
    for follower in followers:
        follower.stop()


def test_start_at_end_skips_existing_lines_and_numbers_new_ones(
    tmp_path: Path, follow: Make
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 11))
    c = follow([str(log)])
    c.wait_event("opened")
    append(log, numbered(11, 13))
    c.wait_lines(2)
    assert c.data == [b"line 11", b"line 12"]
    assert [x.line for x in c.lines] == [11, 12]
    assert c.lines[0].offset == len(numbered(1, 11))


def test_start_from_the_beginning_reads_everything_then_follows(
    tmp_path: Path, follow: Make
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 4))
    c = follow([str(log)], start=StartAt("start"))
    c.wait_lines(3)
    append(log, numbered(4, 5))
    c.wait_lines(4)
    assert c.data == [b"line 1", b"line 2", b"line 3", b"line 4"]
    assert [x.line for x in c.lines] == [1, 2, 3, 4]


def test_last_n_reads_backwards_from_a_file_bigger_than_a_block(
    tmp_path: Path, follow: Make
) -> None:
    log = tmp_path / "big.log"
    log.write_bytes(numbered(1, 20001))
    assert log.stat().st_size > backscan.BLOCK
    c = follow([str(log)], start=StartAt("last", 5))
    c.wait_lines(5)
    assert c.data == [f"line {i}".encode() for i in range(19996, 20001)]
    assert [x.line for x in c.lines] == list(range(19996, 20001))


def test_line_numbers_are_unknown_when_counting_would_be_too_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backscan, "COUNT_LIMIT", 10)
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 100))
    items = list(LogFollower([str(log)], start=StartAt("last", 2), follow=False))
    lines = [x for x in items if isinstance(x, RawLine)]
    assert [x.data for x in lines] == [b"line 98", b"line 99"]
    assert [x.line for x in lines] == [None, None]
    assert lines[0].offset == len(numbered(1, 98))


def test_partial_line_waits_for_its_newline(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    c = follow([str(log)])
    c.wait_event("opened")
    append(log, b"first\nhalf of a li")
    c.wait_bytes(str(log), len(b"first\nhalf of a li"))
    c.pump()
    assert c.data == [b"first"]
    append(log, b"ne\nnext\n")
    c.wait_lines(3)
    assert c.data == [b"first", b"half of a line", b"next"]
    assert c.lines[1].offset == len(b"first\n")


def test_long_line_is_cut_flagged_and_its_rest_skipped(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    c = follow([str(log)], max_line=1000)
    c.wait_event("opened")
    append(log, b"x" * 1500)  # longer than max_line and still unterminated
    c.wait_lines(1)
    append(log, b"y" * 700 + b"\nafter\n")
    c.wait_lines(2)
    assert c.lines[0].truncated and c.lines[0].data == b"x" * 1000
    assert c.lines[1] == RawLine(str(log), 2, 2201, b"after", False)


def test_long_lines_in_one_read_default_limit(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"a" * 100_000 + b"\nshort\n")
    lines = [x for x in LogFollower([str(log)], follow=False) if isinstance(x, RawLine)]
    assert [(len(x.data), x.truncated) for x in lines] == [(65536, True), (5, False)]
    assert lines[1].offset == 100_001 and lines[1].line == 2


def test_binary_junk_passes_through_untouched(tmp_path: Path) -> None:
    junk = bytes(range(256)).replace(b"\n", b"")
    log = tmp_path / "a.log"
    log.write_bytes(junk + b"\n\xff\xfe\x00\n")
    lines = [x for x in LogFollower([str(log)], follow=False) if isinstance(x, RawLine)]
    assert [x.data for x in lines] == [junk, b"\xff\xfe\x00"]


def test_not_following_reads_to_the_end_with_exact_offsets(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    content = numbered(1, 5000) + b"unterminated"
    log.write_bytes(content)
    follower = LogFollower([str(log)], follow=False)
    items = list(follower)
    lines = [x for x in items if isinstance(x, RawLine)]
    assert len(lines) == 5000
    for item in lines[::499] + lines[-1:]:
        assert content[item.offset : item.offset + len(item.data)] == item.data
        assert item.line == content[: item.offset].count(b"\n") + 1
    assert isinstance(items[-1], FollowEvent) and items[-1].kind == "eof"
    assert follower.stats.lines == 5000
    assert follower.stats.bytes == len(content)
    assert follower.finished


def test_gzip_rotated_file_is_read_through_gzip(tmp_path: Path) -> None:
    gz = tmp_path / "access.log.2.gz"
    gz.write_bytes(gzip.compress(numbered(1, 301)))
    plain = tmp_path / "access.log.1"
    plain.write_bytes(numbered(301, 303))
    lines = [x for x in LogFollower([str(gz), str(plain)], follow=False) if isinstance(x, RawLine)]
    assert [x.data for x in lines] == [f"line {i}".encode() for i in range(1, 303)]
    assert lines[299].file == str(gz) and lines[300].file == str(plain)
    last = [
        x
        for x in LogFollower([str(gz)], start=StartAt("last", 2), follow=False)
        if isinstance(x, RawLine)
    ]
    assert [x.data for x in last] == [b"line 299", b"line 300"]


def test_corrupt_gzip_gives_an_error_event_not_a_crash(tmp_path: Path) -> None:
    gz = tmp_path / "bad.log.gz"
    gz.write_bytes(gzip.compress(numbered(1, 100))[:40])
    events = [x for x in LogFollower([str(gz)], follow=False) if isinstance(x, FollowEvent)]
    assert [e.kind for e in events] == ["error"]
    assert str(gz) in events[0].message


def test_missing_file_without_following_is_one_error(tmp_path: Path) -> None:
    events = list(LogFollower([str(tmp_path / "nope.log")], follow=False))
    assert [(e.kind, e.file) for e in events if isinstance(e, FollowEvent)] == [
        ("error", str(tmp_path / "nope.log"))
    ]


def test_several_files_are_merged(tmp_path: Path, follow: Make) -> None:
    a, b = tmp_path / "a.log", tmp_path / "sub" / "b.log"
    b.parent.mkdir()
    a.write_bytes(b"")
    b.write_bytes(b"")
    c = follow([str(a), str(b)])
    c.wait_for(lambda: c.kinds().count("opened") == 2, "both files opened")
    append(a, b"from a\n")
    c.wait_lines(1)
    append(b, b"from b\n")
    c.wait_lines(2)
    assert [(x.file, x.data) for x in c.lines] == [(str(a), b"from a"), (str(b), b"from b")]
    assert set(c.follower.stats.files) == {str(a), str(b)}


def test_read_last_lines_matches_a_naive_split_for_every_n(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backscan, "BLOCK", 7)  # many blocks, lines crossing block edges
    cases = [b"", b"no newline", b"\n", b"\n\n\n", b"a\nbb\n", b"a\nbb\nccc", b"x" * 30 + b"\n"]
    cases.append(b"".join(b"y" * (i % 11) + b"\n" for i in range(40)) + b"tail")
    for content in cases:
        log = tmp_path / "f.log"
        log.write_bytes(content)
        complete_end = content.rfind(b"\n") + 1
        lines = content[:complete_end].split(b"\n")[:-1] if complete_end else []
        for n in range(0, len(lines) + 3):
            want = lines[len(lines) - n :] if 0 < n <= len(lines) else ([] if n == 0 else lines)
            offset, got = read_last_lines(str(log), n)
            assert got == want, (content, n)
            assert offset == (
                complete_end if n == 0 else complete_end - sum(len(x) + 1 for x in want)
            )
