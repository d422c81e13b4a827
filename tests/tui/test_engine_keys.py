"""``r``, ``s``, ``c`` and ``d`` driven through the real engine, not a stub session.

The session is what ``watch --dsn memory:`` builds: the log pipeline over a file the test
writes, the key store fetching from a loopback https IdP, the configurator's proposal and
PL/SQL script, the in-memory ORDS stand-in, and the doctor against a scripted endpoint.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static
from textual.widgets._toast import Toast

from inspector.demo.idp import generate_rsa_key
from inspector.tui.app import InspectorApp
from inspector.tui.engine_session import EngineSession
from inspector.tui.screens.doctor import DoctorScreen
from inspector.tui.screens.prompt import PromptScreen
from tests.support.faulty_idp import FaultyIdP
from tests.support.scripted_http import Reply, ScriptedServer
from tests.tui.conftest import SIZE, plain, wait_for
from tests.tui.engine_support import log_line, watch_session

PRECIOUS = "precious: must survive\n"
MCP_PATH = "/ords/hr/mcp/server"


@dataclass
class Watched:
    """A ``watch`` session over a log holding one attempt with a good token."""

    idp: FaultyIdP
    session: EngineSession
    directory: Path


@pytest.fixture
def watched(https_idp: FaultyIdP, tmp_path: Path) -> Iterator[Watched]:
    log = tmp_path / "extended.log"
    token = https_idp.mint(https_idp.entra_v2_claims())
    log.write_text(log_line(authorization=f"Bearer {token}") + "\n")
    directory = tmp_path / "scripts"
    directory.mkdir()
    yield Watched(https_idp, watch_session(log, "--trusted-issuer", https_idp.issuer_v2), directory)


@asynccontextmanager
async def running(app: InspectorApp) -> AsyncIterator[Pilot[int]]:
    """The app with toasts shown (Textual's test mode hides them), its attempt loaded."""
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 1)
        await wait_for(pilot, lambda: "ok (1 keys" in plain(app.status_bar))
        yield pilot


def toasted(app: InspectorApp, text: str) -> str | None:
    """The first notification on screen that contains ``text`` (title and message)."""
    return next((str(t.render()) for t in app.screen.query(Toast) if text in str(t.render())), None)


def script_name(app: InspectorApp) -> str:
    assert app.selected is not None and app.selected.token is not None
    return f"ords_jwt_profile_{app.selected.token.fingerprint}.sql"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# ---- r ----------------------------------------------------------------------------------------


async def test_r_refetches_the_keys_from_the_idp(watched: Watched) -> None:
    idp = watched.idp
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with running(app) as pilot:
        fetched = idp.count(idp.jwks_uri)
        idp.rotate(generate_rsa_key())  # the IdP now publishes two keys
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(toasted(app, "keys refetched for 1 issuer(s)")))
        assert idp.count(idp.jwks_uri) == fetched + 1
        await wait_for(pilot, lambda: "ok (2 keys" in plain(app.status_bar))


async def test_r_names_the_issuer_whose_keys_cannot_be_fetched(watched: Watched) -> None:
    idp = watched.idp
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with running(app) as pilot:
        idp.down()
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(toasted(app, "failing")))
        assert f"1 issuer(s) failing: {idp.issuer_v2}" in str(toasted(app, "failing"))
        await wait_for(pilot, lambda: "error" in plain(app.status_bar))
        assert app.is_running


# ---- s and c ----------------------------------------------------------------------------------


async def save_default(app: InspectorApp, pilot: Pilot[int]) -> str:
    """Press s and accept the suggested name; the name suggested."""
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
    suggested = app.screen.query_one(Input).value
    await pilot.press("enter")
    return suggested


async def test_s_saves_the_real_script_in_the_output_directory(watched: Watched) -> None:
    app = InspectorApp(watched.session, tick_seconds=3600, output_dir=watched.directory)
    async with running(app) as pilot:
        target = watched.directory / script_name(app)
        assert await save_default(app, pilot) == str(target)
        await wait_for(pilot, lambda: bool(toasted(app, "saved")))
        script = target.read_text()
        assert "ords_security.create_jwt_profile" in script.lower()
        assert f"'{watched.idp.issuer_v2}'" in script
        assert f"'{watched.idp.jwks_uri}'" in script
        assert mode_of(target) == 0o600


async def test_s_never_writes_through_a_link_planted_under_the_predictable_name(
    watched: Watched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text(PRECIOUS)
    # The working directory (the default place) is one the attacker can write.
    monkeypatch.chdir(watched.directory)
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with running(app) as pilot:
        planted = watched.directory / script_name(app)
        planted.symlink_to(victim)
        await save_default(app, pilot)
        await wait_for(pilot, lambda: bool(toasted(app, "saved")))
        assert victim.read_text() == PRECIOUS
        assert planted.is_symlink()
        (written,) = [p for p in watched.directory.iterdir() if not p.is_symlink()]
        assert "create_jwt_profile" in written.read_text().lower()
        assert mode_of(written) == 0o600


async def test_s_refuses_a_taken_name_and_asks_again(watched: Watched, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text(PRECIOUS)
    app = InspectorApp(watched.session, tick_seconds=3600, output_dir=watched.directory)
    async with running(app) as pilot:
        taken = watched.directory / "profile.sql"
        taken.symlink_to(victim)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        first = app.screen
        app.screen.query_one(Input).value = "profile.sql"  # relative: in the output directory
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PromptScreen) and app.screen is not first
        )
        question = plain(app.screen.query_one("#prompt-question", Static))
        assert "Not saved" in question and str(taken) in question and "symbolic link" in question
        assert app.screen.query_one(Input).value == str(watched.directory / "profile-2.sql")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(toasted(app, "saved")))
        assert victim.read_text() == PRECIOUS
        assert "create_jwt_profile" in (watched.directory / "profile-2.sql").read_text().lower()


async def test_c_copies_the_real_script(watched: Watched) -> None:
    app = InspectorApp(watched.session, tick_seconds=3600)
    async with running(app) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: "create_jwt_profile" in app.clipboard.lower())
        assert f"'{watched.idp.issuer_v2}'" in app.clipboard


# ---- d ----------------------------------------------------------------------------------------


async def test_d_runs_the_real_doctor_on_the_endpoint_and_the_log(
    https_idp: FaultyIdP, tmp_path: Path
) -> None:
    log = tmp_path / "extended.log"
    token = https_idp.mint(https_idp.entra_v2_claims())
    log.write_text(log_line(authorization=f"Bearer {token}") + "\n")
    with ScriptedServer() as server:
        # A 401 without resource_metadata: what a proxy that rewrote the challenge sends.
        server.routes[MCP_PATH] = Reply(401, [("WWW-Authenticate", "Bearer")], b"{}")
        session = watch_session(
            log, "--trusted-issuer", https_idp.issuer_v2, "--mcp-url", server.origin + MCP_PATH,
            "--nginx-conf", str(tmp_path / "absent.conf"),
        )  # fmt: skip
        app = InspectorApp(session, tick_seconds=3600)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, DoctorScreen))
            findings = app.screen.query_one("#findings", Static)
            await wait_for(pilot, lambda: "all checks finished" in plain(findings), timeout=20)
            text = plain(findings)
            print(text)
    assert [seen.path for seen in server.seen][:1] == [MCP_PATH]
    assert "✔ challenge-401" in text
    # MCP 2025-11-25 (the default) allows the well-known URI alone; nothing is there.
    assert "▲ challenge-no-resource-metadata" in text
    assert "✘ prm-unreachable" in text
    # The doctor reads the log the screen follows, in the screen's format.
    assert "token-log-unusable" not in text and "token-none-in-log" not in text
