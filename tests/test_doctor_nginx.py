"""Step 6 on configuration files: what nginx would refuse, and where tokens end up."""

from __future__ import annotations

from pathlib import Path

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


def test_missing_and_relative_log_files_are_not_judged(tmp_path: Path) -> None:
    found = run(write(tmp_path, extended(tmp_path / "absent.log")))
    assert found["nginx-log-mode-unknown"].status is Status.SKIP
    found = run(write(tmp_path, extended(Path("logs/extended.log"))))
    assert found["nginx-log-mode-unknown"].status is Status.SKIP
    assert "relative" in found["nginx-log-mode-unknown"].message


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
