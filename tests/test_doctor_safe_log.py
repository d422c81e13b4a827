"""doctor step 6 on the token log: full tokens are replayable, the safe format is the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.doctor import DoctorOptions, Finding, Status, nginx_step
from inspector.doctor.nginx_step import check_nginx
from parsers.nginx.safe_log import SAFE_FORMAT_NAME, safe_log_config

ROOT = Path(__file__).resolve().parent.parent

FULL = (
    'log_format extended \'$remote_addr [$time_local] "$request" $status '
    'authorization:"$http_authorization"\';\n'
)


@pytest.fixture(autouse=True)
def _no_logrotate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    conf = tmp_path / "logrotate-nginx"
    monkeypatch.setattr(nginx_step, "LOGROTATE_CONF", conf)
    return conf


def run(tmp_path: Path, formats: str, fmt: str, mode: int = 0o640) -> dict[str, Finding]:
    log = tmp_path / "token.log"
    log.write_text("")
    log.chmod(mode)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"events {{}}\nhttp {{\n{formats}\nserver {{ listen 8080; access_log {log} {fmt}; }}\n}}\n"
    )
    findings = check_nginx(DoctorOptions("https://h/mcp", nginx_conf=conf), "https://h")
    return {f.code: f for f in findings}


def test_a_log_of_full_tokens_is_a_warning_with_the_safe_format_as_fix(tmp_path: Path) -> None:
    found = run(tmp_path, FULL, "extended")
    warning = found["nginx-log-replayable-tokens"]
    assert warning.status is Status.WARN
    assert "replay" in warning.message
    assert "extended" in (warning.observed or "")
    assert SAFE_FORMAT_NAME in (warning.fix or "") and "docs/safe-token-log.md" in (
        warning.fix or ""
    )
    assert "nginx-log-signature-free" not in found


def test_the_safe_log_passes_and_is_still_the_token_log(tmp_path: Path) -> None:
    found = run(tmp_path, safe_log_config(), SAFE_FORMAT_NAME)
    assert found["nginx-authorization-log"].status is Status.PASS
    assert found["nginx-log-signature-free"].status is Status.PASS
    assert "nginx-log-replayable-tokens" not in found
    assert "nginx-no-authorization-log" not in found


def test_a_format_recording_both_is_replayable(tmp_path: Path) -> None:
    both = safe_log_config() + "log_format both '$token_without_signature ${HTTP_Authorization}';\n"
    found = run(tmp_path, both, "both")
    assert found["nginx-log-replayable-tokens"].status is Status.WARN


def test_world_readable_full_tokens_fail_and_safe_claims_warn(tmp_path: Path) -> None:
    full = run(tmp_path, FULL, "extended", mode=0o644)
    assert full["nginx-log-world-readable"].status is Status.FAIL
    safe = run(tmp_path, safe_log_config(), SAFE_FORMAT_NAME, mode=0o644)
    assert safe["nginx-log-world-readable"].status is Status.WARN
    assert "claims" in safe["nginx-log-world-readable"].message


def test_rotation_of_full_tokens_says_how_many_copies(tmp_path: Path, _no_logrotate: Path) -> None:
    _no_logrotate.write_text(
        f"# {tmp_path}/other.log\n"
        f"{tmp_path}/*.log {{\n\tdaily\n\tmissingok\n\trotate 14\n\tcompress\n"
        "\tpostrotate\n\t\tinvoke-rc.d nginx rotate >/dev/null 2>&1\n\tendscript\n}\n"
    )
    found = run(tmp_path, FULL, "extended")
    rotation = found["nginx-log-rotation-keeps-tokens"]
    assert rotation.status is Status.WARN
    assert "14 old copies" in rotation.message and "daily" in rotation.message
    # A safe log's old copies hold nothing to replay.
    assert "nginx-log-rotation-keeps-tokens" not in run(
        tmp_path, safe_log_config(), SAFE_FORMAT_NAME
    )


def test_rotation_of_other_files_is_not_reported(tmp_path: Path, _no_logrotate: Path) -> None:
    _no_logrotate.write_text("/var/log/elsewhere/*.log {\n rotate 52\n}\n")
    assert "nginx-log-rotation-keeps-tokens" not in run(tmp_path, FULL, "extended")


def test_the_safe_log_page_holds_the_product_configuration() -> None:
    page = (ROOT / "docs" / "safe-token-log.md").read_text(encoding="utf-8")
    assert safe_log_config() in page


OLD_SAFE = (
    'map $http_authorization $token_without_signature { default "-"; }\n'
    'log_format old_safe \'$remote_addr [$time_local] "$request" $status '
    'referer:"$http_referer" authorization:"$token_without_signature"\';\n'
    'log_format by_arg \'$remote_addr $arg_access_token "$request_without_token" '
    'authorization:"$token_without_signature"\';\n'
)


def test_a_safe_authorization_next_to_a_raw_query_is_not_signature_free(tmp_path: Path) -> None:
    found = run(tmp_path, OLD_SAFE, "old_safe")
    warning = found["nginx-log-query-tokens"]
    assert warning.status is Status.WARN
    assert "?access_token=" in warning.message and "replayable" in warning.message
    assert "$request, $http_referer" in (warning.observed or "")
    assert "$request_without_token" in (warning.fix or "")
    assert "nginx-log-signature-free" not in found
    assert "nginx-log-replayable-tokens" not in found
    by_arg = run(tmp_path, OLD_SAFE, "by_arg")
    assert "$arg_access_token" in (by_arg["nginx-log-query-tokens"].observed or "")
    assert "nginx-log-signature-free" not in by_arg
