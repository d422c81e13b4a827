"""The doctor dialog's setup (``d`` then ``s``) with the real engine, as ``watch`` injects
it: a bare nginx on loopback is set up and the ORDS role lands in the stand-in, each step
(ORDS, the nginx files, the reload) after its own question."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Button

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.cli.setup_parts import NGINX_QUESTION, ords_question
from inspector.cli.watch import build_session
from inspector.demo.idp import LocalIdP
from inspector.doctor import DoctorOptions, Status, run_doctor
from inspector.settings import DoctorSettings, ExpectSettings, Settings, SetupSettings
from inspector.tui.app import InspectorApp
from inspector.tui.screens.doctor import DoctorScreen
from inspector.tui.screens.setup import SetupScreen
from parsers.nginx.conf import EXTENDED_TEMPLATE
from tests.support.memory_db import open_memory_dsn
from tests.support.nginx import NGINX, NginxServer, free_port, requires_headers_more
from tests.support.reference_site import OrdsStandIn
from tests.test_setup_e2e_nginx import MCP_PATH, bare_conf
from tests.tui.conftest import SIZE, plain, wait_for
from tests.tui.test_setup_screen import answer

pytestmark = [requires_headers_more, pytest.mark.nginx]
ROLE = "MCPUsers"


def answers_new(nginx: NginxServer) -> bool:
    status, headers, _ = nginx.request(MCP_PATH, method="POST", body=b"{}")
    return status == 401 and "resource_metadata=" in headers.get("www-authenticate", "")


@pytest.fixture
def backend() -> Iterator[OrdsStandIn]:
    server = OrdsStandIn()
    server.start()
    yield server
    server.stop()


async def test_setup_from_the_doctor_dialog_sets_up_nginx_and_ords(
    tmp_path: Path, backend: OrdsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with LocalIdP() as idp, NginxServer(tmp_path / "nginx", port=free_port()) as nginx:
        nginx.start(bare_conf(backend.port))
        url = f"http://127.0.0.1:{nginx.port}{MCP_PATH}"
        where = ("-p", str(nginx.prefix), "-e", str(nginx.error_log), "-c", str(nginx.conf_path))
        base = Settings(
            doctor=DoctorSettings(allow_http=True, idp="entra"),
            expect=ExpectSettings(issuer=idp.issuer_v2, roles=(ROLE,)),
            setup=SetupSettings(
                backup_dir=tmp_path / "backups",
                snippet_dir=nginx.prefix / "conf" / "token-inspector",
                token_log=nginx.prefix / "logs" / "mcp-tokens.log",
                test_command=(str(NGINX), "-t", *where),
                reload_command=(str(NGINX), "-s", "reload", *where),
            ),
        )
        log = tmp_path / "extended.log"
        log.write_text("")
        state = tmp_path / "ords.json"
        # ORDS answers without a token until the privilege carries the role: nginx's probe
        # only passes because the ORDS part goes first.
        backend.protected = lambda: state.exists() and ROLE in state.read_text()
        args = build_parser().parse_args(
            ["watch", "--dsn", f"memory:{state}", "--from-start", "--log-format",
             EXTENDED_TEMPLATE, "--mcp-url", url, "--nginx-conf", str(nginx.conf_path),
             str(log)]
        )  # fmt: skip
        session = build_session(args, settings_from_args(args, base=base))
        app = InspectorApp(session, tick_seconds=3600)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, DoctorScreen), timeout=30)
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen), timeout=30)
            screen = app.screen
            button = screen.query_one("#setup-apply", Button)
            await wait_for(pilot, lambda: not button.disabled, timeout=30)
            shown = plain(screen.query_one("#setup-plan"))
            assert "+++ b" in shown and "ords.create_role" in shown
            await pilot.click("#setup-apply")
            # The command's questions, one per step; nothing of a step happens before.
            await answer(pilot, screen, ords_question(with_profile=False), yes=True, timeout=30)
            assert backend.protected()  # the role and privilege are in
            before = nginx.conf_path.read_text()
            await answer(pilot, screen, NGINX_QUESTION, yes=True, timeout=30)
            assert nginx.conf_path.read_text() != before  # written and tested...
            _, headers, _ = nginx.request(MCP_PATH)
            # ... but not reloaded: nginx still serves the bare configuration.
            assert "resource_metadata" not in headers.get("www-authenticate", "")
            await answer(pilot, screen, "Reload nginx now (", yes=True, timeout=30)
            await wait_for(pilot, lambda: str(button.label) == "Close", timeout=30)
            outcome = plain(screen.query_one("#setup-confirm"))
            assert "server side set up" in outcome, outcome
            assert "nginx: probe" in plain(screen.query_one("#setup-progress"))
            # Every step, not only the live tail, in the order they ran.
            steps = plain(screen.query_one("#setup-plan")).split("\n\n")[0]
            assert steps.startswith("Steps taken:")
            assert "ords: " in steps and "nginx: probe" in steps, steps
            assert steps.index("ords: ") < steps.index("nginx: ")
        # The probe passed on a new worker; an old one may still take a connection or two.
        deadline = time.monotonic() + 30
        while not (answers_new(nginx) and answers_new(nginx)):
            assert time.monotonic() < deadline, "nginx's new workers never answered"
            time.sleep(0.05)
        report = run_doctor(DoctorOptions(url, allow_http=True, nginx_conf=nginx.conf_path))
        for step in report.steps:
            if step.id in ("challenge", "resource-metadata", "nginx"):
                assert step.status is not Status.FAIL, step
        roles = [r.name for r in open_memory_dsn(f"memory:{state}").roles()]
        assert ROLE in roles
        assert json.loads(state.read_text())["roles"]
