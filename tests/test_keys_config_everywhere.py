"""``[keys]`` in the config file means the same to ``scan``, ``watch``, ``profile`` and ``doctor``.

One forged token (signed with an attacker's key under the IdP's kid) is in a real log.
Whoever fetches the issuer's keys finds the signature invalid; with ``[keys]
trusted_issuers`` naming another issuer, nobody may fetch them, so nobody can check it.
Every command must land on the same side of that line for the same config file.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.cli.watch import build_session
from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.settings import load_settings
from tests.support.command_run import first_attempt, isolate, run_cli, write_bearer_log
from tests.support.https_keys import HttpsKeys, https_keys

# Only ever compared with the token's issuer, never fetched (the suite refuses DNS).
ELSEWHERE = "https://login.example.com/another-tenant/v2.0"


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    with LocalIdP() as server:
        yield server


@pytest.fixture(scope="module")
def key_host(idp: LocalIdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsKeys]:
    """The IdP's keys at an https:// URL on 127.0.0.1, for ``--jwk-url``."""
    with https_keys(idp.keys, tmp_path_factory.mktemp("key-host")) as served:
        yield served


@dataclass(frozen=True)
class Site:
    log: Path
    nginx_conf: Path
    token: str


@pytest.fixture
def site(tmp_path: Path, idp: LocalIdP, monkeypatch: pytest.MonkeyPatch) -> Site:
    isolate(tmp_path, monkeypatch)
    forged = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
    written = write_bearer_log(tmp_path, forged)
    return Site(written.log, written.nginx_conf, forged)


def config_file(tmp_path: Path, trusted: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[keys]\ntrusted_issuers = ["{trusted}"]\n')
    return path


# Each returns whether the forged token's signature was found invalid (False), or could
# not be checked (None): the key store decided, so the config decided.


def scan_verdict(site: Site, config: Path, monkeypatch: pytest.MonkeyPatch) -> bool | None:
    argv = ["scan", "--json", "--config", str(config), "--nginx-conf", str(site.nginx_conf)]
    status, out, err = run_cli([*argv, str(site.log)], monkeypatch)
    attempts = [json.loads(x) for x in out.splitlines() if '"token"' in x]
    assert len(attempts) == 1, (status, err)
    codes = {v["code"] for v in attempts[0]["verdicts"]}
    verified: bool | None = attempts[0]["token"]["verified"]
    assert ("signature-invalid" in codes) == (verified is False)
    return verified


def watch_verdict(site: Site, config: Path, monkeypatch: pytest.MonkeyPatch) -> bool | None:
    args = build_parser().parse_args(
        ["watch", "--no-db", "--from-start", "--config", str(config),
         "--nginx-conf", str(site.nginx_conf), str(site.log)]
    )  # fmt: skip
    settings = settings_from_args(args, base=load_settings(config))
    attempt = first_attempt(build_session(args, settings))
    assert attempt.token is not None
    codes = {v.code for v in attempt.verdicts}
    assert ("signature-invalid" in codes) == (attempt.token.verified is False)
    return attempt.token.verified


def profile_verdict(site: Site, config: Path, monkeypatch: pytest.MonkeyPatch) -> bool | None:
    argv = ["profile", "show", "--json", "--dsn", "memory:", "--user", "HR",
            "--config", str(config), "--nginx-conf", str(site.nginx_conf),
            "--from-log", str(site.log)]  # fmt: skip
    status, out, err = run_cli(argv, monkeypatch)
    assert status == 0, err
    verified: bool | None = json.loads(out)["token"]["verified"]
    return verified


def doctor_verdict(
    site: Site, config: Path, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...] = ()
) -> bool | None:
    with socket.socket() as probe:  # nobody listens: steps 1-4 fail fast, step 5 still runs
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["doctor", f"http://127.0.0.1:{port}/ords/hr/mcp", "--allow-http", "--json",
            "--no-nginx", "--http-timeout", "2", "--config", str(config),
            "--nginx-conf", str(site.nginx_conf), "--log", str(site.log), *extra]  # fmt: skip
    _, out, err = run_cli(argv, monkeypatch)
    findings = [f for s in json.loads(out)["steps"] for f in s["findings"]]
    tokens = [f for f in findings if f["code"].startswith("token-")]
    if any(f["code"] == "token-signature-invalid" for f in tokens):
        return False
    # The logged 401 is then blamed on the server, saying the signature went unchecked.
    assert any("signature not checked" in f["message"] for f in tokens), (findings, err)
    return None


COMMANDS = {
    "scan": scan_verdict,
    "watch": watch_verdict,
    "profile": profile_verdict,
    "doctor": doctor_verdict,
}


@pytest.mark.parametrize("command", COMMANDS)
def test_config_trusting_another_issuer_stops_key_discovery(
    command: str, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_file(tmp_path, ELSEWHERE)
    assert COMMANDS[command](site, config, monkeypatch) is None


@pytest.mark.parametrize("command", COMMANDS)
def test_config_trusting_the_tokens_issuer_lets_its_keys_expose_the_forgery(
    command: str, site: Site, idp: LocalIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_file(tmp_path, idp.issuer_v2)
    assert COMMANDS[command](site, config, monkeypatch) is False


def test_profile_proposals_take_their_trusted_issuers_from_the_config_too(
    site: Site, key_host: HttpsKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_host.trust(monkeypatch)
    config = config_file(tmp_path, ELSEWHERE)
    argv = ["profile", "sql", "--config", str(config), "--from-log", str(site.log),
            "--nginx-conf", str(site.nginx_conf), "--jwk-url", key_host.url]  # fmt: skip
    status, out, err = run_cli(argv, monkeypatch)
    assert status == 0, err
    assert "p_jwk_url" in out
    # The risk names the issuer that the config does not trust.
    assert "trusted" in err and "issuer" in err, err


def test_watch_rejects_a_bad_keys_table_before_the_screen_opens(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\ntrusted_issuers = "not a list"\n')
    status, _, err = run_cli(
        ["watch", "--config", str(config), "--nginx-conf", str(site.nginx_conf), str(site.log)],
        monkeypatch,
    )
    assert status == 2
    assert "[keys] trusted_issuers: must be a list" in err


def test_doctor_rejects_a_missing_offline_key_file_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[keys]\njwks = "{tmp_path / "missing.json"}"\n')
    status, out, err = run_cli(
        ["doctor", "https://mcp.example.test/ords/hr/mcp", "--config", str(config)], monkeypatch
    )
    assert status == 2 and out == ""
    assert "[keys] jwks" in err and "no such file" in err


def test_doctor_takes_the_trusted_issuer_flag_like_scan(
    site: Site, idp: LocalIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The flag wins over a config trusting another issuer, as it does for scan.
    config = config_file(tmp_path, ELSEWHERE)
    flag = ("--trusted-issuer", idp.issuer_v2)
    assert doctor_verdict(site, config, monkeypatch, flag) is False
