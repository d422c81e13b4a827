"""A skip for want of nginx or tmux is told apart from any other skip."""

from __future__ import annotations

import pytest

from tests.support.tool_skips import count_missing, missing_tool


def _report(outcome: str, reason: str | None) -> pytest.TestReport:
    longrepr = ("x.py", 1, f"Skipped: {reason}") if reason is not None else None
    return pytest.TestReport("t::x", ("x.py", 1, "x"), {}, outcome, longrepr, "call")


def test_tool_skips_are_counted_per_tool() -> None:
    reports = [
        _report("skipped", "nginx binary not installed"),
        _report("skipped", "nginx binary not installed"),
        _report("skipped", "tmux is not installed"),
        _report("skipped", "needs ORACLE_TEST_DSN"),
        _report("passed", None),
    ]
    assert count_missing(reports) == {"nginx": 2, "tmux": 1}


def test_a_passed_test_or_another_skip_names_no_tool() -> None:
    assert missing_tool(_report("passed", None)) is None
    assert missing_tool(_report("skipped", "ORACLE_TEST_DSN not set")) is None
    assert missing_tool(_report("skipped", "headers-more module missing")) == "headers-more"
