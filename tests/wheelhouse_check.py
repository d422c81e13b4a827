"""Air-gapped install check: the wheelhouse alone installs a working tool.

``make wheelhouse-check`` (run by .ci/run after ``make test``) builds dist/wheelhouse with
``make wheelhouse`` and then runs, with the same Python::

    python -m tests.wheelhouse_check dist/wheelhouse

1. the project's wheel holds every module of every sub-package of the source tree, the TUI's
   stylesheet and the LICENSE, no tests, and metadata with the SPDX licence and pyproject's
   version;
2. a fresh virtual environment installs it with ``pip install --no-index --find-links``:
   nothing comes from an index;
3. from a directory outside the checkout, the installed ``token-inspector`` answers
   ``--version`` and scans samples/extended.log with samples/jwks.json, verifying signatures
   (cryptography, pyjwt and the parsers all came from the wheelhouse).

Standard library only: it runs before and outside the project's virtual environment. Exits 1
naming every failed step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "ords-token-inspector"


def expected_in_wheel(root: Path) -> set[str]:
    """Every file of the product the wheel must hold: modules and the TUI's stylesheets."""
    expected = set()
    for top in ("inspector", "parsers"):
        for path in (root / top).rglob("*"):
            if path.suffix in (".py", ".tcss") and "__pycache__" not in path.parts:
                expected.add(path.relative_to(root).as_posix())
    return expected


def project_version(root: Path) -> str:
    """pyproject.toml's [project] version: the only place it is written."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def wheel_problems(wheel: Path, root: Path) -> list[str]:
    """What is wrong with the project's wheel, one sentence each (empty: nothing)."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next((n for n in names if n.endswith(".dist-info/METADATA")), "")
        metadata = archive.read(metadata_name).decode() if metadata_name else ""
    problems = [f"missing from the wheel: {n}" for n in sorted(expected_in_wheel(root) - names)]
    problems += [f"test code in the wheel: {n}" for n in sorted(names) if n.startswith("tests/")]
    # setuptools packs whatever an earlier build left in build/lib: a module since moved or
    # deleted would ship beside its replacement.
    product = {n for n in names if n.split("/")[0] in ("inspector", "parsers")}
    stale = product - expected_in_wheel(root)
    problems += [f"in the wheel but not in the source tree: {n}" for n in sorted(stale)]
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        problems.append("the wheel has no .dist-info/licenses/LICENSE")
    headers = metadata.partition("\n\n")[0].splitlines()
    for wanted in ("License-Expression: MIT", f"Version: {project_version(root)}"):
        if wanted not in headers:
            problems.append(f"the wheel's METADATA lacks {wanted!r}")
    return problems


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing of the checkout may leak in (no PYTHONPATH, a working directory elsewhere), and
    # pip sees no other wheels: a PIP_FIND_LINKS or a pip.conf's find-links would add to
    # --find-links even with --no-index.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("PIP_")
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def install_problems(wheelhouse: Path, root: Path) -> list[str]:
    """Install from the wheelhouse alone into a fresh venv and run the tool outside the tree."""
    with tempfile.TemporaryDirectory(prefix="wheelhouse-check-") as tmp:
        work = Path(tmp)
        venv.EnvBuilder(with_pip=True).create(work / "venv")
        bin_dir = work / "venv" / "bin"
        pip = [str(bin_dir / "python"), "-m", "pip"]
        done = _run(
            [*pip, "install", "--no-index", "--find-links", str(wheelhouse), DISTRIBUTION], work
        )
        if done.returncode != 0:
            return [f"pip install --no-index failed:\n{done.stdout}{done.stderr}"]
        problems = []
        where = _run(
            [
                str(bin_dir / "python"),
                "-c",
                "import inspector, importlib.resources as r; print(inspector.__file__); "
                "print(r.files('inspector.tui').joinpath('app.tcss').is_file())",
            ],
            work,
        )
        lines = where.stdout.splitlines()
        if where.returncode != 0 or len(lines) != 2:
            problems.append(f"importing the installed package failed:\n{where.stderr}")
        else:
            if not Path(lines[0]).resolve().is_relative_to((work / "venv").resolve()):
                problems.append(f"inspector imported from {lines[0]}, not the fresh venv")
            if lines[1] != "True":
                problems.append("the installed package has no inspector/tui/app.tcss")
        tool = str(bin_dir / "token-inspector")
        shown = _run([tool, "--version"], work)
        first = (shown.stdout.splitlines() or [""])[0]
        if shown.returncode != 0 or first != f"token-inspector {project_version(root)}":
            problems.append(f"token-inspector --version said {first!r}:\n{shown.stderr}")
        problems += _scan_problems(tool, root, work)
        return problems


def _scan_problems(tool: str, root: Path, work: Path) -> list[str]:
    scan = _run(
        [
            tool,
            "scan",
            "--json",
            str(root / "samples/extended.log"),
            "--jwks",
            str(root / "samples/jwks.json"),
        ],
        work,
    )
    # 1 means an error verdict: the sample log holds failing attempts on purpose.
    if scan.returncode not in (0, 1):
        return [f"token-inspector scan exited {scan.returncode}:\n{scan.stderr}"]
    try:
        records = [json.loads(line) for line in scan.stdout.splitlines() if line.strip()]
    except ValueError as exc:
        return [f"token-inspector scan --json wrote something that is not JSON lines: {exc}"]
    verified = [r for r in records if (r.get("token") or {}).get("verified") is True]
    if not verified:
        return [f"scan verified no signature in {len(records)} records:\n{scan.stderr}"]
    return []


def main(argv: list[str]) -> int:
    """Check the wheelhouse named by ``argv[0]``; 0 when the install works, else 1."""
    if len(argv) != 1:
        print("usage: python -m tests.wheelhouse_check WHEELHOUSE", file=sys.stderr)
        return 2
    wheelhouse = Path(argv[0]).resolve()
    wheels = sorted(wheelhouse.glob(DISTRIBUTION.replace("-", "_") + "-*.whl"))
    if len(wheels) != 1:
        print(f"wheelhouse-check: expected one project wheel, found {wheels}", file=sys.stderr)
        return 1
    problems = wheel_problems(wheels[0], ROOT) + install_problems(wheelhouse, ROOT)
    for problem in problems:
        print(f"wheelhouse-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    count = len(list(wheelhouse.glob("*.whl")))
    print(f"wheelhouse-check: {wheels[0].name} and its {count - 1} dependencies install offline")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
