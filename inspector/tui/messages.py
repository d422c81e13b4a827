"""Messages the live screen's parts send each other (and tests hook into)."""

from __future__ import annotations

from textual.message import Message

from inspector.judge.ords_objects import JwtProfile


class AttemptsAdded(Message):
    """Rows were added to the table (``count`` new attempts, ``total`` kept)."""

    def __init__(self, count: int, total: int) -> None:
        super().__init__()
        self.count = count
        self.total = total


class WorkerProblem(Message):
    """A worker hit an error: shown in the status bar and as a notification; the app goes on."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class ProfileLoaded(Message):
    """The database's profile was read (``profile`` None: none, or no database)."""

    def __init__(self, profile: JwtProfile | None, state: str) -> None:
        super().__init__()
        self.profile = profile
        self.state = state


class FeedFinished(Message):
    """The log source ended (only when not following, e.g. ``--no-follow``)."""
