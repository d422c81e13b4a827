"""The story the demo tells: a connector's first connection, request by request.

Metadata fetches, a 401 without a token, a v1 token, a Microsoft Graph token, a second
user's token whose app role differs from the ORDS role in letter case only and, finally,
the right v2 token. The ORDS stand-in has no JWT profile yet, so until the profile is
applied every token is refused (``no-profile``). Afterwards the right token keeps coming
back (as a connector's ``tools/list`` and ``tools/call`` do) and turns green, while the
second user's retries show ``role-missing`` with the near miss and a still cached v1
token ``issuer-mismatch`` (a v1 token where the profile wants v2).
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.demo.idp import LocalIdP

MCP_PATH = "/ords/demo/mcp/"
GRAPH_AUDIENCE = "00000003-0000-0000-c000-000000000000"
CHATGPT_UA = "Mozilla/5.0 (compatible; ChatGPT-User/1.0; +https://openai.com/bot)"
OPENAI_MCP_UA = "openai-mcp/1.0.0"
CLAUDE_UA = "Claude-User (claude-code/1.0; +https://support.anthropic.com/)"
CHATGPT_ADDR = "20.171.207.12"
CLAUDE_ADDR = "160.79.104.10"
BEA_ADDR = "20.171.207.40"


@dataclass(frozen=True, slots=True)
class DemoRequest:
    """One request of the story; ``status`` None means "ask the ORDS stand-in"."""

    delay: float
    method: str
    path: str
    user_agent: str
    remote_addr: str
    token: str | None = None
    status: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class DemoTokens:
    """The tokens of the story, minted by the local IdP at start."""

    v1: str
    graph: str
    wrong_role: str
    good: str


def mint_tokens(idp: LocalIdP) -> DemoTokens:
    """Mint every token of the story with the IdP's freshly generated key."""
    graph_claims = idp.entra_v2_claims(aud=GRAPH_AUDIENCE, scp="User.Read openid profile")
    graph_claims.pop("roles", None)
    return DemoTokens(
        v1=idp.mint_entra_v1(),
        # Graph tokens carry a nonce header: only Graph itself can verify them.
        graph=idp.mint(graph_claims, header={"nonce": "e9VmZJd2CjK1bpcM4Lw0fQ"}),
        # Another user, whose app role value differs from the ORDS role in case only.
        wrong_role=idp.mint(
            idp.entra_v2_claims(
                roles=["ordsusers"],
                name="Bea Lindqvist",
                oid="3c1f4a7e-92d5-4b0e-8f6a-1d2e3f4a5b6c",
                preferred_username="bea@contoso.example",
                sub="r8Tq2WcZkLm4Nv7Xy1Ab3Cd5Ef7Gh9Ij0Kl2Mn4Op6",
            )
        ),
        good=idp.mint(idp.entra_v2_claims()),
    )


def first_connection(tokens: DemoTokens) -> list[DemoRequest]:
    """About a minute of requests at speed 1."""
    ords = None  # decided by the stand-in, like ORDS would
    return [
        DemoRequest(0.5, "POST", MCP_PATH, OPENAI_MCP_UA, CHATGPT_ADDR, None, ords,
                    "initialize without a token: 401 with the challenge"),
        DemoRequest(1.5, "GET", "/.well-known/oauth-protected-resource/ords/demo/mcp",
                    OPENAI_MCP_UA, CHATGPT_ADDR, None, 404, "path-suffixed metadata"),
        DemoRequest(0.5, "GET", "/.well-known/oauth-protected-resource", OPENAI_MCP_UA,
                    CHATGPT_ADDR, None, 200, "protected resource metadata"),
        DemoRequest(6.0, "POST", MCP_PATH, CHATGPT_UA, CHATGPT_ADDR, tokens.v1, ords,
                    "a v1 token (accessTokenAcceptedVersion not set)"),
        DemoRequest(8.0, "POST", MCP_PATH, CLAUDE_UA, CLAUDE_ADDR, None, ords,
                    "Claude tries without a token"),
        DemoRequest(1.0, "GET", "/.well-known/oauth-protected-resource", CLAUDE_UA,
                    CLAUDE_ADDR, None, 200, "protected resource metadata"),
        DemoRequest(5.0, "POST", MCP_PATH, CLAUDE_UA, CLAUDE_ADDR, tokens.graph, ords,
                    "a Microsoft Graph token (bare scope)"),
        DemoRequest(8.0, "POST", MCP_PATH, CHATGPT_UA, BEA_ADDR, tokens.wrong_role, ords,
                    "another user's v2 token: app role 'ordsusers', ORDS role 'ORDSUsers'"),
        DemoRequest(8.0, "POST", MCP_PATH, CHATGPT_UA, CHATGPT_ADDR, tokens.good, ords,
                    "the right v2 token: rejected until the profile exists"),
        DemoRequest(6.0, "POST", MCP_PATH, CHATGPT_UA, CHATGPT_ADDR, tokens.good, ords,
                    "tools/list"),
    ]  # fmt: skip


def afterwards(tokens: DemoTokens) -> list[DemoRequest]:
    """Repeated after the first connection, until the demo ends: the connectors retry.

    The refused tokens come just before the right one, so the newest row (the one ``a``
    applies from while the screen follows) is almost always the right token.
    """
    ords = None
    return [
        DemoRequest(7.0, "POST", MCP_PATH, CHATGPT_UA, BEA_ADDR, tokens.wrong_role, ords,
                    "the other user retries: role-missing once the profile is role-based"),
        DemoRequest(0.5, "POST", MCP_PATH, CHATGPT_UA, CHATGPT_ADDR, tokens.v1, ords,
                    "a v1 token cached from before accessTokenAcceptedVersion was set to 2"),
        DemoRequest(0.5, "POST", MCP_PATH, CHATGPT_UA, CHATGPT_ADDR, tokens.good, ords,
                    "tools/list"),
        DemoRequest(6.0, "POST", MCP_PATH, CHATGPT_UA, CHATGPT_ADDR, tokens.good, ords,
                    "tools/call"),
    ]  # fmt: skip
