"""``s`` on the doctor screen: the server-side setup plan, then ORDS and nginx applied
step by step, each step shown as it happens.

Nothing is changed before the plan is on screen and the user pressed Apply; then the
engine asks, as the command does, before each part (the ORDS role and privilege; writing
and testing the nginx files) and again before nginx is reloaded: each question waits in
the dialog for Yes or No (Escape: no). A failure or a no is shown in the dialog, never
raised: the engine has already rolled back what it changed.
"""

from __future__ import annotations

import threading
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.widgets import Button, Static

from inspector.tui.feed import problem_text
from inspector.tui.present import Role, shown
from inspector.tui.screens.plan_dialog import DialogParts, PlanDialog
from inspector.tui.session import ApplyOutcome, Session, SetupView
from inspector.tui.theme import app_palette
from parsers.printable import printable
from parsers.redaction import redact_text

START_TEXT = (
    "Apply asks before each step: the ORDS role and privilege, writing and testing the "
    "nginx files, and reloading nginx; a failure restores the previous state."
)
# Statuses an applier reports, with the doctor screen's marks.
MARKS: dict[str, tuple[str, Role | None]] = {
    "ok": ("✔", "ok"),
    "warn": ("▲", "warn"),
    "failed": ("✘", "error"),
    "skipped": ("·", None),
}


class SetupScreen(PlanDialog):
    """Shows ``Session.setup_plan`` and applies it with ``Session.setup_apply``."""

    PARTS: ClassVar[DialogParts] = DialogParts(
        title="Set up the server side: nginx, ORDS, IdP",
        kind="setup",
        loading="Planning…",
        scroll="setup-scroll",
        plan="setup-plan",
        confirm="setup-confirm",
        progress="setup-progress",
        apply="setup-apply",
        cancel="setup-cancel",
    )

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._view: SetupView | None = None
        # The question the engine waits on (asked from its worker thread), and the answer.
        self._question: str | None = None
        self._answered = threading.Event()
        self._answer = False
        self._closing = False
        self._steps: list[Text] = []

    def on_mount(self) -> None:
        """Plan in a worker (it probes the server and reads the database)."""
        self._load()

    @work(thread=True, exit_on_error=False, name="setup-plan")
    def _load(self) -> None:
        try:
            view = self._session.setup_plan()
        except Exception as exc:  # shown in the dialog; the app goes on
            view = SetupView(f"Cannot plan: {problem_text(exc)}", refusal=problem_text(exc))
        self.app.call_from_thread(self._show, view)

    def _show(self, view: SetupView) -> None:
        self._view = view
        # The engine rendered and escaped the plan; it is escaped again for the screen.
        text = printable(redact_text(view.text), keep_newline=True)
        self.query_one("#setup-plan", Static).update(Text(text))
        if view.refusal is not None:
            self.query_one("#setup-confirm", Static).update(
                Text(f"Cannot apply: {shown(view.refusal)}", style=self._style("error"))
            )
            return
        self.query_one("#setup-confirm", Static).update(Text(START_TEXT, style="dim"))
        button = self.query_one("#setup-apply", Button)
        button.disabled = False
        button.focus()

    @on(Button.Pressed, "#setup-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#setup-apply")
    def _apply_pressed(self) -> None:
        view = self._view
        if self._question is not None:
            self._reply(True)
            return
        if view is None or self._busy:
            return
        if self._outcome is not None:
            self.dismiss(self._outcome)
            return
        self._busy = True
        self._buttons(enabled=False)
        self._run(view)

    def _buttons(self, *, enabled: bool, yes: str = "Apply", no: str = "Cancel") -> None:
        apply = self.query_one("#setup-apply", Button)
        cancel = self.query_one("#setup-cancel", Button)
        apply.label, cancel.label = yes, no
        apply.disabled = cancel.disabled = not enabled

    @work(thread=True, exit_on_error=False, name="setup-apply")
    def _run(self, view: SetupView) -> None:
        try:
            outcome = self._session.setup_apply(
                view,
                lambda step, status, message: self.app.call_from_thread(
                    self._progress, step, status, message
                ),
                self._ask,
            )
        except Exception as exc:  # the engine rolls back; we only say what happened
            outcome = ApplyOutcome(ok=False, summary=f"setup failed: {problem_text(exc)}")
        self.app.call_from_thread(self._finished, outcome)

    def _ask(self, question: str) -> bool:
        """From the engine's thread: show ``question`` and wait for Yes or No."""
        self._answered.clear()
        self.app.call_from_thread(self._show_question, question)
        # Bounded waits: a screen closed while asking (the app quitting) answers no.
        while not self._answered.wait(0.5):
            if self._closing:
                return False
        return self._answer

    def _show_question(self, question: str) -> None:
        self._question = question
        self.query_one("#setup-confirm", Static).update(
            Text(shown(question), style=self._style("warn"))
        )
        self._buttons(enabled=True, yes="Yes", no="No")
        self.query_one("#setup-apply", Button).focus()

    def _reply(self, answer: bool) -> None:
        question = self._question
        self._question = None
        self._buttons(enabled=False)
        mark = "yes" if answer else "no"
        self.query_one("#setup-confirm", Static).update(
            Text(f"{shown(question or '')} {mark}", style="dim")
        )
        self._answer = answer
        self._answered.set()

    def on_unmount(self) -> None:
        """A question still open when the screen goes is answered no."""
        self._closing = True
        self._answer = False
        self._answered.set()

    def _progress(self, step: str, status: str, message: str) -> None:
        if status == "start":
            return
        symbol, role = MARKS.get(status, ("?", None))
        style = app_palette(self.app)(role) if role else "dim"
        self._steps.append(Text.assemble((f"{symbol} {shown(step)}", style), "  ", shown(message)))
        self.query_one("#setup-progress", Static).update(Text("\n").join(self._steps[-8:]))

    def _finished(self, outcome: ApplyOutcome) -> None:
        self._show_outcome(outcome)
        if self._steps and self._view is not None:
            # The live progress keeps the last lines only (the buttons must stay on
            # screen); once done, every step goes above the plan, where it scrolls.
            plan = printable(redact_text(self._view.text), keep_newline=True)
            done = Text("\n").join([Text("Steps taken:", style="bold"), *self._steps])
            self.query_one("#setup-plan", Static).update(Text.assemble(done, "\n\n", plan))
            self.query_one("#setup-scroll").scroll_home(animate=False)
        self._buttons(enabled=True, yes="Close")

    def action_cancel(self) -> None:
        """No to an open question; else close, unless an apply is running (it must finish
        or roll back first)."""
        if self._question is not None:
            self._reply(False)
        elif not self._busy:
            self.dismiss(self._outcome)
