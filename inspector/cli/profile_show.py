"""``token-inspector profile show``: the profile, roles and privileges (and a token's fate)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from inspector.cli.profile_output import profile_lines
from inspector.cli.profile_steps import (
    EXIT_OK,
    CommandError,
    choose_token,
    config_of,
    connection_settings,
    emit,
    repository,
    schema_of,
)
from inspector.judge.engine import anchored_issuers, build_analyzer
from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege, OrdsRole
from inspector.judge.verdicts import Severity
from inspector.ords.errors import one_line
from inspector.ords.schema import SchemaAuthorization, schema_expectations, unreadable_note
from inspector.schema_version import SCHEMA_VERSION
from inspector.settings import Settings


def show_profile(args: argparse.Namespace) -> int:
    """``profile show``: print (or ``--json``) what the schema holds."""
    config = config_of(args)
    settings = connection_settings(args, config)
    if settings is None:
        raise CommandError("no database: give --dsn and --user (or [database] in the config)")
    schema = schema_of(args)
    with repository(settings, args) as repo:
        try:
            connected = repo.current_schema()
            profile = repo.get_profile(schema)
        except Exception as exc:
            raise CommandError(one_line(exc)) from exc
        roles: list[OrdsRole] | None = None
        privileges: list[OrdsPrivilege] | None = None
        try:
            roles = repo.roles()
            privileges = repo.privileges()
        except Exception as exc:  # costs the roles, never the profile
            emit(f"note: {unreadable_note(exc)}", err=True)
    judged = None
    if args.from_log or args.token:
        authorization = None
        if roles is not None and privileges is not None:
            if schema is None or schema == connected:
                authorization = SchemaAuthorization.of(roles, privileges)
            else:
                emit(
                    f"note: role and scope checks skipped: the ORDS roles read are "
                    f"{connected}'s, the profile is {schema}'s",
                    err=True,
                )
        judged = judge_under(args, config, profile, authorization)
    if args.json:
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "connected_schema": connected,
            "schema": schema or connected,
            "profile": asdict(profile) if profile else None,
            "roles": [r.name for r in roles] if roles is not None else None,
            "privileges": [asdict(p) for p in privileges] if privileges is not None else None,
        }
        if judged is not None:
            data["token"] = judged
        emit(json.dumps(data, indent=2, ensure_ascii=True))
        return EXIT_OK
    emit(f"JWT profile of {schema or connected} (connected as {connected}):")
    emit("\n".join(profile_lines(profile)))
    owner = f" of {connected}" if schema and schema != connected else ""
    if roles is None or privileges is None:
        emit(f"ORDS roles and privileges{owner}: (could not be read)")
        roles, privileges = [], []
    else:
        emit(f"ORDS roles{owner}: {', '.join(r.name for r in roles) or '(none)'}")
        emit(f"ORDS privileges{owner}:")
        if not privileges:
            emit("  (none)")
    for p in privileges:
        emit(f"  {p.name}" + (f" ({p.label})" if p.label else ""))
        emit(f"    roles:    {', '.join(p.roles) or '(none)'}")
        emit(f"    modules:  {', '.join(p.modules) or '(none)'}")
        emit(f"    patterns: {', '.join(p.patterns) or '(none)'}")
    if judged is not None:
        outcome = "PASSES" if judged["passes"] else "FAILS"
        emit(f"Token sha256:{judged['fingerprint']} from {judged['source']}:")
        emit(f"  {outcome} under this profile")
        for verdict in judged["errors"]:
            emit(f"  XX {verdict['code']}: {verdict['message']}")
    return EXIT_OK


def judge_under(
    args: argparse.Namespace,
    config: Settings,
    profile: JwtProfile | None,
    authorization: SchemaAuthorization | None,
) -> dict[str, Any]:
    """Run the analysis engine on the chosen token under ``profile`` (as ORDS would).

    What the schema says comes too: ``no-profile`` without a profile, and with
    ``authorization`` (None when unreadable) the role or scope checks against its ORDS
    roles and privileges.
    """
    analyzer = build_analyzer(config)
    anchors = anchored_issuers(config, analyzer.expectations)
    if profile is not None:
        anchors = (*anchors, profile.issuer)
        if analyzer.keys is not None:
            analyzer.keys.anchor(profile.issuer)
    chosen = choose_token(args, config, analyzer, anchors)
    expectations = analyzer.expectations.merged(schema_expectations(profile, authorization))
    report, verdicts = analyzer.with_expectations(expectations).analyze_token(
        chosen.token, at=chosen.at
    )
    errors = [v for v in verdicts if v.severity is Severity.ERROR]
    if args.allow_http_jwk_url:
        errors = [v for v in errors if v.code != "jwk-url-not-https"]
    return {
        "fingerprint": report.fingerprint,
        "source": chosen.source,
        "verified": report.verified,
        # In POOL mode ORDS judges by the pool's profile, whatever the schema has.
        "passes": (profile is not None or expectations.pool_mode) and not errors,
        "errors": [v.as_dict() for v in errors],
    }
