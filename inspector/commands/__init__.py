"""One module per sub-command; each exposes ``register(subparsers)`` setting ``func``.

Modules here must not import Textual at module level: ``token-inspector scan`` has to
start without loading the UI toolkit.
"""
