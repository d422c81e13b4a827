"""The demo tells the whole story, each row with its own cause.

Real engine throughout: tokens minted by the loopback IdP, keys fetched from it over TLS,
the ORDS stand-in deciding each status, the screen judging with what the stand-in's schema
says (no profile yet; role ``ORDSUsers`` holds the MCP privilege).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inspector.demo.environment import DemoEnvironment
from inspector.demo.scenario import afterwards
from inspector.judge.attempt import Attempt
from inspector.judge.ords_objects import JwtProfile
from inspector.tui.app import InspectorApp
from inspector.tui.present import first_cause
from inspector.tui.screens.apply import ApplyScreen
from tests.tui.conftest import SIZE, plain, wait_for
from tests.tui.engine_support import demo_session, open_apply, text_of, written_demo


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    yield from written_demo()


def story(app: InspectorApp) -> list[tuple[int | None, str, str | None]]:
    return [(e.attempt.record.status, first_cause(e.attempt), e.attempt.subject) for e in app.store]


def codes(attempt: Attempt) -> list[str]:
    return [v.code for v in attempt.verdicts]


async def test_every_row_names_its_own_cause_before_and_after_the_fix(
    env: DemoEnvironment,
) -> None:
    app = InspectorApp(demo_session(env), tick_seconds=3600)
    abe, bea = "abeli@contoso.example", "bea@contoso.example"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        # The three metadata fetches are lines of the log, not attempts.
        assert app.store.counters.lines == 10
        assert story(app) == [
            (401, "no-token", None),
            (401, "no-profile", abe),  # the v1 token
            (401, "no-token", None),
            (401, "graph-token", abe),
            (401, "no-profile", bea),  # app role 'ordsusers': no profile to judge it by yet
            (401, "no-profile", abe),  # the right token, refused until the profile exists
            (401, "no-profile", abe),
        ]
        entries = [e.attempt for e in app.store]
        assert not any("rejected-by-server" in codes(a) for a in entries)
        v1 = entries[1]
        assert "entra-v1-token" in codes(v1)
        assert v1.verdicts[0].fix.startswith("This is an Entra ID v1 token")
        # The detail pane shows the fix: press a on the right token.
        assert "press a" in plain(app.detail.query_one("#detail-body"))

        # Apply from the right token (the newest row, selected while following).
        assert app.selected is entries[-1]
        button = await open_apply(app, pilot)
        await pilot.click("#apply-confirm")
        await wait_for(pilot, lambda: str(button.label) == "Close")
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ApplyScreen))
        await wait_for(pilot, lambda: app.profile is not None)

        # The connectors retry: the right token gets in, the other user's does not.
        for request in afterwards(env.tokens):
            env.replayer.write(request)
        await wait_for(pilot, lambda: app.store.counters.attempts == 11 and not app.store.pending)
        assert story(app)[7:] == [
            (401, "role-missing", bea),
            (401, "issuer-mismatch", abe),  # a cached v1 token
            (200, "", abe),
            (200, "", abe),
        ]
        refused, cached_v1 = [e.attempt for e in app.store][7:9]
        (missing,) = refused.verdicts
        assert '"ordsusers" for "ORDSUsers"' in missing.message
        assert missing.fix.startswith('Change the app role value "ordsusers" to exactly')
        assert "a v1 token where a v2 issuer is expected" in cached_v1.verdicts[0].message


async def test_the_proposal_for_the_wrong_role_says_it_will_not_pass(
    env: DemoEnvironment,
) -> None:
    app = InspectorApp(demo_session(env), tick_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.counters.attempts == 7 and not app.store.pending)
        await pilot.press("home", "n", "n", "n")  # v1, Graph, then the second user
        assert app.selected is not None and app.selected.subject == "bea@contoso.example"
        await open_apply(app, pilot)
        plan = text_of(app, "#plan")
        assert "role-missing" in plan
        assert "passes every ORDS check" not in plan


def test_the_session_reads_the_roles_with_the_profile(env: DemoEnvironment) -> None:
    session = demo_session(env)
    assert session.current_profile() is None
    expected = session.analyzer.expectations
    assert expected.profile_state == "absent"
    assert expected.ords_roles == {"ORDSUsers": ("oracle.example.mcp",)}
    assert expected.ords_privileges == {"oracle.example.mcp": ("mcp", "/mcp/*")}


def test_unreadable_roles_only_cost_the_role_checks(env: DemoEnvironment) -> None:
    session = demo_session(env)
    env.repository.fail("privileges")
    assert session.current_profile() is None
    expected = session.analyzer.expectations
    assert expected.profile_state == "absent"
    assert expected.ords_roles is None
    assert expected.ords_privileges is None
    _report, verdicts = session.analyzer.analyze_token(env.tokens.good, status=401)
    assert verdicts[0].code == "no-profile"


def test_a_scope_based_profile_is_judged_with_the_privileges(env: DemoEnvironment) -> None:
    idp = env.idp
    env.repository.set_profile(
        JwtProfile(issuer=idp.issuer_v2, audience=idp.api_app_id, jwk_url=idp.jwks_uri)
    )
    session = demo_session(env)
    assert session.current_profile() is not None
    # The right token's scp is "mcp:connect"; the ORDS privilege is "oracle.example.mcp".
    _report, verdicts = session.analyzer.analyze_token(env.tokens.good, status=401)
    assert [v.code for v in verdicts] == ["scope-missing"]
    assert '"oracle.example.mcp"' in verdicts[0].message
