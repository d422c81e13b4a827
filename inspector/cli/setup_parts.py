"""The order setup applies its parts in, shared by the command and the live screen.

ORDS goes first. Until the privilege protects the MCP module, ORDS answers a request
without a token with 200: there is no 401 for nginx to rewrite, so the nginx part's probe
could not pass and would roll back a correct change. The role and privilege need no
token (the JWT profile is added when a token was given; on a first setup the connector
has none yet: it only gets one after it has seen the challenge). nginx comes second, and
is not even written while the module still answers without a token: that is said with
the fix (setup's ORDS part) instead of a failed probe.
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.cli.setup_steps import nginx_control, probe_options
from inspector.settings import Settings
from inspector.setup.audit import SetupAudit
from inspector.setup.backups import default_backup_dir
from inspector.setup.model import Confirm, SetupProgress
from inspector.setup.nginx_apply import NginxApplyResult, NginxResult, NginxStep, apply_nginx
from inspector.setup.plan import SetupPlan
from inspector.setup.probe import UNPROTECTED, doctor_probe, probe_server

# The parts in the order they are applied; each step returns False to stop there.
ORDER = ("ords", "nginx")
# What the command and the live screen ask before each part (the reload is asked by
# ``apply_nginx`` once nginx -t passed), and what they say when the answer is no.
NGINX_QUESTION = "Write these nginx files and test them with nginx -t?"
NGINX_DECLINED = "nginx not applied: nothing changed in nginx"
ORDS_DECLINED = "ORDS not applied: nothing changed"


def ords_question(*, with_profile: bool) -> str:
    """The question before the ORDS part (the profile only when a token was given)."""
    what = "role, privilege and profile" if with_profile else "role and privilege"
    return f"Apply the ORDS {what} above?"


PartStep = Callable[[], bool]


def apply_in_order(plan: SetupPlan, *, ords: PartStep, nginx: PartStep) -> bool:
    """Run the applicable parts' steps in ``ORDER``; False as soon as one returns False."""
    steps = {"ords": (plan.ords_applicable, ords), "nginx": (plan.nginx_applicable, nginx)}
    for part in ORDER:
        applicable, step = steps[part]
        if applicable and not step():
            return False
    return True


def apply_nginx_part(
    settings: Settings,
    plan: SetupPlan,
    *,
    confirm_reload: Confirm | None,
    audit: SetupAudit,
    progress: Callable[[SetupProgress], None] | None,
) -> NginxApplyResult:
    """The nginx part: refused (nothing written) while the MCP module answers without a
    token, else written, tested, reloaded and probed by ``apply_nginx``."""
    assert plan.nginx is not None and plan.nginx_conf is not None
    options = probe_options(settings, plan.facts.mcp_url)
    control = nginx_control(settings, plan.nginx_conf)
    # The baseline, nginx step included: what fails already and setup does not touch must
    # not roll back the change (``ProbeRun.outcome``).
    before = probe_server(options)
    if before.unprotected:
        return _refused(UNPROTECTED, progress)
    return apply_nginx(
        plan.nginx.changes,
        control,
        backups=settings.setup.backup_dir or default_backup_dir(),
        probe=doctor_probe(options, before),
        confirm_reload=confirm_reload,
        audit=audit,
        progress=progress,
        new_log=plan.nginx.new_token_log,
    )


def _refused(message: str, progress: Callable[[SetupProgress], None] | None) -> NginxApplyResult:
    event = SetupProgress(NginxStep.CHECK.value, "failed", f"refused, nothing written: {message}")
    if progress is not None:
        progress(event)
    return NginxApplyResult(
        result=NginxResult.REFUSED,
        steps=(event,),
        backup=None,
        failure=message,
        nginx_output=None,
        probe=None,
    )
