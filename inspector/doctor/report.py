"""Rendering a doctor report: a plain-text checklist for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator

from inspector.doctor.model import DoctorReport, Finding, Status, StepReport
from inspector.schema_version import SCHEMA_VERSION

MARKS = {Status.PASS: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-"}
ASCII_MARKS = {Status.PASS: "ok", Status.WARN: "!!", Status.FAIL: "XX", Status.SKIP: "--"}

HTTP_BANNER = (
    "*** --allow-http: plain http accepted where connectors and ORDS require https. "
    "Lab and test setups only; failures of this kind are shown as warnings. ***"
)


def mark(status: Status, *, ascii_only: bool = False) -> str:
    """The checklist mark for ``status``."""
    return (ASCII_MARKS if ascii_only else MARKS)[status]


def finding_lines(
    finding: Finding, *, ascii_only: bool = False, verbose: bool = False
) -> list[str]:
    """One finding: mark, message and code; observed value and fix for non-passes."""
    lines = [f"  {mark(finding.status, ascii_only=ascii_only)} {finding.message} [{finding.code}]"]
    show_details = verbose or finding.status in (Status.WARN, Status.FAIL)
    if finding.observed and (show_details or finding.status is Status.PASS):
        lines.append(f"      seen: {finding.observed}")
    if finding.fix and show_details:
        lines.append(f"      fix:  {finding.fix}")
    return lines


def step_header(step: StepReport, *, ascii_only: bool = False) -> str:
    """``3. Authorization server  [fail]``."""
    return f"{step.number}. {step.title}  [{step.status.value}]"


def render_text(report: DoctorReport, *, ascii_only: bool = False, verbose: bool = False) -> str:
    """The whole checklist, with a summary line at the end."""
    return "\n".join(_text_lines(report, ascii_only=ascii_only, verbose=verbose)) + "\n"


def _text_lines(report: DoctorReport, *, ascii_only: bool, verbose: bool) -> Iterator[str]:
    if report.allow_http:
        yield HTTP_BANNER
    yield f"doctor {report.url}"
    for step in report.steps:
        yield ""
        yield step_header(step, ascii_only=ascii_only)
        for finding in step.findings:
            yield from finding_lines(finding, ascii_only=ascii_only, verbose=verbose)
    counts = {s: sum(1 for f in report.findings if f.status is s) for s in Status}
    yield ""
    yield (
        f"{counts[Status.FAIL]} failed, {counts[Status.WARN]} warning(s), "
        f"{counts[Status.PASS]} passed, {counts[Status.SKIP]} skipped"
    )


def render_json(report: DoctorReport) -> str:
    """``doctor --json``: one JSON object."""
    doc = {"schema_version": SCHEMA_VERSION, **report.as_dict()}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
