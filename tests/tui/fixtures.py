"""Fixed attempts and a list-backed session for deterministic UI tests.

The attempts are built from the contract types (``Attempt``, ``TokenReport``, ``Verdict``)
with fixed times, so snapshots do not depend on the engine's wording or on the clock.
Tests of the real pipeline use ``EngineSession`` instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from inspector.judge.attempt import Attempt, TokenReport
from inspector.judge.checks import check_status
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.verdicts import Severity, Verdict, outcome_of
from inspector.tui.session import (
    ApplyOutcome,
    ApplyPlan,
    DiffRow,
    Progress,
    SetupAsk,
    SetupEmit,
    SetupView,
)
from parsers.records import LogRecord, Source

NOW = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP_ID = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
ISS_V2 = f"https://login.microsoftonline.com/{TENANT}/v2.0"
JWKS_V2 = f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys"
RAW_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6Imsx" + "A" * 40 + ".payloadpart.signaturepart"


def fixed_clock() -> datetime:
    """The tests' "now"."""
    return NOW


def record(
    line: int,
    *,
    at: datetime,
    status: int,
    path: str = "/ords/finance_reporting/mcp/server",
    method: str = "POST",
    authorization: str | None = None,
    ua: str = "ChatGPT-User/1.0",
) -> LogRecord:
    """One log record as the parser would produce it."""
    return LogRecord(
        source=Source("/var/log/nginx/extended.log", line, line * 500),
        time=at,
        remote_addr="20.171.207.1",
        method=method,
        path=path,
        protocol="HTTP/1.1",
        status=status,
        user_agent=ua,
        authorization=authorization,
    )


def v(code: str, severity: Severity, message: str, fix: str = "") -> Verdict:
    """A verdict with a short explanation."""
    return Verdict(code, severity, message, f"Explanation of {code}.", fix or f"Fix {code}.")


def token(claims: Mapping[str, object], *, verified: bool | None = True) -> TokenReport:
    """A token report for ``claims``."""
    return TokenReport(
        fingerprint="0123abcd4567",
        kind="jws",
        idp="entra-v2" if claims.get("ver") == "2.0" else "entra-v1",
        header={"typ": "JWT", "alg": "RS256", "kid": "k1"},
        claims=claims,
        verified=verified,
        key_id="k1",
        jwks_uri=JWKS_V2,
        redacted="eyJhbGciOi…[sha256:0123abcd4567]",
    )


def v2_claims(**over: object) -> dict[str, object]:
    """Claims modelled on Microsoft's v2 access token example, times around NOW."""
    base: dict[str, object] = {
        "aud": APP_ID,
        "iss": ISS_V2,
        "iat": int((NOW - timedelta(minutes=19)).timestamp()),
        "nbf": int((NOW - timedelta(minutes=19)).timestamp()),
        "exp": int((NOW + timedelta(minutes=41)).timestamp()),
        "azp": "5d3b2b5c-0a1d-4bde-9d0a-2c7b6b6c1a11",
        "name": "Abe Lincoln",
        "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
        "preferred_username": "abeli@contoso.com",
        "roles": ["ORDSUsers"],
        "scp": "mcp:connect",
        "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ",
        "tid": TENANT,
        "ver": "2.0",
    }
    base.update(over)
    return base


def attempt(
    rec: LogRecord, tok: TokenReport | None, verdicts: tuple[Verdict, ...], client: str
) -> Attempt:
    """An attempt with its outcome derived from the verdicts.

    The server's status is compared with the verdicts by the analyzer's own step, so a
    401 for a token that passes every check is ``rejected-by-server``, as on the real
    screen (no expectations: nothing else judges it).
    """
    subject = None
    if tok is not None:
        subject = str(tok.claims.get("preferred_username") or tok.claims.get("upn") or "")
    verdicts += tuple(
        check_status(rec.status, verdicts, has_token=tok is not None, exp=Expectations())
    )
    return Attempt(rec, client, subject or None, tok, verdicts, outcome_of(verdicts))


def sample_attempts() -> list[Attempt]:
    """A first connection: no token, v1, Graph, wrong role, good v2 refused by the server
    (``rejected-by-server``), accepted."""
    bearer = f"Bearer {RAW_TOKEN}"
    t0 = NOW - timedelta(minutes=5)
    v1 = {
        **v2_claims(ver="1.0", iss=f"https://sts.windows.net/{TENANT}/"),
        "upn": "abeli@contoso.com",
    }
    graph = v2_claims(aud="00000003-0000-0000-c000-000000000000")
    wrong_role = v2_claims(roles=["Reader"])
    return [
        attempt(
            record(10, at=t0, status=401, ua="openai-mcp/1.0"),
            None,
            (v("no-token", Severity.ERROR, "401 without an Authorization header"),),
            "ChatGPT",
        ),
        attempt(
            record(14, at=t0 + timedelta(seconds=20), status=401, authorization=bearer),
            token(v1),
            (v("entra-v1-token", Severity.ERROR, "v1 token (iss https://sts.windows.net/…/)"),),
            "ChatGPT",
        ),
        attempt(
            record(18, at=t0 + timedelta(seconds=40), status=401, authorization=bearer),
            token(graph, verified=None),
            (v("graph-token", Severity.ERROR, "token for Microsoft Graph"),),
            "Claude",
        ),
        attempt(
            record(22, at=t0 + timedelta(seconds=60), status=401, authorization=bearer),
            token(wrong_role),
            (v("role-missing", Severity.ERROR, "roles lacks ORDSUsers (has Reader)"),),
            "Claude",
        ),
        attempt(
            record(26, at=t0 + timedelta(seconds=80), status=401, authorization=bearer),
            token(v2_claims()),
            (v("profile-issuer", Severity.INFO, f"a profile would need issuer {ISS_V2}"),),
            "ChatGPT",
        ),
        attempt(
            record(30, at=t0 + timedelta(seconds=120), status=200, authorization=bearer),
            token(v2_claims()),
            (),
            "ChatGPT",
        ),
    ]


@dataclass
class ListSession:
    """A session over a fixed list of attempts, with a scripted apply."""

    attempts: list[Attempt] = field(default_factory=sample_attempts)
    profile: JwtProfile | None = None
    demo: bool = False
    fail_apply: bool = False
    fail_items: bool = False
    fail_refresh: bool = False
    # "plan" or "apply": that setup call raises (the screen must show it, not crash).
    fail_setup: str | None = None
    setup_applied: int = 0
    # The questions the setup apply asked, with the answers (the engine's order and texts).
    setup_answers: list[tuple[str, bool]] = field(default_factory=list)
    # Steps the setup apply carried out (after a yes), in order.
    setup_done: list[str] = field(default_factory=list)
    applied: list[JwtProfile] = field(default_factory=list)
    title: str = "/var/log/nginx/extended.log"
    files: tuple[str, ...] = ("/var/log/nginx/extended.log",)

    def items(self, stop: threading.Event) -> Iterator[object]:
        if self.fail_items:
            raise OSError("disk on fire")
        yield from self.attempts

    def key_states(self) -> Mapping[str, str]:
        return {ISS_V2: "ok (2 keys)"}

    def refresh_keys(self) -> str:
        if self.fail_refresh:
            raise ConnectionError("IdP unreachable")
        return "keys refetched for 1 issuer"

    def database_state(self) -> str:
        return "in-memory stand-in (HR)"

    def current_profile(self) -> JwtProfile | None:
        return self.profile

    def plan(self, attempt: Attempt) -> ApplyPlan:
        assert attempt.token is not None
        claims = attempt.token.claims
        proposed = JwtProfile(
            issuer=str(claims["iss"]),
            audience=str(claims["aud"]),
            jwk_url=JWKS_V2,
            role_claim_name="/roles",
        )
        cur = self.profile
        diff = tuple(
            DiffRow(name, getattr(cur, name, None) if cur else None, getattr(proposed, name))
            for name in ("issuer", "audience", "jwk_url", "role_claim_name")
        )
        return ApplyPlan(
            current=cur,
            proposed=proposed,
            diff=diff,
            prechecks=("✔ the token passes under the proposed profile",),
            risks=() if attempt.token.verified else ("signature not verified",),
            plsql="begin\n  ords_security.create_jwt_profile(p_issuer => :issuer);\nend;\n/",
            verified=attempt.token.verified,
        )

    def apply(self, plan: ApplyPlan, progress: Progress) -> ApplyOutcome:
        progress("reading the current profile")
        progress("deleting the current profile")
        if self.fail_apply:
            progress("create failed: ORA-20001; restoring the previous profile")
            return ApplyOutcome(False, "create failed; previous profile restored")
        assert plan.proposed is not None
        self.profile = plan.proposed
        self.applied.append(plan.proposed)
        progress("created; read back matches")
        return ApplyOutcome(True, "profile applied and read back", profile=plan.proposed)

    def sql_script(self, attempt: Attempt) -> str:
        return "set define off\nbegin ords_security.delete_jwt_profile; end;\n/\n"

    def doctor(self, emit: Callable[[str, str, str], None]) -> None:
        emit("pass", "challenge-ok", "the 401 challenge names resource_metadata")
        emit("fail", "jwks-unreachable", "JWKS could not be fetched")

    def setup_plan(self) -> SetupView:
        if self.fail_setup == "plan":
            raise ConnectionError("MCP URL unreachable")
        text = "setup plan for https://mcp.example.com/ords/hr/mcp/server\n1. nginx\n+ location"
        return SetupView(text, handle="plan")

    def setup_apply(self, view: SetupView, emit: SetupEmit, ask: SetupAsk) -> ApplyOutcome:
        # The questions of inspector/cli/setup_parts.py and apply_nginx, in their order.
        steps = (
            ("Apply the ORDS role and privilege above?", "ords", "role and privilege set"),
            ("Write these nginx files and test them with nginx -t?", "nginx -t", "test passed"),
            ("Reload nginx now?", "reload", "nginx reloaded"),
        )
        for question, step, message in steps:
            answer = ask(question)
            self.setup_answers.append((question, answer))
            if not answer:
                return ApplyOutcome(False, f"{step}: declined")
            if self.fail_setup == "apply" and step == "reload":
                raise RuntimeError("reload failed")
            self.setup_done.append(step)
            emit(step, "ok", message)
        self.setup_applied += 1
        return ApplyOutcome(True, "nginx and ORDS set up", ("probe passed",))

    def close(self) -> None:
        pass
