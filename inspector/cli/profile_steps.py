"""Steps ``profile show``, ``sql`` and ``apply`` share: configuration, connection, the
token to start from, the proposal.

The token is read from standard input or chosen in a log (``inspector.judge.token_choice``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TextIO

from inspector.cli.configure import settings_from_args
from inspector.judge.analyzer import Analyzer
from inspector.judge.attempt import TokenReport
from inspector.judge.engine import anchored_issuers, build_analyzer
from inspector.judge.expectations import Expectations
from inspector.judge.token_choice import ChosenToken, newest_verified
from inspector.logs.follow import StartAt
from inspector.logs.selection import iter_records, select_logs, start_from
from inspector.ords.connect import open_repository
from inspector.ords.connection import ConnectionSettings, settings_from
from inspector.ords.database import (
    DBA_VIEWS_SINCE,
    JwtApi,
    OrdsRepository,
    jwt_api_for_version,
    parse_ords_version,
)
from inspector.ords.errors import one_line
from inspector.ords.plsql import check_identifier
from inspector.ords.proposal import (
    Proposal,
    ProposalError,
    ProposalOptions,
    check_with,
    propose,
)
from inspector.ords.schema import read_authorization, unreadable_note
from inspector.ords.standin import InMemoryOrds
from inspector.settings import InspectorError, Settings
from parsers.printable import printable

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_RESTORE_FAILED = 0, 1, 2, 3
# `user/password@host/service` is accepted by the driver as a DSN: refuse it, so a password
# never sits in argv, shell history or our messages.
_DSN_WITH_PASSWORD = re.compile(r"^[^@/\s()=]+/[^@\s]*@")


def emit(text: str, *, err: bool = False) -> None:
    """Print one block of text with anything that could steer the terminal escaped.

    Values from tokens, fetched metadata or the database may hold controls, invisible
    characters or a lone surrogate (which no UTF-8 stream accepts): all shown as escapes.
    """
    print(printable(text, keep_newline=True), file=sys.stderr if err else sys.stdout)


class CommandError(InspectorError):
    """A clear one-line reason to stop, with the exit status to use (the CLI's one error
    path in ``inspector.cli.main.dispatch`` prints it)."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def config_of(args: argparse.Namespace) -> Settings:
    """The settings: flags over the configuration files."""
    return settings_from_args(args)


def connection_settings(args: argparse.Namespace, config: Settings) -> ConnectionSettings | None:
    dsn = config.database.dsn
    if dsn and _DSN_WITH_PASSWORD.match(dsn):
        raise CommandError("--dsn must not contain a password: use ORACLE_PASSWORD")
    return settings_from(config.database)


@contextmanager
def repository(settings: ConnectionSettings, args: argparse.Namespace) -> Iterator[OrdsRepository]:
    try:
        repo = open_repository(settings)
    except Exception as exc:
        raise CommandError(f"cannot connect to {settings.described}: {one_line(exc)}") from exc
    if isinstance(repo, InMemoryOrds) and getattr(args, "allow_http_jwk_url", False):
        repo.allow_http_jwk_url = True
    try:
        yield repo
    finally:
        try:
            repo.close()
        except Exception as exc:  # closing a broken session must not mask the real outcome
            emit(f"note: closing the connection failed: {one_line(exc)}", err=True)


def schema_of(args: argparse.Namespace) -> str | None:
    if not args.schema:
        return None
    try:
        return check_identifier(args.schema)
    except ValueError as exc:
        raise CommandError(f"--schema: {exc}") from None


def read_stdin_token(stream: TextIO) -> str:
    text = stream.read(65536).strip()
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    if not text or any(ch.isspace() for ch in text):
        raise CommandError("--token -: standard input must hold one token")
    return text


def choose_token(
    args: argparse.Namespace, config: Settings, analyzer: Analyzer, anchors: tuple[str, ...] = ()
) -> ChosenToken:
    """The token on standard input (``--token -``), or the best one in ``--from-log``."""
    if args.token is not None:  # argparse allows '-' only
        return ChosenToken(read_stdin_token(sys.stdin), None, "standard input", None)
    if args.from_log:
        return _from_log(args, config, analyzer, anchors)
    raise CommandError("give --from-log LOG or --token - (token on standard input)")


def _from_log(
    args: argparse.Namespace, config: Settings, analyzer: Analyzer, anchors: tuple[str, ...]
) -> ChosenToken:
    """The newest verified token in ``--from-log``; says on stderr which and why."""
    logs = replace(config.logs, paths=(str(args.from_log),))
    selection = select_logs(logs)
    # The whole file by default; --last N reads only the end of a big log.
    start = start_from(logs, default=StartAt("start"))
    records = iter_records(selection, start, follow=False, poll=False)
    found = newest_verified(records, analyzer, anchors)
    if found is None:
        raise CommandError(f"{args.from_log}: no bearer token (JWT) found in the log")
    chosen, notes = found
    for note in notes:
        emit(note, err=True)
    return chosen


def proposal_options(
    args: argparse.Namespace, config: Settings, schema: str | None
) -> ProposalOptions:
    return ProposalOptions(
        role_claim=args.role_claim,
        scope_based=args.scope_based,
        allowed_skew=args.allowed_skew,
        allowed_age=args.allowed_age,
        allow_http_jwk_url=args.allow_http_jwk_url,
        jwk_url=config.ords.jwk_url,
        description=args.description,
        schema=schema,
        trusted_issuers=config.keys.trusted_issuers,
        anchored_issuers=anchored_issuers(config),
        audience=config.expect.audience,
        jwt_api=ords_version_api(args),
    )


def ords_version_api(args: argparse.Namespace) -> JwtApi | None:
    """The package ``--ords-version`` implies (``None`` without it: detected or picked at
    run time); refused before 23.3 (no JWT profiles) and for ``--schema`` before 24.4 (the
    script reads the DBA_ORDS_ views), since the script would fail there."""
    text = getattr(args, "ords_version", None)
    if text is None:
        return None
    try:
        version = parse_ords_version(text)
    except ValueError as exc:
        raise CommandError(f"--ords-version: {exc}") from None
    api = jwt_api_for_version(version)
    if api is None:
        raise CommandError(f"--ords-version {text}: JWT profiles need ORDS 23.3 or later")
    if version < DBA_VIEWS_SINCE and getattr(args, "schema", None):
        raise CommandError(
            f"--ords-version {text}: --schema reads the DBA_ORDS_ views, which exist from "
            "ORDS 24.4 (connect as the schema itself)"
        )
    return api


def make_proposal(
    args: argparse.Namespace, config: Settings, repo: OrdsRepository | None
) -> tuple[Proposal, ChosenToken]:
    proposal, chosen, _ = proposal_with_report(args, config, repo)
    return proposal, chosen


def proposal_with_report(
    args: argparse.Namespace, config: Settings, repo: OrdsRepository | None
) -> tuple[Proposal, ChosenToken, TokenReport]:
    """As :func:`make_proposal`, with the chosen token's report (its claims, whether it
    verified) for callers that plan from what the token says (``setup``)."""
    analyzer = build_analyzer(config)
    anchors = anchored_issuers(config, analyzer.expectations)
    if repo is not None:
        current = repo.get_profile(schema_of(args))
        if current is not None:
            # The issuer ORDS already trusts is anchored: its keys may be discovered
            # wherever it lives, and a token from it needs no trust confirmation.
            anchors = (*anchors, current.issuer)
            if analyzer.keys is not None:
                analyzer.keys.anchor(current.issuer)
    chosen = choose_token(args, config, analyzer, anchors)
    report, found = analyzer.analyze_token(chosen.token, at=chosen.at)
    if report.kind != "jws":
        raise CommandError(f"the token is not a signed JWT ({report.kind}): no profile from it")
    try:
        proposal = propose(
            repo,
            report,
            options=proposal_options(args, config, schema_of(args)),
            check=check_with_schema(check_with(analyzer, chosen.token, at=chosen.at), repo, args),
            client=chosen.client,
            source=chosen.source,
        )
    except ProposalError as exc:
        extra = f" {exc.explanation}" if exc.explanation else ""
        if exc.code == "no-jwks-uri":
            # Say why the keys were not found (e.g. an unanchored issuer on loopback).
            why = [v.message for v in found if v.code in ("jwks-unavailable", "untrusted-issuer")]
            extra += f" Keys: {why[0]}" if why else ""
        raise CommandError(
            f"cannot propose a profile ({exc.code}): {exc.message}.{extra}"
        ) from None
    return proposal, chosen, report


def check_with_schema(
    check: Callable[[Expectations], Any], repo: OrdsRepository | None, args: argparse.Namespace
) -> Callable[[Expectations], Any]:
    """Judge the token under the proposed profile with the schema's roles and privileges too,
    so "will this token pass" answers as ORDS would (a wrong role is caught before apply)."""
    if repo is None or schema_of(args) is not None:
        # Another schema's profile: the USER_ORDS_* views describe only the connected one.
        return check
    try:
        facts = read_authorization(repo)
    except Exception as exc:  # costs the role and scope checks, never the proposal
        emit(f"note: {unreadable_note(exc)}", err=True)
        return check
    known = facts.expectations()

    def judged(expectations: Expectations) -> Any:
        return check(expectations.merged(known))

    return judged


def guarded(fn: Any, args: argparse.Namespace) -> int:
    """Run one profile sub-command (failures are ``InspectorError``s: the CLI reports them)."""
    status: int = fn(args)
    return status
