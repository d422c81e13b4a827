"""The setup the live screen's doctor dialog offers (``s``), built here because the TUI may
not import ``inspector.setup`` (the same layer): ``watch`` injects these two functions
into its session, as it does the doctor.

The plan starts from what the screen was started with (``--mcp-url``, ``[expect]``'s
issuer and single role, ``[setup]``) and what doctor sees at the URL; the apply writes
nginx (tested, reloaded, probed, rolled back on failure) and then the ORDS role and
privilege, each step reported to the dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from inspector.cli.setup_steps import nginx_control, probe_options
from inspector.ords.database import OrdsRepository
from inspector.ords.grants import apply_authorization
from inspector.settings import Settings
from inspector.setup.audit import SetupAudit
from inspector.setup.backups import default_backup_dir
from inspector.setup.facts import FactInputs, derive_facts
from inspector.setup.model import SetupProgress
from inspector.setup.nginx_apply import apply_nginx
from inspector.setup.nginx_plan import NginxPlanOptions
from inspector.setup.plan import SetupPlan, build_plan
from inspector.setup.plan_output import line, render_plan
from inspector.setup.probe import doctor_probe, probe_server
from inspector.tui.session import ApplyOutcome, SetupEmit, SetupView

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
                nginx_options=NginxPlanOptions(snippet_dir=config.setup.snippet_dir),
                repo=repo,
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

    def apply(self, view: SetupView, emit: SetupEmit) -> ApplyOutcome:
        """nginx, then ORDS; stops at the first failure (already rolled back)."""
        plan = view.handle
        assert isinstance(plan, SetupPlan)
        details: list[str] = []

        def nginx_step(event: SetupProgress) -> None:
            emit(f"nginx: {event.step}", event.status, line(event.message))

        if plan.nginx_applicable:
            assert plan.nginx is not None and plan.nginx_conf is not None
            url = plan.facts.mcp_url
            done = apply_nginx(
                plan.nginx.changes,
                nginx_control(self.settings, plan.nginx_conf),
                backups=self.settings.setup.backup_dir or default_backup_dir(),
                probe=doctor_probe(probe_options(self.settings, url)),
                audit=SetupAudit(None),
                progress=nginx_step,
            )
            details.append(f"nginx: {done.result.value}")
            if not done.ok:
                details += [line(x) for x in (done.failure, done.restore) if x]
                return ApplyOutcome(
                    False, "nginx not set up (previous files restored)", tuple(details)
                )
        if plan.ords_applicable and plan.ords is not None and self.connect is not None:
            repo = self.connect()
            try:
                granted = apply_authorization(
                    repo,
                    plan.ords,
                    proposal=None,
                    progress=lambda e: emit(f"ords: {e.step.value}", e.status, line(e.message)),
                )
            finally:
                repo.close()
            details.append(f"ords: {granted.result.value}")
            if not granted.ok:
                details += [line(x) for x in (granted.failure, granted.restore) if x]
                return ApplyOutcome(False, "ORDS role and privilege not set up", tuple(details))
        return ApplyOutcome(True, "server side set up", tuple(details))
