"""Nothing from a log line or a token reaches the terminal raw: escapes, C1, bidi, tokens."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console, RenderableType
from rich.text import Text
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Static
from textual.widgets._toast import Toast

from inspector.demo.idp import LocalIdP
from inspector.judge.attempt import Attempt, TokenReport
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.verdicts import Severity
from inspector.tui.app import InspectorApp
from inspector.tui.model import Counters, Filter
from inspector.tui.present import detail, row_cells
from inspector.tui.profile_view import profile_panel
from inspector.tui.screens.apply import ApplyScreen
from inspector.tui.screens.doctor import DoctorScreen
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.prompt import PromptScreen
from inspector.tui.screens.reveal import RevealScreen
from inspector.tui.widgets.attempt_table import AttemptTable
from inspector.tui.widgets.detail_pane import DetailPane
from inspector.tui.widgets.status_bar import StatusInfo, status_text
from parsers.redaction import fingerprint
from tests.support.scripted_http import Reply, ScriptedServer
from tests.tui.conftest import SIZE, make_app, plain, wait_for
from tests.tui.engine_support import log_line, open_apply, watch_session
from tests.tui.fixtures import NOW, ListSession, attempt, record, v, v2_claims

OSC = "\x1b]0;PWNED\x07"
SGR = "\x1b[31m"
EVIL = f"{OSC}{SGR}\u202eevil\u2066\x9b2J\x9d0;x\x9c\x85\ud800"
RAW = ("\x1b", "\x07", "\u202e", "\u2066", "\x9b", "\x9d", "\x9c", "\x85", "\ud800")
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def hostile_attempt() -> Attempt:
    claims = v2_claims(
        preferred_username=f"eve{EVIL}@contoso.com",
        iss=f"https://evil.example/{EVIL}",
        roles=[f"ORDS{EVIL}"],
        **{f"x{EVIL}": f"value{EVIL}", "nested": {"k": EVIL}, "leak": f"see {JWT}"},
    )
    report = TokenReport(
        fingerprint="0123abcd4567", kind="jws", idp="generic",
        header={"alg": "RS256", "kid": f"k{EVIL}", f"h{EVIL}": EVIL},
        claims=claims, verified=False, key_id=f"k{EVIL}",
        jwks_uri=f"https://evil.example/jwks{EVIL}", redacted=f"{OSC}…[sha256:0123abcd4567]",
    )  # fmt: skip
    rec = record(
        20, at=NOW - timedelta(minutes=1), status=401,
        path=f"/ords/mcp{EVIL}?access_token={JWT}", method=f"POST{SGR}",
        authorization=f"Bearer {JWT}{OSC}", ua=f"ua{EVIL}",
    )  # fmt: skip
    verdicts = (v("iss-mismatch", Severity.ERROR, f"issuer {EVIL} token {JWT}", fix=EVIL),)
    return attempt(rec, report, verdicts, f"client{EVIL}")


def render(renderable: RenderableType, width: int = 400) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def assert_clean(text: str) -> None:
    for char in RAW:
        assert char not in text, f"raw {char!r} in output"
    assert "c2lnbmF0dXJlLXNpZ25hdHVyZQ" not in text  # the JWT's signature


def test_detail_row_profile_and_status_escape_everything() -> None:
    hostile = hostile_attempt()
    shown = render(detail(hostile, NOW, None))
    assert_clean(shown)
    assert "\\x1b]0;PWNED\\x07" in shown and "\\u202e" in shown and "\\x9b" in shown
    assert fingerprint(JWT) in shown  # the path's and the message's token, redacted
    for cell in row_cells(hostile, None):
        assert_clean(render(cell))
    needed = JwtProfile(f"https://i/{EVIL}", f"aud{EVIL}", f"https://k/{EVIL}")
    assert_clean(render(profile_panel(needed, f"db{EVIL}", hostile)))
    info = StatusInfo(files=(f"/x/{EVIL}.log",), counters=Counters(parse_failures=1))
    info.keys = {f"https://evil/{EVIL}": f"error {EVIL}"}
    info.problem = f"problem {EVIL} {JWT}"
    info.last_parse_failure = f"x.log:1: {EVIL}"
    info.filter = Filter(text=EVIL)
    assert_clean(render(status_text(info)))


async def test_live_screen_and_reveal_show_no_raw_control() -> None:
    app = make_app(ListSession(attempts=[hostile_attempt()]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one(AttemptTable).row_count == 1)
        await wait_for(pilot, lambda: app.query_one(DetailPane).attempt is not None)
        assert_clean(plain(app.query_one("#detail-body", Static)))
        table = app.query_one(AttemptTable)
        for cell in table.get_row_at(0):
            assert_clean(render(cell if isinstance(cell, Text) else str(cell)))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RevealScreen))
        await pilot.click("#reveal")
        await wait_for(pilot, lambda: "PWNED" in plain(app.screen.query_one("#token-text", Static)))
        revealed = plain(app.screen.query_one("#token-text", Static))
        assert JWT in revealed.replace("\n", "")  # asked for: the token itself is shown
        assert "\x1b" not in revealed and "\\x1b]0;PWNED\\x07" in revealed.replace("\n", "")


def test_apply_modal_escapes_values_from_the_token() -> None:
    from inspector.tui.screens.apply import plan_renderable, unanchored_warning
    from inspector.tui.session import ApplyPlan, DiffRow

    issuer = f"https://evil.example/{EVIL}"
    proposed = JwtProfile(issuer=issuer, audience=f"aud{EVIL}", jwk_url="https://k/keys")
    plan = ApplyPlan(
        current=None,
        proposed=proposed,
        diff=(DiffRow("p_issuer", None, issuer), DiffRow("p_audience", None, EVIL)),
        prechecks=(f"token roles [{EVIL}] exist",),
        risks=(f"issuer {issuer} is new",),
        plsql="begin null; end;",
        verified=True,
        anchored=False,
    )
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(plan_renderable(plan))
    text = out.getvalue() + unanchored_warning(issuer)
    assert not any(ch in text for ch in RAW)
    assert "evil.example" in text


# ---- the real engine fed markup and escapes, every key and screen ----------------------------

# Textual and Rich markup (a live action link, a tag that closes nothing, a style, a link, a
# variable), then terminal escapes (SGR, an OSC 8 hyperlink) and C0 controls.
MARKUP = "[@click=app.quit]q[/]x[/][b]bold[/b][link=https://evil.example/]l[/link][$accent]v"
ESCAPES = "\x1b[31mred\x1b]8;;https://evil.example/\x07osc8\x1b]8;;\x07\x07\x08\r\x00"
HOSTILE = MARKUP + ESCAPES
# What ``shown`` makes of it: the markup literally, every control as a visible escape.
HOSTILE_SHOWN = MARKUP + (
    "\\x1b[31mred\\x1b]8;;https://evil.example/\\x07osc8\\x1b]8;;\\x07\\x07\\x08\\x0d\\x00"
)
LOG_NAME = "extended[@click=app.quit]q[b]\x1b[31mred\x07.log"
LOG_NAME_SHOWN = "extended[@click=app.quit]q[b]\\x1b[31mred\\x07.log"
DIR_NAME = "out[@click=app.quit]q[b]x"  # a user may choose any name
MCP_PATH = "/ords/hr/mcp/server"
# The only actions Textual itself paints: scrollbars' arrows and drag handles.
SCROLLBAR_ACTIONS = {"grab", "scroll_up", "scroll_down", "scroll_left", "scroll_right"}
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def screen_faults(app: InspectorApp) -> list[str]:
    """What the terminal would get that it must not: raw controls, links and click actions.

    Read from the composited screen (every widget, modal and toast as painted), not from
    what one widget was given.
    """
    faults: list[str] = []
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        for segment in strip:
            raw = [c for c in segment.text if unicodedata.category(c) in ("Cc", "Cs") or c in BIDI]
            if raw:
                faults.append(f"line {y}: raw {raw!r} in {segment.text!r}")
            style = segment.style
            if style is None:
                continue
            if style.link:
                faults.append(f"line {y}: link {style.link!r} on {segment.text!r}")
            actions = {k: v for k, v in style.meta.items() if k[:1] == "@"}
            if any(v not in SCROLLBAR_ACTIONS for v in actions.values()):
                faults.append(f"line {y}: action {actions!r} on {segment.text!r}")
    return faults


def screen_text(app: InspectorApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def wide(widget: Static) -> str:
    """What ``widget`` shows, rendered wide enough that no value is folded."""
    content = widget.content
    return content if isinstance(content, str) else render(content, width=3000)  # type: ignore[arg-type]


def toasts(app: InspectorApp) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def settle(app: InspectorApp, pilot: Pilot[int]) -> None:
    """Paint, then check the app survived and shows nothing live or raw."""
    await pilot.pause()
    assert app.is_running and app.return_code is None
    assert screen_faults(app) == []


@pytest.fixture
def hostile_site(idp: LocalIdP) -> Iterator[ScriptedServer]:
    """An MCP endpoint whose challenge and metadata quote markup and escapes (for ``d``)."""
    with ScriptedServer() as server:
        server.routes[MCP_PATH] = Reply(
            401,
            [("WWW-Authenticate", f'Bearer realm="{MARKUP}", error="{MARKUP}", '
              f'resource_metadata="{server.origin}/prm/{MARKUP}"')],
            b"{}",
        )  # fmt: skip
        server.routes[f"/prm/{MARKUP}"] = Reply.json(
            {"resource": HOSTILE, "authorization_servers": [f"{idp.base_url}/{HOSTILE}"]}
        )
        yield server


async def test_markup_and_escapes_from_logs_and_tokens_stay_text_everywhere(
    tmp_path: Path, idp: LocalIdP, hostile_site: ScriptedServer
) -> None:
    # A token from an issuer nobody serves (its key fetch fails, so `r` names it), every
    # claim and header field hostile; and a verified token with hostile claims to apply.
    claims = idp.entra_v2_claims(
        iss=f"{idp.base_url}/{HOSTILE}", aud=HOSTILE, sub=HOSTILE, name=HOSTILE,
        preferred_username=HOSTILE, roles=[HOSTILE, "ORDSUsers"], scp=HOSTILE, azp=HOSTILE,
    )  # fmt: skip
    claims.update({HOSTILE: HOSTILE, "nested": {HOSTILE: [HOSTILE]}})
    forged = idp.mint(claims, header={"kid": HOSTILE, HOSTILE: HOSTILE})
    verified = idp.mint(
        idp.entra_v2_claims(aud=HOSTILE, roles=[HOSTILE], preferred_username=HOSTILE)
    )
    # Even the log's name (header, status bar, detail pane) holds markup and an escape.
    log = tmp_path / LOG_NAME
    log.write_text(
        log_line(path=f"/ords/{HOSTILE}?q={HOSTILE}", ua=HOSTILE, method=HOSTILE) + "\n"
        + log_line(authorization=f"Bearer {forged}", path=f"/ords/{HOSTILE}", ua=HOSTILE) + "\n"
        + log_line(authorization=f"Bearer {verified}", ua=HOSTILE) + "\n"
        + log_line(authorization=f"Basic {HOSTILE}", ua=HOSTILE) + "\n"
        + f"{HOSTILE} not a log line\n",
        encoding="utf-8",
    )  # fmt: skip
    outdir = tmp_path / DIR_NAME
    outdir.mkdir()
    session = watch_session(
        log, "--allow-private-idp", "--jwk-url", f"https://127.0.0.1:9/{MARKUP}",
        "--mcp-url", hostile_site.origin + MCP_PATH,
    )  # fmt: skip
    app = InspectorApp(session, tick_seconds=3600, output_dir=outdir)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 4)
        await wait_for(pilot, lambda: app.store.counters.parse_failures == 1)
        await settle(app, pilot)
        assert LOG_NAME_SHOWN in screen_text(app)  # in the header and the status bar

        # Every row, its detail pane and the profile panel.
        details = []
        for row in range(app.table.row_count):
            app.table.move_cursor(row=row, animate=False)
            await settle(app, pilot)
            details.append(wide(app.query_one("#detail-body", Static)))
        # Path, method, claims, header fields, verdicts: literally (only Basic's are hidden).
        assert [HOSTILE_SHOWN in text for text in details] == [True, True, True, False]

        # r, twice: the summary names the failing hostile issuer, literally.
        for rounds in (1, 2):
            await pilot.press("r")
            await wait_for(pilot, lambda n=rounds: sum("failing" in t for t in toasts(app)) == n)  # type: ignore[misc]
            await settle(app, pilot)
        summary = next(t for t in toasts(app) if "failing" in t)
        assert f"{idp.base_url}/{HOSTILE_SHOWN}" in summary
        # Clicking where the "link" is painted does nothing but dismiss the toast.
        line, column = next(
            (y, row.index(f"{MARKUP[:10]}"))
            for y, row in enumerate(screen_text(app).splitlines())
            if MARKUP[:10] in row and y < SIZE[1] - 4
        )
        await pilot.click(offset=(column + 17, line))
        await settle(app, pilot)

        # t: the token revealed is escaped too.
        app.table.move_cursor(row=1, animate=False)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RevealScreen))
        await pilot.click("#reveal")
        await wait_for(pilot, lambda: bool(plain(app.screen.query_one("#token-text", Static))))
        await settle(app, pilot)
        await pilot.press("escape")

        # a on the unverified token: the plan quotes the issuer, audience and roles.
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ApplyScreen))
        plan = app.screen.query_one("#plan", Static)
        await wait_for(pilot, lambda: "Preparing" not in plain(plan))
        await settle(app, pilot)
        assert HOSTILE_SHOWN in wide(plan)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))

        # a on the verified one, applied (twice confirmed: its issuer is not anchored).
        app.table.move_cursor(row=2, animate=False)
        button = await open_apply(app, pilot)
        await settle(app, pilot)
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: "trust" in str(button.label))
        await settle(app, pilot)
        # A button ignores presses while its press animation runs (double-click guard).
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        await settle(app, pilot)
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))
        await wait_for(pilot, lambda: app.profile is not None)
        await settle(app, pilot)
        assert HOSTILE_SHOWN in plain(app.profile_panel)

        # s: saved in the chosen directory; the prompt and the toast show its name as text.
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        await settle(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("saved" in t for t in toasts(app)))
        await settle(app, pilot)
        assert any(DIR_NAME in t for t in toasts(app) if "saved" in t)
        assert len(list(outdir.iterdir())) == 1

        # c: the script on the clipboard quotes the audience; nothing raw on screen.
        await pilot.press("c")
        await wait_for(pilot, lambda: "create_jwt_profile" in app.clipboard.lower())
        await settle(app, pilot)

        # d: the doctor quotes the challenge and the metadata.
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DoctorScreen))
        findings = app.screen.query_one("#findings", Static)
        await wait_for(pilot, lambda: "all checks finished" in plain(findings), timeout=20)
        await settle(app, pilot)
        assert MARKUP in plain(findings)
        await pilot.press("escape")

        # /: a pasted filter is shown in the status bar as text.
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        app.screen.query_one(Input).value = MARKUP
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.filter.text == MARKUP)
        await settle(app, pilot)
        assert MARKUP in plain(app.status_bar)

        # ? and the command palette.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await settle(app, pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"refetch")
        await settle(app, pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
        await settle(app, pilot)
