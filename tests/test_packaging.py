"""Packaging: what `pip install .` puts on a host, read from the build configuration.

Building a real wheel needs the package index (setuptools >= 77 in build isolation), so the
suite checks the configuration setuptools reads instead; `make wheelhouse-check`
(tests/wheelhouse_check.py, run by .ci/run) builds the wheel, lists it and installs it.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from setuptools import find_packages

import inspector
from inspector.cli.main import version_text
from tests.wheelhouse_check import expected_in_wheel

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _source_packages() -> set[str]:
    """Every directory of the product holding Python code, as a dotted package name."""
    found = set()
    for top in ("inspector", "parsers"):
        for module in (ROOT / top).rglob("*.py"):
            if "__pycache__" not in module.parts:
                found.add(".".join(module.parent.relative_to(ROOT).parts))
    return found


def test_every_subpackage_is_found_by_the_build_configuration() -> None:
    # A directory without __init__.py, or outside the include patterns, silently leaves the
    # wheel: the source tree works, the installed tool dies with ModuleNotFoundError.
    find = _pyproject()["tool"]["setuptools"]["packages"]["find"]
    packaged = set(find_packages(str(ROOT), include=find["include"]))
    missing = _source_packages() - packaged
    assert not missing, f"not packaged (no __init__.py, or not included): {sorted(missing)}"
    assert {"inspector.tui", "inspector.cli", "parsers.nginx"} <= packaged
    assert not {p for p in packaged if p.split(".")[0] not in ("inspector", "parsers")}


def test_package_data_covers_every_file_that_is_not_python() -> None:
    # app.tcss is read at run time by the TUI: not shipped, `watch` fails on an installed host.
    patterns = _pyproject()["tool"]["setuptools"]["package-data"]["inspector"]
    data = {p for p in (ROOT / "inspector").rglob("*") if p.is_file()}
    data = {p for p in data if p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert ROOT / "inspector/tui/app.tcss" in data
    shipped = {p for pattern in patterns for p in (ROOT / "inspector").glob(pattern)}
    assert data <= shipped, sorted(str(p) for p in data - shipped)


def test_wheel_listing_expects_every_module_and_the_stylesheet() -> None:
    expected = expected_in_wheel(ROOT)
    assert "inspector/tui/app.tcss" in expected
    assert "parsers/nginx/__init__.py" in expected
    for package in _source_packages():
        assert package.replace(".", "/") + "/__init__.py" in expected


def test_license_is_spdx_and_shipped() -> None:
    project = _pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "ORDS Token Inspector contributors" in text
    # setuptools refuses a "License ::" classifier beside an SPDX expression (PEP 639).
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_dev_tools_are_a_dependency_group_not_an_extra() -> None:
    data = _pyproject()
    assert "dev" not in data["project"].get("optional-dependencies", {})
    names = {req.split(">")[0].split("[")[0] for req in data["dependency-groups"]["dev"]}
    assert {"pytest", "mypy", "ruff"} <= names


def test_version_is_written_once_in_pyproject() -> None:
    written = _pyproject()["project"]["version"]
    assert inspector.__version__ == written
    assert inspector._source_tree_version() == written
    assert version_text().splitlines()[0] == f"token-inspector {written}"
    assert "__version__ =" not in (ROOT / "inspector/__init__.py").read_text(encoding="utf-8")


def test_version_falls_back_to_the_source_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inspector, "_installed_version", lambda: None)
    inspector.version.cache_clear()
    try:
        assert inspector.version() == _pyproject()["project"]["version"]
    finally:
        inspector.version.cache_clear()


def test_importing_the_package_reads_no_metadata() -> None:
    # importlib.metadata costs tens of milliseconds at every start; only --version needs it.
    code = "import sys, inspector; print('importlib.metadata' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "False", done.stderr
