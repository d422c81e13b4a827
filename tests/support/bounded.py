"""Run a call that must end by itself, and fail (instead of hanging) when it does not."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def bounded(call: Callable[[], T], limit: float, what: str) -> T:
    """``call()`` in a thread; fail if it has not returned within ``limit`` seconds.

    ``limit`` bounds the wait, it does not measure speed: choose it generously. ``what``
    names the guarantee that failed (``"the deadline did not hold"``).
    """
    box: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still busy after {limit:g} s: {what}"
    if failure:
        raise failure[0]
    return box[0]
