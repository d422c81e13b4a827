"""docs/doctor.md documents every finding code the doctor can emit, and no other."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCTOR = ROOT / "inspector" / "doctor"
DOC = ROOT / "docs" / "doctor.md"

# Codes built at run time rather than written as Finding("...") literals.
DYNAMIC = {
    "challenge-bare-scope",
    "prm-bare-scope",
    "challenge-scope-qualified",
    "prm-scope-qualified",
}


def emitted_codes() -> set[str]:
    codes = set(DYNAMIC)
    for path in DOCTOR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Finding"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                codes.add(node.args[0].value)
    return codes


def documented_codes() -> set[str]:
    rows = re.findall(r"^\| `([a-z0-9]+(?:-[a-z0-9]+)+)` \|", DOC.read_text(), re.MULTILINE)
    return set(rows)


def test_every_emitted_code_is_documented() -> None:
    missing = emitted_codes() - documented_codes()
    assert not missing, f"document these in docs/doctor.md: {sorted(missing)}"


def test_every_documented_code_exists() -> None:
    stale = documented_codes() - emitted_codes()
    assert not stale, f"docs/doctor.md documents codes the doctor never emits: {sorted(stale)}"


def test_scope_codes_are_the_ones_built_at_run_time() -> None:
    source = (DOCTOR / "resource_metadata.py").read_text()
    assert '"challenge-bare-scope"' in source and '"prm-bare-scope"' in source
    assert 'replace("bare-scope", "scope-qualified")' in source
