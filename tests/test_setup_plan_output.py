"""The plan's text and JSON: free text scrubbed of credentials and escaped, generated
text (diffs, scripts) kept exact."""

from __future__ import annotations

import json
from pathlib import Path

from inspector.setup.facts import FactInputs, derive_facts
from inspector.setup.model import FileChange
from inspector.setup.nginx_plan import NginxPlan
from inspector.setup.plan import SetupPlan
from inspector.setup.plan_output import plan_json, render_plan

MCP = "https://mcp.example.com/ords/hr/mcp/server"
TOKEN = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLmNvbSJ9."
    "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
)
SAFE_LINE = "log_format extended_safe 'authorization:\"$token_without_signature\"';\n"


def plan() -> SetupPlan:
    facts = derive_facts(FactInputs(MCP, issuer="https://idp.example.com/oauth2/x"))
    change = FileChange(Path("/etc/nginx/token-inspector/http.conf"), None, SAFE_LINE)
    nginx = NginxPlan(
        changes=(change,),
        documents={},
        metadata_urls=(),
        challenge='Bearer resource_metadata="x"',
        token_log=None,
        notes=(f"an old line logs Authorization: Bearer {TOKEN}",),
        warnings=("\x1b[2Jcleared",),
    )
    return SetupPlan(facts, ("nginx",), nginx=nginx, nginx_conf=Path("/etc/nginx/nginx.conf"))


def test_text_redacts_free_text_escapes_controls_and_keeps_the_diff() -> None:
    text = render_plan(plan())
    assert TOKEN not in text and TOKEN.split(".")[2] not in text
    assert "\x1b" not in text and "\\x1b[2Jcleared" in text
    assert "+" + SAFE_LINE.rstrip("\n") in text


def test_json_redacts_free_text_and_keeps_the_diff() -> None:
    doc = plan_json(plan())
    dumped = json.dumps(doc)
    assert TOKEN not in dumped and TOKEN.split(".")[2] not in dumped
    assert SAFE_LINE.rstrip("\n") in doc["nginx"]["changes"][0]["diff"]
