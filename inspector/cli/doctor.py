"""``token-inspector doctor URL``: check the discovery chain a connector walks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector.cli.configure import settings_from_args
from inspector.cli.help import HelpFormatter, examples
from inspector.cli.options import (
    add_config_option,
    add_database_options,
    add_key_options,
    add_ords_config_options,
)
from inspector.doctor.model import DoctorOptions, Status, StepReport
from inspector.doctor.report import HTTP_BANNER, finding_lines, render_json, step_header
from inspector.doctor.runner import run_doctor
from inspector.doctor.settings import doctor_values
from inspector.judge.engine import anchored_issuers, key_store_factory, ords_config_from
from inspector.judge.ords_objects import JwtProfile
from inspector.ords.connect import open_repository
from inspector.ords.connection import settings_from
from inspector.ords.schema import SchemaAuthorization, read_authorization
from inspector.settings import MCP_REVISIONS, ConfigError, DatabaseSettings, url_problem

EPILOG = examples(
    "token-inspector doctor https://mcp.example.com/ords/hr/mcp/server",
    "token-inspector doctor https://mcp.example.com/ords/hr/mcp/server --dsn db_high "
    "--user HR --log /var/log/nginx/extended.log",
    "token-inspector doctor --json   # the URL from [doctor] url in the config",
    notes="Steps: 1 the 401 challenge, 2 protected-resource metadata, 3 authorization-server "
    "metadata, 4 JWKS, 5 ORDS profile (with --dsn) and newest tokens (with --log), 6 local "
    "nginx configuration. Exit status: 0 nothing failed, 1 a check failed, 2 usage error. "
    "'token-inspector rules CODE' explains a finding code.",
)


def register(subparsers: Any) -> None:
    """Add the ``doctor`` sub-command."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the whole discovery chain a connector walks",
        description="Walk the steps a ChatGPT or Claude connector walks against the MCP "
        "endpoint URL (401 challenge, protected-resource metadata, authorization server, "
        "JWKS), compare the ORDS profile, and check the local nginx configuration.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "url",
        nargs="?",
        metavar="URL",
        help="the MCP endpoint, e.g. https://host/ords/s/m/mcp (default: [doctor] url)",
    )
    parser.add_argument(
        "--allow-http",
        action="store_true",
        help="LAB/TEST ONLY: accept plain http (jwks_uri, metadata) as a warning, not a failure",
    )
    parser.add_argument(
        "--idp",
        choices=("auto", "entra", "generic"),
        default=None,
        help="identity provider family for scope checks (default auto: recognise Entra ID)",
    )
    parser.add_argument(
        "--mcp-revision",
        choices=MCP_REVISIONS,
        default=None,
        help="MCP specification revision to judge against (default: [doctor] mcp_revision, "
        f"else the newest, {MCP_REVISIONS[0]})",
    )
    parser.add_argument(
        "--log",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="access log: check the newest attempts' tokens against profile and metadata",
    )
    parser.add_argument("--nginx-conf", type=Path, metavar="PATH", help="nginx configuration file")
    parser.add_argument("--no-nginx", action="store_true", help="skip the local nginx checks")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="show fixes for every check")
    parser.add_argument("--ascii", action="store_true", help="ASCII marks instead of ✓ ! ✗")
    # The same key flags as every command (--http-timeout among them): the --log token
    # checks verify signatures exactly as scan would.
    add_key_options(parser)
    add_database_options(parser)
    add_ords_config_options(parser)
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks; 0 when nothing failed, 1 when something did, 2 on usage errors."""
    settings = settings_from_args(args)
    loader, authorization = _schema_loaders(settings.database)
    url = settings.doctor.url
    if url is None:
        raise ConfigError("give the MCP endpoint URL (or set [doctor] url in the config file)")
    problem = url_problem(url)
    if problem is not None:
        raise ConfigError(problem)
    options = DoctorOptions(
        url=url,
        profile_loader=loader,
        authorization_loader=authorization,
        logs=tuple(args.log),
        nginx_conf=settings.logs.nginx_conf,
        check_nginx=not args.no_nginx,
        # Tokens from --log are verified with keys from [keys], as every command does.
        key_store=key_store_factory(settings.keys),
        # URLs the servers hand out are contacted under the key-discovery address policy.
        anchored_issuers=anchored_issuers(settings),
        allow_private=settings.keys.allow_private_issuers,
        ords_config=ords_config_from(settings.ords),
        **doctor_values(settings.doctor),
    )
    if args.json:
        report = run_doctor(options)
        sys.stdout.write(render_json(report))
        return 1 if report.failed else 0
    if options.allow_http:
        print(HTTP_BANNER, file=sys.stderr)
    print(f"doctor {url} (MCP {options.mcp_revision})")

    def show(event: object) -> None:
        if isinstance(event, StepReport):
            print()
            print(step_header(event, ascii_only=args.ascii))
            for finding in event.findings:
                for line in finding_lines(finding, ascii_only=args.ascii, verbose=args.verbose):
                    print(line)
            sys.stdout.flush()

    report = run_doctor(options, show)
    fails = len(report.codes(Status.FAIL))
    warns = len(report.codes(Status.WARN))
    print()
    print(f"{fails} failed, {warns} warning(s)" + (" — see the fixes above" if fails else ""))
    return 1 if report.failed else 0


def _schema_loaders(
    database: DatabaseSettings,
) -> tuple[Callable[[], JwtProfile | None] | None, Callable[[], SchemaAuthorization] | None]:
    """Functions reading the profile, then the roles and privileges, or (None, None).

    One connection reads both: the roles are read with the profile and kept (or the
    error reading them) for the second function.
    """
    settings = settings_from(database)
    if settings is None:
        return None, None
    read: list[SchemaAuthorization | Exception] = []

    def load() -> JwtProfile | None:
        repository = open_repository(settings)
        try:
            profile = repository.get_profile()
            try:
                read.append(read_authorization(repository))
            except Exception as exc:  # only the role and scope checks depend on it
                read.append(exc)
            return profile
        finally:
            repository.close()

    def authorization() -> SchemaAuthorization:
        if not read:
            raise RuntimeError("the profile was not read")
        found = read[-1]
        if isinstance(found, Exception):
            raise found
        return found

    return load, authorization
