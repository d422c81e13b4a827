"""``--ords-config DIR`` end to end: ``decode``, ``scan`` and ``profile show`` judge tokens
with ORDS's own settings read from a temporary ORDS configuration directory.

The IdP runs on 127.0.0.1; its keys are fetched over http (``--allow-private-idp``) or from
an https JWK URL on loopback, so the JWKS size and fetch time are real measurements.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser, main
from inspector.cli.watch import build_session
from inspector.demo.idp import LocalIdP, generate_rsa_key, keys_from
from tests.support.command_run import first_attempt, write_bearer_log
from tests.support.https_keys import HttpsKeys, https_keys

HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">\n'
)


def properties(entries: dict[str, str]) -> str:
    body = "".join(f'<entry key="{k}">{v}</entry>\n' for k, v in entries.items())
    return HEADER + "<properties>\n" + body + "</properties>\n"


def ords_dir(root: Path, glob: dict[str, str], pool: dict[str, str] | None = None) -> Path:
    (root / "global").mkdir(parents=True)
    (root / "global" / "settings.xml").write_text(properties(glob))
    if pool is not None:
        (root / "databases" / "default").mkdir(parents=True)
        (root / "databases" / "default" / "pool.xml").write_text(properties(pool))
    return root


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    with LocalIdP() as server:
        yield server


@pytest.fixture
def env(idp: LocalIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config" / "token-inspector" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[keys]\ntrusted_issuers = ["{idp.issuer_v2}"]\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("TOKEN_INSPECTOR_CONFIG", raising=False)
    monkeypatch.delenv("ORACLE_PASSWORD", raising=False)
    return tmp_path


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    status = main(argv)
    return status, out.getvalue(), err.getvalue()


def codes(doc: dict[str, object]) -> list[str]:
    verdicts = doc["verdicts"]
    assert isinstance(verdicts, list)
    return [v["code"] for v in verdicts]


def test_decode_names_the_ords_settings_behind_a_401(
    idp: LocalIdP, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ords = ords_dir(
        env / "ords",
        {"security.jwks.size": "100", "security.jwks.refresh.interval": "1h"},
    )
    token = idp.mint(idp.entra_v2_claims())
    argv = ["decode", "-", "--json", "--status", "401", "--allow-private-idp"]
    status, out, err = run(
        [*argv, "--expect-aud", idp.api_app_id, "--ords-config", str(ords)], monkeypatch, token
    )
    doc = json.loads(out)
    assert doc["token"]["verified"] is True, err
    found = codes(doc)
    assert "ords-jwks-too-large" in found
    rejected = next(v for v in doc["verdicts"] if v["code"] == "rejected-by-server")
    assert "suspects: ords-jwks-too-large" in rejected["message"]
    assert "security.jwks.refresh.interval=1h" in rejected["fix"]
    assert status == 1
    assert token not in out + err
    # The same token without the ORDS settings: nothing about them.
    status, out, _ = run([*argv, "--expect-aud", idp.api_app_id], monkeypatch, token)
    assert "ords-jwks-too-large" not in codes(json.loads(out))


def test_decode_in_pool_mode_judges_against_the_pool_profile(
    idp: LocalIdP, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ords = ords_dir(
        env / "ords",
        {"security.jwt.profile.mode": "schema"},
        {
            "security.jwt.profile.mode": "Pool",
            "security.jwt.profile.issuer": idp.issuer_v2,
            "security.jwt.profile.audience": "api://the-pool-audience",
            "security.jwks.allowed.urls": "https://keys.example/",
        },
    )
    token = idp.mint(idp.entra_v2_claims())
    argv = ["decode", "-", "--json", "--allow-private-idp", "--ords-config", str(ords)]
    status, out, err = run(argv, monkeypatch, token)
    doc = json.loads(out)
    found = codes(doc)
    assert status == 1, err
    assert found[0] == "ords-pool-profile"
    assert "audience-mismatch" in found and "profile-issuer" not in found
    mismatch = next(v for v in doc["verdicts"] if v["code"] == "audience-mismatch")
    assert "ORDS pool settings (default)" in mismatch["message"]
    assert "ords-jwk-url-not-allowed" in found


def test_scan_with_profiles_disabled_fails_every_token(
    idp: LocalIdP, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ords = ords_dir(env / "ords", {"security.jwt.profile.enabled": "false"})
    now = datetime.now(UTC).timestamp()
    log = write_bearer_log(env, idp.mint(idp.entra_v2_claims(now=now)))
    argv = ["scan", str(log.log), "--format", "extended", "--nginx-conf", str(log.nginx_conf)]
    argv += ["--json", "--allow-private-idp", "--expect-aud", idp.api_app_id]
    status, out, err = run([*argv, "--ords-config", str(ords)], monkeypatch)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows and all("ords-profiles-disabled" in codes(r) for r in rows), err
    assert status == 1
    status, out, _ = run(argv, monkeypatch)
    assert not any("ords-profiles-disabled" in codes(json.loads(x)) for x in out.splitlines())


def test_a_hostile_ords_config_is_one_error_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, idp: LocalIdP
) -> None:
    ords = env / "ords"
    (ords / "global").mkdir(parents=True)
    (ords / "global" / "settings.xml").write_text(
        '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        '<properties><entry key="k">&b;</entry></properties>'
    )
    status, out, err = run(
        ["decode", "-", "--ords-config", str(ords)], monkeypatch, idp.mint(idp.entra_v2_claims())
    )
    assert status == 2 and out == ""
    assert "DOCTYPE or ENTITY declarations are refused" in err


def test_profile_show_in_pool_mode_never_says_no_profile(
    idp: LocalIdP, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = env / "ords.json"
    state.write_text(json.dumps({"schema": "HR", "profiles": {}}))
    token = idp.mint(idp.entra_v2_claims(scp="oracle.example.mcp"))
    show = ["profile", "show", "--dsn", f"memory:{state}", "--token", "-", "--json"]
    show += ["--allow-http-jwk-url"]
    _, out, _ = run(show, monkeypatch, token)
    assert [v["code"] for v in json.loads(out)["token"]["errors"]] == ["no-profile"]
    ords = ords_dir(
        env / "ords",
        {},
        {
            "security.jwt.profile.mode": "POOL",
            "security.jwt.profile.issuer": idp.issuer_v2,
            "security.jwt.profile.audience": idp.api_app_id,
            "security.jwt.profile.jwk.url": idp.jwks_uri,
        },
    )
    _, out, err = run([*show, "--ords-config", str(ords)], monkeypatch, token)
    judged = json.loads(out)["token"]
    assert "no-profile" not in [v["code"] for v in judged["errors"]], err
    assert judged["passes"] is True


# --- no schema profile is offered in POOL mode ---------------------------------------------


@pytest.fixture(scope="module")
def key_host(idp: LocalIdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsKeys]:
    with https_keys(idp.keys, tmp_path_factory.mktemp("key-host")) as served:
        yield served


def pool_dir(root: Path, idp: LocalIdP) -> Path:
    return ords_dir(
        root,
        {},
        {
            "security.jwt.profile.mode": "POOL",
            "security.jwt.profile.issuer": "https://old-issuer.example/",
            "security.jwt.profile.audience": idp.api_app_id,
        },
    )


def test_profile_apply_refuses_in_pool_mode_and_says_what_to_set(
    idp: LocalIdP, key_host: HttpsKeys, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_host.trust(monkeypatch)
    state = env / "ords.json"
    state.write_text(json.dumps({"schema": "HR", "profiles": {}}))
    before = state.read_text()
    ords = pool_dir(env / "ords", idp)
    token = idp.mint(idp.entra_v2_claims())
    argv = ["profile", "apply", "--dsn", f"memory:{state}", "--token", "-", "--yes"]
    argv += ["--jwk-url", key_host.url, "--allow-private-idp", "--ords-config", str(ords)]
    status, out, err = run(argv, monkeypatch, token)
    assert status != 0, out
    assert "POOL mode ORDS reportedly ignores the schema's profile" in err
    assert f'security.jwt.profile.issuer "{idp.issuer_v2}"' in err
    assert "config --db-pool default set KEY VALUE" in err
    assert state.read_text() == before  # nothing applied
    assert token not in out + err
    # The same apply without the ORDS settings goes through.
    argv = argv[: argv.index("--ords-config")]
    status, _, err = run(argv, monkeypatch, token)
    assert status == 0, err
    assert state.read_text() != before


def test_live_screen_refuses_to_apply_in_pool_mode(
    idp: LocalIdP, key_host: HttpsKeys, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_host.trust(monkeypatch)
    state = env / "ords.json"
    state.write_text(json.dumps({"schema": "HR", "profiles": {}}))
    before = state.read_text()
    ords = pool_dir(env / "ords", idp)
    log = write_bearer_log(env, idp.mint(idp.entra_v2_claims()))
    args = build_parser().parse_args(
        ["watch", "--dsn", f"memory:{state}", "--from-start", "--nginx-conf",
         str(log.nginx_conf), "--jwk-url", key_host.url, "--allow-private-idp",
         "--ords-config", str(ords), str(log.log)]
    )  # fmt: skip
    session = build_session(args, settings_from_args(args))
    attempt = first_attempt(session)
    plan = session.plan(attempt)
    assert "reportedly ignores the schema's profile" in (plan.refusal or "")
    outcome = session.apply(plan, lambda *_: None)
    assert not outcome.ok and "POOL mode" in outcome.summary
    assert state.read_text() == before
    # The schema has no profile, and the status bar does not call that a problem.
    session.current_profile()
    assert "POOL mode: the pool's profile applies" in session.database_state()
    assert "no-profile" not in [v.code for v in session.analyzer.analyze(attempt.record).verdicts]


def test_profile_sql_warns_that_ords_would_ignore_the_script(
    idp: LocalIdP, key_host: HttpsKeys, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_host.trust(monkeypatch)
    ords = pool_dir(env / "ords", idp)
    argv = ["profile", "sql", "--token", "-", "--jwk-url", key_host.url, "--allow-private-idp"]
    status, out, err = run(
        [*argv, "--ords-config", str(ords)], monkeypatch, idp.mint(idp.entra_v2_claims())
    )
    assert status == 0, err
    assert "CREATE_JWT_PROFILE" in out.upper()
    assert "warning: ORDS pool 'default' uses its pool-level JWT profile" in err


def test_decode_kid_not_found_names_the_refresh_interval(
    idp: LocalIdP, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ords = ords_dir(env / "ords", {"security.jwks.refresh.interval": "6h"})
    jwks = env / "other-keys.json"
    jwks.write_text(json.dumps(keys_from([generate_rsa_key(kid="someone-else")])))
    token = idp.mint(idp.entra_v2_claims())
    argv = ["decode", "-", "--json", "--jwks", str(jwks), "--ords-config", str(ords)]
    _, out, err = run(argv, monkeypatch, token)
    kid = next(v for v in json.loads(out)["verdicts"] if v["code"] == "kid-not-found")
    assert "security.jwks.refresh.interval=6h" in kid["fix"], err
