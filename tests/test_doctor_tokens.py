"""Step 5: the ORDS profile against the metadata, and (--log) the newest tokens via the analyzer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP
from inspector.doctor import DoctorOptions, DoctorReport, Status, run_doctor
from inspector.judge.ords_objects import JwtProfile
from inspector.ords.schema import SchemaAuthorization
from inspector.schema_version import SCHEMA_VERSION
from tests.support.doctor_cli import run_doctor_cli
from tests.support.nginx import requires_headers_more
from tests.support.reference_site import MCP_PATH, ReferenceSite

pytestmark = [requires_headers_more, pytest.mark.nginx]


@pytest.fixture
def site(tmp_path: Path, idp: LocalIdP) -> Iterator[ReferenceSite]:
    with ReferenceSite(tmp_path, idp) as running:
        yield running


def good_profile(idp: LocalIdP) -> JwtProfile:
    return JwtProfile(issuer=idp.issuer, audience=idp.api_app_id, jwk_url=idp.jwks_uri)


def doctor(site: ReferenceSite, **options: object) -> DoctorReport:
    settings: dict[str, object] = {"allow_http": True, "nginx_conf": site.conf_path}
    settings.update(options)
    return run_doctor(DoctorOptions(site.mcp_url, **settings))  # type: ignore[arg-type]


def send(site: ReferenceSite, token: str, count: int = 1) -> None:
    before = len(site.log_path.read_bytes().splitlines())
    for _ in range(count):
        site.nginx.request(
            MCP_PATH,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "User-Agent": "Claude-User"},
            body=b"{}",
        )
    site.nginx.wait_for_log(site.log_path, before + count)


def test_matching_profile_passes(site: ReferenceSite, idp: LocalIdP) -> None:
    report = doctor(site, profile=good_profile(idp))
    assert report.finding("profile-issuer-matches").status is Status.PASS  # type: ignore[union-attr]
    assert report.finding("profile-jwk-url-matches").status is Status.PASS  # type: ignore[union-attr]
    assert report.finding("jwk-url-not-https").status is Status.WARN  # type: ignore[union-attr]


def test_a_v1_profile_of_the_same_tenant_is_not_a_failure(
    site: ReferenceSite, idp: LocalIdP
) -> None:
    # Entra issues v1.0 tokens from the v2.0 endpoint unless the manifest asks for 2: a
    # profile with the tenant's v1 issuer and v1 key URL works for those tokens.
    profile = JwtProfile(issuer=idp.issuer_v1, audience=idp.api_app_id, jwk_url=idp.jwks_uri_v1)
    report = doctor(site, profile=profile)
    assert report.finding("profile-issuer-mismatch") is None
    issuer = report.finding("profile-issuer-entra-v1")
    assert issuer is not None and issuer.status is Status.PASS
    assert "accepts v1.0 access tokens only" in issuer.message
    assert "api.requestedAccessTokenVersion" in issuer.message
    assert idp.issuer_v1 in (issuer.observed or "")
    # Entra's v1 and v2 key URLs serve the same keys: compared by the keys, not the string.
    assert report.finding("profile-jwk-url-mismatch") is None
    same = report.finding("profile-jwk-url-same-keys")
    assert same is not None and same.status is Status.PASS


def test_another_tenant_or_other_keys_still_fail(site: ReferenceSite, idp: LocalIdP) -> None:
    other = idp.issuer_v1.replace(idp.tenant_id, "99999999-8888-4777-8666-555555555555")
    elsewhere = idp.jwks_uri.replace(idp.tenant_id, "99999999-8888-4777-8666-555555555555")
    report = doctor(site, profile=JwtProfile(other, idp.api_app_id, elsewhere))
    issuer = report.finding("profile-issuer-mismatch")
    assert issuer is not None and issuer.status is Status.FAIL
    jwk = report.finding("profile-jwk-url-mismatch")
    assert jwk is not None and jwk.status is Status.FAIL
    assert "keys not compared" in jwk.message or "not served there" in jwk.message


def test_profile_trailing_slash_is_named(site: ReferenceSite, idp: LocalIdP) -> None:
    profile = JwtProfile(issuer=idp.issuer + "/", audience=idp.api_app_id, jwk_url=idp.jwks_uri)
    finding = doctor(site, profile=profile).finding("profile-issuer-mismatch")
    assert finding is not None and "trailing slash" in finding.message


def test_profile_loader_errors_become_a_finding(site: ReferenceSite) -> None:
    def broken() -> JwtProfile | None:
        raise RuntimeError("ORA-01017: invalid username/password; logon denied")

    report = doctor(site, profile_loader=broken)
    finding = report.finding("profile-unreadable")
    assert finding is not None and "ORA-01017" in (finding.observed or "")


def test_schema_without_profile(site: ReferenceSite) -> None:
    report = doctor(site, profile_loader=lambda: None)
    assert report.finding("no-profile").status is Status.FAIL  # type: ignore[union-attr]


def test_newest_token_agrees(site: ReferenceSite, idp: LocalIdP) -> None:
    send(site, idp.mint(idp.entra_v2_claims()))
    report = doctor(site, profile=good_profile(idp), logs=(site.log_path,))
    finding = report.finding("token-ok")
    assert finding is not None and finding.status is Status.PASS, report.codes()
    assert "sha256:" in (finding.observed or "")


def test_newest_token_from_another_issuer(site: ReferenceSite, idp: LocalIdP) -> None:
    token = idp.mint(idp.entra_v1_claims())
    send(site, token, count=3)
    report = doctor(site, profile=good_profile(idp), logs=(site.log_path,))
    finding = report.finding("token-issuer-mismatch")
    assert finding is not None and finding.status is Status.FAIL
    # One finding per distinct token, however often it was sent; never the token itself.
    assert report.codes().count("token-issuer-mismatch") == 1
    assert token not in json.dumps(report.as_dict())


def test_tokens_judged_against_metadata_without_profile(site: ReferenceSite, idp: LocalIdP) -> None:
    send(site, idp.mint(idp.entra_v1_claims()))
    report = doctor(site, logs=(site.log_path,))
    assert report.finding("profile-not-configured").status is Status.SKIP  # type: ignore[union-attr]
    assert report.finding("token-issuer-mismatch") is not None


def test_log_without_tokens(site: ReferenceSite) -> None:
    site.nginx.request(MCP_PATH, method="POST", body=b"{}")
    site.nginx.wait_for_log(site.log_path, 1)
    report = doctor(site, logs=(site.log_path,))
    assert report.finding("token-none-in-log").status is Status.WARN  # type: ignore[union-attr]


def test_unreadable_log(site: ReferenceSite, tmp_path: Path) -> None:
    report = doctor(site, logs=(tmp_path / "missing.log",))
    assert report.finding("token-log-unusable").status is Status.FAIL  # type: ignore[union-attr]


def doctor_cli_with_state(
    site: ReferenceSite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    profile: JwtProfile | None,
    *extra: str,
) -> tuple[int, dict[str, dict[str, object]]]:
    """``doctor --dsn memory:STATE --json EXTRA...`` with ``profile`` in schema HR."""
    state = tmp_path / "ords.json"
    profiles = {"HR": asdict(profile)} if profile is not None else {}
    state.write_text(json.dumps({"schema": "HR", "profiles": profiles}))
    status = run_doctor_cli(
        [
            site.mcp_url,
            "--allow-http",
            "--json",
            "--dsn",
            f"memory:{state}",
            "--user",
            "HR",
            "--nginx-conf",
            str(site.conf_path),
            *extra,
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert document["schema_version"] == SCHEMA_VERSION
    findings = {f["code"]: f for s in document["steps"] for f in s["findings"]}
    return status, findings


def test_cli_reads_the_profile_from_the_database(
    site: ReferenceSite, idp: LocalIdP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = JwtProfile(issuer=idp.issuer + "/", audience=idp.api_app_id, jwk_url=idp.jwks_uri)
    status, findings = doctor_cli_with_state(site, tmp_path, capsys, wrong)
    assert status == 1
    assert "profile-issuer-mismatch" in findings
    assert "profile-jwk-url-matches" in findings


# --- with a database: the tokens are also judged with the schema's roles and privileges ---------


def test_cli_scope_based_profile_checks_the_scopes_against_the_privileges(
    site: ReferenceSite, idp: LocalIdP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The IdP's tokens carry scp "mcp:connect"; the stand-in's privilege is oracle.example.mcp.
    send(site, idp.mint(idp.entra_v2_claims()))
    status, findings = doctor_cli_with_state(
        site, tmp_path, capsys, good_profile(idp), "--log", str(site.log_path)
    )
    assert status == 1
    found = findings["token-scope-missing"]
    assert found["status"] == "fail"
    assert '"oracle.example.mcp"' in str(found["message"])
    assert "Rename one of them" in str(found["fix"])
    assert "token-ok" not in findings


def test_cli_role_based_profile_checks_the_ords_roles(
    site: ReferenceSite, idp: LocalIdP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send(site, idp.mint(idp.entra_v2_claims(roles=["ordsusers"])))
    profile = JwtProfile(
        issuer=idp.issuer, audience=idp.api_app_id, jwk_url=idp.jwks_uri, role_claim_name="/roles"
    )
    _status, findings = doctor_cli_with_state(
        site, tmp_path, capsys, profile, "--log", str(site.log_path)
    )
    found = findings["token-role-missing"]
    assert "case differs" in str(found["message"])


def test_cli_schema_without_profile_names_it_for_the_tokens(
    site: ReferenceSite, idp: LocalIdP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send(site, idp.mint(idp.entra_v2_claims()))
    _status, findings = doctor_cli_with_state(
        site, tmp_path, capsys, None, "--log", str(site.log_path)
    )
    # One fact, one code: the verdict's no-profile, reported once (not again per token).
    assert findings["no-profile"]["status"] == "fail"
    assert findings["no-profile"]["severity"] == "error"
    assert "token-no-profile" not in findings


def test_unreadable_roles_cost_only_the_role_and_scope_checks(
    site: ReferenceSite, idp: LocalIdP
) -> None:
    from inspector.ords.standin import connection_lost_error

    def broken() -> SchemaAuthorization:
        raise connection_lost_error()

    send(site, idp.mint(idp.entra_v2_claims()))
    report = doctor(
        site,
        profile_loader=lambda: good_profile(idp),
        authorization_loader=broken,
        logs=(site.log_path,),
    )
    note = report.finding("profile-roles-unreadable")
    assert note is not None and note.status is Status.SKIP
    assert "role and scope checks" in note.message
    assert report.codes().count("profile-roles-unreadable") == 1
    # Judged as before, without the privileges: the token passes what can still be checked.
    assert report.finding("token-ok") is not None, report.codes()
    assert report.finding("profile-issuer-matches") is not None
