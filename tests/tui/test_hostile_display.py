"""Nothing from a log line or a token reaches the terminal raw: escapes, C1, bidi, tokens."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console, RenderableType
from rich.text import Text
from textual.widgets import Static

from inspector.attempt import Attempt, TokenReport
from inspector.profile import JwtProfile
from inspector.tui.model import Counters, Filter
from inspector.tui.present import detail, row_cells
from inspector.tui.profile_view import profile_panel
from inspector.tui.screens.reveal import RevealScreen
from inspector.tui.widgets.attempt_table import AttemptTable
from inspector.tui.widgets.detail_pane import DetailPane
from inspector.tui.widgets.status_bar import StatusInfo, status_text
from inspector.verdicts import Severity
from parsers.redaction import fingerprint
from tests.tui.conftest import SIZE, make_app, plain, wait_for
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


def render(renderable: RenderableType) -> str:
    console = Console(width=400, file=io.StringIO(), color_system=None, record=True)
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
