"""The live screen: wiring of widgets, key bindings and workers around a ``Session``.

Everything that can block (tailing, key fetches, the database) runs in thread workers; the
UI thread only renders. A worker that fails is reported and the app goes on.

Issuers, paths, claims and error messages come from logs and tokens: they reach Textual as
plain text only (``Text`` objects, ``notify`` without markup), never as markup, which would
turn ``[@click=app.quit]`` into a live action and ``x[/]`` into an exception.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from datetime import tzinfo
from functools import partial
from pathlib import Path, PurePath
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from inspector.judge.attempt import Attempt
from inspector.judge.ords_objects import JwtProfile
from inspector.private_files import free_name, write_new
from inspector.tui.feed import AttemptUpdate, Batch, Pump, problem_text
from inspector.tui.messages import AttemptsAdded, FeedFinished, ProfileLoaded, WorkerProblem
from inspector.tui.model import DEFAULT_MAX_ATTEMPTS, AttemptStore, Filter
from inspector.tui.present import Clock, shown, system_clock
from inspector.tui.screens.apply import ApplyScreen
from inspector.tui.screens.doctor import DoctorScreen
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.prompt import PromptScreen
from inspector.tui.screens.reveal import RevealScreen
from inspector.tui.session import ApplyOutcome, Session
from inspector.tui.theme import app_palette
from inspector.tui.widgets.attempt_table import AttemptTable
from inspector.tui.widgets.detail_pane import DetailPane
from inspector.tui.widgets.profile_panel import ProfilePanel
from inspector.tui.widgets.status_bar import StatusBar, StatusInfo

# Rebuild the table (dropping rows the store no longer keeps) when it holds this many more.
TRIM_SLACK = 0.1
# The feed's batches reach the screen at most this often: lines arriving faster become one
# table update, one detail render and one status line per frame, not one per batch.
FRAME_SECONDS = 1 / 30
# Under load frames come less often, so that drawing them takes at most about half of
# the CPU: the rest is left to the threads that read, parse and judge the log (they share
# one interpreter lock with the screen).
UI_SHARE = 1 / 2
# When the log is judged in a child process (``watch``) no judging thread waits for this
# one: frames may take most of it, and come sooner.
UI_SHARE_ALONE = 0.8
MAX_FRAME_SECONDS = 0.25
# While the feed adds more rows than this a second and the table follows them, the detail
# pane (Rich tables of claims: the costliest part of a frame) shows the newest attempt at
# most every DETAIL_SECONDS rather than on every frame, and always ends on the newest one.
# Each of those draws is made with the current time, so the seconds tick does not draw
# the detail again then.
BUSY_ROWS_PER_SECOND = 50
DETAIL_SECONDS = 0.5


def frame_interval(cpu_per_frame: float, share: float = UI_SHARE) -> float:
    """Seconds until the next frame when the last one cost ``cpu_per_frame`` CPU seconds
    of the UI thread: ``FRAME_SECONDS``, longer when frames cost more than ``share``."""
    return min(MAX_FRAME_SECONDS, max(FRAME_SECONDS, cpu_per_frame / share))


class InspectorApp(App[int]):
    """``token-inspector watch`` / ``demo``."""

    CSS_PATH = "app.tcss"
    TITLE = "ORDS Token Inspector"
    # The footer shows the five keys a first session needs (80 columns hold them); every
    # key is in help (? or F1) and, with its long description, in the palette (Ctrl+P).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "apply", "Apply profile", tooltip=(
            "apply the ORDS profile the selected token needs (diff, PL/SQL, checks first)"
        )),
        Binding("s", "save_sql", "Save SQL", show=False, tooltip=(
            "save the PL/SQL script for the selected token to a file"
        )),
        Binding("c", "copy_sql", "Copy SQL", show=False, tooltip=(
            "copy that PL/SQL script to the clipboard"
        )),
        Binding("f", "toggle_failures", "Failures", tooltip=(
            "show failed attempts only / everything"
        )),
        Binding("slash", "filter", "Filter", key_display="/", tooltip=(
            "filter the table by text (client, subject, path, verdict code…)"
        )),
        Binding("n", "next_failure", "Next failure", show=False, tooltip="next failed attempt"),
        Binding("N", "previous_failure", "Previous failure", key_display="N", show=False,
                tooltip="previous failed attempt"),
        Binding("r", "refetch_keys", "Refetch keys", show=False, tooltip=(
            "refetch every issuer's metadata and signing keys"
        )),
        Binding("t", "reveal", "Reveal token", show=False, tooltip=(
            "reveal the selected token unredacted (it is a credential)"
        )),
        Binding("d", "doctor", "Doctor", show=False, tooltip=(
            "doctor: check the whole discovery chain (challenge, metadata, JWKS, profile)"
        )),
        Binding("question_mark,f1", "help", "Help", key_display="?", tooltip="this help"),
        Binding("q", "quit", "Quit", tooltip="quit"),
    ]  # fmt: skip

    def __init__(
        self,
        session: Session,
        *,
        clock: Clock = system_clock,
        tz: tzinfo | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        tick_seconds: float = 1.0,
        output_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        # Where `s` proposes to save scripts: the user's choice, else the working directory.
        self.output_dir = output_dir if output_dir is not None else Path.cwd()
        self.clock = clock
        self.tz = tz
        self.store = AttemptStore(max_attempts=max_attempts)
        self.filter = Filter()
        self.status_info = StatusInfo(files=session.files, counters=self.store.counters)
        self.profile: JwtProfile | None = None
        self._tick_seconds = tick_seconds
        self._pump: Pump | None = None
        # Batches from the feed not shown yet, and the timer that shows them.
        self._inbox: list[Batch] = []
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        self._frame_seconds = FRAME_SECONDS
        self._last_cpu = time.thread_time()
        judged_elsewhere = getattr(session, "judge_process", None) is not None
        self.frame_share = UI_SHARE_ALONE if judged_elsewhere else UI_SHARE
        # (when, how many) rows the feed added in the last second; the detail pane's timer.
        self._recent_rows: deque[tuple[float, int]] = deque()
        self._last_detail = 0.0
        self._detail_timer: Timer | None = None
        self._event_problem: str | None = None
        # Kept as attributes: queries would search the active screen, which may be a modal.
        self.table = AttemptTable(tz=tz, id="attempts")
        self.detail = DetailPane(clock=clock, tz=tz, id="detail")
        self.profile_panel = ProfilePanel(id="profile")
        self.status_bar = StatusBar(id="status")
        self.title = "ORDS Token Inspector — DEMO" if session.demo else "ORDS Token Inspector"
        self.sub_title = shown(session.title)

    # ---- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, demo banner, table on top, detail and profile below, status, footer."""
        yield Header()
        if self.session.demo:
            yield Static(
                "DEMO · local IdP on 127.0.0.1, generated log, in-memory ORDS stand-in · "
                "when the right v2 token shows up (last rows), press a to apply its profile",
                id="demo-banner",
            )
        yield self.table
        with Horizontal(id="lower"):
            yield self.detail
            with Vertical(id="side"):
                yield self.profile_panel
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        """Start the feed, read the database's profile, tick the countdowns."""
        self.table.focus()
        self.table.set_palette(app_palette(self))
        # Every colour is the theme's: a new theme (palette, Ctrl+P) redraws them all.
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._refresh_status()
        self.set_interval(self._tick_seconds, self._tick)
        self._pump = Pump(self.session.items)
        self.run_worker(self._run_feed, thread=True, name="feed", group="feed", exit_on_error=False)
        self.load_profile()

    def _theme_changed(self, _: Theme) -> None:
        self.table.set_palette(app_palette(self))
        self.detail.tick()
        self.profile_panel.redraw()
        self._refresh_status()

    def on_unmount(self) -> None:
        """Stop the reader; close followers and the database."""
        if self._pump is not None:
            self._pump.stop()
        try:
            self.session.close()
        except Exception as exc:  # closing must never turn a clean quit into a crash
            self.log.error(f"closing session: {exc}")

    # ---- the feed -------------------------------------------------------------------------

    def _run_feed(self) -> None:
        assert self._pump is not None
        pump = self._pump

        def emit(batch: Batch) -> None:
            try:
                self.call_from_thread(self._receive, batch)
            except RuntimeError:  # the app is closing: nobody left to show the batch to
                pump.stop()

        pump.run(emit)

    def _receive(self, batch: Batch) -> None:
        """A batch from the feed: shown now if the last frame is old enough, else with the
        next frame (with whatever else arrives until then)."""
        self._inbox.append(batch)
        if self._flush_timer is not None:
            return
        wait = self._last_flush + self._frame_seconds - time.monotonic()
        if wait <= 0:
            self._show_inbox()
        else:
            self._flush_timer = self.set_timer(wait, self._show_inbox)

    def ingest(self, batch: Batch) -> None:
        """Show one batch now (with any batch of the feed still waiting for its frame)."""
        self._inbox.append(batch)
        self._show_inbox()

    def _show_inbox(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._last_flush = time.monotonic()
        # The UI thread's CPU since the last batch shown: drawing that frame, mostly.
        cpu = time.thread_time()
        self._frame_seconds = frame_interval(cpu - self._last_cpu, self.frame_share)
        self._last_cpu = cpu
        if not self._inbox:
            return
        batches, self._inbox = self._inbox, []
        batch = batches[0]
        for later in batches[1:]:
            batch.merge(later)
        self._show(batch)

    def _show(self, batch: Batch) -> None:
        """Take one batch into the store, the table and the status bar."""
        counters = self.store.counters
        counters.lines += batch.lines
        counters.parse_failures += batch.parse_failures
        if batch.last_failure is not None:
            where = batch.last_failure.source
            self.status_info.last_parse_failure = (
                f"{PurePath(where.file).name}:{where.line}: {batch.last_failure.reason}"
            )
        for event in batch.events:
            if event.kind == "rotated":
                counters.rotations += 1
            elif event.kind == "truncated":
                counters.truncations += 1
            elif event.kind in ("error", "permission", "deleted", "waiting"):
                self.status_info.problem = event.message
                self._event_problem = event.file
                if event.kind in ("error", "permission"):
                    self.notify(event.message, title=event.kind, severity="error")
            elif event.kind == "opened" and self._event_problem == event.file:
                # The file we were waiting for (or that was deleted) is back.
                self.status_info.problem = None
                self._event_problem = None
        for message in batch.problems:
            self.report_problem(message)
        if batch.attempts:
            self._add_attempts(batch.attempts)
        if batch.updates:
            self._update_attempts(batch.updates)
        self._refresh_status()
        if batch.finished:
            self.post_message(FeedFinished())

    def add_attempts(self, attempts: Iterable[Attempt]) -> None:
        """Add attempts directly (tests, benchmarks); the feed uses ``ingest``."""
        batch = Batch()
        for attempt in attempts:
            batch.add(attempt)
        self.ingest(batch)

    def _add_attempts(self, attempts: list[Attempt]) -> None:
        table = self.table
        before = table.selected_seq
        entries = self.store.add(attempts)
        shown = [e for e in entries if self.filter.matches(e)]
        limit = self.store.max_attempts
        if table.row_count + len(shown) > limit * (1 + TRIM_SLACK):
            keep = before if table.following is False else None
            table.trim(self.store.oldest_seq, shown, keep)
        else:
            table.append(shown)
        now = time.monotonic()
        self._recent_rows.append((now, len(entries)))
        while self._recent_rows[0][0] < now - 1:
            self._recent_rows.popleft()
        self._selection_changed()
        self.post_message(AttemptsAdded(len(entries), len(self.store)))

    def _update_attempts(self, updates: list[AttemptUpdate]) -> None:
        """Attempts shown with keys pending, judged again now that their keys came (or not)."""
        changed = [
            entry
            for entry in (self.store.replace(u.old, u.new) for u in updates)
            if entry is not None
        ]
        if not changed:
            return
        table = self.table
        if self.filter.active:
            # The new outcome may show or hide the row under the filter.
            table.rebuild(self.store.visible(self.filter), table.selected_seq)
        else:
            for entry in changed:
                table.update(entry)
        self._selection_changed()

    # ---- selection, detail, status ----------------------------------------------------------

    @property
    def selected(self) -> Attempt | None:
        """The highlighted attempt."""
        seq = self.table.selected_seq
        if seq is None:
            return None
        entry = self.store.get(seq)
        return entry.attempt if entry else None

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _: DataTable.RowHighlighted) -> None:
        if self.table.is_attached:
            self._selection_changed()

    def _selection_changed(self) -> None:
        self.status_info.following = self.table.following
        if self.selected is self.detail.attempt:
            return
        now = time.monotonic()
        if (
            now - self._last_detail < DETAIL_SECONDS
            and self.table.following
            and self._feed_busy(now)
        ):
            if self._detail_timer is None:
                wait = self._last_detail + DETAIL_SECONDS - now
                self._detail_timer = self.set_timer(wait, self._show_selected)
            return
        self._show_selected()

    def _show_selected(self) -> None:
        """The detail pane and the profile panel show the highlighted attempt."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
            self._detail_timer = None
        self._last_detail = time.monotonic()
        attempt = self.selected
        if attempt is not self.detail.attempt:
            self.detail.show(attempt)
            self.profile_panel.set_attempt(attempt)

    def _feed_busy(self, now: float) -> bool:
        """More than ``BUSY_ROWS_PER_SECOND`` rows came from the feed in the last second."""
        recent = sum(count for when, count in self._recent_rows if when >= now - 1)
        return recent > BUSY_ROWS_PER_SECOND

    def _tick(self) -> None:
        now = time.monotonic()
        if not (now - self._last_detail < DETAIL_SECONDS and self._feed_busy(now)):
            self.detail.tick()
        self._refresh_status()

    def _refresh_status(self) -> None:
        try:
            self.status_info.keys = dict(self.session.key_states())
            self.status_info.database = self.session.database_state()
        except Exception as exc:  # a broken engine must not stop the screen
            self.status_info.problem = problem_text(exc)
        self.status_info.filter = self.filter
        self.status_bar.show(self.status_info)

    def report_problem(self, message: str) -> None:
        """Show a worker's failure; the app keeps running."""
        self.store.counters.worker_errors += 1
        self.status_info.problem = message
        self.notify(message, title="problem", severity="error", timeout=8)
        self.post_message(WorkerProblem(message))
        self._refresh_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Any worker that ends in error is reported, never fatal."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            name = event.worker.name or "worker"
            self.report_problem(f"{name} failed: {problem_text(event.worker.error)}")

    # ---- database profile -----------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="profile", name="database")
    def load_profile(self) -> None:
        """Read the current profile (in a worker: the database may be slow or down)."""
        profile = self.session.current_profile()
        self.post_message(ProfileLoaded(profile, self.session.database_state()))

    def on_profile_loaded(self, message: ProfileLoaded) -> None:
        """Show the database's profile."""
        self.profile = message.profile
        self.profile_panel.set_profile(message.profile, message.state)
        self._refresh_status()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast, always plain text (``markup`` is ignored), redacted and escaped.

        Every notification of the app and its screens passes here, and most quote an
        issuer, a path or an error message: none of them may be read as markup.
        """
        del markup  # part of Textual's signature; never honoured here
        super().notify(
            shown(message), title=shown(title), severity=severity, timeout=timeout, markup=False
        )

    # ---- actions ----------------------------------------------------------------------------

    def _need_token_attempt(self) -> Attempt | None:
        attempt = self.selected
        if attempt is None or attempt.token is None:
            self.notify("Select an attempt that carries a token first.", severity="warning")
            return None
        return attempt

    def action_apply(self) -> None:
        """Open the apply modal for the selected attempt."""
        attempt = self._need_token_attempt()
        if attempt is not None:
            self.push_screen(ApplyScreen(self.session, attempt), self._applied)

    def _applied(self, outcome: ApplyOutcome | None) -> None:
        if outcome is None:
            return
        self.notify(outcome.summary, severity="information" if outcome.ok else "error")
        self.load_profile()

    def action_save_sql(self) -> None:
        """Ask for a file name (in the output directory), then write the PL/SQL script there."""
        attempt = self._need_token_attempt()
        if attempt is None or attempt.token is None:
            return
        name = f"ords_jwt_profile_{attempt.token.fingerprint}.sql"
        self._ask_sql_path(attempt, "Save the PL/SQL script to:", self.output_dir / name)

    def _ask_sql_path(self, attempt: Attempt, question: str, suggested: Path) -> None:
        def chosen(name: str | None) -> None:
            if name and name.strip():
                # A relative name is taken in the output directory, like the suggestion.
                self._write_sql(attempt, self.output_dir / Path(name.strip()).expanduser())

        # The suggestion avoids taken names; the write still refuses one taken meanwhile.
        default = str(free_name(suggested))
        self.push_screen(PromptScreen(question, default, title="Save SQL"), chosen)

    @work(thread=True, exit_on_error=False, group="sql", name="save SQL")
    def _write_sql(self, attempt: Attempt, path: Path) -> None:
        script = self.session.sql_script(attempt)
        try:
            # A new file only, mode 0600, never through a link someone planted under the
            # (predictable) name: an existing name is refused and the user asked again.
            write_new(path, script)
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            self.call_from_thread(
                self._ask_sql_path, attempt, f"Not saved: {path}: {why}. Save to:", path
            )
            return
        self.call_from_thread(self.notify, f"PL/SQL script saved to {path}", title="saved")

    @work(thread=True, exit_on_error=False, group="sql", name="copy SQL")
    def action_copy_sql(self) -> None:
        """Copy the PL/SQL script to the clipboard (OSC 52: works over ssh too)."""
        attempt = self.call_from_thread(self._need_token_attempt)
        if attempt is None:
            return
        script = self.session.sql_script(attempt)
        self.call_from_thread(self.copy_to_clipboard, script)
        self.call_from_thread(self.notify, "PL/SQL script copied to the clipboard")

    def action_toggle_failures(self) -> None:
        """Show only failed attempts, or everything again."""
        self._set_filter(Filter(not self.filter.failures_only, self.filter.text))

    def action_filter(self) -> None:
        """Ask for a text; rows that do not contain it are hidden (empty: show all)."""

        def chosen(text: str | None) -> None:
            if text is not None:
                self._set_filter(Filter(self.filter.failures_only, text.strip()))

        self.push_screen(
            PromptScreen("Show attempts containing:", self.filter.text, title="Filter"), chosen
        )

    def _set_filter(self, flt: Filter) -> None:
        self.filter = flt
        table = self.table
        table.rebuild(self.store.visible(flt), table.selected_seq)
        self._selection_changed()
        self._refresh_status()

    def _jump_failure(self, step: int) -> None:
        table = self.table
        seqs = table.seqs
        if not seqs:
            return
        row = table.cursor_row
        index = row + step
        while 0 <= index < len(seqs):
            entry = self.store.get(seqs[index])
            if entry is not None and entry.failed:
                table.move_cursor(row=index, animate=False)
                return
            index += step
        self.notify("No further failure in that direction.", timeout=2)

    def action_next_failure(self) -> None:
        """Move to the next failed attempt below the cursor."""
        self._jump_failure(1)

    def action_previous_failure(self) -> None:
        """Move to the previous failed attempt above the cursor."""
        self._jump_failure(-1)

    @work(thread=True, exit_on_error=False, group="keys", name="key refetch")
    def action_refetch_keys(self) -> None:
        """Refetch every issuer's keys (in a worker: the IdP may be slow or down)."""
        self.call_from_thread(self.notify, "Refetching keys…", timeout=2)
        summary = self.session.refresh_keys()
        self.call_from_thread(self.notify, summary, title="keys")
        self.call_from_thread(self._refresh_status)

    def action_reveal(self) -> None:
        """Show the selected token unredacted, behind a warning."""
        attempt = self._need_token_attempt()
        if attempt is not None:
            self.push_screen(RevealScreen(attempt))

    def action_doctor(self) -> None:
        """Run the doctor's checks of the discovery chain."""
        self.push_screen(DoctorScreen(self.session))

    def action_help(self) -> None:
        """Every key and what it does."""
        self.push_screen(HelpScreen(self.BINDINGS))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The same actions as the keys, in the command palette."""
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.action in ("quit", "help"):
                continue
            key = binding.key_display or binding.key
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip or binding.description} (key {key})",
                partial(self.run_action, binding.action),
            )
