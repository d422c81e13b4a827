"""ORDS Token Inspector: explain why ORDS accepts or rejects MCP connectors' OAuth2 tokens."""

__version__ = "0.1.0"
