"""The IdP admin's checklist: exact values per family, and an az script that quotes safely.

The script is also run for real: bash, jq and a stand-in ``az`` that keeps one app
registration in a JSON file and answers like Graph (a PATCH replaces a whole list and
refuses to drop an enabled scope or role), so the merging, the quoting of hostile values
and a second run are checked end to end.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inspector.doctor.resource_metadata import entra_scope
from inspector.setup import idp_doc
from inspector.setup.idp_checklist import (
    ChecklistItem,
    IdpChecklist,
    checklist_json,
    idp_checklist,
    render_checklist,
)
from inspector.setup.idp_steps import CLIENT_REDIRECTS, PRINCIPAL_PLACEHOLDER
from inspector.setup.model import ResourceFacts

TID = "5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17"
V2 = f"https://login.microsoftonline.com/{TID}/v2.0"
V1 = f"https://sts.windows.net/{TID}/"
APP = "8f6d1c2a-1111-4222-8333-944455556666"
URL = "https://mcp.example.com/ords/hr/mcp"
HOSTILE = [
    "https://mcp.example.com/a'b\"c",
    "https://mcp.example.com/$(touch PWNED)",
    "https://mcp.example.com/`touch PWNED`",
    "https://mcp.example.com/x\ntouch PWNED\n",
    "https://mcp.example.com/';touch PWNED;'",
    "https://mcp.example.com/${HOME}\\",
]


def _facts(url: str = URL, scopes: tuple[str, ...] = ()) -> ResourceFacts:
    return ResourceFacts(mcp_url=url, authorization_servers=(V2,), scopes=scopes)


def _values(item: ChecklistItem) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field, value in item.values:
        out.setdefault(field, []).append(value)
    return out


def _all_values(checklist: IdpChecklist) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in checklist.items:
        for field, values in _values(item).items():
            out.setdefault(field, []).extend(values)
    return out


# --- Entra ID: the values domain.md requires ------------------------------------------------


@pytest.mark.parametrize("url", [URL, URL + "/"])
def test_entra_app_id_uri_is_the_mcp_url_with_its_trailing_slash_state(url: str) -> None:
    checklist = idp_checklist(_facts(url), issuer=V2, app_id=APP)
    assert checklist.family == "entra"
    values = _all_values(checklist)
    assert values["Application ID URI"] == [url]
    assert values["Scope name"] == ["mcp:connect"]
    assert values["Full scope (requested by clients)"] == [f"{url}/mcp:connect"]
    assert values["Full scope (requested by clients)"] == [entra_scope(url)]
    first = checklist.items[0]
    assert "verified domain" in first.detail and "AADSTS9010010" in first.detail
    assert ("ends with '/'" in first.detail) is url.endswith("/")
    argv = _argv(checklist.commands)
    assert ["MCP_URL=" + url] in argv


def test_entra_token_version_two_and_the_profile_values_it_implies() -> None:
    checklist = idp_checklist(_facts(), issuer=V1, app_id=APP)
    values = _all_values(checklist)
    assert values["Manifest: api.requestedAccessTokenVersion"] == ["2"]
    assert values["ORDS profile p_issuer"] == [V2]
    assert values["ORDS profile p_audience"] == [APP]
    assert values["ORDS profile p_jwk_url"] == [
        f"https://login.microsoftonline.com/{TID}/discovery/v2.0/keys"
    ]
    version = next(i for i in checklist.items if "v2.0" in i.title)
    assert "accessTokenAcceptedVersion" in version.detail
    # The v1 issuer the user gave stops matching once tokens are v2: said so.
    assert any(V1 in c and V2 in c for c in checklist.caveats)


def test_entra_app_role_value_is_the_ords_role_exactly_and_is_assigned() -> None:
    checklist = idp_checklist(_facts(), issuer=V2, role="ORDSUsers")
    role = next(i for i in checklist.items if i.title.startswith("Create the app role"))
    assert _values(role)["Value"] == ["ORDSUsers"]
    assert _values(role)["ORDS profile p_role_claim_name"] == ["/roles"]
    assert "case counts" in role.detail
    assert any(i.title.startswith("Assign the app role ORDSUsers") for i in checklist.items)
    # Without a role: no app role, and the scope-based consequence is spelled out.
    plain = idp_checklist(_facts(), issuer=V2)
    assert not any("app role" in i.title for i in plain.items)
    assert any("privilege" in c and "'mcp:connect'" in c for c in plain.caveats)


def test_entra_client_apps_carry_the_connector_redirects_and_consent_names_the_errors() -> None:
    checklist = idp_checklist(_facts(), issuer=V2)
    values = _all_values(checklist)
    assert values["Redirect URI (Web)"] == [
        "https://chatgpt.com/connector_platform_oauth_redirect",
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
    ]
    clients = [i for i in checklist.items if i.title.startswith("Register a client app")]
    assert len(clients) == 2
    assert all("no dynamic client registration" in i.detail for i in clients)
    consent = next(i for i in checklist.items if "admin consent" in i.title)
    assert "AADSTS90095" in consent.detail and "AADSTS650053" in consent.detail
    only_claude = idp_checklist(_facts(), issuer=V2, clients=("claude",))
    assert "https://chatgpt.com/connector_platform_oauth_redirect" not in str(only_claude)
    with pytest.raises(ValueError, match="unknown client"):
        idp_checklist(_facts(), issuer=V2, clients=("copilot",))


def test_entra_upn_only_for_oracle_database() -> None:
    checklist = idp_checklist(_facts(), issuer=V2)
    upn = next(i for i in checklist.items if "upn" in i.title)
    assert upn.title.startswith("Only if Oracle Database")
    assert "ignores upn" in upn.detail


def test_entra_scope_from_facts_or_argument_is_reduced_to_its_name() -> None:
    advertised = _facts(scopes=(f"{URL}/mcp.read", "openid"))
    assert _all_values(idp_checklist(advertised, issuer=V2))["Scope name"] == ["mcp.read"]
    named = idp_checklist(_facts(), issuer=V2, scope=f"{URL}/tools")
    assert _all_values(named)["Scope name"] == ["tools"]
    # scopes_supported on another resource fails with AADSTS9010010: named as a caveat.
    stray = idp_checklist(_facts(scopes=("api://x/mcp:connect",)), issuer=V2)
    assert any("api://x/mcp:connect" in c and "AADSTS9010010" in c for c in stray.caveats)


def test_entra_tenant_placeholder_when_the_issuer_does_not_name_one() -> None:
    common = "https://login.microsoftonline.com/common/v2.0"
    checklist = idp_checklist(_facts(), issuer=common)
    assert checklist.family == "entra"
    assert _all_values(checklist)["ORDS profile p_issuer"] == [
        "https://login.microsoftonline.com/<tenant id>/v2.0"
    ]
    given = idp_checklist(_facts(), issuer=common, tenant=TID)
    assert _all_values(given)["ORDS profile p_issuer"] == [V2]


# --- Entra ID: the az script as argv ---------------------------------------------------------


def _argv(commands: tuple[str, ...]) -> list[list[str]]:
    return [shlex.split(command) for command in commands]


def test_az_script_commands_parse_and_use_the_expected_az_verbs() -> None:
    checklist = idp_checklist(_facts(), issuer=V2, role="ORDSUsers", app_id=APP)
    argv = _argv(checklist.commands)
    assert argv[0] == ["set", "-euo", "pipefail"]
    assert ["API_APP_ID=" + APP] in argv
    update = next(a for a in argv if a[:3] == ["az", "ad", "app"] and "update" in a)
    assert update[update.index("--identifier-uris") + 1] == "$MCP_URL"
    patches = [a for a in argv if a[:4] == ["az", "rest", "--method", "PATCH"]]
    assert patches and all("--body" in a and "Content-Type=application/json" in a for a in patches)
    creates = [a for a in argv if "--web-redirect-uris" in a]
    redirects = [a[a.index("--web-redirect-uris") + 1 : a.index("--query")] for a in creates]
    assert redirects == [list(CLIENT_REDIRECTS["chatgpt"]), list(CLIENT_REDIRECTS["claude"])]
    resets = [a for a in argv if a[3:5] == ["credential", "reset"]]
    assert len(resets) == 2 and all("--append" in a for a in resets)
    assert any(a[:3] == ["az", "ad", "sp"] and "create" in a for a in argv)
    assert any("appRoleAssignedTo" in word for a in argv for word in a)
    # Bodies: every JSON document the script sets parses, with the exact values.
    docs = {
        a[0].split("=", 1)[0]: json.loads(a[0].split("=", 1)[1]) for a in argv if "_JSON=" in a[0]
    }
    assert docs["SCOPE_JSON"]["value"] == "mcp:connect" and docs["SCOPE_JSON"]["isEnabled"]
    assert docs["ROLE_JSON"]["value"] == "ORDSUsers"
    assert docs["ROLE_JSON"]["allowedMemberTypes"] == ["User"]
    # Ids are stable across runs (same plan, same ids).
    again = idp_checklist(_facts(), issuer=V2, role="ORDSUsers", app_id=APP)
    assert again.commands == checklist.commands


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_stay_inside_one_argument(hostile: str) -> None:
    checklist = idp_checklist(
        _facts(hostile), issuer=V2, role=hostile, app_id=hostile, scope="x'$(id)`id`\n"
    )
    argv = _argv(checklist.commands)
    assert ["MCP_URL=" + hostile] in argv
    assert ["ROLE_NAME=" + hostile] in argv
    assert ["API_APP_ID=" + hostile] in argv
    assert ["SCOPE_NAME=x'$(id)`id`\n"] in argv
    role = json.loads(next(a[0] for a in argv if a[0].startswith("ROLE_JSON="))[10:])
    assert role["value"] == hostile
    # Outside the variable block the raw value never appears: only "$VAR" references.
    for command in checklist.commands:
        if not command.startswith(
            ("MCP_URL=", "ROLE_NAME=", "API_APP_ID=", "SCOPE_NAME=", "ROLE_JSON=", "SCOPE_JSON=")
        ):
            assert "PWNED" not in command and "$(id)" not in command


def test_other_families_have_no_script() -> None:
    for issuer in ("https://acme.okta.com/oauth2/default", "https://t.eu.auth0.com/"):
        assert idp_checklist(_facts(), issuer=issuer).commands == ()


# --- Entra ID: the script run against a stand-in az --------------------------------------

FAKE_AZ = r"""
import json, os, sys
state_path, log_path = os.environ["AZ_STATE"], os.environ["AZ_LOG"]
with open(state_path) as f:
    state = json.load(f)
args = sys.argv[1:]
with open(log_path, "a") as f:
    f.write(json.dumps(args) + "\n")
def opt(name):
    return args[args.index(name) + 1] if name in args else None
def values(name):
    i = args.index(name) + 1
    out = []
    while i < len(args) and not args[i].startswith("--"):
        out.append(args[i]); i += 1
    return out
def save():
    with open(state_path, "w") as f:
        json.dump(state, f)
app = state["app"]
if args[:3] == ["ad", "app", "create"]:
    state["created"] += 1; save()
    print(f"00000000-0000-4000-8000-00000000000{state['created']}")
elif args[:3] == ["ad", "app", "show"]:
    if opt("--query") == "id":
        print("app-object-id")
    else:
        print(json.dumps(app))
elif args[:3] == ["ad", "app", "update"]:
    app["identifierUris"] = values("--identifier-uris"); save()
elif args[:2] == ["rest", "--method"] and opt("--method") == "PATCH":
    body = json.loads(opt("--body"))
    for key in ("api", "appRoles"):
        if key not in body:
            continue
        new = body[key] if key == "appRoles" else body[key].get("oauth2PermissionScopes")
        old = app["appRoles"] if key == "appRoles" else app["api"].get("oauth2PermissionScopes", [])
        if new is not None:
            kept = {e["id"]: e for e in new}
            for entry in old:
                if entry["isEnabled"] and kept.get(entry["id"]) != entry:
                    print("Permission (scope or role) cannot be deleted or updated unless "
                          "disabled first.", file=sys.stderr)
                    sys.exit(1)
    app.update(body); save()
elif args[:3] == ["ad", "sp", "show"]:
    sys.exit(3)
elif args[:3] == ["ad", "sp", "create"]:
    print("api-sp-id")
elif args[:4] == ["ad", "app", "credential", "reset"]:
    print("s3cret")
"""

EXISTING_SCOPE = {"id": "e1", "isEnabled": True, "type": "Admin", "value": "user_impersonation"}
EXISTING_ROLE = {"id": "r1", "isEnabled": True, "allowedMemberTypes": ["User"], "value": "Readers"}


def _run_script(
    tmp_path: Path, checklist: IdpChecklist, principal: str | None = None
) -> tuple[dict[str, Any], list[list[str]], subprocess.CompletedProcess[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(f"#!{sys.executable}\n{FAKE_AZ}")
    az.chmod(0o755)
    state = tmp_path / "state.json"
    if not state.exists():
        app = {
            "identifierUris": ["api://existing"],
            "api": {"oauth2PermissionScopes": [EXISTING_SCOPE], "knownClientApplications": ["k"]},
            "appRoles": [EXISTING_ROLE],
        }
        state.write_text(json.dumps({"app": app, "created": 0}))
    log = tmp_path / "az.log"
    log.write_text("")
    commands = list(checklist.commands)
    if principal is not None:
        commands = [
            f"PRINCIPAL_ID={shlex.quote(principal)}" if c.startswith("PRINCIPAL_ID=") else c
            for c in commands
        ]
    script = tmp_path / "entra.sh"
    script.write_text("\n".join(commands) + "\n")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.update(AZ_STATE=str(state), AZ_LOG=str(log))
    done = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return json.loads(state.read_text())["app"], calls, done


needs_shell = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("jq") is None, reason="needs bash and jq"
)


@needs_shell
def test_script_merges_into_the_existing_registration_and_can_run_twice(tmp_path: Path) -> None:
    checklist = idp_checklist(_facts(), issuer=V2, role="ORDSUsers", app_id=APP)
    app, calls, done = _run_script(tmp_path, checklist, principal="user-object-id")
    assert done.returncode == 0, done.stderr
    assert app["identifierUris"] == [URL, "api://existing"]
    assert app["api"]["requestedAccessTokenVersion"] == 2
    assert app["api"]["knownClientApplications"] == ["k"]
    scopes = app["api"]["oauth2PermissionScopes"]
    assert scopes[0] == EXISTING_SCOPE and [s["value"] for s in scopes] == [
        "user_impersonation",
        "mcp:connect",
    ]
    assert [r["value"] for r in app["appRoles"]] == ["Readers", "ORDSUsers"]
    preauth = app["api"]["preAuthorizedApplications"]
    assert len(preauth) == 2
    assert all(p["delegatedPermissionIds"] == [scopes[1]["id"]] for p in preauth)
    [post] = [c for c in calls if c[:3] == ["rest", "--method", "POST"]]
    assert json.loads(post[post.index("--body") + 1]) == {
        "principalId": "user-object-id",
        "resourceId": "api-sp-id",
        "appRoleId": app["appRoles"][1]["id"],
    }
    grants = [c for c in calls if c[:4] == ["ad", "app", "permission", "grant"]]
    assert all(c[c.index("--scope") + 1] == "mcp:connect" for c in grants)
    assert done.stdout.count("s3cret") == 2
    # A second run adds nothing twice and trips no "disable first" refusal.
    again, _, second = _run_script(tmp_path, checklist, principal="user-object-id")
    assert second.returncode == 0, second.stderr
    assert again["api"]["oauth2PermissionScopes"] == scopes
    assert again["appRoles"] == app["appRoles"]
    assert again["identifierUris"] == [URL, "api://existing"]


@needs_shell
def test_script_without_a_principal_skips_the_assignment_and_says_so(tmp_path: Path) -> None:
    checklist = idp_checklist(_facts(), issuer=V2, role="ORDSUsers", app_id=APP)
    assert any(PRINCIPAL_PLACEHOLDER in c for c in checklist.commands)
    _, calls, done = _run_script(tmp_path, checklist)
    assert done.returncode == 0, done.stderr
    assert "PRINCIPAL_ID not set" in done.stderr
    assert not [c for c in calls if c[:3] == ["rest", "--method", "POST"]]


@needs_shell
@pytest.mark.parametrize("hostile", HOSTILE)
def test_script_passes_hostile_values_to_az_verbatim(tmp_path: Path, hostile: str) -> None:
    # No connector clients: the values under test are the URL and the role.
    checklist = idp_checklist(_facts(hostile), issuer=V2, role=hostile, app_id=APP, clients=())
    app, calls, done = _run_script(tmp_path, checklist, principal="u")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "PWNED").exists()
    [update] = [c for c in calls if c[:3] == ["ad", "app", "update"]]
    assert update[update.index("--identifier-uris") + 1] == hostile
    assert app["identifierUris"][0] == hostile
    assert app["appRoles"][-1]["value"] == hostile


# --- The other families -------------------------------------------------------------------


def test_okta_custom_server_audience_scope_and_roles_claim() -> None:
    checklist = idp_checklist(
        _facts(), issuer="https://acme.okta.com/oauth2/aus1", role="ORDSUsers"
    )
    assert checklist.family == "okta"
    values = _all_values(checklist)
    assert values["Audience"] == [URL]
    assert values["Issuer (ORDS profile p_issuer)"] == ["https://acme.okta.com/oauth2/aus1"]
    assert values["Scopes > Add Scope: Name"] == ["mcp:connect"]
    assert values["Claims > Add Claim: Name"] == ["roles"]
    assert values["Filter"] == ["Equals ORDSUsers"]
    assert values["Sign-in redirect URI"] == [
        u for c in ("chatgpt", "claude") for u in CLIENT_REDIRECTS[c]
    ]
    assert checklist.caveats == ()
    org = idp_checklist(_facts(), issuer="https://acme.okta.com", role="ORDSUsers")
    assert _all_values(org)["Issuer (ORDS profile p_issuer)"] == [
        "https://acme.okta.com/oauth2/default"
    ]
    assert any("org authorization server" in c for c in org.caveats)


def test_auth0_api_identifier_rs256_default_audience_and_permissions() -> None:
    checklist = idp_checklist(_facts(), issuer="https://t.eu.auth0.com/", role="ORDSUsers")
    assert checklist.family == "auth0"
    values = _all_values(checklist)
    assert values["Identifier"] == [URL]
    assert values["Signing Algorithm"] == ["RS256"]
    assert values["Settings > API Authorization Settings > Default Audience"] == [URL]
    assert values["Permission"] == ["ORDSUsers"]
    assert values["ORDS profile p_role_claim_name"] == ["/permissions"]
    assert any("openid" in c and "aud array" in c for c in checklist.caveats)


def test_keycloak_audience_mapper_and_top_level_roles() -> None:
    checklist = idp_checklist(
        _facts(), issuer="https://sso.example.com/realms/mcp", role="ORDSUsers"
    )
    assert checklist.family == "keycloak"
    values = _all_values(checklist)
    assert values["Included Custom Audience"] == [URL]
    assert values["Token Claim Name"] == ["roles"]
    assert values["Realm roles > Create role: Role name"] == ["ORDSUsers"]
    assert values["Valid redirect URIs"] == [
        u for c in ("chatgpt", "claude") for u in CLIENT_REDIRECTS[c]
    ]
    mapper = next(i for i in checklist.items if "top-level roles" in i.title)
    assert mapper.confirmed is False


def test_oci_iam_resource_server_client_access_and_issuer() -> None:
    domain = "https://idcs-0a1b2c.identity.oraclecloud.com"
    checklist = idp_checklist(_facts(), issuer=domain)
    assert checklist.family == "oci-iam"
    values = _all_values(checklist)
    assert values["Primary audience"] == [URL]
    assert values["ORDS profile p_jwk_url"] == [f"{domain}/admin/v1/SigningCert/jwk"]
    assert values["ORDS profile p_issuer"] == ["https://identity.oraclecloud.com/"]
    assert any("Configure client access" in i.title for i in checklist.items)


def test_unknown_idp_gets_generic_items() -> None:
    checklist = idp_checklist(_facts(), issuer="https://idp.example.net/", role="R")
    assert checklist.family == "generic"
    values = _all_values(checklist)
    assert values["Audience"] == [URL] and values["Signing algorithm"] == ["RS256"]
    assert values["Value contains"] == ["R"]


# --- Rendering and JSON ------------------------------------------------------------------


def test_render_numbers_items_aligns_values_and_marks_unconfirmed() -> None:
    checklist = idp_checklist(
        _facts(), issuer="https://sso.example.com/realms/mcp", role="ORDSUsers"
    )
    text = render_checklist(checklist)
    for number, item in enumerate(checklist.items, 1):
        assert f"{number:>2}. {item.title}" in text
    unconfirmed = [line for line in text.splitlines() if "[unconfirmed" in line]
    assert len(unconfirmed) == sum(not i.confirmed for i in checklist.items) == 1
    first = checklist.items[0]
    rows = [line for line in text.splitlines() if line.startswith("      ")][: len(first.values)]
    width = max(len(field) for field, _ in first.values)
    assert all(line[6 + width : 8 + width] == "  " for line in rows)


def test_render_escapes_terminal_controls_but_keeps_the_script_runnable() -> None:
    hostile = "https://mcp.example.com/\x1b]0;owned\x07x"
    checklist = idp_checklist(_facts(hostile), issuer=V2)
    text = render_checklist(checklist)
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;owned\\x07x" in text
    assert "set -euo pipefail" in text and "PRINCIPAL_ID" not in text


def test_checklist_json_keeps_repeated_fields_and_the_confirmed_flag() -> None:
    checklist = idp_checklist(_facts(), issuer=V2, role="ORDSUsers")
    doc = checklist_json(checklist)
    assert json.loads(json.dumps(doc)) == doc
    assert doc["family"] == "entra" and doc["commands"] == list(checklist.commands)
    items = doc["items"]
    assert isinstance(items, list) and len(items) == len(checklist.items)
    claude = next(i for i in items if "Claude" in i["title"])
    assert [v["value"] for v in claude["values"] if v["field"] == "Redirect URI (Web)"] == list(
        CLIENT_REDIRECTS["claude"]
    )
    assert all(i["confirmed"] is True for i in items)


def test_docs_idp_setup_is_generated_from_the_code() -> None:
    doc = Path(__file__).resolve().parent.parent / "docs" / "idp-setup.md"
    assert doc.read_text(encoding="utf-8") == idp_doc.markdown(), (
        "regenerate: python -m inspector.setup.idp_doc docs/idp-setup.md"
    )
    entra = idp_checklist(
        ResourceFacts(idp_doc.SAMPLE_URL, ()),
        issuer=idp_doc.SAMPLE_ISSUERS["entra"],
        role=idp_doc.SAMPLE_ROLE,
        app_id=idp_doc.SAMPLE_APP,
    )
    assert render_checklist(entra).rstrip("\n") in doc.read_text(encoding="utf-8")


def test_render_wraps_prose_but_never_a_value() -> None:
    long_url = "https://mcp.example.com/" + "segment/" * 25 + "mcp"
    text = render_checklist(idp_checklist(_facts(long_url), issuer=V2))
    assert any(line.endswith("  " + long_url) for line in text.splitlines())
    prose = [line for line in text.splitlines() if line.startswith("    ") and "  " not in line[4:]]
    # Only a line holding the unbreakable URL may run longer.
    assert prose and all(len(line) <= 92 or long_url in line for line in prose)


# --- The values the rest of the plan uses ----------------------------------------------------


def test_a_family_given_wins_over_the_issuers_host() -> None:
    custom = "https://login.example.com/tenant/v2.0"
    assert idp_checklist(_facts(), issuer=custom).family == "generic"
    checklist = idp_checklist(
        _facts(scopes=(f"{URL}/mcp:connect",)), issuer=custom, family="entra", app_id=APP
    )
    assert checklist.family == "entra" and checklist.commands
    values = _all_values(checklist)
    assert values["Scope name"] == ["mcp:connect"]
    assert values["Full scope (requested by clients)"] == [f"{URL}/mcp:connect"]
    assert values["ORDS profile p_audience"] == [APP]
    with pytest.raises(ValueError, match="unknown IdP family"):
        idp_checklist(_facts(), issuer=custom, family="nope")


@pytest.mark.parametrize(
    ("issuer", "fields"),
    [
        ("https://idp.example.net/", ("Audience",)),
        ("https://acme.okta.com/oauth2/aus1", ("Audience",)),
        ("https://t.eu.auth0.com/", ("Identifier",)),
        ("https://sso.example.com/realms/mcp", ("Included Custom Audience",)),
        ("https://idcs-0a1b2c.identity.oraclecloud.com", ("Primary audience",)),
    ],
)
def test_a_planned_audience_is_the_one_every_value_names(
    issuer: str, fields: tuple[str, ...]
) -> None:
    checklist = idp_checklist(_facts(), issuer=issuer, audience="api://mcp-orders")
    values = _all_values(checklist)
    assert values["ORDS profile p_audience"] == ["api://mcp-orders"]
    for field in fields:
        assert values[field] == ["api://mcp-orders"]
    assert any("aud api://mcp-orders, not the MCP URL" in c for c in checklist.caveats)
    # Without one, the rule: the MCP URL, and no such caveat.
    plain = idp_checklist(_facts(), issuer=issuer)
    assert _all_values(plain)["ORDS profile p_audience"] == [URL]
    assert not any("not the MCP URL" in c for c in plain.caveats)


def test_outside_entra_the_scope_is_defined_as_advertised() -> None:
    qualified = f"{URL}/mcp:connect"
    checklist = idp_checklist(_facts(scopes=(qualified,)), issuer="https://idp.example.net/")
    assert _all_values(checklist)["Scope"] == [qualified]
