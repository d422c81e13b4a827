"""The layer contract: imports point down the pipeline, never up or sideways, and never in a
circle.

Bottom to top: settings (with private_files) < parsers < logs | keys < judge < ords <
doctor | demo < setup | tui < cli (< ``python -m inspector``). setup sits above doctor
because it probes what it changed with doctor's own steps. Layers joined by ``|`` are
independent of each other. Every ``import`` counts, including those inside functions: a
lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("inspector.settings", "inspector.private_files", "inspector"),
    ("parsers",),
    ("inspector.logs", "inspector.keys"),
    ("inspector.judge",),
    ("inspector.ords",),
    ("inspector.doctor", "inspector.demo"),
    ("inspector.setup", "inspector.tui"),
    ("inspector.cli",),
    ("inspector.__main__",),
)
# Pure parsing: nothing in parsers/ may run programs or open connections.
PARSERS_MAY_NOT_IMPORT = ("subprocess", "socket", "requests", "urllib3", "oracledb", "textual")


def _place(module: str) -> tuple[int, str] | None:
    """(layer index, the package that owns ``module``): the longest matching prefix."""
    best: tuple[int, str] | None = None
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if (module == package or module.startswith(package + ".")) and (
                best is None or len(package) > len(best[1])
            ):
                best = (index, package)
    return best


def module_name(path: Path) -> str:
    """``inspector/keys/http.py`` -> ``inspector.keys.http`` (packages by their own name)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str) -> set[str]:
    """Every module ``source`` imports (absolute names; relative imports resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level] if node.level else []
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from package import module` imports that module too.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources() -> dict[str, str]:
    """Module name -> source text for every module of the product."""
    return {
        module_name(path): path.read_text()
        for package in ("inspector", "parsers")
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def violations(modules: Mapping[str, str]) -> list[str]:
    """Every import that points up or sideways, as ``importer -> imported (why)``."""
    found: list[str] = []
    for module, source in modules.items():
        here = _place(module)
        if here is None:
            found.append(f"{module}: in no layer")
            continue
        for target in sorted(imports_of(source, module)):
            if target not in modules:
                if module.startswith("parsers") and target.split(".")[0] in PARSERS_MAY_NOT_IMPORT:
                    found.append(f"{module} -> {target} (parsers do no I/O of this kind)")
                continue
            there = _place(target)
            if there is None or there[1] == here[1] or target == module:
                continue
            if there[0] > here[0]:
                found.append(f"{module} -> {target} (up: {here[1]} is below {there[1]})")
            elif there[0] == here[0] and len(LAYERS[here[0]]) > 1 and here[0] > 0:
                found.append(f"{module} -> {target} (sideways: {here[1]} | {there[1]})")
    return found


def cycles(modules: Mapping[str, str]) -> list[list[str]]:
    """Import cycles between modules (each as the list of modules around it)."""
    graph = {
        m: sorted(t for t in imports_of(s, m) if t in modules and t != m)
        for m, s in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _fake(entries: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(entries)


def test_imports_point_down_the_pipeline() -> None:
    assert violations(sources()) == []


def test_no_import_cycles() -> None:
    assert cycles(sources()) == []


def test_every_product_module_has_a_layer() -> None:
    assert [m for m in sources() if _place(m) is None] == []


@pytest.mark.parametrize(
    ("importer", "imported", "why"),
    [
        ("inspector.judge.checks", "inspector.ords.database", "up"),
        ("inspector.keys.http", "inspector.logs.follow", "sideways"),
        ("inspector.tui.app", "inspector.setup.model", "sideways"),
        ("inspector.doctor.runner", "inspector.demo.idp", "sideways"),
        ("inspector.doctor.runner", "inspector.setup.model", "up"),
        ("parsers.token", "inspector.judge.rules", "up"),
    ],
)
def test_the_contract_catches_a_wrong_import(importer: str, imported: str, why: str) -> None:
    modules = _fake([(importer, f"import {imported}\n"), (imported, "")])
    [found] = violations(modules)
    assert found.startswith(f"{importer} -> {imported} ({why}")


def test_a_lazy_import_counts_and_parsers_run_no_programs() -> None:
    modules = _fake(
        [
            ("inspector.keys.jwks", "def f():\n    from inspector.cli import main\n"),
            ("inspector.cli", ""),
            ("parsers.nginx.conf", "import subprocess\n"),
        ]
    )
    assert violations(modules) == [
        "inspector.keys.jwks -> inspector.cli (up: inspector.keys is below inspector.cli)",
        "parsers.nginx.conf -> subprocess (parsers do no I/O of this kind)",
    ]


def test_cycles_are_found() -> None:
    modules = _fake(
        [
            ("inspector.ords.database", "from inspector.ords import standin\n"),
            ("inspector.ords.standin", "import inspector.ords.database\n"),
            ("inspector.ords", ""),
        ]
    )
    assert cycles(modules) == [["inspector.ords.database", "inspector.ords.standin"]]
