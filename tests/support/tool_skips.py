"""Which skipped tests were skipped for want of a system tool (nginx, headers-more, tmux).

CI turns such skips into failures; a developer's run names them loudly in its summary.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

TOOL_WORDS = ("nginx", "tmux", "headers-more", "zsh")


def missing_tool(report: pytest.TestReport) -> str | None:
    """The tool a skipped report's reason names, or None for any other skip."""
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return None
    reason = str(report.longrepr[-1]).lower()
    return next((word for word in TOOL_WORDS if word in reason), None)


def count_missing(reports: Iterable[pytest.TestReport]) -> dict[str, int]:
    """How many skipped reports each missing tool accounts for."""
    counts: dict[str, int] = {}
    for report in reports:
        tool = missing_tool(report)
        if tool is not None:
            counts[tool] = counts.get(tool, 0) + 1
    return counts
