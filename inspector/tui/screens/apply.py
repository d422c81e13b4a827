"""``a``: the proposal for the selected token, then apply it with live progress.

Nothing is written before the user has seen the diff, the exact PL/SQL, the pre-checks and
the risks. A token whose signature did not verify, or whose issuer nobody anchored (not a
trusted or expected issuer, nor the current profile's), needs a second, explicit
confirmation.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.widgets import Button, Static

from inspector.judge.attempt import Attempt
from inspector.tui.feed import problem_text
from inspector.tui.present import PLAIN, Palette, shown, shown_claim
from inspector.tui.screens.plan_dialog import DialogParts, PlanDialog
from inspector.tui.session import ApplyOutcome, ApplyPlan, Session
from inspector.tui.theme import app_palette

UNVERIFIED_WARNING = (
    "The signature of this token was NOT verified against the issuer's published keys. "
    "Applying makes ORDS trust whatever issuer and key set the token names: if it was "
    "forged, an attacker's IdP would be trusted. Press the button again to confirm."
)


def unanchored_warning(issuer: str) -> str:
    """The second confirmation's text for an issuer nobody anchored, quoting it."""
    return (
        f"The issuer '{shown_claim(issuer)}' is NOT anchored: it is not a trusted issuer, "
        "the expected issuer or the current profile's. The token's signature only matches "
        "keys published by its own issuer. Trusting it means anyone who controls that "
        "issuer's keys can sign tokens ORDS accepts. Press the button again to trust it."
    )


def plan_renderable(plan: ApplyPlan, palette: Palette = PLAIN, *, dark: bool = True) -> Group:
    """Diff, pre-checks, risks and PL/SQL of a plan (the SQL coloured for a ``dark`` or a
    light background)."""
    diff = Table(title="Profile", title_justify="left", expand=True, box=None)
    diff.add_column("argument", style=palette("info", bold=True), no_wrap=True)
    diff.add_column("now in database", ratio=1, overflow="fold")
    diff.add_column("proposed", ratio=1, overflow="fold")
    for row in plan.diff:
        style = palette("warn", bold=True) if row.changed else "dim"
        diff.add_row(
            Text(row.name),  # a str cell would be read as Rich markup
            Text(shown_claim(row.current) if row.current is not None else "—"),
            Text(shown_claim(row.proposed) if row.proposed is not None else "—", style=style),
        )
    parts: list[Table | Text | Syntax] = []
    if not plan.anchored and plan.proposed is not None:
        signature = (
            "signature matches keys published by its own issuer"
            if plan.verified
            else "signature NOT verified"
        )
        parts.append(
            Text(
                f"Issuer {shown_claim(plan.proposed.issuer)} — NOT anchored ({signature})",
                style=palette("error", bold=True),
            )
        )
    parts += [diff, Text("")]
    if plan.prechecks:
        parts.append(Text("Pre-checks", style="bold"))
        parts.extend(Text(f"  {shown(line)}") for line in plan.prechecks)
    if plan.risks:
        parts.append(Text("Risks", style=palette("error", bold=True)))
        parts.extend(Text(f"  ⚠ {shown(line)}", style=palette("warn")) for line in plan.risks)
    parts.append(Text("PL/SQL that will run", style="bold"))
    # The terminal's own ANSI colours, in the variant for the theme's background.
    syntax_theme = "ansi_dark" if dark else "ansi_light"
    parts.append(Syntax(plan.plsql, "sql", word_wrap=True, theme=syntax_theme))
    return Group(*parts)


class ApplyScreen(PlanDialog):
    """Dismisses with the outcome after an apply, or None when cancelled."""

    PARTS: ClassVar[DialogParts] = DialogParts(
        title="Apply ORDS JWT profile",
        kind="apply",
        loading="Preparing the proposal…",
        scroll="plan-scroll",
        plan="plan",
        confirm="confirm-warning",
        progress="progress",
        apply="apply-confirm",
        cancel="apply-cancel",
    )

    def __init__(self, session: Session, attempt: Attempt) -> None:
        super().__init__(session)
        self._attempt = attempt
        self._plan: ApplyPlan | None = None
        self._armed = False

    def on_mount(self) -> None:
        """Ask the configurator for its proposal in a worker (it reads the database)."""
        self._load_plan()

    @work(thread=True, exit_on_error=False, name="proposal")
    def _load_plan(self) -> None:
        try:
            plan = self._session.plan(self._attempt)
        except Exception as exc:  # shown in the dialog; the app goes on
            self.app.call_from_thread(self._plan_failed, problem_text(exc))
            return
        self.app.call_from_thread(self._show_plan, plan)

    def _plan_failed(self, message: str) -> None:
        self.query_one("#plan", Static).update(
            Text(f"Cannot prepare a proposal: {shown(message)}", style=self._style("error"))
        )

    def _show_plan(self, plan: ApplyPlan) -> None:
        self._plan = plan
        dark = self.app.current_theme.dark
        self.query_one("#plan", Static).update(
            plan_renderable(plan, app_palette(self.app), dark=dark)
        )
        button = self.query_one("#apply-confirm", Button)
        if plan.refusal:
            self.query_one("#confirm-warning", Static).update(
                Text(f"Cannot apply: {shown(plan.refusal)}", style=self._style("error"))
            )
            return
        button.disabled = False
        button.focus()

    @on(Button.Pressed, "#apply-confirm")
    def _confirm(self) -> None:
        plan = self._plan
        if plan is None or self._busy:
            return
        if self._outcome is not None:
            self.dismiss(self._outcome)
            return
        if plan.needs_second_confirmation and not self._armed:
            self._armed = True
            if plan.verified is not True or plan.proposed is None:
                warning, label = UNVERIFIED_WARNING, "Yes, trust the unverified token"
            else:
                warning = unanchored_warning(plan.proposed.issuer)
                label = "Yes, trust this issuer"
            self.query_one("#confirm-warning", Static).update(
                Text(warning, style=self._style("error"))
            )
            self.query_one("#apply-confirm", Button).label = label
            return
        self._busy = True
        self.query_one("#apply-confirm", Button).disabled = True
        self.query_one("#apply-cancel", Button).disabled = True
        self._progress_lines: list[str] = []
        self._run_apply(plan)

    @work(thread=True, exit_on_error=False, name="apply")
    def _run_apply(self, plan: ApplyPlan) -> None:
        try:
            outcome = self._session.apply(
                plan, lambda line: self.app.call_from_thread(self._progress, line)
            )
        except Exception as exc:  # the engine restores; we only have to say what happened
            outcome = ApplyOutcome(ok=False, summary=f"apply failed: {problem_text(exc)}")
        self.app.call_from_thread(self._finished, outcome)

    def _progress(self, line: str) -> None:
        self._progress_lines.append(line)
        self.query_one("#progress", Static).update(
            Text("\n".join(f"• {shown(x)}" for x in self._progress_lines[-6:]))
        )

    def _finished(self, outcome: ApplyOutcome) -> None:
        button = self._show_outcome(outcome)
        button.variant = "success" if outcome.ok else "default"
        button.focus()

    @on(Button.Pressed, "#apply-cancel")
    def action_cancel(self) -> None:
        """Close without applying (not while an apply is running)."""
        if self._busy:
            self.app.notify("The apply is running; wait for its result.", severity="warning")
            return
        self.dismiss(self._outcome)
