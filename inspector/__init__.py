"""ORDS Token Inspector: explain why ORDS accepts or rejects MCP connectors' OAuth2 tokens."""

from __future__ import annotations

import functools

DISTRIBUTION = "ords-token-inspector"


def __getattr__(name: str) -> str:
    # pyproject.toml's [project] version is the only place the version is written. The
    # lookup waits for the first use of __version__: importlib.metadata costs tens of
    # milliseconds of start-up that --help and every other command have no use for.
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def version() -> str:
    """The installed distribution's version (a bare checkout: its pyproject.toml's)."""
    return _installed_version() or _source_tree_version() or "0+unknown"


def _installed_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def _source_tree_version() -> str | None:
    # A checkout run with PYTHONPATH and never installed has no metadata; its own
    # pyproject.toml still says which version it is.
    import re
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    found = project.get("version") if isinstance(project, dict) else None
    return found if isinstance(found, str) and re.fullmatch(r"[\w.+!-]+", found) else None
