"""Checking the running server with doctor's own steps, before planning and after a change.

Only the steps setup changes are run: the 401 challenge, the protected-resource metadata
and (with a configuration to read) the local nginx step. The authorization server, keys
and ORDS profile are the IdP's and the database's business and are not contacted here.
Every request goes through doctor's guarded client, so doctor's address policy holds:
plain http and loopback only for the MCP URL's host and anchored issuers, and plain http
counts as a pass only with ``allow_http`` (loopback tests).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import TypeVar

from inspector.doctor.challenge import ChallengeResult, check_challenge
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.nginx_step import check_nginx
from inspector.doctor.resource_metadata import ResourceMetadata, check_resource_metadata
from inspector.doctor.urls import origin_of
from inspector.setup.facts import Observed
from inspector.setup.model import Probe, ProbeOutcome
from parsers.printable import printable
from parsers.redaction import redact_text

T = TypeVar("T")

# The steps a setup changes, by doctor's step ids.
PROBED_STEPS = ("challenge", "resource-metadata", "nginx")
MAX_LINE = 300
# Steps whose failures a baseline may excuse: the local nginx checks cover every log and
# module of the configuration, most of which setup does not touch. The challenge and
# metadata steps are what setup is there to fix.
BASELINED_STEPS = frozenset({"nginx"})
PREEXISTING = "pre-existing, not caused by setup"
# Why nginx's part cannot pass while the module answers without a token, and the fix.
UNPROTECTED = (
    "ORDS does not protect the MCP module: it answered a request without a token, so there "
    "is no 401 for nginx to turn into the challenge; run setup's ORDS part first (setup "
    "--only ords with --dsn/--user, or all parts: it creates the role and the privilege "
    "protecting the module), then the nginx part"
)


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """Every finding of one probe, by step, with what the steps concluded."""

    findings: tuple[Finding, ...]
    challenge: ChallengeResult | None
    metadata: ResourceMetadata | None

    @property
    def unprotected(self) -> bool:
        """The MCP endpoint answered a request without a token with 2xx: nothing in front of
        ORDS, nor ORDS itself, asks for a token, so there is no 401 for nginx to rewrite."""
        status = self.challenge.status if self.challenge is not None else None
        return status is not None and 200 <= status < 300

    def outcome(self, baseline: ProbeRun | None = None) -> ProbeOutcome:
        """Passed when no probed check failed; one line per failure (code: message: seen).

        With the ``baseline`` taken before the change, an nginx-step failure it had too
        (same code, same subject) is pre-existing: setup neither caused nor fixes it, so it
        is listed apart instead of failing (and rolling back) the change. Failures of the
        challenge and metadata steps, which setup is there to fix, always count.
        """
        before = baseline.nginx_failures() if baseline is not None else frozenset()
        failures: list[str] = [UNPROTECTED] if self.unprotected else []
        preexisting: list[str] = []
        for finding in self.findings:
            if finding.status is not Status.FAIL:
                continue
            if finding.step in BASELINED_STEPS and _subject(finding) in before:
                preexisting.append(f"{PREEXISTING}: {_line(finding)}")
            else:
                failures.append(_line(finding))
        passed = tuple(f.code for f in self.findings if f.status is Status.PASS)
        return ProbeOutcome(
            ok=not failures,
            passed=passed,
            failures=tuple(failures),
            preexisting=tuple(preexisting),
        )

    def nginx_failures(self) -> frozenset[tuple[str, str, str | None]]:
        """The failures of the steps a baseline excuses, by (step, code, subject)."""
        return frozenset(
            _subject(f)
            for f in self.findings
            if f.status is Status.FAIL and f.step in BASELINED_STEPS
        )

    def observed(self) -> Observed:
        """What doctor saw that the plan's facts may start from."""
        challenge_scopes = self.challenge.scopes if self.challenge is not None else ()
        if self.metadata is None:
            return Observed(challenge_scopes=challenge_scopes)
        return Observed(
            challenge_scopes=challenge_scopes,
            metadata_url=self.metadata.url,
            metadata_servers=self.metadata.authorization_servers,
            metadata_scopes=self.metadata.scopes_supported,
        )


def _subject(finding: Finding) -> tuple[str, str, str | None]:
    # doctor's observed value names what a finding is about (a log file and its mode, the
    # configuration's path): the same code about the same thing is the same problem.
    return finding.step, finding.code, finding.observed


def _line(finding: Finding) -> str:
    seen = f" ({finding.observed})" if finding.observed else ""
    text = f"{finding.step}: {finding.code}: {finding.message}{seen}"
    return printable(redact_text(text), limit=MAX_LINE)


def _collect(step: str, work: Generator[Finding, None, T], into: list[Finding]) -> T | None:
    """Run one doctor step to its end, findings into ``into``; its result, or None."""
    # A crash in one check must not end the probe (doctor's runner does the same).
    try:
        while True:
            into.append(replace(next(work), step=step))
    except StopIteration as stop:
        value: T | None = stop.value
        return value
    except Exception as exc:
        into.append(
            Finding(
                "doctor-internal-error",
                Status.FAIL,
                f"the {step} check crashed",
                redact_text(f"{exc.__class__.__name__}: {exc}")[:MAX_LINE],
                None,
                step,
            )
        )
        return None


def probe_server(options: DoctorOptions) -> ProbeRun:
    """Run the challenge, metadata and (``options.check_nginx``) nginx steps once."""
    findings: list[Finding] = []
    challenge = _collect("challenge", check_challenge(options), findings)
    metadata = None
    if challenge is not None and challenge.status == 401:
        metadata = _collect(
            "resource-metadata", check_resource_metadata(options, challenge), findings
        )
    if options.check_nginx:
        _collect("nginx", check_nginx(options, origin_of(options.url)), findings)
    return ProbeRun(tuple(findings), challenge, metadata)


def doctor_probe(options: DoctorOptions, baseline: ProbeRun | None = None) -> Probe:
    """The probe an applier calls after a reload: doctor's steps, as a ``ProbeOutcome``,
    nginx-step failures already in ``baseline`` (the probe before the change) set apart."""

    def probe() -> ProbeOutcome:
        return probe_server(options).outcome(baseline)

    return probe
