"""``token-inspector setup`` from the command line: where the plan's values come from,
what --dry-run and --json print, and the one-line refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP
from inspector.schema_version import SCHEMA_VERSION
from tests.support.command_run import isolate, run_cli

MCP = "https://mcp.example.com/ords/hr/mcp/server"
ENTRA = "https://login.microsoftonline.com/0b6f5c1e-0000-4000-8000-000000000001/v2.0"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdP]:
    with LocalIdP() as server:
        yield server


def test_dry_run_says_where_each_value_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["setup", MCP, "--issuer", ENTRA, "--role", "ORDSUsers", "--offline", "--dry-run"]
    argv += ["--only", "idp"]
    status, out, err = run_cli(argv, monkeypatch)
    assert status == 0, err
    assert f"issuer: {ENTRA} (--issuer)" in out
    assert f"scopes: {MCP}/mcp:connect (Entra ID rule" in out
    assert "role: ORDSUsers (--role)" in out
    assert "3. Identity provider" in out and "1. nginx" not in out
    assert "Application ID URI" in out
    assert "dry run: nothing changed" in err


def test_json_carries_the_schema_version_and_the_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["setup", MCP, "--issuer", ENTRA, "--offline", "--dry-run", "--json", "--only", "idp"]
    status, out, err = run_cli(argv, monkeypatch)
    assert status == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["facts"]["mcp_url"] == MCP and doc["facts"]["entra"] is True
    assert doc["facts"]["scopes"] == [f"{MCP}/mcp:connect"]
    assert doc["parts"] == ["idp"] and doc["idp"]["family"] == "entra"
    assert doc["nginx"] is None and doc["ords"] is None


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["setup", MCP + '";', "--issuer", ENTRA], "holds a quote"),
        (["setup", MCP, "--issuer", "https://idp.example.com/x}"], "holds a quote"),
        (["setup", MCP, "--issuer", ENTRA, "--role", "a;b"], "role"),
        (["setup", MCP, "--issuer", ENTRA, "--scope", "a b"], "scope"),
        (["setup", MCP], "no issuer"),
        (["setup", MCP, "extra"], "unexpected argument"),
    ],
)
def test_refusals_are_one_line_and_exit_2(
    argv: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_cli([*argv, "--offline", "--dry-run"], monkeypatch)
    assert status == 2 and out == ""
    assert err.startswith("token-inspector setup: ") and fragment in err
    assert err.count("\n") == 1


def test_a_verified_token_supplies_issuer_audience_and_role(
    idp: LocalIdP, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    config = tmp_path / "config" / "token-inspector" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[keys]\ntrusted_issuers = ["{idp.issuer_v2}"]\n')
    argv = ["setup", MCP, "--token", "-", "--offline", "--dry-run", "--json", "--allow-http"]
    argv += ["--only", "idp"]
    status, out, err = run_cli(argv, monkeypatch, stdin=token)
    assert status == 0, err
    facts = json.loads(out)["facts"]
    claims = idp.entra_v2_claims()
    assert facts["issuer"] == idp.issuer_v2
    assert facts["audience"] == claims["aud"]
    assert facts["role"] == "ORDSUsers"
    assert "the verified token at standard input" in facts["sources"]["issuer"]
    assert token not in out + err


def test_a_blocked_part_changes_nothing_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "nginx.conf"
    text = "events {}\nhttp {\n  server { listen 8080; location / { return 200; } }\n}\n"
    conf.write_text(text)
    argv = ["setup", MCP, "--issuer", ENTRA, "--offline", "--nginx-conf", str(conf)]
    argv += ["--only", "nginx", "--snippet-dir", str(tmp_path / "snippets")]
    status, out, err = run_cli([*argv, "--dry-run"], monkeypatch)
    assert status == 0, err
    assert "BLOCKED: no server block serves https://mcp.example.com:443" in out
    status, out, err = run_cli([*argv, "--yes"], monkeypatch)
    assert status == 1
    assert "refused: nginx: no server block" in err and "nothing changed" in err
    assert conf.read_text() == text and not (tmp_path / "snippets").exists()


def test_history_and_rollback_without_backups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_cli(["setup", "history"], monkeypatch)
    assert status == 0 and "no setup backups in" in out
    status, out, err = run_cli(["setup", "history", "--json"], monkeypatch)
    assert status == 0 and json.loads(out) == {"schema_version": SCHEMA_VERSION, "backups": []}
    status, out, err = run_cli(["setup", "rollback", "--yes"], monkeypatch)
    assert status == 2 and "no applied setup to roll back" in err
    status, out, err = run_cli(["setup", "rollback", "20260101-nope", "--yes"], monkeypatch)
    assert status == 2 and "no backup '20260101-nope'" in err and "setup history" in err


def test_a_token_from_an_issuer_nobody_anchored_supplies_nothing(
    idp: LocalIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its keys are found (--allow-private-idp) and it verifies, but anyone can sign a token
    # that verifies against their own keys: it must not name the authorization server.
    token = idp.mint(idp.entra_v2_claims())
    argv = ["setup", MCP, "--token", "-", "--offline", "--dry-run", "--allow-http"]
    argv += ["--allow-private-idp", "--only", "idp"]
    status, out, err = run_cli(argv, monkeypatch, stdin=token)
    assert status == 2 and "no issuer" in err
    status, out, err = run_cli([*argv, "--issuer", ENTRA, "--json"], monkeypatch, stdin=token)
    assert status == 0, err
    facts = json.loads(out)["facts"]
    assert facts["issuer"] == ENTRA and facts["audience"] is None and facts["role"] is None
    assert any("not anchored" in w for w in facts["warnings"])


def test_a_part_that_cannot_be_planned_blocks_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nonexistent.conf"
    argv = ["setup", MCP, "--issuer", ENTRA, "--offline", "--nginx-conf", str(missing)]
    status, out, err = run_cli([*argv, "--only", "nginx", "--yes"], monkeypatch)
    assert status == 1, err
    (refusal,) = [x for x in err.splitlines() if x.startswith("refused: ")]
    assert f"nginx: cannot read the nginx configuration {missing}" in refusal
    assert "give --nginx-conf" in refusal and "nothing to change" not in err
    assert f"BLOCKED: cannot read the nginx configuration {missing}" in out
    status, out, err = run_cli([*argv, "--only", "nginx", "--dry-run", "--json"], monkeypatch)
    (blocker,) = json.loads(out)["blockers"]
    assert blocker.startswith(f"nginx: cannot read the nginx configuration {missing}")
    # ORDS, asked for by default, cannot be planned without a database either.
    status, out, err = run_cli([*argv, "--dry-run", "--json"], monkeypatch)
    blockers = json.loads(out)["blockers"]
    assert [b.split(":")[0] for b in blockers] == ["ords", "nginx"]
    assert "give --dsn and --user" in blockers[0]
    # A part left out is no blocker.
    status, out, err = run_cli([*argv, "--only", "idp", "--dry-run", "--json"], monkeypatch)
    assert status == 0 and json.loads(out)["blockers"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["setup", "http://user:s3cret@mcp.example.com/ords/hr/mcp/server", "--issuer", ENTRA],
        ["setup", "http://user:s3cret@mcp.example.com/ords/hr/mcp/server", "--allow-http"],
        ["setup", "https://user:s3cret@mcp.example.com/ords/hr/mcp/server?q", "--issuer", ENTRA],
        ["setup", "https://user:s3/cr#et@mcp.example.com:99999/ords/x", "--issuer", ENTRA],
        ["setup", "https:user:s3cret@mcp.example.com/x", "--issuer", ENTRA],
        ["setup", MCP, "--issuer", "https://admin:s3cret@idp.example.com/t"],
    ],
)
def test_a_password_in_a_url_is_not_repeated(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_cli([*argv, "--offline", "--dry-run"], monkeypatch)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "s3" not in err and "***@" in err
