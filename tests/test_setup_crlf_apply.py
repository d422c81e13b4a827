"""A configuration with CRLF line endings (edited on Windows, copied over): setup's plan
keeps CRLF in its added lines, and the applier writes the plan byte for byte, so the
file is the user's bytes plus the include line, CRLF-terminated, and nginx runs it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.command_run import run_cli
from tests.support.nginx import requires_headers_more
from tests.test_setup_e2e_nginx import Site, running_site

pytestmark = [requires_headers_more, pytest.mark.nginx]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    with running_site(tmp_path, monkeypatch) as running:
        yield running


def test_a_crlf_configuration_is_written_byte_for_byte(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    crlf = site.conf.read_bytes().replace(b"\n", b"\r\n")
    site.conf.write_bytes(crlf)
    status, _, err = run_cli(site.argv("--yes", "--only", "nginx"), monkeypatch, stdin=site.token())
    assert status == 0, err
    after = site.conf.read_bytes()
    assert re.search(rb"(?<!\r)\n", after) is None  # no bare LF
    lines = after.split(b"\r\n")
    added = [line for line in lines if line not in crlf.split(b"\r\n")]
    assert added and all(line.strip().startswith(b"include ") for line in added)
    for line in added:
        after = after.replace(line + b"\r\n", b"", 1)
    assert after == crlf  # the user's bytes, untouched
    assert site.comes_to_answer_new()
