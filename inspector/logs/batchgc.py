"""Garbage collection tuned for a batch read of a whole log (``scan``, its report).

A scan builds its long-lived objects first (modules, settings, analyzer, parser) and then
allocates many small containers per line, most of which live until the end (memo
entries, token reports). CPython's collector then traverses every long-lived object again
and again: about a tenth of a 300,000-line scan's CPU time. ``batch_gc`` freezes what
exists when the scan starts (``gc.freeze``: never traversed again) and raises the
first generation's threshold while the scan runs, then puts both back. Cycles are still
collected, only less often: memory stays bounded.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between two young collections during a batch (CPython's default: 700).
BATCH_THRESHOLD = 20_000

_depth = 0


@contextmanager
def batch_gc(threshold: int = BATCH_THRESHOLD) -> Iterator[None]:
    """Freeze the objects built so far and collect less often until the block ends.

    Reentrant: only the outermost block changes and restores the collector's settings,
    so the report path and the scan it runs may both use it. The thresholds are
    restored, and what was frozen here unfrozen, even when the block raises.
    """
    global _depth
    _depth += 1
    if _depth > 1:
        try:
            yield
        finally:
            _depth -= 1
        return
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        _depth -= 1
        gc.set_threshold(*before)
        if frozen_before == 0:
            # Someone else's freeze (before ours) is theirs to undo.
            gc.unfreeze()
