"""Challenge parameters are not credentials: what doctor shows is what the server sent.

Redaction took the first parameter after ``Bearer `` for a credential when its name has an
underscore or a hyphen (``resource_metadata="…"``, ``error_description="…"``): doctor's
observed challenges and its nginx fix (to be pasted into the config) read
``Bearer …[sha256:…]"https://…"``. A credential after the scheme is still redacted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inspector.doctor import DoctorOptions, run_doctor
from inspector.doctor.challenge import REWRITE_FIX
from parsers.redaction import redact_authorization, redact_text
from tests.support.scripted_http import Reply, ScriptedServer

MCP = "/ords/hr/mcp/server"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


def test_doctor_shows_the_challenge_as_sent(server: ScriptedServer) -> None:
    sent = f'Bearer resource_metadata="{server.origin}/.well-known/oauth-protected-resource"'
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", sent)])
    report = run_doctor(DoctorOptions(server.origin + MCP, allow_http=True, check_nginx=False))
    finding = report.finding("challenge-no-scope")
    assert finding is not None and finding.observed == sent


def test_doctor_fix_can_be_pasted(server: ScriptedServer) -> None:
    server.routes[MCP] = Reply(401, [("WWW-Authenticate", 'Basic realm="ords"')])
    report = run_doctor(DoctorOptions(server.origin + MCP, allow_http=True, check_nginx=False))
    finding = report.finding("challenge-not-bearer")
    assert finding is not None and finding.fix == REWRITE_FIX
    assert "add_header WWW-Authenticate 'Bearer resource_metadata=\"https://<host>/" in REWRITE_FIX


@pytest.mark.parametrize(
    "challenge",
    [
        'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"',
        'Bearer error_description="the token expired", error="invalid_token"',
        'Bearer resource-metadata="x", scope="api://a/b"',
        'DPoP algs_supported="ES256"',
    ],
)
def test_parameters_with_underscores_are_not_credentials(challenge: str) -> None:
    assert redact_text(challenge) == challenge


@pytest.mark.parametrize(
    "credential", ["AbC_dEf-0123456789xyz", "abc_def-0123456789xyz0123456789", "s3cr3t_t0k3n="]
)
def test_a_credential_after_the_scheme_is_still_redacted(credential: str) -> None:
    for text in (f"Bearer {credential}", f"see Bearer {credential} here"):
        shown = redact_text(text)
        assert credential not in shown and "Bearer " in shown
    assert credential not in (redact_authorization(f"Bearer {credential}") or "")
