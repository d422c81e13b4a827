"""The setup the live screen's doctor dialog offers (``s``), built here because the TUI may
not import ``inspector.setup`` (the same layer): ``watch`` injects these two functions
into its session, as it does the doctor.

The plan starts from what the screen was started with (``--mcp-url``, ``[expect]``'s
issuer and single role, ``[setup]``) and what doctor sees at the URL; the apply writes
the ORDS role and privilege, then nginx (tested, reloaded, probed, rolled back on
failure), in the command's order (``setup_parts``), each step reported to the dialog and
each part and the reload asked first with the command's questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from inspector.cli.setup_parts import (
    NGINX_DECLINED,
    NGINX_QUESTION,
    ORDS_DECLINED,
    apply_in_order,
    apply_nginx_part,
    ords_question,
)
from inspector.cli.setup_steps import probe_options
from inspector.ords.database import OrdsRepository
from inspector.ords.grants import apply_authorization
from inspector.settings import Settings
from inspector.setup.audit import SetupAudit
from inspector.setup.facts import FactInputs, derive_facts
from inspector.setup.model import SetupProgress
from inspector.setup.nginx_apply import NginxResult
from inspector.setup.nginx_plan import NginxPlanOptions
from inspector.setup.plan import SetupPlan, build_plan
from inspector.setup.plan_output import line, render_plan
from inspector.setup.probe import probe_server
from inspector.tui.session import ApplyOutcome, SetupAsk, SetupEmit, SetupView

Connect = Callable[[], OrdsRepository]


@dataclass(frozen=True, slots=True)
class TuiSetup:
    """``plan`` and ``apply`` for ``EngineSession.set_setup``."""

    settings: Settings
    connect: Connect | None

    def plan(self) -> SetupView:
        """Probe the URL, derive the facts, plan nginx, ORDS (when connected) and the IdP."""
        config = self.settings
        url = config.doctor.url
        expect = config.expect
        inputs = FactInputs(
            mcp_url=url,
            issuer=expect.issuer,
            role=expect.roles[0] if len(expect.roles) == 1 else None,
            idp=config.doctor.idp,
            allow_http=config.doctor.allow_http,
        )
        derive_facts(inputs)  # refuses a hostile URL before it is requested
        assert url is not None
        options = probe_options(config, url)
        seen = probe_server(replace(options, check_nginx=False)).observed()
        facts = derive_facts(inputs, seen)
        repo = self.connect() if self.connect is not None else None
        try:
            plan = build_plan(
                facts,
                nginx_conf=config.logs.nginx_conf,
                nginx_options=NginxPlanOptions(
                    snippet_dir=config.setup.snippet_dir, token_log=config.setup.token_log
                ),
                repo=repo,
                # Without a configured database the screen sets up nginx alone.
                optional=("ords",) if repo is None else (),
            )
        finally:
            if repo is not None:
                repo.close()
        refusal = None
        if plan.blockers:
            refusal = line(plan.blockers[0])
        elif not (plan.nginx_applicable or plan.ords_applicable):
            refusal = "nothing to change"
        return SetupView(render_plan(plan), refusal=refusal, handle=plan)

    def apply(self, view: SetupView, emit: SetupEmit, ask: SetupAsk) -> ApplyOutcome:
        """ORDS, then nginx (see ``setup_parts``), each part and the reload after a yes to
        ``ask``; stops at the first failure (already rolled back) or no."""
        plan = view.handle
        assert isinstance(plan, SetupPlan)
        details: list[str] = []
        failed: list[str] = []

        def nginx_step(event: SetupProgress) -> None:
            emit(f"nginx: {event.step}", event.status, line(event.message))

        def ords_part() -> bool:
            if plan.ords is None or self.connect is None:
                return True
            if not ask(ords_question(with_profile=False)):
                failed.append(ORDS_DECLINED)
                return False
            repo = self.connect()
            try:
                # No token here: the role and privilege, which protect the module.
                granted = apply_authorization(
                    repo,
                    plan.ords,
                    proposal=None,
                    progress=lambda e: emit(f"ords: {e.step.value}", e.status, line(e.message)),
                )
            finally:
                repo.close()
            details.append(f"ords: {granted.result.value}")
            if granted.ok:
                return True
            details.extend(line(x) for x in (granted.failure, granted.restore) if x)
            failed.append("ORDS role and privilege not set up (previous state restored)")
            return False

        def nginx_part() -> bool:
            if not ask(NGINX_QUESTION):
                failed.append(NGINX_DECLINED)
                return False
            done = apply_nginx_part(
                self.settings,
                plan,
                confirm_reload=ask,
                audit=SetupAudit(None),
                progress=nginx_step,
            )
            details.append(f"nginx: {done.result.value}")
            if done.ok:
                return True
            details.extend(line(x) for x in (done.failure, done.restore) if x)
            failed.append(
                "nginx not set up (nothing written)"
                if done.result is NginxResult.REFUSED
                else "nginx not set up (previous files restored)"
            )
            return False

        if not apply_in_order(plan, ords=ords_part, nginx=nginx_part):
            return ApplyOutcome(False, failed[0], tuple(details))
        return ApplyOutcome(True, "server side set up", tuple(details))
