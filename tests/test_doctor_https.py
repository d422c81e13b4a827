"""doctor over HTTPS: nginx and the IdP with certificates from a test CA (trustme).

The CA is trusted only through ``REQUESTS_CA_BUNDLE``, the way an admin trusts an internal
CA; without it the same run fails at the first TLS handshake.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from inspector.demo.idp import LocalIdP
from inspector.doctor import DoctorOptions, Status, run_doctor
from tests.support.doctor_cli import run_doctor_cli
from tests.support.nginx import requires_headers_more
from tests.support.reference_site import ReferenceSite

pytestmark = [requires_headers_more, pytest.mark.nginx]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_site(tmp_path: Path, ca: trustme.CA) -> Iterator[ReferenceSite]:
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path = tmp_path / "site.crt", tmp_path / "site.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_path), append=True)
    cert.private_key_pem.write_to_path(str(key_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    with (
        LocalIdP(scheme="https", ssl_context=context) as idp,
        ReferenceSite(tmp_path / "site", idp, tls=(cert_path, key_path)) as site,
    ):
        yield site


def test_https_chain_passes_with_the_ca_from_requests_ca_bundle(
    https_site: ReferenceSite, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert https_site.mcp_url.startswith("https://")
    report = run_doctor(DoctorOptions(https_site.mcp_url, nginx_conf=https_site.conf_path))
    assert not report.failed, report.codes(Status.FAIL)
    # The reference format logs full tokens: the doctor says they are replayable.
    assert set(report.codes(Status.WARN)) == {
        "as-no-registration-endpoint",
        "nginx-log-replayable-tokens",
    }
    for code in ("mcp-url-https", "jwks-uri-https", "jwks-usable-keys", "as-issuer"):
        finding = report.finding(code)
        assert finding is not None and finding.status is Status.PASS, code


def test_https_cli_exit_status_zero(
    https_site: ReferenceSite,
    ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    status = run_doctor_cli([https_site.mcp_url, "--nginx-conf", str(https_site.conf_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "0 failed" in out


def test_https_without_trusting_the_ca_fails_at_tls(
    https_site: ReferenceSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An empty-but-valid bundle: the system store must not be consulted either.
    other = trustme.CA()
    bundle = tmp_path / "other-ca.pem"
    other.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    report = run_doctor(DoctorOptions(https_site.mcp_url, check_nginx=False))
    finding = report.finding("challenge-unreachable")
    assert finding is not None and finding.status is Status.FAIL
    assert "TLS" in (finding.observed or "") or "certificate" in (finding.observed or "")
