"""The live screen's ``Session`` over the real engine (no Textual here).

It glues together what the headless commands already use: log records from the log
pipeline, the ``Analyzer`` (with the key store inside), the configurator's proposal and
apply, the ORDS repository and the doctor. It adds no check of its own.

Expectations rise in priority from config, to flags, to the ORDS profile read from the
database; after an apply the new profile becomes the expectation for following attempts.
With a database the analyzer also learns what only the schema knows: that it has no
profile at all (``no-profile``), which ORDS roles hold privileges (``role-missing``,
``role-without-privilege`` under a role-based profile) and which privileges protect
something (``scope-missing`` under a scope-based profile).
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from inspector.judge.analyzer import Analyzer, keys_pending
from inspector.judge.attempt import Attempt
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.ords_settings import pool_mode_refusal
from inspector.ords.apply import Progress as ApplyProgress
from inspector.ords.apply import apply_proposal
from inspector.ords.audit import AuditLog
from inspector.ords.database import OrdsRepository
from inspector.ords.errors import one_line
from inspector.ords.proposal import Proposal, ProposalError, ProposalOptions, build_proposal
from inspector.ords.schema import SchemaAuthorization, read_authorization, schema_expectations
from inspector.tui.feed import AttemptUpdate, FeedProblem, problem_text
from inspector.tui.judge_process import JudgeProcess, can_fork
from inspector.tui.session import (
    ApplyOutcome,
    ApplyPlan,
    DiffRow,
    Progress,
    SetupAsk,
    SetupEmit,
    SetupView,
)
from parsers.authorization import parse_authorization
from parsers.records import LogRecord
from parsers.redaction import redact_text

RecordSource = Callable[[threading.Event], Iterator[object]]
# Attempts shown with keys pending and judged again when a fetch completes, at most.
MAX_PENDING = 10_000
_END = object()
_WAKE = object()
DoctorFn = Callable[[Callable[[str, str, str], None]], None]
# Injected by the command line (the TUI may not import inspector.setup: same layer).
SetupPlanFn = Callable[[], SetupView]
SetupApplyFn = Callable[[SetupView, SetupEmit, SetupAsk], ApplyOutcome]
Clock = Callable[[], datetime]


def is_attempt(record: LogRecord) -> bool:
    """A connector attempt: a request with an Authorization header, or a 401/403 answer."""
    return record.authorization is not None or record.status in (401, 403)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EngineSession:
    """``Session`` for ``watch`` and ``demo``; every blocking method runs in a UI worker."""

    def __init__(
        self,
        *,
        records: RecordSource,
        files: tuple[str, ...],
        title: str,
        analyzer: Analyzer,
        keys: object | None = None,
        repository: OrdsRepository | None = None,
        connect: Callable[[], OrdsRepository] | None = None,
        database_label: str = "not connected",
        proposal_options: ProposalOptions | None = None,
        audit: AuditLog | None = None,
        doctor: DoctorFn | None = None,
        demo: bool = False,
        clock: Clock = _utcnow,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._records = records
        self._files = files
        self._title = title
        self._base = analyzer
        self._analyzer = analyzer
        self._keys = keys
        self._repo = repository
        self._connect = connect
        self._db_label = database_label
        self._db_state = (
            database_label if repository is None and connect is None else f"{database_label} …"
        )
        self._options = proposal_options or ProposalOptions()
        self._audit = audit
        self._doctor = doctor
        self._setup: tuple[SetupPlanFn, SetupApplyFn] | None = None
        self._demo = demo
        self._clock = clock
        self._on_close = on_close
        self._profile_lock = threading.Lock()
        self._connect_lock = threading.Lock()
        self._profile_read = False
        self._profile: JwtProfile | None = None
        # The schema's roles and privileges; None until read (or when they cannot be read).
        self._authorization: SchemaAuthorization | None = None
        # The child process judging the log, when ``start_judge_process`` made one.
        self._judge: JudgeProcess | None = None

    # ---- judging in a process of its own -------------------------------------------------

    def start_judge_process(self, *, while_threads_run: bool = False) -> bool:
        """Judge the log in a child process from now on; False (judged here) when forking
        is not safe: another thread runs (``while_threads_run`` accepts that risk: tests)
        or the platform cannot fork. Call it before the screen starts."""
        if self._judge is not None:
            return True
        if not (while_threads_run or can_fork()):
            return False
        # Without a database there is no profile to wait for: the child reads and judges
        # the backfill while the screen starts.
        self._judge = JudgeProcess(self, start=not self.has_database)
        return True

    @property
    def judge_process(self) -> JudgeProcess | None:
        """The child judging the log, if any."""
        return self._judge

    def detach_judge(self) -> None:
        """In the child: this copy of the session judges itself."""
        self._judge = None

    def adopt_profile(self, profile: JwtProfile | None, authorization: object) -> None:
        """Judge by ``profile`` and the schema's ``authorization`` (read by the screen)."""
        with self._profile_lock:
            if authorization is None or isinstance(authorization, SchemaAuthorization):
                self._authorization = authorization
            self._set_profile(profile)

    # ---- what the screen shows ------------------------------------------------------------

    @property
    def title(self) -> str:
        """What is watched."""
        return self._title

    @property
    def demo(self) -> bool:
        """True for the demo."""
        return self._demo

    @property
    def files(self) -> tuple[str, ...]:
        """The followed logs."""
        return self._files

    @property
    def analyzer(self) -> Analyzer:
        """The analyzer judging new attempts (changes when the profile does)."""
        return self._analyzer

    def items(self, stop: threading.Event) -> Iterator[object]:
        """Records from the log pipeline; attempts analysed, the rest passed through.

        Key discovery never holds the feed: an attempt whose issuer's keys are still
        being fetched comes at once with ``keys-pending``, and an ``AttemptUpdate``
        follows when a fetch completes (or gives up at its deadline). The log is read on
        a thread of its own, so updates come even while the log is quiet.
        """
        # Judge the first attempts against the database's profile, not without it; a
        # database that is down only costs the profile, never the feed.
        try:
            self.current_profile()
        except Exception as exc:
            yield FeedProblem(f"database: {_db_error(exc)}")
        if self._judge is not None:
            yield from self._judge.batches(stop)
        else:
            yield from self.judged(stop)

    def judged(self, stop: threading.Event) -> Iterator[object]:
        """The feed loop of ``items`` after the profile was read (the judging child's)."""
        inbox: queue.Queue[object] = queue.Queue(maxsize=1000)
        fetched = threading.Event()

        def wake() -> None:  # called by the key store's fetching thread
            fetched.set()
            # A full inbox: the loop is busy and sees the event at its next item.
            with contextlib.suppress(queue.Full):
                inbox.put_nowait(_WAKE)

        listen = getattr(self._keys, "add_listener", None)
        if listen is not None:
            listen(wake)
        threading.Thread(
            target=self._read_records, args=(stop, inbox), name="inspector-records", daemon=True
        ).start()
        pending: deque[Attempt] = deque(maxlen=MAX_PENDING)
        ended = False
        while not stop.is_set() and not (ended and not pending):
            if fetched.is_set():
                fetched.clear()
                yield from self._recheck(pending)
            try:
                item = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if item is _END:
                ended = True  # the log is done; the pending attempts are still to come
            elif isinstance(item, LogRecord) and is_attempt(item):
                try:
                    attempt = self._analyzer.analyze(item, now=self._clock(), wait=False)
                except Exception as exc:  # one hostile line must not stop the feed
                    yield FeedProblem(
                        f"{item.source.file}:{item.source.line}: analysis failed: "
                        f"{problem_text(exc)}"
                    )
                    yield item
                    continue
                if keys_pending(attempt):
                    pending.append(attempt)
                yield attempt
            elif item is not _WAKE:
                yield item

    def _read_records(self, stop: threading.Event, inbox: queue.Queue[object]) -> None:
        def put(item: object) -> None:
            while not stop.is_set():
                try:
                    inbox.put(item, timeout=0.2)
                    return
                except queue.Full:
                    continue

        try:
            for item in self._records(stop):
                put(item)
                if stop.is_set():
                    return
        except Exception as exc:  # the feed must survive any reader failure
            put(FeedProblem(f"log reader stopped: {problem_text(exc)}"))
        finally:
            put(_END)

    def _recheck(self, pending: deque[Attempt]) -> Iterator[AttemptUpdate | FeedProblem]:
        """Judge the pending attempts again; updates for those whose keys are settled."""
        for _ in range(len(pending)):
            old = pending.popleft()
            try:
                new = self._analyzer.analyze(old.record, now=self._clock(), wait=False)
            except Exception as exc:  # one hostile line must not stop the feed
                where = f"{old.record.source.file}:{old.record.source.line}"
                yield FeedProblem(f"{where}: analysis failed: {problem_text(exc)}")
                continue
            if keys_pending(new):
                pending.append(old)
            else:
                yield AttemptUpdate(old, new)

    def key_states(self) -> Mapping[str, str]:
        """Per issuer: ``ok (2 keys, 3 min)``, ``fetching``, ``error: …``."""
        if self._judge is not None:
            return self._judge.key_states()
        state = getattr(self._keys, "state", None)
        if state is None:
            return {}
        return {str(issuer): _state_text(value) for issuer, value in state().items()}

    def refresh_keys(self) -> str:
        """Refetch every issuer's keys now."""
        if self._judge is not None:
            summary = self._judge.refresh_keys()  # the child's key store is the one judging
            # This process's store checks the proposals (plan, apply): refetched too once
            # it holds keys.
            local = getattr(self._keys, "state", None)
            refresh = getattr(self._keys, "refresh", None)
            if local is not None and refresh is not None and local():
                refresh()
            return summary
        refresh = getattr(self._keys, "refresh", None)
        if refresh is None:
            return "no key store: signatures are checked against offline keys only"
        refresh()
        states = self.key_states()
        bad = [i for i, s in states.items() if s.startswith(("error", "unavailable"))]
        if bad:
            return f"keys refetched; {len(bad)} issuer(s) failing: {', '.join(bad)}"
        return f"keys refetched for {len(states)} issuer(s)"

    def database_state(self) -> str:
        """``not connected (--no-db)``, ``DEMO@memory: (profile present)``, ``error: …``."""
        return self._db_state

    # ---- database ------------------------------------------------------------------------

    @property
    def has_database(self) -> bool:
        """True when a database (or the stand-in) is configured."""
        return self._repo is not None or self._connect is not None

    def _repository(self) -> OrdsRepository | None:
        """The repository, connecting on first use (in a worker: the database may be slow)."""
        with self._connect_lock:  # two workers asking at once must not connect twice
            if self._repo is None and self._connect is not None:
                self._db_state = f"{self._db_label} (connecting…)"
                try:
                    self._repo = self._connect()
                except Exception as exc:
                    self._db_state = f"error: {_db_error(exc)}"
                    raise
            return self._repo

    def current_profile(self) -> JwtProfile | None:
        """Read the profile (each call reads again; the result sets the expectations)."""
        with self._profile_lock:
            repo = self._repository()
            if repo is None:
                return None
            try:
                profile = repo.get_profile(self._options.schema)
            except Exception as exc:
                self._db_state = f"error: {_db_error(exc)}"
                raise
            self._authorization = self._read_authorization(repo)
            self._set_profile(profile)
            return profile

    def schema_authorization(self) -> SchemaAuthorization:
        """The roles and privileges read with the profile, for the doctor's token checks.

        Raises when they could not be read, so the doctor says those checks are lost.
        """
        if self._authorization is None:
            raise LookupError("the schema's ORDS roles and privileges could not be read")
        return self._authorization

    def _read_authorization(self, repo: OrdsRepository) -> SchemaAuthorization | None:
        """The schema's roles and privileges; None for another schema or on failure."""
        if self._options.schema is not None:
            # USER_ORDS_* views describe the connected schema only.
            return None
        try:
            return read_authorization(repo)
        except Exception:  # the role checks are a refinement: without them, judge as before
            return None

    def _set_profile(self, profile: JwtProfile | None) -> None:
        self._profile = profile
        self._profile_read = True
        have = "profile present" if profile is not None else "no JWT profile yet"
        if self._base.expectations.pool_mode:
            # ORDS reportedly ignores the schema's profile in POOL mode.
            have = "POOL mode: the pool's profile applies"
        self._db_state = f"{self._db_label} ({have})"
        schema = schema_expectations(profile, self._authorization)
        self._analyzer = self._base.with_expectations(self._base.expectations.merged(schema))
        if self._judge is not None:
            # A child that died is reported by the feed, once.
            with contextlib.suppress(RuntimeError):
                self._judge.set_profile(profile, self._authorization)

    def _proposal(self, attempt: Attempt) -> Proposal:
        if attempt.token is None:
            raise ProposalError("no-token", "this attempt carries no token")
        token = parse_authorization(attempt.record.authorization).credentials
        if not token:
            raise ProposalError("no-token", "this attempt carries no token")
        now = self._clock()
        current = None
        roles = privileges = None
        options = self._anchored_options()
        repo = self._repository()
        if repo is not None:
            current = repo.get_profile(self._options.schema)
            roles = repo.roles()
            privileges = repo.privileges()
            # The script shown names the package this database has (OAUTH before 24.3).
            options = dataclasses.replace(options, jwt_api=repo.jwt_api())
        base = self._base
        known = (
            self._authorization.expectations()
            if self._authorization is not None
            else Expectations()
        )

        def check(expectations: Expectations) -> tuple[object, tuple[object, ...]]:
            # Judged as ORDS would under the proposed profile, roles and privileges included
            # when known.
            return base.with_expectations(expectations.merged(known)).analyze_token(token, at=now)

        return build_proposal(
            attempt.token,
            options=options,
            current=current,
            current_known=repo is not None,
            roles=roles,
            privileges=privileges,
            check=check,  # type: ignore[arg-type]
            client=attempt.client,
            source=f"{attempt.record.source.file}:{attempt.record.source.line}",
            now=now,
        )

    def _anchored_options(self) -> ProposalOptions:
        """The proposal options with every issuer the user vouched for as an anchor.

        Trusted issuers and the expected issuer from the flags or config (the key store
        knows both); the current profile's issuer is added by the proposal itself.
        """
        anchors = list(self._options.anchored_issuers)
        keys = getattr(self._base, "keys", None)
        anchors += getattr(keys, "trusted_issuers", ())
        anchors += getattr(keys, "anchored_issuers", ())
        expected = self._base.expectations.issuer
        if expected:
            anchors.append(expected)
        return dataclasses.replace(self._options, anchored_issuers=tuple(dict.fromkeys(anchors)))

    def plan(self, attempt: Attempt) -> ApplyPlan:
        """The configurator's proposal, shaped for the apply modal."""
        try:
            proposal = self._proposal(attempt)
        except ProposalError as exc:
            text = exc.message + (f" — {exc.explanation}" if exc.explanation else "")
            verified = attempt.token.verified if attempt.token else None
            return ApplyPlan(None, None, (), (), (), "", verified, refusal=text)
        marks = {True: "✔", False: "✘", None: "·"}
        refusal = self._pool_refusal(proposal)
        if refusal is None and not self.has_database:
            refusal = "no database connected: press s or c for the PL/SQL script instead"
        return ApplyPlan(
            current=proposal.current,
            proposed=proposal.proposed,
            diff=tuple(
                DiffRow(r.parameter, r.current if proposal.current_known else None, r.proposed)
                for r in proposal.diff
            ),
            prechecks=tuple(f"{marks[p.ok]} {p.text}" for p in proposal.prechecks),
            risks=tuple(
                r.message + (" (needs explicit confirmation)" if r.blocking else "")
                for r in proposal.risks
            ),
            plsql=proposal.plsql,
            verified=proposal.verified,
            refusal=refusal,
            handle=proposal,
            anchored=proposal.anchored,
        )

    def _pool_refusal(self, proposal: Proposal) -> str | None:
        """In POOL mode ORDS reportedly ignores the schema's profile: none is offered."""
        ords = self._base.expectations.ords_config
        if ords is None or not ords.pool_mode:
            return None
        wanted = proposal.proposed
        return pool_mode_refusal(
            ords,
            issuer=wanted.issuer,
            audience=wanted.audience,
            jwk_url=wanted.jwk_url,
            role_claim=wanted.role_claim_name,
        )

    def apply(self, plan: ApplyPlan, progress: Progress) -> ApplyOutcome:
        """Apply with the configurator (restore on failure), then re-read the profile."""
        if isinstance(plan.handle, Proposal):
            refused = self._pool_refusal(plan.handle)
            if refused is not None:
                return ApplyOutcome(False, refused)
        repo = self._repository()
        if repo is None:
            return ApplyOutcome(False, "no database connected")
        proposal = plan.handle
        if not isinstance(proposal, Proposal):
            return ApplyOutcome(False, "nothing to apply")

        def step(event: ApplyProgress) -> None:
            progress(f"{event.step}: {event.status} — {event.message}")

        result = apply_proposal(
            repo,
            proposal,
            # The modal asked twice before getting here when the token is unverified or
            # its issuer is not anchored.
            force_unverified=bool(proposal.blocking_risks),
            progress=step,
            audit=self._audit,
            db_user=self._db_label,
        )
        with self._profile_lock:
            self._set_profile(result.final)
        details = [*result.warnings]
        if result.failure:
            details.append(f"failure: {result.failure}")
        if result.restore:
            details.append(f"restore: {result.restore}")
        if result.mismatches:
            details.append(f"read back differs in: {', '.join(result.mismatches)}")
        summary = {
            "applied": "profile applied and read back: following attempts are judged by it",
            "unchanged": "the profile was already in place",
        }.get(result.result.value, f"not applied ({result.result.value})")
        return ApplyOutcome(result.ok, summary, tuple(details), result.final)

    def sql_script(self, attempt: Attempt) -> str:
        """The reviewable PL/SQL script of the proposal (no database needed)."""
        proposal = self._proposal(attempt)
        return proposal.plsql

    def set_doctor(self, doctor: DoctorFn) -> None:
        """Give the session its doctor (built after the session: it reads its profile)."""
        self._doctor = doctor

    def doctor(self, emit: Callable[[str, str, str], None]) -> None:
        """Run the doctor when it is available for this session."""
        if self._doctor is None:
            emit(
                "skip",
                "doctor-needs-url",
                "start with --mcp-url https://HOST/ords/SCHEMA/mcp/ to check the discovery "
                "chain here (or run: token-inspector doctor URL)",
            )
            return
        self._doctor(emit)

    def set_setup(self, plan: SetupPlanFn, apply: SetupApplyFn) -> None:
        """Give the session the server-side setup (built by the command line, like the doctor)."""
        self._setup = (plan, apply)

    def setup_plan(self) -> SetupView:
        """The setup plan, or a view saying how to get one."""
        setup = self._setup
        if setup is None:
            return SetupView(
                "Setup plans nginx, ORDS and the IdP for the MCP URL: start with --mcp-url "
                "https://HOST/ords/SCHEMA/mcp/ (or run: token-inspector setup URL --dry-run)",
                refusal="no MCP URL",
            )
        view: SetupView = setup[0]()
        return view

    def setup_apply(self, view: SetupView, emit: SetupEmit, ask: SetupAsk) -> ApplyOutcome:
        """Apply ``view``'s plan (ORDS, then nginx) with progress through ``emit``, asking
        ``ask`` before each part and the reload."""
        setup = self._setup
        if setup is None or view.refusal is not None:
            return ApplyOutcome(False, view.refusal or "no setup plan")
        outcome: ApplyOutcome = setup[1](view, emit, ask)
        return outcome

    def close(self) -> None:
        """Stop what the session started (judging child, follower, IdP of the demo,
        database)."""
        try:
            if self._judge is not None:
                self._judge.stop()
            if self._on_close is not None:
                self._on_close()
        finally:
            if self._repo is not None:
                self._repo.close()


def _state_text(value: object) -> str:
    for name in ("label", "summary", "describe", "text"):
        attr = getattr(value, name, None)
        if isinstance(attr, str):
            return attr
        if callable(attr):
            return str(attr())
    return str(value)


def _db_error(exc: BaseException) -> str:
    """One line with the ORA-/DPY- code and a hint, as the headless commands print it."""
    try:
        return redact_text(one_line(exc))
    except Exception:  # the hint table must never hide the error itself
        return problem_text(exc)
