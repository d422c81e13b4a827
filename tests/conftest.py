"""Suite-wide hooks.

CI installs nginx and tmux, so there a test skipped for want of them means a broken install
step, not a machine without the tool: with TOKEN_INSPECTOR_REQUIRE_TOOLS=1 such skips fail.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

_TOOL_WORDS = ("nginx", "tmux", "headers-more")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get("TOKEN_INSPECTOR_REQUIRE_TOOLS") != "1":
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if any(word in reason.lower() for word in _TOOL_WORDS):
        report.outcome = "failed"
        report.longrepr = f"required system tool missing in CI: {reason}"
