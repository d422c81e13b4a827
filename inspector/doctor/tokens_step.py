"""Step 5 with ``--log``: the newest attempts' tokens, judged by the analyzer.

No claim is checked here: the analyzer judges each token against what ORDS will enforce
(the profile, else the authorization server's metadata) and, with a database, what the
schema says (no profile, its ORDS roles and privileges); its verdicts become findings
named ``token-<verdict code>``. Tokens are identified by fingerprint only.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from inspector.doctor.authorization_server import AuthorizationServer, metadata_issuer
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.judge.analyzer import Analyzer
from inspector.judge.attempt import Attempt
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.verdicts import Severity
from inspector.keys.store import KeyStore
from inspector.logs.follow import FollowEvent, StartAt
from inspector.logs.selection import LogSelectionError, iter_records, select_logs
from inspector.settings import LogSettings
from parsers.records import LogRecord

# Lines read from the end of each log to find the newest bearer attempts.
TAIL_LINES = 5000

# Follower events meaning a log given with --log cannot be read at all.
_UNREADABLE = frozenset({"waiting", "permission", "error"})

# Verdicts about the profile or metadata themselves, already judged in steps 3 and 5 under
# the same code: one fact, one finding.
_JUDGED_ELSEWHERE = frozenset({"jwk-url-not-https", "no-profile"})

_STATUS = {Severity.ERROR: Status.FAIL, Severity.WARN: Status.WARN, Severity.INFO: Status.PASS}


@dataclass(frozen=True, slots=True)
class _Newest:
    records: tuple[LogRecord, ...]
    problem: str | None = None


def expectations_for(
    profile: JwtProfile | None,
    server: AuthorizationServer | None,
    schema: Expectations | None = None,
) -> Expectations:
    """What ORDS will enforce: the profile where there is one, else the IdP's metadata.

    ``schema`` is what a connected database says (``schema_expectations``): it carries
    the profile itself, or that there is none, and the ORDS roles and privileges.
    """
    from_metadata = Expectations()
    if server is not None:
        from_metadata = Expectations(
            issuer=metadata_issuer(server), jwk_url=server.jwks_uri
        ).with_origin("metadata")
    if schema is not None:
        return from_metadata.merged(schema)
    if profile is None:
        return from_metadata
    return from_metadata.merged(Expectations.from_profile(profile))


def _newest_bearer_records(options: DoctorOptions) -> _Newest:
    logs = LogSettings(
        paths=tuple(dict.fromkeys(str(p) for p in options.logs)),
        nginx_conf=options.nginx_conf,
        log_format=options.log_format,
    )
    try:
        selection = select_logs(logs)
    except LogSelectionError as exc:
        return _Newest((), str(exc))
    found: list[LogRecord] = []
    problems: list[str] = []
    records = iter_records(selection, StartAt("last", TAIL_LINES), follow=False, poll=False)
    try:
        for item in records:
            if isinstance(item, LogRecord):
                if _is_bearer(item.authorization):
                    found.append(item)
            elif isinstance(item, FollowEvent) and item.kind in _UNREADABLE:
                problems.append(item.message)
    finally:
        records.close()
    if problems and not found:
        return _Newest((), "; ".join(problems))
    return _Newest(tuple(found[-options.newest_attempts :]))


def _is_bearer(value: str | None) -> bool:
    return value is not None and value.lower().startswith("bearer ")


def check_tokens(
    options: DoctorOptions,
    profile: JwtProfile | None,
    server: AuthorizationServer | None,
    schema: Expectations | None = None,
) -> Generator[Finding]:
    """Judge the newest distinct bearer tokens in the logs with the analyzer.

    ``schema``: what the database says, when one was read (see ``expectations_for``).
    """
    newest = _newest_bearer_records(options)
    if newest.problem is not None:
        yield Finding(
            "token-log-unusable",
            Status.FAIL,
            "the log given with --log cannot be read or parsed",
            newest.problem,
            "check the path and permissions, or give the format (--nginx-conf)",
        )
        return
    if not newest.records:
        yield Finding(
            "token-none-in-log",
            Status.WARN,
            "no request with a bearer token in the newest lines: no connector got a token "
            "yet (look at steps 1-4) or the log does not record $http_authorization",
            ", ".join(str(p) for p in options.logs),
            "connect the connector once, then run doctor again",
        )
        return
    expectations = expectations_for(profile, server, schema)
    if options.ords_config is not None:
        # ORDS's own settings (--ords-config) judge the tokens too (ords-* verdicts).
        expectations = expectations.with_ords_config(options.ords_config)
    if options.key_store is not None:
        keys = options.key_store(expectations)
    else:
        trusted = [expectations.issuer] if expectations.issuer else []
        keys = KeyStore(trusted_issuers=trusted, timeout=options.timeout)
    analyzer = Analyzer(keys, expectations)
    seen: set[str] = set()
    for record in reversed(newest.records):
        attempt = analyzer.analyze(record)
        if attempt.token is None or attempt.token.fingerprint in seen:
            continue
        seen.add(attempt.token.fingerprint)
        yield from _findings(attempt, "the profile" if profile else "the metadata")


def _findings(attempt: Attempt, against: str) -> Generator[Finding]:
    token = attempt.token
    assert token is not None
    where = f"{attempt.record.source.file}:{attempt.record.source.line}"
    label = f"token sha256:{token.fingerprint} ({attempt.client}, {where})"
    problems = [
        v
        for v in attempt.verdicts
        if v.severity is not Severity.INFO and v.code not in _JUDGED_ELSEWHERE
    ]
    if not problems:
        yield Finding(
            "token-ok",
            Status.PASS,
            f"a recent token passes every check against {against}",
            label,
        )
        return
    for verdict in problems:
        code = verdict.code if verdict.code.startswith("token-") else f"token-{verdict.code}"
        yield Finding(code, _STATUS[verdict.severity], verdict.message, label, verdict.fix or None)
