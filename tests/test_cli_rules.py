"""``token-inspector rules``: every verdict and doctor code, with the docs' text."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.cli.rules import show
from inspector.doctor.registry import all_checks
from inspector.judge.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str | None, *, as_json: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = show(code, as_json=as_json, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("rule", list(all_rules()), ids=lambda r: r.code)
def test_every_verdict_code_prints_its_explanation_and_fix(rule: object) -> None:
    from inspector.judge.rules import Rule

    assert isinstance(rule, Rule)
    status, out, _ = _run(rule.code)
    assert status == 0
    assert rule.explanation in out
    assert rule.fix in out
    assert f"({'verdict'}, {rule.severity.value})" in out


def test_every_doctor_code_prints_its_meaning_and_fix() -> None:
    for check in all_checks():
        status, out, _ = _run(check.code)
        assert status == 0, check.code
        assert check.meaning in out
        assert check.fix in out


def test_a_token_finding_is_explained_by_its_verdict() -> None:
    status, out, _ = _run("token-issuer-mismatch")
    assert status == 0
    assert "Issuer does not match" in out


def test_without_a_code_every_code_is_listed() -> None:
    status, out, _ = _run(None)
    assert status == 0
    listed = {line.split()[0] for line in out.splitlines()}
    assert {r.code for r in all_rules()} <= listed
    assert {c.code for c in all_checks()} <= listed


def test_unknown_code_is_one_line_and_exit_2_with_hostile_text_escaped() -> None:
    status, out, err = _run("no-such-code\x1b[2J")
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "\x1b" not in err
    assert "no-such-code" in err


def test_json_carries_the_schema_version_and_the_registry_text() -> None:
    status, out, _ = _run("expired", as_json=True)
    assert status == 0
    doc = json.loads(out)
    assert doc["schema_version"] == 1
    (entry,) = doc["rules"]
    assert entry["kind"] == "verdict"
    assert entry["severity"] == "error"
    status, out, _ = _run(None, as_json=True)
    kinds = {e["kind"] for e in json.loads(out)["rules"]}
    assert kinds == {"verdict", "doctor"}


def test_main_dispatches_rules_and_exits_2_for_an_unknown_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "kid-not-found"]) == 0
    assert "kid-not-found (verdict, error)" in capsys.readouterr().out
    assert main(["rules", "nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_works_away_from_the_repository(tmp_path: Path) -> None:
    # The text comes from the installed package, not from docs/ in a checkout.
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "rules", "prm-resource-mismatch"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "the exact MCP URL" in done.stdout
