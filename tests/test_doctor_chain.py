"""doctor against a real nginx set up like the reference, and one broken variant per finding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.doctor import DoctorOptions, DoctorReport, Status, run_doctor
from tests.support.faulty_idp import FaultyIdP
from tests.support.nginx import check_config, requires_headers_more
from tests.support.reference_site import ReferenceSite, SiteVariant

pytestmark = [requires_headers_more, pytest.mark.nginx]


@pytest.fixture
def idp() -> Iterator[FaultyIdP]:
    with FaultyIdP() as provider:
        yield provider


def doctor(site: ReferenceSite, **options: object) -> DoctorReport:
    settings: dict[str, object] = {"allow_http": True, "nginx_conf": site.conf_path}
    settings.update(options)
    return run_doctor(DoctorOptions(site.mcp_url, **settings))  # type: ignore[arg-type]


def run_variant(tmp_path: Path, idp: FaultyIdP, variant: SiteVariant) -> DoctorReport:
    with ReferenceSite(tmp_path, idp, variant) as site:
        return doctor(site)


def status_of(report: DoctorReport, code: str) -> Status | None:
    finding = report.finding(code)
    return finding.status if finding else None


def test_reference_setup_has_no_failure(tmp_path: Path, idp: FaultyIdP) -> None:
    with ReferenceSite(tmp_path, idp) as site:
        report = doctor(site)
    assert not report.failed, report.codes(Status.FAIL)
    for code in (
        "challenge-401",
        "challenge-resource-metadata",
        "challenge-scope",
        "challenge-no-ords-realm",
        "cors-present",
        "prm-resource",
        "prm-authorization-servers",
        "prm-scopes",
        "as-metadata-found",
        "as-issuer",
        "challenge-scope-qualified",
        "entra-resource-consistent",
        "jwks-usable-keys",
        "nginx-authorization-log",
        "nginx-log-private",
        "nginx-headers-more-loaded",
    ):
        assert status_of(report, code) is Status.PASS, code
    # Only --allow-http findings, Entra's missing registration and the reference format's
    # full (replayable) tokens remain, as warnings.
    assert set(report.codes(Status.WARN)) == {
        "nginx-log-replayable-tokens",
        "mcp-url-not-https",
        "challenge-resource-metadata-not-https",
        "prm-authorization-server-not-https",
        "jwks-uri-not-https",
        "as-no-registration-endpoint",
    }


def test_without_allow_http_plain_http_fails(tmp_path: Path, idp: FaultyIdP) -> None:
    with ReferenceSite(tmp_path, idp) as site:
        report = doctor(site, allow_http=False)
    assert status_of(report, "jwks-uri-not-https") is Status.FAIL
    assert status_of(report, "mcp-url-not-https") is Status.FAIL


def test_challenge_without_resource_metadata(tmp_path: Path, idp: FaultyIdP) -> None:
    report = run_variant(tmp_path, idp, SiteVariant(resource_metadata=False))
    # MCP 2025-11-25 (the default): the well-known URI alone is allowed, the header SHOULD.
    assert status_of(report, "challenge-no-resource-metadata") is Status.WARN
    # The chain goes on with the well-known root, as a connector falling back would.
    assert status_of(report, "prm-reachable") is Status.PASS
    with ReferenceSite(tmp_path / "old", idp, SiteVariant(resource_metadata=False)) as site:
        older = doctor(site, mcp_revision="2025-06-18")
    assert status_of(older, "challenge-no-resource-metadata") is Status.FAIL


def test_bare_scope_with_entra(tmp_path: Path, idp: FaultyIdP) -> None:
    variant = SiteVariant(scope="mcp:connect", scopes_supported=("mcp:connect",))
    report = run_variant(tmp_path, idp, variant)
    assert status_of(report, "challenge-bare-scope") is Status.FAIL
    assert status_of(report, "prm-bare-scope") is Status.FAIL
    assert report.finding("challenge-bare-scope").observed == "mcp:connect"  # type: ignore[union-attr]


def test_bare_scope_is_fine_for_a_generic_idp(tmp_path: Path) -> None:
    variant = SiteVariant(scope="mcp:connect", scopes_supported=("mcp:connect",))
    with FaultyIdP(flavour="generic") as generic:
        report = run_variant(tmp_path, generic, variant)
    assert "challenge-bare-scope" not in report.codes()
    assert status_of(report, "as-metadata-found") is Status.PASS


def test_the_2025_app_id_pattern_fails_the_entra_resource_rule(
    tmp_path: Path, idp: FaultyIdP
) -> None:
    # The seed's set-up: scope api://<app-id>/mcp:connect while connectors send
    # resource = the MCP URL. Entra answers AADSTS9010010 since 2026.
    variant = SiteVariant(
        scope="api://{app}/mcp:connect", scopes_supported=("api://{app}/mcp:connect",)
    )
    with ReferenceSite(tmp_path, idp, variant) as site:
        report = doctor(site)
        url = site.mcp_url
    finding = report.finding("entra-resource-mismatch")
    assert finding is not None and finding.status is Status.FAIL
    assert "AADSTS9010010" in finding.message
    assert finding.fix is not None and f"{url}/mcp:connect" in finding.fix
    assert "api://" not in finding.fix


def test_challenge_without_scope(tmp_path: Path, idp: FaultyIdP) -> None:
    report = run_variant(tmp_path, idp, SiteVariant(scope=None))
    assert status_of(report, "challenge-no-scope") is Status.WARN


def test_wrong_resource(tmp_path: Path, idp: FaultyIdP) -> None:
    site = ReferenceSite(tmp_path, idp)
    # The port (and so the MCP URL) is fixed at construction: derive the wrong resource.
    site.variant = SiteVariant(resource=site.mcp_url + "/")
    with site:
        report = doctor(site)
    finding = report.finding("prm-resource-mismatch")
    assert finding is not None and finding.status is Status.FAIL
    assert "trailing slash" in finding.message


def test_missing_metadata_file(tmp_path: Path, idp: FaultyIdP) -> None:
    report = run_variant(tmp_path, idp, SiteVariant(metadata_file=False))
    finding = report.finding("prm-unreachable")
    assert finding is not None and finding.status is Status.FAIL
    assert "404" in (finding.observed or "")
    assert status_of(report, "authorization-server-skipped") is Status.SKIP


def test_issuer_mismatch(tmp_path: Path, idp: FaultyIdP) -> None:
    report = run_variant(tmp_path, idp, SiteVariant(authorization_server="{issuer}/"))
    finding = report.finding("as-issuer-mismatch")
    assert finding is not None and finding.status is Status.FAIL
    assert "trailing slash" in (finding.observed or "")


def test_unreachable_authorization_server(tmp_path: Path, idp: FaultyIdP) -> None:
    idp.fail_next(10, status=503)
    report = run_variant(tmp_path, idp, SiteVariant())
    assert status_of(report, "as-metadata-unreachable") is Status.FAIL
    assert status_of(report, "jwks-skipped") is Status.SKIP


def test_hs_only_keys(tmp_path: Path, idp: FaultyIdP) -> None:
    jwks_path = f"/{idp.tenant_id}/discovery/v2.0/keys"
    idp.set_metadata_override(
        {"keys": [{"kty": "oct", "kid": "shared", "alg": "HS256", "k": "c2VjcmV0"}]},
        path=jwks_path,
    )
    report = run_variant(tmp_path, idp, SiteVariant())
    finding = report.finding("jwks-no-usable-keys")
    assert finding is not None and finding.status is Status.FAIL
    assert "symmetric" in (finding.observed or "")


def test_ec_only_keys_are_not_usable_by_ords(tmp_path: Path, idp: FaultyIdP) -> None:
    from inspector.demo.idp import generate_ec_key

    idp.keys[:] = [generate_ec_key()]
    report = run_variant(tmp_path, idp, SiteVariant())
    finding = report.finding("jwks-no-usable-keys")
    assert finding is not None and "EC/ES256" in (finding.observed or "")


def test_world_readable_log(tmp_path: Path, idp: FaultyIdP) -> None:
    report = run_variant(tmp_path, idp, SiteVariant(log_mode=0o644))
    finding = report.finding("nginx-log-world-readable")
    assert finding is not None and finding.status is Status.FAIL
    assert "-rw-r--r--" in (finding.observed or "")


def test_undefined_format_is_what_nginx_refuses(tmp_path: Path, idp: FaultyIdP) -> None:
    with ReferenceSite(tmp_path, idp) as site:
        broken = site.write_variant_conf(SiteVariant(access_log_format="extnded"), "broken.conf")
        report = doctor(site, nginx_conf=broken)
        verdict = check_config(broken, site.nginx.prefix)
    assert status_of(report, "nginx-undefined-format") is Status.FAIL
    assert verdict.returncode != 0 and "unknown log format" in verdict.stderr


def test_headers_more_not_loaded_is_what_nginx_refuses(tmp_path: Path, idp: FaultyIdP) -> None:
    with ReferenceSite(tmp_path, idp) as site:
        broken = site.write_variant_conf(SiteVariant(load_headers_more=False), "nomore.conf")
        report = doctor(site, nginx_conf=broken)
        verdict = check_config(broken, site.nginx.prefix)
    assert status_of(report, "nginx-headers-more-not-loaded") is Status.FAIL
    assert verdict.returncode != 0 and "more_clear_headers" in verdict.stderr


def test_ords_realm_leaks_without_more_clear_headers(tmp_path: Path, idp: FaultyIdP) -> None:
    report = run_variant(tmp_path, idp, SiteVariant(clear_ords_challenge=False))
    finding = report.finding("challenge-ords-realm-leak")
    assert finding is not None and finding.status is Status.WARN
    assert "Oracle REST Data Services" in (finding.observed or "")
    # The rewritten challenge is still found next to ORDS's.
    assert status_of(report, "challenge-resource-metadata") is Status.PASS


def test_cors_missing(tmp_path: Path, idp: FaultyIdP) -> None:
    report = run_variant(tmp_path, idp, SiteVariant(cors=False))
    assert status_of(report, "cors-missing") is Status.WARN
    assert not report.failed


def test_scope_mismatch(tmp_path: Path, idp: FaultyIdP) -> None:
    variant = SiteVariant(scopes_supported=("api://{app}/other",))
    report = run_variant(tmp_path, idp, variant)
    # MCP allows the challenge's scopes to differ from scopes_supported: information.
    assert status_of(report, "prm-scope-mismatch") is Status.PASS


def test_no_authorization_servers(tmp_path: Path, idp: FaultyIdP) -> None:
    variant = SiteVariant(extra_document={"authorization_servers": []})
    report = run_variant(tmp_path, idp, variant)
    assert status_of(report, "prm-no-authorization-servers") is Status.FAIL
    assert status_of(report, "authorization-server-skipped") is Status.SKIP


def test_findings_stream_before_the_report(tmp_path: Path, idp: FaultyIdP) -> None:
    seen: list[object] = []
    with ReferenceSite(tmp_path, idp) as site:
        report = run_doctor(
            DoctorOptions(site.mcp_url, allow_http=True, nginx_conf=site.conf_path), seen.append
        )
    steps = [e for e in seen if not hasattr(e, "code")]
    findings = [e for e in seen if hasattr(e, "code")]
    assert [s.id for s in steps] == [s.id for s in report.steps]  # type: ignore[attr-defined]
    assert tuple(findings) == report.findings
