"""``token-inspector profile show|sql|apply`` end to end, with real tokens and the stand-in.

Tokens are minted by the loopback IdP and verified by the real key store; the database is
the in-memory ORDS kept in a JSON file (``--dsn memory:FILE``) so that successive commands
see each other's work, or a real python-oracledb connection to a closed loopback port.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.schema_version import SCHEMA_VERSION
from tests.support.https_keys import HttpsKeys, https_keys
from tests.test_plsql import script_value

ROOT = Path(__file__).resolve().parent.parent
EXTENDED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    'referer:"$http_referer" ua:"$http_user_agent" content-type:"$http_content_type" '
    'authorization:"$http_authorization" mcp-protocol-version:"$http_mcp_protocol_version"'
)
UA = {"chatgpt": "Mozilla/5.0 (compatible; ChatGPT-User/1.0; +https://openai.com/bot)"}


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    with LocalIdP() as server:
        yield server


@pytest.fixture(scope="module")
def key_host(idp: LocalIdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsKeys]:
    """The IdP's keys at an https:// URL on 127.0.0.1, for ``--jwk-url``."""
    with https_keys(idp.keys, tmp_path_factory.mktemp("key-host")) as served:
        yield served


def _trust_config(config_home: Path, *issuers: str) -> None:
    """A config whose ``[keys] trusted_issuers`` anchors the test IdP (the admin's own)."""
    path = config_home / "token-inspector" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[keys]\ntrusted_issuers = [" + ", ".join(f'"{i}"' for i in issuers) + "]\n")


@pytest.fixture
def env(idp: LocalIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    _trust_config(tmp_path / "config", idp.issuer_v2, idp.issuer_v1)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ORACLE_PASSWORD", raising=False)
    monkeypatch.delenv("TOKEN_INSPECTOR_DB", raising=False)
    return {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def _audit_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "token-inspector" / "audit.jsonl"


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> tuple[int, str, str]:
    """Run the CLI in-process with ``stdin`` as standard input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _apply(state: Path, *extra: str) -> list[str]:
    return [
        "profile",
        "apply",
        "--dsn",
        f"memory:{state}",
        "--token",
        "-",
        "--allow-http-jwk-url",
        *extra,
    ]


def test_apply_from_stdin_then_show(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    state = tmp_path / "ords.json"
    status, out, err = _run(_apply(state, "--yes"), monkeypatch, token)
    assert status == 0, err
    assert "this token PASSES under the proposed profile" in out
    assert "privilege 'oracle.example.mcp' protects mcp, /mcp/*" in out
    assert "applied: the profile now reads back as:" in out
    assert "[commit] ok" in err
    assert token not in out + err

    status, out, _ = _run(["profile", "show", "--dsn", f"memory:{state}", "--json"], monkeypatch)
    assert status == 0
    shown = json.loads(out)
    assert shown["schema_version"] == SCHEMA_VERSION
    assert shown["profile"]["issuer"] == idp.issuer_v2
    assert shown["profile"]["audience"] == idp.entra_v2_claims()["aud"]
    assert shown["profile"]["jwk_url"] == idp.jwks_uri
    assert shown["profile"]["role_claim_name"] == "/roles"
    assert shown["roles"] == ["ORDSUsers"]
    assert shown["privileges"][0]["patterns"] == ["/mcp/*"]

    audit = _audit_path(tmp_path).read_text()
    assert token not in audit
    assert json.loads(audit)["result"] == "applied"


def test_dry_run_changes_nothing(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    status, _, err = _run(_apply(state, "--dry-run"), monkeypatch, idp.mint(idp.entra_v2_claims()))
    assert status == 0
    assert "dry run: nothing changed" in err
    assert not state.exists()
    assert not _audit_path(tmp_path).exists()


def test_dry_run_json_is_the_proposal(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    argv = [*_apply(state, "--dry-run"), "--json", "--scope-based"]
    status, out, _ = _run(argv, monkeypatch, idp.mint(idp.entra_v2_claims()))
    assert status == 0
    data = json.loads(out)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["proposed"]["role_claim_name"] is None
    # Scope-based: mcp:connect names no ORDS privilege in the seeded stand-in, so ORDS
    # would refuse the token under this profile, and the proposal says so before apply.
    assert data["will_pass"] is False
    assert "no-privilege" in [r["code"] for r in data["risks"]]


def test_apply_proposal_judges_the_token_with_the_schema_roles(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    wrong_case = idp.mint(idp.entra_v2_claims(roles=["ordsusers"]))
    status, out, _ = _run([*_apply(state, "--dry-run"), "--json"], monkeypatch, wrong_case)
    assert status == 0
    data = json.loads(out)
    assert data["proposed"]["role_claim_name"] == "/roles"
    assert data["will_pass"] is False
    assert "role-missing" in json.dumps(data["prechecks"])
    right = idp.mint(idp.entra_v2_claims(roles=["ORDSUsers"]))
    status, out, _ = _run([*_apply(state, "--dry-run"), "--json"], monkeypatch, right)
    assert json.loads(out)["will_pass"] is True


def test_unverified_token_is_refused(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
    state = tmp_path / "ords.json"
    status, out, err = _run(_apply(state, "--yes"), monkeypatch, forged)
    assert status == 1
    assert "signature did NOT verify" in out
    assert "refused:" in err and "--force-unverified" in err
    assert not state.exists()
    audit = _audit_path(tmp_path).read_text()
    assert json.loads(audit)["result"] == "refused"
    assert forged not in audit


def test_force_unverified_prints_the_risk(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
    state = tmp_path / "ords.json"
    status, _, err = _run(_apply(state, "--yes", "--force-unverified"), monkeypatch, forged)
    assert status == 0
    assert "WARNING: --force-unverified" in err
    assert "attacker-chosen" in err
    assert "key set that someone else may control" in err
    assert json.loads(state.read_text())["profiles"]["DEMO"]["issuer"] == idp.issuer_v2


def test_untrusted_issuer_is_refused(
    idp: LocalIdP,
    key_host: HttpsKeys,
    tmp_path: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_host.trust(monkeypatch)
    state = tmp_path / "ords.json"
    token = idp.mint(idp.entra_v2_claims())
    # Never fetched: only compared with the token's issuer.
    argv = _apply(state, "--yes", "--trusted-issuer", "https://login.example.com/tenant/v2.0")
    status, _, err = _run(argv, monkeypatch, token)
    assert status == 2
    assert "is not among --trusted-issuer, so its metadata and keys were not fetched" in err
    # Even with a working JWK URL supplied by hand, the untrusted issuer refuses the apply.
    status, _, err = _run([*argv, "--jwk-url", key_host.url], monkeypatch, token)
    assert status == 1
    assert "is not among --trusted-issuer" in err
    assert not state.exists()


def test_audience_array_without_a_choice_cannot_become_a_profile(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = idp.mint(idp.entra_v2_claims(aud=["api://a", "api://b"]))
    status, _, err = _run(_apply(tmp_path / "o.json", "--yes"), monkeypatch, token)
    assert status == 2
    assert "(audience-array)" in err
    assert "openid" in err  # the rule's explanation and fix travel with it


def test_audience_array_applies_the_expected_element_with_a_risk_line(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = idp.mint(idp.entra_v2_claims(aud=["api://a", "api://b"]))
    argv = _apply(tmp_path / "o.json", "--dry-run", "--expect-aud", "api://b")
    status, out, _ = _run(argv, monkeypatch, token)
    assert status == 0
    assert "p_audience => 'api://b'" in out
    assert "reported to fail" in out


def test_sql_needs_no_database_and_quotes_hostile_claims(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "api://x'); drop table t; --\n/\n&pw"
    token = idp.mint(idp.entra_v2_claims(aud=hostile))
    argv = ["profile", "sql", "--token", "-", "--allow-http-jwk-url"]
    status, out, _ = _run(argv, monkeypatch, token)
    assert status == 0
    assert out.startswith("-- ORDS JWT profile generated by token-inspector")
    assert "set define off" in out
    assert script_value(out, "audience") == hostile
    assert token not in out


def test_sql_to_a_file(
    idp: LocalIdP,
    key_host: HttpsKeys,
    tmp_path: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_host.trust(monkeypatch)
    target = tmp_path / "profile.sql"
    argv = ["profile", "sql", "--token", "-", "--jwk-url", key_host.url, "-o"]
    status, _, _ = _run([*argv, str(target)], monkeypatch, idp.mint(idp.entra_v2_claims()))
    assert status == 0
    assert script_value(target.read_text(), "jwk_url") == key_host.url


def _log_line(token: str, when: datetime, status: int = 401) -> str:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'127.0.0.1 - - [{stamp}] "POST /ords/demo/mcp/ HTTP/1.1" {status} 0 '
        f'referer:"-" ua:"{UA["chatgpt"]}" content-type:"application/json" '
        f'authorization:"Bearer {token}" mcp-protocol-version:"2025-06-18"\n'
    )


def test_apply_from_log_uses_the_newest_verified_attempt(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    good = idp.mint(idp.entra_v2_claims(aud="api://good"))
    older = idp.mint(idp.entra_v2_claims(aud="api://older"))
    forged = idp.mint(
        idp.entra_v2_claims(aud="api://forged"), key=generate_rsa_key(kid=idp.keys[0].kid)
    )
    log = tmp_path / "extended.log"
    log.write_text(
        _log_line(older, now - timedelta(minutes=5))
        + _log_line(good, now - timedelta(minutes=2))
        + _log_line(forged, now - timedelta(minutes=1))
    )
    state = tmp_path / "ords.json"
    argv = [
        "profile",
        "apply",
        "--dsn",
        f"memory:{state}",
        "--from-log",
        str(log),
        "--log-format",
        EXTENDED,
        "--allow-http-jwk-url",
        "--yes",
    ]
    status, out, err = _run(argv, monkeypatch)
    assert status == 0, err
    assert f"from {log}:2, " in out
    assert "ChatGPT" in out
    assert json.loads(state.read_text())["profiles"]["DEMO"]["audience"] == "api://good"


def test_confirmation_without_a_terminal_needs_yes(idp: LocalIdP, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    _trust_config(tmp_path / "config", idp.issuer_v2)
    state = tmp_path / "ords.json"
    proc = subprocess.run(
        # memory_main: `python -m inspector` where --dsn memory: names the stand-in.
        [sys.executable, "-m", "tests.support.memory_main", *_apply(state)],
        input=idp.mint(idp.entra_v2_claims()),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
        timeout=60,
    )
    assert proc.returncode == 2
    assert "confirmation needs a terminal" in proc.stderr
    assert not state.exists()


def test_there_is_no_password_flag(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as exc:
        _run(["profile", "show", "--dsn", "db/svc", "--password", "s3cret"], monkeypatch)
    assert exc.value.code == 2


def test_password_in_the_dsn_is_refused_without_echoing_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["profile", "show", "--dsn", "scott/Tiger-Secret-1@db.example/svc"]
    status, out, err = _run(argv, monkeypatch)
    assert status == 2
    assert "must not contain a password" in err
    assert "Tiger-Secret-1" not in out + err


def test_no_password_and_no_terminal_is_a_clear_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = _run(["profile", "show", "--dsn", "127.0.0.1/x", "--user", "u"], monkeypatch)
    assert status == 2
    assert "set ORACLE_PASSWORD" in err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_listener_is_one_line_and_never_shows_the_password(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Pw-never-shown-8842"
    monkeypatch.setenv("ORACLE_PASSWORD", secret)
    dsn = f"127.0.0.1:{_closed_port()}/freepdb1"
    argv = ["profile", "apply", "--dsn", dsn, "--user", "demo", "--token", "-", "--yes"]
    status, out, err = _run(argv, monkeypatch, idp.mint(idp.entra_v2_claims()))
    assert status == 2
    assert "DPY-6005" in err
    assert "unreachable" in err
    assert len(err.strip().splitlines()) == 1
    assert secret not in out + err
    assert secret not in " ".join(argv)
    assert not _audit_path(tmp_path).exists() or secret not in _audit_path(tmp_path).read_text()


def test_show_without_a_database_is_a_usage_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = _run(["profile", "show"], monkeypatch)
    assert status == 2
    assert "no database" in err


def test_memory_env_selects_nothing(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # The in-memory stand-in is the demo's: no variable points a command at it.
    monkeypatch.setenv("TOKEN_INSPECTOR_DB", "memory")
    status, _, err = _run(["profile", "show"], monkeypatch)
    assert status == 2
    assert "no database" in err


def test_terminal_control_characters_from_claims_are_escaped(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = idp.mint(idp.entra_v2_claims(aud="api://x\x1b]0;pwned\x07\x1b[2J\u202eevil"))
    status, out, err = _run(_apply(tmp_path / "o.json", "--dry-run"), monkeypatch, token)
    assert status == 0, err
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in out + err
    assert "api://x\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil" in out


def test_show_judges_a_token_under_the_current_profile(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    good = idp.mint(idp.entra_v2_claims())
    assert _run(_apply(state, "--yes"), monkeypatch, good)[0] == 0
    show = ["profile", "show", "--dsn", f"memory:{state}", "--token", "-", "--allow-http-jwk-url"]
    status, out, _ = _run(show, monkeypatch, good)
    assert status == 0
    assert "PASSES under this profile" in out
    other = idp.mint(idp.entra_v2_claims(aud="api://someone-else"))
    status, out, _ = _run([*show, "--json"], monkeypatch, other)
    assert status == 0
    judged = json.loads(out)["token"]
    assert judged["passes"] is False
    assert [v["code"] for v in judged["errors"]] == ["audience-mismatch"]


def test_tns_alias_errors_come_from_the_real_driver(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORACLE_PASSWORD", "x")
    argv = ["profile", "show", "--dsn", "myalias", "--user", "u", "--config-dir", str(tmp_path)]
    status, _, err = _run(argv, monkeypatch)
    assert status == 2
    assert "DPY-4026" in err and "point --config-dir at its directory" in err
    (tmp_path / "tnsnames.ora").write_text(
        "other = (DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT=1))"
        "(CONNECT_DATA=(SERVICE_NAME=x)))\n"
    )
    status, _, err = _run(argv, monkeypatch)
    assert status == 2
    assert 'DPY-4000: unable to find "myalias"' in err
    assert "check the alias or --config-dir" in err


def test_from_log_with_last_reads_only_the_end(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    good = idp.mint(idp.entra_v2_claims())
    forged = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
    log = tmp_path / "extended.log"
    log.write_text(_log_line(good, now - timedelta(minutes=2)) + _log_line(forged, now))
    argv = ["profile", "sql", "--from-log", str(log), "--log-format", EXTENDED]
    status, _, err = _run([*argv, "--allow-http-jwk-url"], monkeypatch)
    assert status == 0
    assert "did not verify" not in err  # the whole log: the verified token wins
    status, _, err = _run([*argv, "--allow-http-jwk-url", "--last", "1"], monkeypatch)
    assert status == 0
    # Only the forged token is in the last line: the script is still written, with a warning.
    assert "signature did not verify" in err


# --- show --token: judged with the schema's facts (no profile, ORDS roles and privileges) -------


def _state_with(tmp_path: Path, profile: dict[str, object] | None) -> Path:
    state = tmp_path / "ords.json"
    state.write_text(json.dumps({"schema": "HR", "profiles": {"HR": profile} if profile else {}}))
    return state


def _profile_of(idp: LocalIdP, role_claim_name: str | None = None) -> dict[str, object]:
    return {
        "issuer": idp.issuer_v2,
        "audience": idp.api_app_id,
        "jwk_url": idp.jwks_uri,
        "role_claim_name": role_claim_name,
    }


def _show_token(state: Path) -> list[str]:
    return ["profile", "show", "--dsn", f"memory:{state}", "--token", "-", "--allow-http-jwk-url"]


def test_show_token_scope_based_profile_checks_the_privileges(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state_with(tmp_path, _profile_of(idp))
    # The IdP's default scp is "mcp:connect"; the stand-in's privilege is oracle.example.mcp.
    status, out, _ = _run(
        [*_show_token(state), "--json"], monkeypatch, idp.mint(idp.entra_v2_claims())
    )
    assert status == 0
    judged = json.loads(out)["token"]
    assert judged["passes"] is False
    assert [v["code"] for v in judged["errors"]] == ["scope-missing"]
    assert '"oracle.example.mcp"' in judged["errors"][0]["message"]
    right = idp.mint(idp.entra_v2_claims(scp="oracle.example.mcp"))
    status, out, _ = _run(_show_token(state), monkeypatch, right)
    assert status == 0
    assert "PASSES under this profile" in out


def test_show_token_role_based_profile_checks_the_ords_roles(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state_with(tmp_path, _profile_of(idp, "/roles"))
    token = idp.mint(idp.entra_v2_claims(roles=["ordsusers"]))
    status, out, _ = _run(_show_token(state), monkeypatch, token)
    assert status == 0
    assert "FAILS under this profile" in out
    assert "XX role-missing:" in out and "case differs" in out


def test_show_token_without_profile_says_no_profile(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state_with(tmp_path, None)
    token = idp.mint(idp.entra_v2_claims())
    status, out, _ = _run([*_show_token(state), "--json"], monkeypatch, token)
    assert status == 0
    judged = json.loads(out)["token"]
    assert judged["passes"] is False
    assert [v["code"] for v in judged["errors"]] == ["no-profile"]


def test_show_token_with_unreadable_privileges_loses_only_those_checks(
    idp: LocalIdP, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspector.cli import profile_steps as profile_command
    from inspector.ords.connect import open_repository
    from inspector.ords.connection import ConnectionSettings
    from inspector.ords.standin import InMemoryOrds
    from tests.support.faulty_ords import faulty

    def failing_privileges(settings: ConnectionSettings) -> InMemoryOrds:
        opened = open_repository(settings)
        assert isinstance(opened, InMemoryOrds)
        repo = faulty(opened)
        repo.fail("privileges")
        return repo

    monkeypatch.setattr(profile_command, "open_repository", failing_privileges)
    state = _state_with(tmp_path, _profile_of(idp))
    status, out, err = _run(_show_token(state), monkeypatch, idp.mint(idp.entra_v2_claims()))
    assert status == 0, err
    assert err.count("note:") == 1
    assert "DPY-4011" in err and "role and scope checks" in err
    assert "ORDS roles and privileges: (could not be read)" in out
    # Without the privileges the scope cannot be judged: the rest still is, and passes.
    assert "PASSES under this profile" in out


# -- ORDS releases: the package, the views and the role claim each release has -------------

RELEASES = ("23.3", "24.2", "24.4", "25.1", "25.2", "26.x")
PACKAGE = {"23.3": "oauth", "24.2": "oauth"}  # ORDS_SECURITY from 24.3
ROLE_CLAIM = ("25.1", "25.2", "26.x")


def _kind(release: str) -> list[str]:
    # p_role_claim_name exists from 25.1: before, a scope-based profile.
    return [] if release in ROLE_CLAIM else ["--scope-based"]


@pytest.mark.parametrize("release", RELEASES)
def test_apply_then_show_on_every_release(
    release: str,
    idp: LocalIdP,
    tmp_path: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    dsn = f"memory:release={release}:{tmp_path / 'ords.json'}"
    argv = ["profile", "apply", "--dsn", dsn, "--token", "-", "--allow-http-jwk-url"]
    status, out, err = _run([*argv, "--yes", *_kind(release)], monkeypatch, token)
    assert status == 0, err
    assert "applied: the profile now reads back as:" in out
    # The PL/SQL shown is for the package this database has.
    package = PACKAGE.get(release, "ords_security")
    assert f"{package}.create_jwt_profile(" in out
    assert "all_procedures" not in out
    status, out, err = _run(["profile", "show", "--dsn", dsn, "--json"], monkeypatch)
    assert status == 0, err
    shown = json.loads(out)["profile"]
    assert shown["issuer"] == idp.issuer_v2
    assert shown["role_claim_name"] == ("/roles" if release in ROLE_CLAIM else None)


@pytest.mark.parametrize("release", RELEASES)
def test_show_for_another_schema_needs_the_dba_views_of_24_4(
    release: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["profile", "show", "--dsn", f"memory:release={release}:", "--schema", "DEMO"]
    status, _out, err = _run(argv, monkeypatch)
    if release in ("23.3", "24.2"):
        assert status == 2
        assert "ORA-00942" in err and "24.4" in err
    else:
        assert status == 0, err


@pytest.mark.parametrize("release", RELEASES)
def test_sql_for_a_given_release_names_its_package(
    release: str, idp: LocalIdP, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "api://x'); drop table t; --\n/\n&pw"
    token = idp.mint(idp.entra_v2_claims(aud=hostile))
    argv = ["profile", "sql", "--token", "-", "--allow-http-jwk-url", "--ords-version", release]
    status, out, err = _run([*argv, *_kind(release)], monkeypatch, token)
    assert status == 0, err
    package = PACKAGE.get(release, "ords_security")
    other = "ords_security" if package == "oauth" else "oauth"
    assert f"  {package}.create_jwt_profile(" in out
    assert f"{other}." not in out and "all_procedures" not in out
    assert script_value(out, "audience") == hostile


def test_sql_without_release_or_database_picks_the_package_when_it_runs(
    idp: LocalIdP, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "api://x'); drop table t; --\n/\n&pw"
    token = idp.mint(idp.entra_v2_claims(aud=hostile))
    argv = ["profile", "sql", "--token", "-", "--allow-http-jwk-url"]
    status, out, err = _run(argv, monkeypatch, token)
    assert status == 0, err
    assert "from all_procedures" in out
    assert "l_package := 'ords_security';" in out and "l_package := 'oauth';" in out
    assert "execute immediate\n    'begin ' || l_package || '.create_jwt_profile(" in out
    assert hostile.split("\n")[0] not in out.split("\nbegin\n", 1)[1]
    assert script_value(out, "audience") == hostile


@pytest.mark.parametrize("release", ["23.3", "24.2", "26.x"])
def test_sql_with_a_database_uses_the_package_it_has(
    release: str, idp: LocalIdP, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["profile", "sql", "--dsn", f"memory:release={release}:", "--token", "-"]
    argv.append("--allow-http-jwk-url")
    status, out, err = _run([*argv, *_kind(release)], monkeypatch, idp.mint(idp.entra_v2_claims()))
    assert status == 0, err
    assert f"  {PACKAGE.get(release, 'ords_security')}.create_jwt_profile(" in out


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--ords-version", "24.4"], "p_role_claim_name needs ORDS 25.1"),
        (["--ords-version", "23.2", "--scope-based"], "JWT profiles need ORDS 23.3"),
        (["--ords-version", "24.2", "--scope-based", "--schema", "HR"], "24.4"),
        (["--ords-version", "latest"], "not an ORDS version"),
    ],
)
def test_sql_refuses_what_the_release_cannot_run(
    extra: list[str],
    fragment: str,
    idp: LocalIdP,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["profile", "sql", "--token", "-", "--allow-http-jwk-url", *extra]
    status, out, err = _run(argv, monkeypatch, idp.mint(idp.entra_v2_claims()))
    assert status == 2
    assert fragment in err and out == ""
