"""Review finding H1: an attacker's IdP must not be written into the ORDS profile.

"Signature verified" only says a token matches keys published by the issuer the token
itself names. The reproduction: a log with a real token, then a newer token from the
attacker's own IdP (a second loopback IdP with its own keys, which verify perfectly).
Both IdPs are on 127.0.0.1, so discovery needs ``--allow-private-idp`` (a lab opt-in
that says nothing about trust).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.logs.selection import REFERENCE_EXTENDED
from tests.support.faulty_idp import FaultyIdP

EXTENDED = REFERENCE_EXTENDED.template
UA = "Mozilla/5.0 (compatible; ChatGPT-User/1.0; +https://openai.com/bot)"


@pytest.fixture(scope="module")
def idps() -> Iterator[tuple[FaultyIdP, FaultyIdP]]:
    """The admin's IdP and the attacker's own, each with its own keys."""
    with FaultyIdP() as real, FaultyIdP() as attacker:
        yield real, attacker


@pytest.fixture
def real(idps: tuple[FaultyIdP, FaultyIdP]) -> FaultyIdP:
    return idps[0]


@pytest.fixture
def attacker(idps: tuple[FaultyIdP, FaultyIdP]) -> FaultyIdP:
    return idps[1]


class _Terminal(io.StringIO):
    """Standard input that says it is a terminal, holding the user's answers."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ORACLE_PASSWORD", raising=False)
    monkeypatch.delenv("TOKEN_INSPECTOR_DB", raising=False)


def _line(token: str, when: datetime) -> str:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'127.0.0.1 - - [{stamp}] "POST /ords/hr/mcp/ HTTP/1.1" 401 0 referer:"-" '
        f'ua:"{UA}" content-type:"application/json" authorization:"Bearer {token}" '
        'mcp-protocol-version:"2025-06-18"\n'
    )


def _evil_log(tmp_path: Path, real: FaultyIdP, attacker: FaultyIdP) -> Path:
    now = datetime.now(UTC).replace(microsecond=0)
    log = tmp_path / "evil.log"
    log.write_text(
        _line(real.mint(real.entra_v2_claims(aud="api://ords")), now - timedelta(minutes=3))
        + _line(
            attacker.mint(attacker.entra_v2_claims(aud="api://ords")),
            now - timedelta(minutes=1),
        )
    )
    return log


def _real_log(tmp_path: Path, real: FaultyIdP) -> Path:
    log = tmp_path / "real.log"
    log.write_text(_line(real.mint(real.entra_v2_claims()), datetime.now(UTC)))
    return log


def _run(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, answers: str | None = None
) -> tuple[int, str, str]:
    stdin = _Terminal(answers) if answers is not None else io.StringIO("")
    monkeypatch.setattr(sys, "stdin", stdin)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _apply(state: Path, log: Path, *extra: str) -> list[str]:
    return [
        "profile",
        "apply",
        "--dsn",
        f"memory:{state}",
        "--user",
        "HR",
        "--from-log",
        str(log),
        "--log-format",
        EXTENDED,
        "--allow-http-jwk-url",
        "--allow-private-idp",
        *extra,
    ]


def _audit(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "state" / "token-inspector" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _profile(state: Path) -> dict[str, object] | None:
    if not state.exists():
        return None
    found: dict[str, object] | None = json.loads(state.read_text())["profiles"].get("DEMO")
    return found


def test_the_reproduction_is_refused_with_yes(
    real: FaultyIdP, attacker: FaultyIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    log = _evil_log(tmp_path, real, attacker)
    status, out, err = _run(_apply(state, log, "--yes"), monkeypatch)
    assert status == 1
    refusals = [line for line in err.splitlines() if line.startswith("refused:")]
    assert len(refusals) == 1, err
    assert repr(attacker.issuer_v2) in refusals[0]
    assert f"--trusted-issuer {attacker.issuer_v2}" in refusals[0]
    # The proposal itself no longer calls the token simply "verified".
    assert "signature matches keys published by its own issuer" in out
    assert "signature verified" not in out
    assert _profile(state) is None
    assert _audit(tmp_path)[-1]["result"] == "refused"


@pytest.mark.parametrize("flag", ["--trusted-issuer", "--expect-iss"])
def test_anchoring_the_real_issuer_picks_its_token_and_says_why(
    real: FaultyIdP,
    attacker: FaultyIdP,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
) -> None:
    state = tmp_path / "ords.json"
    log = _evil_log(tmp_path, real, attacker)
    status, out, err = _run(_apply(state, log, "--yes", flag, real.issuer_v2), monkeypatch)
    assert status == 0, err
    assert f"using the token at {log}:1" in err
    assert f"skipped the newer token at {log}:2" in err
    assert f"issuer {attacker.issuer_v2!r} is not anchored" in err
    assert "signature verified" in out
    profile = _profile(state)
    assert profile is not None and profile["issuer"] == real.issuer_v2


def test_the_current_profiles_issuer_anchors_the_next_apply(
    real: FaultyIdP, attacker: FaultyIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    first = tmp_path / "first.log"
    first.write_text(_line(real.mint(real.entra_v2_claims(aud="api://one")), datetime.now(UTC)))
    argv = _apply(state, first, "--yes", "--trusted-issuer", real.issuer_v2)
    assert _run(argv, monkeypatch)[0] == 0
    # Later, no flags: the profile's own issuer is the anchor, the attacker's is not.
    log = _evil_log(tmp_path, real, attacker)
    status, _, err = _run(_apply(state, log, "--yes"), monkeypatch)
    assert status == 0, err
    assert f"skipped the newer token at {log}:2" in err
    profile = _profile(state)
    assert profile is not None
    assert profile["issuer"] == real.issuer_v2 and profile["audience"] == "api://ords"


def test_interactive_apply_asks_a_second_question_quoting_the_issuer(
    real: FaultyIdP, attacker: FaultyIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    log = _evil_log(tmp_path, real, attacker)
    status, out, err = _run(_apply(state, log), monkeypatch, answers="y\nn\n")
    assert status == 1
    assert "Apply this profile? [y/N]" in out
    assert f"Trust issuer {attacker.issuer_v2!r}?" in out
    assert "anyone who controls that issuer's keys can sign tokens ORDS accepts" in err
    assert "not applied" in err
    assert _profile(state) is None

    status, out, err = _run(_apply(state, log), monkeypatch, answers="y\nyes\n")
    assert status == 0, err
    profile = _profile(state)
    assert profile is not None and profile["issuer"] == attacker.issuer_v2
    assert "forced despite: unanchored-issuer" in str(_audit(tmp_path)[-1]["detail"])


def test_an_anchored_issuer_is_asked_once(
    real: FaultyIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, log = tmp_path / "ords.json", _real_log(tmp_path, real)
    argv = _apply(state, log, "--trusted-issuer", real.issuer_v2)
    status, out, err = _run(argv, monkeypatch, answers="y\n")
    assert status == 0, err
    assert out.count("[y/N]") == 1
    assert "Trust issuer" not in out


def test_unanchored_loopback_issuer_is_not_even_discovered_without_the_opt_in(
    real: FaultyIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, log = tmp_path / "ords.json", _real_log(tmp_path, real)
    argv = [a for a in _apply(state, log, "--yes", "--dry-run") if a != "--allow-private-idp"]
    status, _, err = _run(argv, monkeypatch)
    assert status == 2
    assert "the newest with a token (none verified)" in err
    assert "(no-jwks-uri)" in err
    assert "Keys: " in err and "issuer not anchored (--trusted-issuer" in err


def test_json_refusal_is_the_apply_result_and_one_line(
    real: FaultyIdP, attacker: FaultyIdP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "ords.json"
    log = _evil_log(tmp_path, real, attacker)
    status, out, err = _run(_apply(state, log, "--yes", "--json"), monkeypatch)
    assert status == 1
    result = json.loads(out)
    assert result["result"] == "refused"
    assert repr(attacker.issuer_v2) in result["failure"]
    assert len([line for line in err.splitlines() if line.startswith("refused:")]) == 1
    assert _profile(state) is None
