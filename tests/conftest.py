"""Suite-wide hooks.

CI installs nginx and tmux, so there a test skipped for want of them means a broken install
step, not a machine without the tool: with TOKEN_INSPECTOR_REQUIRE_TOOLS=1 such skips fail.

No test reaches beyond loopback: ``_loopback_only`` (``tests/support/loopback_only.py``)
makes every name lookup and every IPv4/IPv6 connect for another host fail in the test's
process, and fails the test at teardown even when the code under test swallowed the error
(an offline machine must give the same result as CI). Tests marked ``oracle`` are exempt:
their database may be anywhere. Subprocesses (``python -m inspector ...``, nginx, tmux) are
not covered by the patch; those tests stay offline by what they pass: keys from files
(``--jwks``/``--oidc-metadata``), IdPs, sites and nginx upstreams on 127.0.0.1, or commands
that fetch nothing.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest

from inspector.local_idp import LocalIdP
from tests.support import loopback_only

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


# -- no network beyond loopback ------------------------------------------------------------


@pytest.fixture(autouse=True)
def _loopback_only(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    if request.node.get_closest_marker("oracle") is not None:
        yield []
        return
    reached = loopback_only.install(monkeypatch)
    yield reached
    if reached:
        pytest.fail(
            "test reached beyond loopback (refused, but it must not try): "
            + ", ".join(dict.fromkeys(reached)),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy configured in the environment must never see loopback test traffic."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def idp() -> Iterator[LocalIdP]:
    """A running loopback IdP for one test (files needing another lifetime define their own)."""
    with LocalIdP() as server:
        yield server
