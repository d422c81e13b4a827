"""What ``setup`` starts from: settings, the facts (flags, a token, what doctor sees), the
probe's options, and the JWT profile proposal when a token was given."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from inspector.cli.profile_steps import proposal_with_report
from inspector.doctor.model import DoctorOptions
from inspector.doctor.settings import doctor_values
from inspector.judge.engine import anchored_issuers
from inspector.judge.token_choice import ChosenToken
from inspector.ords.database import OrdsRepository
from inspector.ords.proposal import Proposal
from inspector.settings import Settings
from inspector.setup.facts import FactInputs, Observed, ObservedToken, SetupFacts, derive_facts
from inspector.setup.nginx_control import NginxControl
from inspector.setup.nginx_plan import NginxPlanOptions
from inspector.setup.plan import PARTS, OrdsChoices, SetupPlan, build_plan
from inspector.setup.probe import ProbeRun, probe_server


@dataclass(frozen=True, slots=True)
class Start:
    """Everything the plan is built from."""

    config: Settings
    facts: SetupFacts
    probe_options: DoctorOptions
    seen: ProbeRun | None
    proposal: Proposal | None
    chosen: ChosenToken | None


def parts_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The parts to plan (``--only``, else all three), in the order they are applied."""
    only = set(args.only or ())
    return tuple(p for p in PARTS if not only or p in only)


def probe_options(config: Settings, url: str) -> DoctorOptions:
    """doctor's options for probing ``url``: its address policy, ``allow_http``, timeout."""
    return DoctorOptions(
        url=url,
        nginx_conf=config.logs.nginx_conf,
        anchored_issuers=anchored_issuers(config),
        allow_private=config.keys.allow_private_issuers,
        **doctor_values(config.doctor),
    )


def start(args: argparse.Namespace, config: Settings, repo: OrdsRepository | None) -> Start:
    """The facts, doctor's observation (unless ``--offline``) and the profile proposal."""
    url = config.doctor.url
    proposal = chosen = None
    token = None
    if args.from_log or args.token:
        proposal, chosen, report = proposal_with_report(args, config, repo)
        # Only a token whose issuer is anchored may name the authorization server nginx
        # advertises: anyone can sign a token that verifies against their own keys.
        usable = report.verified is True and proposal.anchored
        token = ObservedToken(report.claims, usable, chosen.source, report.jwks_uri)
    inputs = FactInputs(
        mcp_url=url,
        issuer=args.issuer,
        scopes=tuple(args.scope),
        role=args.role,
        idp=config.doctor.idp,
        allow_http=config.doctor.allow_http,
    )
    # The URL is checked before anything is requested from it.
    derive_facts(inputs, Observed(token=token))
    assert url is not None  # derive_facts refused a missing URL
    options = probe_options(config, url)
    seen = None
    if not args.offline:
        seen = probe_server(replace(options, check_nginx=False))
    observed = replace(seen.observed(), token=token) if seen is not None else Observed(token=token)
    facts = derive_facts(inputs, observed)
    return Start(config, facts, options, seen, proposal, chosen)


def plan_for(
    args: argparse.Namespace, config: Settings, begun: Start, repo: OrdsRepository | None
) -> SetupPlan:
    """The plan of every part asked for, from ``begun``'s facts and the flags."""
    return build_plan(
        begun.facts,
        parts_of(args),
        nginx_conf=config.logs.nginx_conf,
        nginx_options=NginxPlanOptions(
            snippet_dir=args.snippet_dir or config.setup.snippet_dir,
            token_log=args.token_log or config.setup.token_log,
            full_tokens=bool(args.full_token_log),
            headers_more_module=args.headers_more_module,
        ),
        repo=repo,
        ords=OrdsChoices(privilege=args.privilege, module=args.module),
        profile=begun.proposal,
    )


def nginx_control(config: Settings, conf: Path) -> NginxControl:
    """How nginx is tested and reloaded: ``[setup]``'s commands, else ``nginx -t -c CONF``
    and ``nginx -s reload -c CONF`` with ``[setup] nginx`` (or the one on the PATH)."""
    usual = NginxControl.for_config(conf, binary=config.setup.nginx)
    return NginxControl(
        test=config.setup.test_command or usual.test,
        reload=config.setup.reload_command or usual.reload,
        config=conf,
    )
