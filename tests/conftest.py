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

from tests.support import loopback_only, memory_db
from tests.support.faulty_idp import FaultyIdP
from tests.support.tool_skips import count_missing, missing_tool


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("TOKEN_INSPECTOR_REQUIRE_TOOLS") != "1" or missing_tool(report) is None:
        return
    assert isinstance(report.longrepr, tuple)
    report.outcome = "failed"
    report.longrepr = f"required system tool missing in CI: {report.longrepr[-1]}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly how many tests a missing nginx or tmux skipped: a quiet green is a lie."""
    missing = count_missing(terminalreporter.stats.get("skipped", []))
    if not missing:
        return
    total = sum(missing.values())
    tools = ", ".join(f"{word} ({count})" for word, count in sorted(missing.items()))
    terminalreporter.write_sep("!", f"{total} TESTS SKIPPED: system tools missing", red=True)
    terminalreporter.write_line(f"not run for want of: {tools}")
    terminalreporter.write_line(
        "install them (Debian: apt-get install nginx-light "
        "libnginx-mod-http-headers-more-filter tmux zsh; nginx lives in /usr/sbin) or run .ci/run"
    )


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


@pytest.fixture(autouse=True)
def _memory_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--dsn memory:`` / ``memory:FILE`` name the in-memory stand-in in every test (the
    product knows no such DSN: ``tests/support/memory_db.py``)."""
    memory_db.install(monkeypatch.setattr)


@pytest.fixture
def idp() -> Iterator[FaultyIdP]:
    """A running loopback IdP for one test (files needing another lifetime define their own)."""
    with FaultyIdP() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_system_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The suite never reads the real /etc/token-inspector/config.toml, nor a personal file
    the developer's shell names (subprocesses inherit both settings)."""
    missing = tmp_path_factory.getbasetemp() / "no-system-config.toml"
    monkeypatch.setenv("TOKEN_INSPECTOR_SYSTEM_CONFIG", str(missing))
    monkeypatch.delenv("TOKEN_INSPECTOR_CONFIG", raising=False)
