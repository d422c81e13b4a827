"""Running the steps in order, streaming findings as they are made.

Each step is a generator that yields findings and returns what the next step needs;
a step whose input is missing is skipped with a reason, and an unexpected exception in
one step becomes a ``doctor-internal-error`` finding instead of ending the run.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace
from typing import TypeVar

from inspector.doctor.authorization_server import (
    AuthorizationServer,
    check_authorization_server,
    metadata_issuer,
)
from inspector.doctor.challenge import check_challenge
from inspector.doctor.jwks_step import check_jwks
from inspector.doctor.model import DoctorOptions, DoctorReport, Finding, Status, StepReport
from inspector.doctor.nginx_step import check_nginx
from inspector.doctor.probe import reach_of
from inspector.doctor.profile_step import check_profile
from inspector.doctor.resource_metadata import check_resource_metadata
from inspector.doctor.urls import origin_of
from inspector.judge.rules import printable
from parsers.redaction import redact_text

T = TypeVar("T")

Event = Finding | StepReport

STEPS = (
    ("challenge", "401 challenge"),
    ("resource-metadata", "Protected-resource metadata"),
    ("authorization-server", "Authorization server"),
    ("jwks", "Signing keys (JWKS)"),
    ("profile", "ORDS profile and tokens"),
    ("nginx", "Local nginx"),
)


# Observed values come from the servers being diagnosed: escape control characters so a
# hostile header cannot drive the terminal, and cap lengths so one cannot flood it.
MAX_OBSERVED_CHARS = 600
MAX_TEXT_CHARS = 400


def _safe(finding: Finding, step: str) -> Finding:
    return replace(
        finding,
        step=step,
        message=printable(finding.message, MAX_TEXT_CHARS),
        observed=None
        if finding.observed is None
        else printable(finding.observed, MAX_OBSERVED_CHARS),
        fix=None if finding.fix is None else printable(finding.fix, MAX_OBSERVED_CHARS),
    )


class _Step:
    """Collects one step's findings while passing them on to the caller."""

    def __init__(self, index: int) -> None:
        self.id, self.title = STEPS[index]
        self.number = index + 1
        self.findings: list[Finding] = []

    def run(self, work: Generator[Finding, None, T]) -> Generator[Event, None, T | None]:
        value: T | None = None
        try:
            while True:
                finding = _safe(next(work), self.id)
                self.findings.append(finding)
                yield finding
        except StopIteration as stop:
            value = stop.value
        except Exception as exc:  # a bug in one check must not hide the others
            finding = Finding(
                "doctor-internal-error",
                Status.FAIL,
                f"the {self.title} check crashed; please report it",
                redact_text(f"{exc.__class__.__name__}: {exc}")[:300],
                None,
                self.id,
            )
            self.findings.append(finding)
            yield finding
        return value

    def skip(self, reason: str) -> Generator[Event, None, None]:
        finding = Finding(f"{self.id}-skipped", Status.SKIP, reason, None, None, self.id)
        self.findings.append(finding)
        yield finding

    def report(self) -> StepReport:
        return StepReport(self.id, self.number, self.title, tuple(self.findings))


def _within_reach(
    options: DoctorOptions, server: AuthorizationServer | None
) -> AuthorizationServer | None:
    """``server`` when the token checks may use its issuer and keys, else None.

    Step 5 verifies tokens with a key store that trusts what the metadata names (it
    stands for the profile): metadata pointing at addresses the doctor refuses must not
    reach it there, so the tokens are then judged against the profile alone.
    """
    if server is None:
        return None
    reach = reach_of(options)
    issuer = metadata_issuer(server)
    for url in (server.jwks_uri, issuer):
        if url is not None and reach.refusal(url, via=server.server) is not None:
            return None
    return server


def stream_doctor(options: DoctorOptions) -> Generator[Event, None, DoctorReport]:
    """Run every step; yields each finding when made and each step's report when done.

    The generator's return value (``StopIteration.value``) is the full report; use
    :func:`run_doctor` when a callback is more convenient.
    """
    reports: list[StepReport] = []

    step = _Step(0)
    challenge = yield from step.run(check_challenge(options))
    reports.append(step.report())
    yield reports[-1]

    step = _Step(1)
    prm = None
    if challenge is None or challenge.status is None:
        yield from step.skip("the MCP endpoint did not answer")
    elif challenge.status != 401:
        yield from step.skip("the endpoint does not challenge, so connectors never get here")
    else:
        prm = yield from step.run(check_resource_metadata(options, challenge))
    reports.append(step.report())
    yield reports[-1]

    step = _Step(2)
    server = None
    if prm is None or not prm.authorization_servers:
        yield from step.skip("no usable protected-resource metadata names an authorization server")
    else:
        server = yield from step.run(check_authorization_server(options, prm))
    reports.append(step.report())
    yield reports[-1]

    step = _Step(3)
    if server is None or server.jwks_uri is None:
        yield from step.skip("no authorization-server metadata with a jwks_uri")
    else:
        yield from step.run(check_jwks(options, server.jwks_uri, server.server))
    reports.append(step.report())
    yield reports[-1]

    step = _Step(4)
    yield from step.run(check_profile(options, _within_reach(options, server)))
    reports.append(step.report())
    yield reports[-1]

    step = _Step(5)
    if not options.check_nginx:
        yield from step.skip("nginx checks turned off")
    else:
        yield from step.run(check_nginx(options, origin_of(options.url)))
    reports.append(step.report())
    yield reports[-1]

    return DoctorReport(options.url, tuple(reports), options.allow_http, options.mcp_revision)


def run_doctor(
    options: DoctorOptions, on_event: Callable[[Event], None] | None = None
) -> DoctorReport:
    """Run every step and return the report; ``on_event`` sees findings as they come.

    Blocking (network requests with ``options.timeout`` each): a UI should call it from
    a worker thread and marshal ``on_event`` calls to its own thread.
    """
    events = stream_doctor(options)
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            report: DoctorReport = stop.value
            return report
        if on_event is not None:
            on_event(event)
