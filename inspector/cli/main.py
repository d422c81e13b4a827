"""Entry point: one sub-command per module under ``inspector.cli``.

The command table is explicit, and a command's module is imported by name only when the
parser is built, so headless commands never import Textual (the TUI commands import it
inside their ``run``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
from collections.abc import Sequence

from inspector import __version__

# Sub-commands in --help order: each names a module under inspector.cli with
# ``register(subparsers)``, which sets ``func``.
COMMANDS = ("watch", "tail", "scan", "decode", "profile", "doctor", "demo")


def command_names() -> list[str]:
    """Every sub-command, in help order."""
    return list(COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="token-inspector",
        description="Explain why ORDS accepts or rejects the OAuth2 tokens MCP connectors send.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_names():
        module = importlib.import_module(f"inspector.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    _never_fail_on_output()
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # No sub-command (or only options) means the live TUI, like `token-inspector watch`.
    wants_tui = not args_list or (
        args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")
    )
    if wants_tui and "watch" in command_names():
        args_list = ["watch", *args_list]
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `token-inspector scan | head` closes the pipe early; that is not an error.
        return 0


def _never_fail_on_output() -> None:
    # Claims and log lines are attacker-controlled: one character the terminal's encoding
    # cannot hold (a lone surrogate, anything under LANG=C) must print as an escape rather
    # than end the run with UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            # A closed or detached stream has nothing to protect.
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")
