"""``token-inspector demo``: a first connection replayed against a local IdP and an
in-memory ORDS, so the live screen can be tried without nginx, an IdP or a database.

Nothing here imports Textual; ``inspector.cli.demo`` opens the app on top.
"""
