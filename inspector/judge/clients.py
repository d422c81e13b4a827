"""Which connector sent a request, from its User-Agent.

One ordered table of (pattern, client name); the first match wins. Users extend it with
a ``[clients]`` config table (``"pattern" = "Name"``, regular expressions matched
case-insensitively), and their entries are tried before the built-in ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.settings import ClientSettings, ConfigError

OTHER = "other"

# Order matters: connectors identify themselves inside browser-like strings, so the
# specific names come before "Mozilla".
DEFAULT_CLIENTS: tuple[tuple[str, str], ...] = (
    (r"ChatGPT-User|openai-mcp|\bOpenAI\b|chatgpt", "ChatGPT"),
    (r"Claude-User|claude-ai|Claude-Code|\bClaude\b|anthropic", "Claude"),
    (r"mcp-inspector|modelcontextprotocol/inspector|MCP ?Inspector", "MCP Inspector"),
    (r"^curl/", "curl"),
    (r"^Mozilla/", "browser"),
)


@dataclass(frozen=True, slots=True)
class ClientTable:
    """Compiled user-agent patterns; ``classify`` is called for every log line."""

    patterns: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def build(cls, extra: Sequence[tuple[str, str]] = ()) -> ClientTable:
        """The built-in table with ``extra`` (pattern, name) pairs tried first."""
        compiled = []
        for pattern, name in (*extra, *DEFAULT_CLIENTS):
            try:
                compiled.append((re.compile(pattern, re.IGNORECASE), name))
            except re.error as exc:
                raise ConfigError(f"[clients] pattern {pattern!r} is invalid: {exc}") from None
        return cls(tuple(compiled))

    @classmethod
    def from_settings(cls, clients: ClientSettings) -> ClientTable:
        """Build from the validated ``[clients]`` table (pattern -> name)."""
        return cls.build(clients.patterns)

    def classify(self, user_agent: str | None) -> str:
        """The client's name, ``other`` when nothing matches or there is no user agent."""
        if not user_agent:
            return OTHER
        # User agents are attacker-controlled; a bounded prefix keeps matching cheap.
        probe = user_agent[:512]
        for pattern, name in self.patterns:
            if pattern.search(probe):
                return name
        return OTHER
