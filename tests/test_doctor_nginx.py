"""Step 6 on configuration files: what nginx would refuse, and where tokens end up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inspector.doctor import DoctorOptions, Finding, Status
from inspector.doctor.nginx_step import check_nginx

MODULE = "/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so"


def run(conf: Path) -> dict[str, Finding]:
    findings = list(check_nginx(DoctorOptions("https://h/mcp", nginx_conf=conf), "https://h"))
    return {f.code: f for f in findings}


def write(tmp_path: Path, http_body: str, main: str = "") -> Path:
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"{main}\nevents {{}}\nhttp {{\n{http_body}\n}}\n")
    return conf


def extended(log: Path, fmt: str = "extended") -> str:
    return (
        'log_format extended \'$remote_addr [$time_local] "$request" $status '
        'authorization:"$http_authorization"\';\n'
        f"server {{ listen 8080; access_log {log} {fmt}; }}"
    )


def test_private_log_recording_authorization(tmp_path: Path) -> None:
    log = tmp_path / "extended.log"
    log.write_text("")
    log.chmod(0o640)
    found = run(write(tmp_path, extended(log)))
    assert found["nginx-authorization-log"].status is Status.PASS
    assert found["nginx-log-private"].observed == f"{log} -rw-r-----"


def test_world_readable_log(tmp_path: Path) -> None:
    log = tmp_path / "extended.log"
    log.write_text("")
    log.chmod(0o604)
    found = run(write(tmp_path, extended(log)))
    assert found["nginx-log-world-readable"].status is Status.FAIL
    assert f"chmod o-r {log}" in (found["nginx-log-world-readable"].fix or "")


def test_no_log_records_the_authorization_header(tmp_path: Path) -> None:
    found = run(write(tmp_path, f"access_log {tmp_path}/access.log combined;"))
    assert found["nginx-no-authorization-log"].status is Status.WARN
    assert "combined" in (found["nginx-no-authorization-log"].observed or "")


def test_undefined_format(tmp_path: Path) -> None:
    found = run(write(tmp_path, extended(tmp_path / "x.log", fmt="extnded")))
    assert found["nginx-undefined-format"].status is Status.FAIL
    assert "extnded" in found["nginx-undefined-format"].message


def test_missing_log_file_is_not_judged(tmp_path: Path) -> None:
    found = run(write(tmp_path, extended(tmp_path / "absent.log")))
    assert found["nginx-log-mode-unknown"].status is Status.SKIP
    assert found["nginx-log-mode-unknown"].observed == (
        f"{tmp_path / 'absent.log'}: No such file or directory"
    )


def test_relative_log_under_the_guessed_prefix_is_checked(tmp_path: Path) -> None:
    # nginx's own layout, PREFIX/conf/nginx.conf: the guess is the conf dir's parent.
    (tmp_path / "conf").mkdir()
    log = tmp_path / "logs" / "extended.log"
    log.parent.mkdir()
    log.write_text("")
    log.chmod(0o640)
    found = run(write(tmp_path / "conf", extended(Path("logs/extended.log"))))
    assert found["nginx-authorization-log"].observed == (
        f"{log} (extended), written as logs/extended.log under prefix {tmp_path}"
    )
    assert found["nginx-log-private"].observed == f"{log} -rw-r-----"


def test_missing_relative_log_says_the_prefix_was_a_guess(tmp_path: Path) -> None:
    found = run(write(tmp_path, extended(Path("logs/extended.log"))))
    finding = found["nginx-log-mode-unknown"]
    assert finding.status is Status.SKIP
    assert "prefix guessed" in finding.message
    assert (
        finding.observed
        == f"{tmp_path.parent / 'logs' / 'extended.log'}: No such file or directory"
    )


def test_relative_log_resolves_against_the_prefix_nginx_V_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = write(tmp_path, extended(Path("logs/extended.log")))
    prefix = tmp_path / "share" / "nginx"
    log = prefix / "logs" / "extended.log"
    log.parent.mkdir(parents=True)
    log.write_text("")
    log.chmod(0o604)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    nginx = bin_dir / "nginx"
    nginx.write_text(
        f"#!/bin/sh\necho 'configure arguments: --prefix={prefix} --conf-path={conf}' >&2\n"
    )
    nginx.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    found = run(conf)
    assert found["nginx-log-world-readable"].observed == f"{log} -rw----r--"


def test_cancelled_log_is_not_taken_for_the_token_log(tmp_path: Path) -> None:
    log = tmp_path / "extended.log"
    log.write_text("")
    log.chmod(0o640)
    body = extended(log).replace("extended; }", "extended; access_log off; }")
    found = run(write(tmp_path, body))
    assert "nginx-authorization-log" not in found
    finding = found["nginx-no-authorization-log"]
    assert finding.status is Status.WARN
    assert finding.observed == f"{log} extended ({tmp_path / 'nginx.conf'}:5, never written)"


def test_undefined_format_does_not_hide_the_other_findings(tmp_path: Path) -> None:
    log = tmp_path / "extended.log"
    log.write_text("")
    log.chmod(0o640)
    body = extended(log).replace("listen 8080;", f"listen 8080; access_log {log}.2 extnded;")
    found = run(write(tmp_path, body))
    assert found["nginx-undefined-format"].status is Status.FAIL
    assert "'extnded'" in found["nginx-undefined-format"].message
    assert found["nginx-authorization-log"].status is Status.PASS
    assert found["nginx-log-private"].status is Status.PASS


def test_other_refusals_are_findings_with_their_code(tmp_path: Path) -> None:
    body = extended(tmp_path / "x.log").replace(
        "listen 8080;", "listen 8080; access_log off combined;"
    )
    conf = write(tmp_path, body)
    finding = run(conf)["nginx-conf-invalid"]
    assert finding.status is Status.FAIL
    assert "invalid-access-log" in finding.message
    assert finding.observed == f'{conf}:5: invalid parameter "combined"'


def test_more_directives_without_the_module(tmp_path: Path) -> None:
    body = "server { listen 8080; location @x { more_clear_headers 'WWW-Authenticate'; } }"
    found = run(write(tmp_path, body))
    finding = found["nginx-headers-more-not-loaded"]
    assert finding.status is Status.FAIL
    assert "more_clear_headers" in (finding.observed or "")


def test_module_loaded_through_modules_enabled_include(tmp_path: Path) -> None:
    enabled = tmp_path / "modules-enabled"
    enabled.mkdir()
    (enabled / "50-mod-http-headers-more-filter.conf").write_text(f"load_module {MODULE};\n")
    body = "server { listen 8080; location @x { more_clear_headers 'WWW-Authenticate'; } }"
    found = run(write(tmp_path, body, main=f"include {enabled}/*.conf;"))
    assert found["nginx-headers-more-loaded"].status is Status.PASS


def test_explicit_configuration_that_cannot_be_read(tmp_path: Path) -> None:
    found = run(tmp_path / "missing.conf")
    assert found["nginx-conf-unreadable"].status is Status.WARN


def test_configuration_that_does_not_parse(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("http { server { listen 8080; }\n")
    found = run(conf)
    assert found["nginx-conf-invalid"].status is Status.FAIL
