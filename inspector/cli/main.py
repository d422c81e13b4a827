"""Entry point: one sub-command per module under ``inspector.cli``.

The command table is explicit, and a command's module is imported only when that command
runs (or shows its own help): ``--version`` and ``--help`` list the table without importing
any command, so they start without cryptography, requests, pyjwt, oracledb or Textual.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from inspector import version

# Sub-commands in --help order: each names a module under inspector.cli with
# ``register(subparsers)``, which sets ``func``, and the one-line summary --help lists
# without importing it (a test keeps it equal to the help the module registers).
COMMANDS: dict[str, str] = {
    "watch": "live TUI: follow the access log and explain every connector attempt",
    "tail": "print access-log records as nginx writes them (headless)",
    "scan": "judge every connector attempt in access logs",
    "decode": "analyse one token (from stdin with '-')",
    "profile": "read the ORDS JWT profile, or create it from an observed token",
    "doctor": "check the whole discovery chain a connector walks",
    "setup": "configure nginx, ORDS and the IdP for connectors: plan, confirm, apply",
    "demo": "try the live TUI on a replayed connector session (no nginx, IdP or database)",
    "rules": "explain a verdict or doctor code (all codes without one)",
    "completion": "print or install the bash or zsh completion script",
}

# Distributions --version names beside the tool; read from metadata, never imported.
VERSION_OF = ("textual", "oracledb")


def command_names() -> list[str]:
    """Every sub-command, in help order."""
    return list(COMMANDS)


def version_text() -> str:
    """The tool's version, then Python's and its heaviest dependencies' (not imported)."""
    import importlib.metadata
    import platform

    lines = [f"token-inspector {version()}", f"Python {platform.python_version()}"]
    for dist in VERSION_OF:
        try:
            lines.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(f"{dist} not installed")
    return "\n".join(lines)


class _VersionAction(argparse.Action):
    # argparse's own version action needs the text when the parser is built; reading
    # package metadata on every start would cost the commands that never print it.
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help=kwargs.get("help"))

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        print(version_text())
        parser.exit()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; every sub-command registered, or only ``only``.

    With ``only``, the other commands are listed by their summary and their modules are
    not imported: that is how ``main`` keeps start-up to the one command that runs.
    """
    parser = argparse.ArgumentParser(
        prog="token-inspector",
        description="Explain why ORDS accepts or rejects the OAuth2 tokens MCP connectors send.",
        epilog="Run 'token-inspector COMMAND --help' for a command's options and examples, "
        "'token-inspector rules CODE' to look a verdict or doctor code up.",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="show the version, with Python's, Textual's and oracledb's, and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if only is None or name == only:
            module = importlib.import_module(f"inspector.cli.{name}")
            module.register(sub)
            _add_debug(sub.choices[name])
        else:
            sub.add_parser(name, help=summary, add_help=False)
    return parser


def _add_debug(parser: argparse.ArgumentParser) -> None:
    # Every command and action takes it after its own name (`scan --debug`, `profile show
    # --debug`); not before the command, where a leading option means `watch`.
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log to stderr what the tool decides and fetches (URLs tried, refused "
        "addresses, key cache hits); never a token",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _add_debug(child)


@contextlib.contextmanager
def debug_logging(enabled: bool) -> Iterator[None]:
    """With ``enabled``, the ``inspector`` loggers' debug records go to stderr meanwhile."""
    if not enabled:
        yield
        return
    import logging  # here: --help and --version have no use for it (about 10 ms)

    logger = logging.getLogger("inspector")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("token-inspector: debug: %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _command_in(args_list: Sequence[str]) -> str:
    # The top-level parser takes no option with a value, so the command is the first word.
    if args_list and args_list[0] in COMMANDS:
        return args_list[0]
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    _never_fail_on_output()
    args_list = list(sys.argv[1:] if argv is None else argv)
    # No sub-command (or only options) means the live TUI, like `token-inspector watch`.
    wants_tui = not args_list or (
        args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")
    )
    if wants_tui and "watch" in command_names():
        args_list = ["watch", *args_list]
    # A parser with a placeholder for every other command: an unknown command is still
    # refused with the list of choices.
    parser = build_parser(only=_command_in(args_list))
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    with debug_logging(bool(getattr(args, "debug", False))):
        return dispatch(args)


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed command. The one place failures become an exit status: an expected
    failure (``InspectorError``) one line on stderr and 2, Ctrl-C 130, a closed pipe 0."""
    # Imported once a command runs: --help and --version start without the settings layer.
    from inspector.settings import InspectorError
    from parsers.printable import printable

    try:
        return int(args.func(args))
    except InspectorError as exc:
        # Every expected failure ends here, the same way: one line, exit 2. The message
        # may quote a file or a log line, so it is escaped like everything else shown.
        command = getattr(args, "command", None) or "watch"
        print(f"token-inspector {command}: {printable(str(exc))}", file=sys.stderr)
        return exc.status
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
