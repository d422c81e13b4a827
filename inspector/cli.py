"""Entry point: one sub-command per module under ``inspector.commands``.

Command modules are imported by name so that headless commands never import Textual;
the TUI commands import it inside their ``run``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import pkgutil
import sys
from collections.abc import Sequence

from inspector import __version__, commands

# Order shown in --help; any other module under inspector.commands follows alphabetically.
PREFERRED_ORDER = ("watch", "tail", "scan", "decode", "profile", "doctor", "demo")


def command_names() -> list[str]:
    """Every sub-command module, in help order."""
    found = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")}
    ordered = [n for n in PREFERRED_ORDER if n in found]
    return ordered + sorted(found - set(ordered))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="token-inspector",
        description="Explain why ORDS accepts or rejects the OAuth2 tokens MCP connectors send.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_names():
        module = importlib.import_module(f"inspector.commands.{name}")
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
