"""The real engine behind the app: loopback IdP, key store, analyzer, ORDS stand-in."""

from __future__ import annotations

from inspector.commands.demo import demo_session as command_demo_session
from inspector.demo.environment import DemoEnvironment
from inspector.tui.engine_session import EngineSession


def demo_session(env: DemoEnvironment) -> EngineSession:
    """The session ``token-inspector demo`` builds, over the test's environment."""
    return command_demo_session(env)
