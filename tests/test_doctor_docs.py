"""The doctor's registry holds every finding code the doctor can emit, and no other;
docs/doctor.md's tables are generated from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from inspector.doctor import registry
from inspector.doctor.runner import STEPS
from inspector.judge.rules import all_rules, get_rule
from inspector.judge.verdicts import Severity

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


def registered_codes() -> set[str]:
    # Codes made at run time from a step id or a verdict code are checked below.
    return {
        c.code
        for c in registry.all_checks()
        if c.code != registry.TOKEN_PATTERN and not c.code.endswith("-skipped")
    }


def test_every_emitted_code_is_registered() -> None:
    missing = emitted_codes() - registered_codes()
    assert not missing, f"add these to inspector/doctor/registry.py: {sorted(missing)}"


def test_every_registered_code_is_emitted() -> None:
    stale = registered_codes() - emitted_codes()
    assert not stale, f"the registry holds codes the doctor never emits: {sorted(stale)}"


def test_every_step_can_be_skipped_and_each_skip_is_registered() -> None:
    skipped = {c.code for c in registry.all_checks() if c.code.endswith("-skipped")}
    assert skipped == {f"{step}-skipped" for step, _ in STEPS}


def test_docs_are_generated_from_the_registry() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert registry.rewrite(doc) == doc, (
        "regenerate: python -m inspector.doctor.registry docs/doctor.md"
    )
    assert documented_codes() == {c.code for c in registry.all_checks()} - {registry.TOKEN_PATTERN}


def test_token_codes_resolve_through_the_verdict_registry() -> None:
    check = registry.find_check("token-expired")
    assert check is not None
    assert check.fix == get_rule("expired").fix
    assert check.severity is Severity.ERROR
    assert registry.find_check("token-profile-issuer") is None  # info verdicts never report
    assert registry.find_check("token-nonsense") is None


def test_severity_is_the_worst_status_in_the_verdicts_words() -> None:
    severity = {c.code: c.severity for c in registry.all_checks()}
    assert severity["mcp-url-not-https"] is Severity.ERROR
    assert severity["prm-no-scopes-supported"] is Severity.ERROR
    assert severity["cors-missing"] is Severity.WARN
    assert severity["prm-reachable"] is Severity.INFO
    assert severity["nginx-conf-unreadable"] is Severity.WARN


def test_scope_codes_are_the_ones_built_at_run_time() -> None:
    source = (DOCTOR / "resource_metadata.py").read_text()
    assert '"challenge-bare-scope"' in source and '"prm-bare-scope"' in source
    assert 'replace("bare-scope", "scope-qualified")' in source


def test_a_code_in_both_registries_is_one_fact_with_one_severity() -> None:
    checks = {c.code: c for c in registry.all_checks()}
    shared = set(checks) & {r.code for r in all_rules()}
    # The doctor reports these facts under the verdict's own code (never profile-missing).
    assert shared == {"no-profile", "jwk-url-not-https"}
    for code in shared:
        assert checks[code].severity is get_rule(code).severity
    assert registry.find_check("token-no-profile") is None
