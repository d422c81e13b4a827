"""``batch_gc``: the collector is tuned while a scan runs, and put back afterwards.

The settings are process-wide, so a scan that left them changed would change every later
scan (and the TUI) in the same process; and the tuning must not change what a scan says.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli import scan as scan_command
from inspector.cli.main import build_parser
from inspector.demo.idp import LocalIdP
from inspector.logs.batchgc import BATCH_THRESHOLD, batch_gc
from tests.test_scan_fastpath_lines import lines


def test_thresholds_are_raised_inside_and_restored_after() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    kept = object()
    with batch_gc():
        assert gc.get_threshold() == (max(BATCH_THRESHOLD, before[0]), *before[1:])
        # What existed when the batch began is frozen: no collection looks at it again.
        assert gc.get_freeze_count() > frozen
        with batch_gc(threshold=10):  # nested: the outer block's settings stay
            assert gc.get_threshold()[0] == max(BATCH_THRESHOLD, before[0])
        assert gc.get_threshold()[0] == max(BATCH_THRESHOLD, before[0])
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen
    assert kept is not None


def test_settings_come_back_when_the_batch_raises() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError), batch_gc():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen
    with batch_gc():  # and the next batch tunes again
        assert gc.get_threshold()[0] == max(BATCH_THRESHOLD, before[0])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch-gc")
    idp = LocalIdP()
    (root / "jwks.json").write_text(json.dumps(idp.jwks()))
    (root / "config.toml").write_text("")
    (root / "lines.log").write_text("\n".join(lines(idp)) + "\n")
    return root


@pytest.mark.parametrize("extra", [["--json"], []], ids=["json", "report"])
def test_a_scan_runs_tuned_and_says_what_an_untuned_scan_says(
    workdir: Path, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []
    scan_logs = scan_command.scan_logs

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return scan_logs(*args, **kwargs)

    monkeypatch.setattr(scan_command, "scan_logs", watched)

    def run() -> tuple[int, str, str]:
        argv = [
            "scan", str(workdir / "lines.log"), "--log-format", EXTENDED_TEMPLATE,
            "--jwks", str(workdir / "jwks.json"), "--config", str(workdir / "config.toml"),
            *extra,
        ]  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        status = scan_command.scan(build_parser().parse_args(argv), out, err, processes=1)
        return status, out.getvalue(), err.getvalue()

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    tuned = run()
    assert seen == [(max(BATCH_THRESHOLD, before[0]), *before[1:])]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen

    @contextlib.contextmanager
    def untouched() -> Iterator[None]:
        yield

    monkeypatch.setattr(scan_command, "batch_gc", untouched)
    assert run() == tuned
    assert seen[-1] == before
    assert tuned[1]
