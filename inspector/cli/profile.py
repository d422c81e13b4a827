"""``token-inspector profile show|sql|apply``: read and create the ORDS JWT profile.

``apply`` goes from "the connector's token showed up in the log" to "ORDS accepts it":
the newest verified token (or one from stdin) becomes a proposed profile, shown as a diff
with pre-checks, risks and the PL/SQL, confirmed, applied with restore on failure, read
back and audited. ``sql`` writes the same change as a script for a DBA; ``show`` prints the
profile, roles and privileges.

Testing aid (undocumented in --help): ``--dsn memory:`` or ``TOKEN_INSPECTOR_DB=memory``
uses the in-memory ORDS stand-in; ``--dsn memory:FILE`` keeps its state in a JSON file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from inspector.cli.options import (
    add_config_option,
    add_database_options,
    add_expectation_options,
    add_key_options,
    add_log_selection,
    add_output_options,
)
from inspector.judge.engine import anchored_issuers, build_analyzer, trusted_issuers
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile, OrdsPrivilege, OrdsRole
from inspector.ords.apply import ApplyResult, Progress, Result, apply_proposal
from inspector.ords.audit import AuditLog, default_audit_path
from inspector.ords.connect import open_repository
from inspector.ords.connection import ConnectionSettings, DatabaseSettingsError, settings_from
from inspector.ords.database import OrdsRepository
from inspector.ords.errors import one_line
from inspector.ords.plsql import check_identifier
from inspector.ords.proposal import (
    FORCE_UNVERIFIED_WARNING,
    Proposal,
    ProposalError,
    ProposalOptions,
    anchor_hint,
    check_with,
    propose,
    unanchored_warning,
)
from inspector.ords.schema import (
    SchemaAuthorization,
    read_authorization,
    schema_expectations,
    unreadable_note,
)
from inspector.ords.standin import InMemoryOrds
from inspector.private_files import OutputExistsError, replace_private, write_new
from inspector.settings import Config, ConfigError, load_config
from parsers.printable import printable
from parsers.redaction import redact_credential

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_RESTORE_FAILED = 0, 1, 2, 3
EPILOG = """\
exit status: 0 done (or nothing to change), 1 refused, declined or failed with the previous
profile restored, 2 usage, configuration or connection error, 3 failed and the previous
profile could NOT be restored (the message says what to run).
The password comes from ORACLE_PASSWORD or a prompt, never from the command line."""
# `user/password@host/service` is accepted by the driver as a DSN: refuse it, so a password
# never sits in argv, shell history or our messages.
_DSN_WITH_PASSWORD = re.compile(r"^[^@/\s()=]+/[^@\s]*@")


def _emit(text: str, *, err: bool = False) -> None:
    """Print one block of text with anything that could steer the terminal escaped.

    Values from tokens, fetched metadata or the database may hold controls, invisible
    characters or a lone surrogate (which no UTF-8 stream accepts): all shown as escapes.
    """
    print(printable(text, keep_newline=True), file=sys.stderr if err else sys.stdout)


class CommandError(Exception):
    """A clear one-line reason to stop, with the exit status to use."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- parser


def _common(
    parser: argparse.ArgumentParser, *, token_source: bool, proposal_options: bool = True
) -> None:
    add_config_option(parser)
    add_database_options(parser)
    parser.add_argument(
        "--schema",
        metavar="NAME",
        help="another REST-enabled schema (uses ORDS_SECURITY_ADMIN, needs "
        "ORDS_ADMINISTRATOR_ROLE; read from the DBA_ORDS_ views)",
    )
    add_output_options(parser)
    if not token_source:
        return
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--from-log",
        metavar="LOG",
        help="use the newest verified token in this access log",
    )
    source.add_argument(
        "--token",
        choices=["-"],
        metavar="-",
        help="read the token from standard input ('-' only: tokens never go on the command line)",
    )
    add_log_selection(parser, positional=False)
    add_key_options(parser)
    add_expectation_options(parser)
    parser.add_argument(
        "--allow-http-jwk-url",
        action="store_true",
        help="DEMO/LAB ONLY: accept an http:// JWK URL (real ORDS refuses it)",
    )
    if not proposal_options:
        return
    group = parser.add_argument_group("proposed profile")
    kind = group.add_mutually_exclusive_group()
    kind.add_argument(
        "--role-claim",
        metavar="POINTER",
        help="role-based profile with this JSON pointer (default /roles when the token has roles)",
    )
    kind.add_argument(
        "--scope-based", action="store_true", help="scope-based profile (scp names privileges)"
    )
    group.add_argument("--jwk-url", metavar="URL", help="p_jwk_url instead of the jwks_uri found")
    group.add_argument("--description", metavar="TEXT", help="p_description")


def register(subparsers: Any) -> None:
    """Add ``profile`` with its ``show``, ``sql`` and ``apply`` sub-commands."""
    parser = subparsers.add_parser(
        "profile",
        help="read the ORDS JWT profile, or create it from an observed token",
        description="Read the ORDS JWT profile, roles and privileges, or create the profile "
        "from a token seen in the access log.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="profile_command", metavar="ACTION")
    show = sub.add_parser(
        "show",
        help="current profile, roles, privileges, modules (with a token: does it pass?)",
    )
    _common(show, token_source=True, proposal_options=False)
    show.set_defaults(func=run_show)

    sql = sub.add_parser(
        "sql",
        help="a reviewable PL/SQL script for a DBA (no database needed)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(sql, token_source=True)
    sql.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write the script to a new file, mode 0600 (an existing file or link is refused)",
    )
    sql.add_argument(
        "--force",
        action="store_true",
        help="with -o: replace an existing FILE (a symbolic link there is replaced, not followed)",
    )
    sql.set_defaults(func=run_sql)

    apply = sub.add_parser(
        "apply",
        help="propose, check, confirm, apply with restore on failure, read back",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(apply, token_source=True)
    apply.add_argument("--dry-run", action="store_true", help="show the proposal, change nothing")
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    apply.add_argument(
        "--force-unverified",
        action="store_true",
        help="apply even if the token's signature did not verify or its issuer is not "
        "trusted (dangerous: see the warning it prints)",
    )
    apply.add_argument(
        "--audit-file",
        type=Path,
        metavar="FILE",
        help=f"JSON Lines audit trail (default {default_audit_path()})",
    )
    apply.set_defaults(func=run_apply)
    parser.set_defaults(func=lambda args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


# --------------------------------------------------------------------------- shared steps


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, explicit=args.config is not None)


def _settings(args: argparse.Namespace, config: Config) -> ConnectionSettings | None:
    dsn = getattr(args, "dsn", None)
    if dsn and _DSN_WITH_PASSWORD.match(dsn):
        raise CommandError("--dsn must not contain a password: use ORACLE_PASSWORD")
    return settings_from(args, config.section("database"))


@contextmanager
def _repository(settings: ConnectionSettings, args: argparse.Namespace) -> Iterator[OrdsRepository]:
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
            _emit(f"note: closing the connection failed: {one_line(exc)}", err=True)


def _schema(args: argparse.Namespace) -> str | None:
    if not args.schema:
        return None
    try:
        return check_identifier(args.schema)
    except ValueError as exc:
        raise CommandError(f"--schema: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Chosen:
    """The token to build a profile from, and where it came from."""

    token: str
    client: str | None
    source: str
    at: datetime | None


def _read_stdin_token(stream: TextIO) -> str:
    text = stream.read(65536).strip()
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    if not text or any(ch.isspace() for ch in text):
        raise CommandError("--token -: standard input must hold one token")
    return text


def _choose_token(
    args: argparse.Namespace, config: Config, analyzer: Any, anchors: tuple[str, ...] = ()
) -> _Chosen:
    if args.token is not None:  # argparse allows '-' only
        return _Chosen(_read_stdin_token(sys.stdin), None, "standard input", None)
    if args.from_log:
        return _newest_verified(args, config, analyzer, anchors)
    raise CommandError("give --from-log LOG or --token - (token on standard input)")


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A bearer token seen in the log, with why it is (or is not) the one to use."""

    attempt: Any
    token: str
    order: int
    # Lower is better: 0 verified, anchored, passing; 1 verified and anchored; 2 verified;
    # 3 anything else.
    tier: int
    reasons: tuple[str, ...]


_TIER_WHY = {
    0: "verified, from an anchored issuer, passing the expectations",
    1: "verified, from an anchored issuer",
    2: "verified (its issuer is not anchored)",
    3: "with a token (none verified)",
}


def _candidate(attempt: Any, token: str, order: int, anchors: tuple[str, ...]) -> _Candidate:
    from inspector.judge.verdicts import Severity

    report = attempt.token
    reasons: list[str] = []
    if report.verified is not True:
        reasons.append(
            "its signature is invalid"
            if report.verified is False
            else "its signature could not be checked"
        )
    iss = report.claims.get("iss")
    anchored = isinstance(iss, str) and iss in anchors
    if not anchored:
        reasons.append(f"issuer {str(iss)[:120]!r} is not anchored")
    errors = sorted({v.code for v in attempt.verdicts if v.severity is Severity.ERROR})
    if errors:
        reasons.append(f"fails {', '.join(errors[:4])}")
    if report.verified is not True:
        tier = 3
    elif not anchored:
        tier = 2
    else:
        tier = 1 if errors else 0
    return _Candidate(attempt, token, order, tier, tuple(reasons))


def _later(a: _Candidate, b: _Candidate) -> bool:
    """``a`` is newer than ``b``: by time when both have one, else by file order."""
    mine, theirs = a.attempt.record.time, b.attempt.record.time
    if mine is None or theirs is None or mine == theirs:
        return a.order > b.order
    return bool(mine > theirs)


def _newest_verified(
    args: argparse.Namespace, config: Config, analyzer: Any, anchors: tuple[str, ...] = ()
) -> _Chosen:
    """The newest token that verified, from an anchored issuer, passing the expectations.

    Failing that, the newest verified from an anchored issuer, then the newest verified,
    then the newest with a token. Says on stderr which it picked and why newer ones were
    skipped: a newer token from an unknown issuer must not silently become the profile.
    """
    from inspector.logs.follow import StartAt
    from inspector.logs.selection import (
        LogSelectionError,
        iter_records,
        select_logs,
        start_from_args,
    )
    from parsers.authorization import parse_authorization
    from parsers.records import LogRecord

    selection_args = argparse.Namespace(**vars(args))
    selection_args.logs = [args.from_log]
    try:
        selection = select_logs(selection_args, config)
        # The whole file by default; --last N reads only the end of a big log.
        start = start_from_args(args, default=StartAt("start"))
    except LogSelectionError as exc:
        raise CommandError(str(exc)) from None
    candidates: list[_Candidate] = []
    for item in iter_records(selection, start, follow=False, poll=False):
        if not isinstance(item, LogRecord) or not item.authorization:
            continue
        auth = parse_authorization(item.authorization)
        if not auth.is_bearer or not auth.credentials:
            continue
        attempt = analyzer.analyze(item)
        if attempt.token is None or attempt.token.kind != "jws":
            continue
        candidates.append(_candidate(attempt, auth.credentials, len(candidates), anchors))
    if not candidates:
        raise CommandError(f"{args.from_log}: no bearer token (JWT) found in the log")
    chosen = candidates[0]
    for cand in candidates[1:]:
        if cand.tier < chosen.tier or (cand.tier == chosen.tier and _later(cand, chosen)):
            chosen = cand
    rec = chosen.attempt.record
    when = rec.time.isoformat() if rec.time else "time unknown"
    source = f"{rec.source.file}:{rec.source.line}, {when}, {chosen.attempt.client}"
    _emit(f"using the token at {source}: the newest {_TIER_WHY[chosen.tier]}", err=True)
    skipped = [c for c in candidates if c is not chosen and _later(c, chosen)]
    for cand in skipped[-5:]:
        where = f"{cand.attempt.record.source.file}:{cand.attempt.record.source.line}"
        _emit(f"  skipped the newer token at {where}: {'; '.join(cand.reasons)}", err=True)
    if len(skipped) > 5:
        _emit(f"  (and {len(skipped) - 5} more newer tokens skipped)", err=True)
    return _Chosen(chosen.token, chosen.attempt.client, source, rec.time)


def _options(args: argparse.Namespace, config: Config, schema: str | None) -> ProposalOptions:
    return ProposalOptions(
        role_claim=args.role_claim,
        scope_based=args.scope_based,
        allowed_skew=args.allowed_skew,
        allowed_age=args.allowed_age,
        allow_http_jwk_url=args.allow_http_jwk_url,
        jwk_url=args.jwk_url,
        description=args.description,
        schema=schema,
        trusted_issuers=trusted_issuers(config, args),
        anchored_issuers=anchored_issuers(config, args),
    )


def _proposal(
    args: argparse.Namespace, config: Config, repo: OrdsRepository | None
) -> tuple[Proposal, _Chosen]:
    analyzer = build_analyzer(config, args)
    anchors = anchored_issuers(config, args, analyzer.expectations)
    if repo is not None:
        current = repo.get_profile(_schema(args))
        if current is not None:
            # The issuer ORDS already trusts is anchored: its keys may be discovered
            # wherever it lives, and a token from it needs no trust confirmation.
            anchors = (*anchors, current.issuer)
            if analyzer.keys is not None:
                analyzer.keys.anchor(current.issuer)
    chosen = _choose_token(args, config, analyzer, anchors)
    report, found = analyzer.analyze_token(chosen.token, at=chosen.at)
    if report.kind != "jws":
        raise CommandError(f"the token is not a signed JWT ({report.kind}): no profile from it")
    try:
        proposal = propose(
            repo,
            report,
            options=_options(args, config, _schema(args)),
            check=_check_with_schema(check_with(analyzer, chosen.token, at=chosen.at), repo, args),
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
    return proposal, chosen


def _check_with_schema(
    check: Callable[[Expectations], Any], repo: OrdsRepository | None, args: argparse.Namespace
) -> Callable[[Expectations], Any]:
    """Judge the token under the proposed profile with the schema's roles and privileges too,
    so "will this token pass" answers as ORDS would (a wrong role is caught before apply)."""
    if repo is None or _schema(args) is not None:
        # Another schema's profile: the USER_ORDS_* views describe only the connected one.
        return check
    try:
        facts = read_authorization(repo)
    except Exception as exc:  # costs the role and scope checks, never the proposal
        _emit(f"note: {unreadable_note(exc)}", err=True)
        return check
    known = facts.expectations()

    def judged(expectations: Expectations) -> Any:
        return check(expectations.merged(known))

    return judged


# --------------------------------------------------------------------------- rendering


def _profile_lines(profile: JwtProfile | None) -> list[str]:
    if profile is None:
        return ["  (no JWT profile)"]
    kind = "role-based" if profile.role_based else "scope-based"
    lines = [f"  {k:<16} {v}" for k, v in asdict(profile).items() if v is not None]
    return [*lines, f"  ({kind})"]


_MARK = {True: "ok ", False: "XX ", None: " - "}


def render_proposal(proposal: Proposal, chosen_token: str | None, show_token: bool) -> str:
    """The human view of a proposal: token, diff, pre-checks, risks, PL/SQL."""
    out: list[str] = []
    out.append(f"Token sha256:{proposal.token_fingerprint} ({proposal.signature_state()})")
    out.append(
        f"  issuer {printable(proposal.proposed.issuer)}"
        + ("" if proposal.anchored else " (NOT anchored)")
    )
    if proposal.source:
        out.append(f"  from {proposal.source}")
    if chosen_token is not None:
        shown = chosen_token if show_token else redact_credential(chosen_token)
        out.append(f"  token {printable(shown)}")
    target = proposal.schema or "the connected schema"
    out.append("")
    if proposal.current_known:
        out.append(f"Profile for {target}: current -> proposed ('*' = changes)")
    else:
        out.append("Proposed profile (no database: current profile unknown)")
    width = max(len(r.current) for r in proposal.diff) if proposal.current_known else 0
    for row in proposal.diff:
        mark = "*" if row.changed and proposal.current_known else " "
        if proposal.current_known:
            out.append(f" {mark} {row.parameter:<18} {row.current:<{width}}  ->  {row.proposed}")
        else:
            out.append(f"   {row.parameter:<18} {row.proposed}")
    out.append("")
    out.append("Pre-checks:")
    out += [f"  {_MARK[c.ok]}{c.text}" for c in proposal.prechecks]
    if proposal.will_pass is not None:
        verdict = "PASSES" if proposal.will_pass else "would still FAIL"
        out.append(f"  => this token {verdict} under the proposed profile")
    if proposal.risks:
        out.append("")
        out.append("Risks:")
        out += [f"  {'!!' if r.blocking else '! '} {r.message}" for r in proposal.risks]
    out.append("")
    out.append("PL/SQL (the tool binds the same values; this is the reviewable equivalent):")
    out += [f"  {line}" for line in proposal.plsql.rstrip().splitlines()]
    return "\n".join(out)


def _proposal_json(proposal: Proposal) -> dict[str, Any]:
    return {
        "token_fingerprint": proposal.token_fingerprint,
        "verified": proposal.verified,
        "issuer_anchored": proposal.anchored,
        "source": proposal.source,
        "schema": proposal.schema,
        "current": asdict(proposal.current) if proposal.current else None,
        "current_known": proposal.current_known,
        "proposed": asdict(proposal.proposed),
        "diff": [asdict(r) for r in proposal.diff],
        "prechecks": [asdict(c) for c in proposal.prechecks],
        "will_pass": proposal.will_pass,
        "risks": [asdict(r) for r in proposal.risks],
        "reached": {
            "privileges": list(proposal.reached_privileges),
            "modules": list(proposal.reached_modules),
            "patterns": list(proposal.reached_patterns),
        },
        "plsql": proposal.plsql,
    }


# --------------------------------------------------------------------------- commands


def _run(fn: Any, args: argparse.Namespace) -> int:
    try:
        status: int = fn(args)
        return status
    except CommandError as exc:
        _emit(f"token-inspector profile: {exc}", err=True)
        return exc.status
    except (ConfigError, DatabaseSettingsError) as exc:
        _emit(f"token-inspector profile: {exc}", err=True)
        return EXIT_USAGE


def run_show(args: argparse.Namespace) -> int:
    """``profile show``."""
    return _run(_show, args)


def _show(args: argparse.Namespace) -> int:
    config = _config(args)
    settings = _settings(args, config)
    if settings is None:
        raise CommandError("no database: give --dsn and --user (or [database] in the config)")
    schema = _schema(args)
    with _repository(settings, args) as repo:
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
            _emit(f"note: {unreadable_note(exc)}", err=True)
    judged = None
    if args.from_log or args.token:
        authorization = None
        if roles is not None and privileges is not None:
            if schema is None or schema == connected:
                authorization = SchemaAuthorization.of(roles, privileges)
            else:
                _emit(
                    f"note: role and scope checks skipped: the ORDS roles read are "
                    f"{connected}'s, the profile is {schema}'s",
                    err=True,
                )
        judged = _judge_under(args, config, profile, authorization)
    if args.json:
        data: dict[str, Any] = {
            "connected_schema": connected,
            "schema": schema or connected,
            "profile": asdict(profile) if profile else None,
            "roles": [r.name for r in roles] if roles is not None else None,
            "privileges": [asdict(p) for p in privileges] if privileges is not None else None,
        }
        if judged is not None:
            data["token"] = judged
        _emit(json.dumps(data, indent=2, ensure_ascii=True))
        return EXIT_OK
    _emit(f"JWT profile of {schema or connected} (connected as {connected}):")
    _emit("\n".join(_profile_lines(profile)))
    owner = f" of {connected}" if schema and schema != connected else ""
    if roles is None or privileges is None:
        _emit(f"ORDS roles and privileges{owner}: (could not be read)")
        roles, privileges = [], []
    else:
        _emit(f"ORDS roles{owner}: {', '.join(r.name for r in roles) or '(none)'}")
        _emit(f"ORDS privileges{owner}:")
        if not privileges:
            _emit("  (none)")
    for p in privileges:
        _emit(f"  {p.name}" + (f" ({p.label})" if p.label else ""))
        _emit(f"    roles:    {', '.join(p.roles) or '(none)'}")
        _emit(f"    modules:  {', '.join(p.modules) or '(none)'}")
        _emit(f"    patterns: {', '.join(p.patterns) or '(none)'}")
    if judged is not None:
        outcome = "PASSES" if judged["passes"] else "FAILS"
        _emit(f"Token sha256:{judged['fingerprint']} from {judged['source']}:")
        _emit(f"  {outcome} under this profile")
        for verdict in judged["errors"]:
            _emit(f"  XX {verdict['code']}: {verdict['message']}")
    return EXIT_OK


def _judge_under(
    args: argparse.Namespace,
    config: Config,
    profile: JwtProfile | None,
    authorization: SchemaAuthorization | None,
) -> dict[str, Any]:
    """Run the analysis engine on the chosen token under ``profile`` (as ORDS would).

    What the schema says comes too: ``no-profile`` without a profile, and with
    ``authorization`` (None when unreadable) the role or scope checks against its ORDS
    roles and privileges.
    """
    from inspector.judge.verdicts import Severity

    analyzer = build_analyzer(config, args)
    anchors = anchored_issuers(config, args, analyzer.expectations)
    if profile is not None:
        anchors = (*anchors, profile.issuer)
        if analyzer.keys is not None:
            analyzer.keys.anchor(profile.issuer)
    chosen = _choose_token(args, config, analyzer, anchors)
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
        "passes": profile is not None and not errors,
        "errors": [v.as_dict() for v in errors],
    }


def run_sql(args: argparse.Namespace) -> int:
    """``profile sql``."""
    return _run(_sql, args)


def _sql(args: argparse.Namespace) -> int:
    config = _config(args)
    settings = _settings(args, config)
    if settings is None:
        proposal, _ = _proposal(args, config, None)
    else:
        with _repository(settings, args) as repo:
            try:
                proposal, _ = _proposal(args, config, repo)
            except CommandError:
                raise
            except Exception as exc:
                raise CommandError(one_line(exc)) from exc
    for risk in proposal.risks:
        _emit(f"warning: {risk.message}", err=True)
    if args.output:
        _write_output(args.output, proposal.plsql, force=args.force)
        _emit(f"wrote {args.output}", err=True)
    else:
        sys.stdout.write(proposal.plsql)
    return EXIT_OK


def _write_output(path: Path, text: str, *, force: bool) -> None:
    """``-o FILE``: a new private file, or (``--force``) an atomic replacement."""
    try:
        if force:
            replace_private(path, text)
        else:
            write_new(path, text)
    except OutputExistsError as exc:
        what = "is a symbolic link" if exc.link else "exists"
        raise CommandError(f"{path} {what}: not overwritten (--force replaces it)") from None
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def run_apply(args: argparse.Namespace) -> int:
    """``profile apply``."""
    return _run(_apply, args)


def _confirm(question: str) -> bool:
    """Ask on the terminal (stdin may hold the token, so fall back to /dev/tty)."""
    if sys.stdin.isatty():
        try:
            return input(question).strip().lower() in ("y", "yes")
        except EOFError:
            return False
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write(question)
            tty.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        raise CommandError("confirmation needs a terminal: run it on one, or pass --yes") from None


def _unanchored_refusal(proposal: Proposal) -> str:
    """One line: the issuer is not anchored, and how to anchor it."""
    iss = proposal.proposed.issuer
    return (
        f"issuer {iss!r} is not anchored (not a trusted or expected issuer, nor the current "
        f"profile's); anyone who controls its keys could sign tokens ORDS accepts. "
        f"{anchor_hint(iss)}"
    )


def _print_progress(event: Progress) -> None:
    if event.status == "start":
        return
    _emit(f"  [{event.step.value}] {event.status}: {event.message}", err=True)


def _apply(args: argparse.Namespace) -> int:
    config = _config(args)
    settings = _settings(args, config)
    if settings is None:
        raise CommandError(
            "no database: give --dsn and --user, or use `token-inspector profile sql`"
        )
    with _repository(settings, args) as repo:
        try:
            proposal, chosen = _proposal(args, config, repo)
        except CommandError:
            raise
        except Exception as exc:
            raise CommandError(one_line(exc)) from exc
        if args.json and args.dry_run:
            _emit(json.dumps(_proposal_json(proposal), indent=2, ensure_ascii=True))
            return EXIT_OK
        if not args.json:
            _emit(render_proposal(proposal, chosen.token, args.show_token))
            _emit("")
        blocking = proposal.blocking_risks
        # An unanchored issuer alone may be accepted by a second confirmation on a terminal.
        confirmable = proposal.needs_trust_confirmation
        force = bool(args.force_unverified)
        if blocking and not force and not confirmable:
            for risk in blocking:
                _emit(f"refused: {risk.message}", err=True)
            _emit(
                "refused: the profile would trust what this token says; pass "
                "--force-unverified only if you know where it came from",
                err=True,
            )
        if blocking and force:
            if confirmable:
                _emit(f"WARNING: {unanchored_warning(proposal.proposed.issuer)}", err=True)
            else:
                _emit(f"WARNING: {FORCE_UNVERIFIED_WARNING}", err=True)
        if args.dry_run:
            if confirmable and not force:
                _emit(f"note: {_unanchored_refusal(proposal)}", err=True)
            _emit("dry run: nothing changed", err=True)
            return EXIT_OK
        if not proposal.changed:
            _emit("the profile is already exactly this one: nothing to do", err=True)
            return EXIT_OK
        if confirmable and not force:
            if args.yes:
                # Refused by the apply itself too, so the audit file records the attempt.
                refused = apply_proposal(
                    repo,
                    proposal,
                    audit=AuditLog(args.audit_file),
                    db_user=settings.user,
                    database=settings.dsn,
                )
                if args.json:
                    _report(refused, True)
                _emit(f"refused: {_unanchored_refusal(proposal)}", err=True)
                return EXIT_FAILED
            if not _confirm("Apply this profile? [y/N] "):
                _emit("not applied", err=True)
                return EXIT_FAILED
            _emit(f"WARNING: {unanchored_warning(proposal.proposed.issuer)}", err=True)
            question = (
                f"Trust issuer {proposal.proposed.issuer!r}? ORDS will accept every token "
                "it signs. Type yes to trust it [y/N] "
            )
            if not _confirm(printable(question)):
                _emit("not applied", err=True)
                return EXIT_FAILED
            force = True
        elif not (blocking and not force) and not args.yes:
            if not _confirm("Apply this profile? [y/N] "):
                _emit("not applied", err=True)
                return EXIT_FAILED
            if blocking and not _confirm("The token is NOT verified/trusted. Really? [y/N] "):
                _emit("not applied", err=True)
                return EXIT_FAILED
        result = apply_proposal(
            repo,
            proposal,
            force_unverified=force,
            progress=None if args.json else _print_progress,
            audit=AuditLog(args.audit_file),
            db_user=settings.user,
            database=settings.dsn,
        )
    return _report(result, args.json)


def _report(result: ApplyResult, as_json: bool) -> int:
    status = {
        Result.APPLIED: EXIT_OK,
        Result.UNCHANGED: EXIT_OK,
        Result.REFUSED: EXIT_FAILED,
        Result.FAILED_UNCHANGED: EXIT_FAILED,
        Result.FAILED_RESTORED: EXIT_FAILED,
        Result.FAILED_RESTORE_FAILED: EXIT_RESTORE_FAILED,
    }[result.result]
    if as_json:
        _emit(
            json.dumps(
                {
                    "result": result.result.value,
                    "previous": asdict(result.previous) if result.previous else None,
                    "requested": asdict(result.requested),
                    "read_back": asdict(result.read_back) if result.read_back else None,
                    "failure": result.failure,
                    "restore": result.restore,
                    "warnings": list(result.warnings),
                    "steps": [
                        {"step": e.step.value, "status": e.status, "message": e.message}
                        for e in result.steps
                    ],
                },
                indent=2,
                ensure_ascii=True,
            )
        )
        return status
    for warning in result.warnings:
        already = (FORCE_UNVERIFIED_WARNING, unanchored_warning(result.requested.issuer))
        if warning not in already:
            _emit(f"warning: {warning}", err=True)
    if result.ok:
        _emit(f"{result.result.value}: the profile now reads back as:")
        _emit("\n".join(_profile_lines(result.final)))
        return status
    _emit(f"{result.result.value}: {result.failure}", err=True)
    if result.restore:
        _emit(f"restore: {result.restore}", err=True)
    if result.restore_script:
        _emit("run this to restore the previous profile by hand:", err=True)
        _emit(result.restore_script, err=True)
    return status
