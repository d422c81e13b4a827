"""Mutation check: break the product on purpose and see the tests go red.

A test suite that stays green when a verdict disappears, the parser raises on every line or
the apply's restore is broken proves nothing. Each mutant below is applied to a copy of the
repository, and the tests that concern it run there; a mutant that no test kills is printed
as SURVIVED and makes the run exit 1.

    .venv/bin/python -m tests.mutants               # every mutant
    .venv/bin/python -m tests.mutants --only exp-missing --only restore

Verdict mutants drop one verdict code at every place ``inspector/judge/checks.py`` (or the
analyzer) produces it, through the syntax tree: ``out.append(rules.X.verdict(...))`` becomes
``pass``, a ``[rules.X.verdict(...)]`` list loses that element. The tests run for it are the
files that name the code or its rule constant.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERDICT_SOURCES = ("inspector/judge/checks.py", "inspector/judge/analyzer.py")


@dataclass(frozen=True)
class Mutant:
    """One deliberate bug: a name, the file it edits, how, and the tests that must catch it."""

    name: str
    path: str
    edit: Callable[[str], str]
    tests: tuple[str, ...]


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        if old not in text:
            raise SystemExit(f"mutant out of date: {old!r} not found")
        return text.replace(old, new, 1)

    return edit


class _DropVerdict(ast.NodeTransformer):
    """Removes every production of ``rules.<constant>.verdict(...)``."""

    def __init__(self, constant: str) -> None:
        self.constant = constant
        self.dropped = 0

    def _is_target(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "verdict"
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == self.constant
        )

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in ("append", "extend")
            and any(self._is_target(arg) for arg in call.args)
        ):
            self.dropped += 1
            return ast.Pass()
        return self.generic_visit(node)

    def visit_List(self, node: ast.List) -> ast.AST:
        kept = [element for element in node.elts if not self._is_target(element)]
        self.dropped += len(node.elts) - len(kept)
        node.elts = kept
        return self.generic_visit(node)


def _drop_verdict(constant: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        dropper = _DropVerdict(constant)
        tree = dropper.visit(ast.parse(text))
        if not dropper.dropped:
            return text
        return ast.unparse(ast.fix_missing_locations(tree)) + "\n"

    return edit


def _rule_constants() -> dict[str, str]:
    """Rule constant name -> verdict code, read from inspector/judge/rules.py."""
    text = (ROOT / "inspector" / "judge" / "rules.py").read_text()
    return dict(re.findall(r'^([A-Z_]+) = _rule\(\s*"([a-z0-9-]+)"', text, re.MULTILINE))


def _tests_naming(*words: str) -> tuple[str, ...]:
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text()
        if any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in words):
            found.append(str(path.relative_to(ROOT)))
    return tuple(found)


def verdict_mutants() -> Iterator[Mutant]:
    """One mutant per rule constant that a verdict source produces."""
    sources = {path: (ROOT / path).read_text() for path in VERDICT_SOURCES}
    for constant, code in _rule_constants().items():
        for path, text in sources.items():
            if f"rules.{constant}.verdict(" in text:
                yield Mutant(code, path, _drop_verdict(constant), _tests_naming(code, constant))


def fixed_mutants() -> Iterator[Mutant]:
    """The parser that raises on every line, and three ways to break apply's restore."""
    yield Mutant(
        "parser-raises",
        "parsers/nginx/log_format.py",
        _replace('"split_request": split_request,', '"split_request": None,'),
        ("tests/test_log_format.py", "tests/test_log_format_properties.py"),
    )
    restore_tests = _tests_naming("failed-restored", "failed-restore-failed", "_restore")
    yield Mutant(
        "restore-trusts-rollback",
        "inspector/ords/apply.py",
        _replace("    if same_profile(now, previous):", "    if True:"),
        restore_tests,
    )
    yield Mutant(
        "restore-skips-create",
        "inspector/ords/apply.py",
        _replace(
            "            repo.create_profile(previous, schema)\n        repo.commit()",
            "            pass\n        repo.commit()",
        ),
        restore_tests,
    )
    yield Mutant(
        "restore-skips-read-back",
        "inspector/ords/apply.py",
        _replace("    if not same_profile(after, previous):", "    if False:"),
        restore_tests,
    )


def _copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        ".hypothesis", "*.egg-info", "build", "dist",
    )  # fmt: skip
    shutil.copytree(ROOT, target, ignore=ignore)


def run_mutant(mutant: Mutant, timeout: float) -> tuple[str, float]:
    """Apply ``mutant`` to a copy and run its tests: ``killed``, ``SURVIVED`` or ``untested``."""
    if not mutant.tests:
        return "untested", 0.0
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy = Path(tmp) / "repo"
        _copy_tree(copy)
        target = copy / mutant.path
        original = target.read_text()
        mutated = mutant.edit(original)
        if mutated == original:
            return "not-applied", 0.0
        target.write_text(mutated)
        env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.monotonic()
        try:
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                 "--no-header", *mutant.tests],
                cwd=copy, env=env, capture_output=True, text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return "killed (time-out)", time.monotonic() - started
        took = time.monotonic() - started
        # Exit 1: a test failed. 0: all passed. Anything else: the run itself broke.
        if run.returncode == 1:
            return "killed", took
        if run.returncode == 0:
            return "SURVIVED", took
        return f"error (pytest exit {run.returncode})", took


def main(argv: list[str] | None = None) -> int:
    """Run the mutants; exit 1 when any survived or could not be applied."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="mutant name (repeatable)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    args = parser.parse_args(argv)
    mutants = [*verdict_mutants(), *fixed_mutants()]
    if args.only:
        mutants = [m for m in mutants if m.name in args.only]
    # The control: checks.py rewritten through the syntax tree with nothing dropped must
    # pass its tests, or a "killed" below could come from the rewriting itself.
    control = Mutant(
        "control", "inspector/judge/checks.py",
        lambda text: ast.unparse(ast.parse(text)) + "\n", _tests_naming("checks"),
    )  # fmt: skip
    outcome, took = run_mutant(control, args.timeout)
    print(f"{outcome:<18} control (checks.py round trip must survive, {took:.0f} s)", flush=True)
    if outcome != "SURVIVED":
        return 2
    bad = 0
    for mutant in mutants:
        outcome, took = run_mutant(mutant, args.timeout)
        bad += not outcome.startswith("killed")
        print(f"{outcome:<18} {mutant.name:<28} {mutant.path} ({len(mutant.tests)} files, "
              f"{took:.0f} s)", flush=True)  # fmt: skip
    print(f"{len(mutants) - bad} of {len(mutants)} mutants killed")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
