"""The files the nginx plan writes and the include lines that pull them in.

Snippet files are named after the MCP URL (``server-<host>-<path>.conf``...) so a second
MCP URL gets files of its own; the ``http`` file is shared. Each is included from its
block by one line (``nginx_text``); a block that includes it already gets nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from inspector.setup.model import FileChange
from inspector.setup.nginx_checks import Findings, read_text, where
from inspector.setup.nginx_text import (
    apply_insertions,
    block_spans,
    includes,
    insertion_in_block,
    quote,
    span_of,
)
from parsers.nginx.model import Directive


def slug(target_url: str) -> str:
    """A file-name part for the URL: host, port and path, lower case, dashes."""
    parts = urlsplit(target_url)
    text = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.netloc}{parts.path}").strip("-").lower()
    return text[:80] or "root"


@dataclass(frozen=True, slots=True)
class SnippetPaths:
    """Where this MCP URL's files go in the snippet directory."""

    root: Path
    slug: str

    @property
    def http(self) -> Path:
        """The http-level file (shared by every MCP URL)."""
        return self.root / "http.conf"

    @property
    def server(self) -> Path:
        """The server-level file."""
        return self.root / f"server-{self.slug}.conf"

    @property
    def location(self) -> Path:
        """The MCP location's file."""
        return self.root / f"location-{self.slug}.conf"

    @property
    def document(self) -> Path:
        """The metadata document both well-known locations serve."""
        return self.root / f"protected-resource-{self.slug}.json"


def add_snippet(found: Findings, block: Directive, path: Path, text: str, purpose: str) -> None:
    """Plan file ``path`` holding ``text``, included from ``block``."""
    found.files[path] = (text, purpose)
    found.includes.append((block, path))
    found.notes.append(f"{path}: {purpose}")


def place_includes(found: Findings, conf_dir: Path) -> None:
    """One ``include`` line inside each block that does not include its file yet."""
    for block, path in found.includes:
        text = read_text(block.file)
        span = span_of(block_spans(text), block)
        line = f"include {quote(str(path))};"
        if span is None:
            found.blockers.append(
                f"{where(block)}: cannot find this block in the file: add '{line}' inside it"
            )
            continue
        if includes(span, path, conf_dir):
            found.notes.append(f"{where(block)}: already includes {path}")
            continue
        ins = insertion_in_block(text.splitlines(), span, line)
        if ins is None:
            found.blockers.append(
                f"{where(block)}: its braces share lines with other directives, so one "
                f"added line cannot go inside it: add '{line}' inside the block yourself"
            )
            continue
        found.insertions.setdefault(block.file, []).append(ins)


def file_changes(found: Findings) -> tuple[FileChange, ...]:
    """Every planned file whose content changes: edited user files, then snippets."""
    out: list[FileChange] = []
    for file, insertions in sorted(found.insertions.items()):
        before = read_text(file)
        after = apply_insertions(before, insertions)
        if after != before:
            added = " ".join(i.text.strip() for i in sorted(insertions, key=lambda i: i.index))
            out.append(FileChange(Path(file), before, after, purpose=f"lines added: {added}"))
    for path, (text, purpose) in sorted(found.files.items()):
        old = read_text(path) if path.exists() else None
        change = FileChange(path, old, text, purpose=purpose)
        if change.changed:
            out.append(change)
    return tuple(out)
