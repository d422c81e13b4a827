"""``completion``: bash and zsh completion scripts generated from the argument parser.

The scripts are written from the parser itself (commands, actions, options, choices, and
file or directory completion for options that take a path), so they never drift from the
flags; ``--install`` puts one where the shell looks for it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.cli.help import HelpFormatter, examples
from inspector.private_files import replace_private
from inspector.settings import InspectorError

SHELLS = ("bash", "zsh")
PROG = "token-inspector"
_FILE_METAVARS = {"FILE", "PATH", "LOG"}


class CompletionError(InspectorError):
    """No shell given and none to guess, or the completion directory cannot be written."""


@dataclass(frozen=True, slots=True)
class Option:
    """One option as completion sees it: its spellings, a summary, and what its value is."""

    flags: tuple[str, ...]
    summary: str
    takes_value: bool
    choices: tuple[str, ...] = ()
    value: str = ""  # "file", "dir" or "" (anything)


@dataclass(frozen=True, slots=True)
class Command:
    """One parser: the words that reach it, its options, sub-commands and positionals."""

    words: tuple[str, ...]
    options: tuple[Option, ...]
    subcommands: tuple[tuple[str, str], ...]  # (name, summary)
    positional: str  # "file", "any" or "" (none)
    positional_choices: tuple[str, ...] = ()


def register(subparsers: Any) -> None:
    """Add the ``completion`` sub-command."""
    parser = subparsers.add_parser(
        "completion",
        help="print or install the bash or zsh completion script",
        description="Print the shell completion script, generated from the command's own "
        "options, or install it where the shell looks for it.",
        epilog=examples(
            "token-inspector completion --install   # for the shell in $SHELL",
            "token-inspector completion bash > ~/.local/share/bash-completion/completions/"
            "token-inspector",
            "token-inspector completion zsh --install",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("shell", nargs="?", choices=SHELLS, help="bash or zsh (default: $SHELL)")
    parser.add_argument(
        "--install",
        action="store_true",
        help="write the script to the user's completion directory instead of printing it",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the script, or install it and say where."""
    shell = args.shell or _shell_from_env()
    script = render(shell)
    if not args.install:
        sys.stdout.write(script)
        return 0
    path = install_path(shell)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_private(path, script)
    except OSError as exc:
        raise CompletionError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"installed {path}")
    if shell == "zsh":
        print(f"add 'fpath=({path.parent} $fpath)' before compinit in ~/.zshrc, then start zsh")
    else:
        print("start a new bash (bash-completion loads it on first use)")
    return 0


def _shell_from_env() -> str:
    shell = Path(os.environ.get("SHELL", "")).name
    if shell not in SHELLS:
        raise CompletionError("name the shell: token-inspector completion bash|zsh")
    return shell


def install_path(shell: str) -> Path:
    """Where the user's ``shell`` finds completion scripts without root."""
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    if shell == "bash":
        user_dir = os.environ.get("BASH_COMPLETION_USER_DIR")
        base = Path(user_dir) if user_dir else data / "bash-completion"
        return base / "completions" / PROG
    return data / "zsh" / "site-functions" / f"_{PROG}"


def render(shell: str) -> str:
    """The completion script for ``shell``, generated from the full parser."""
    from inspector.cli.main import build_parser  # the full parser: every command imported

    commands = walk(build_parser())
    return bash_script(commands) if shell == "bash" else zsh_script(commands)


# --------------------------------------------------------------------------- the parser


def _value_kind(action: argparse.Action) -> str:
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar == "DIR":
        return "dir"
    if action.type is Path or metavar in _FILE_METAVARS:
        return "file"
    return ""


def _summary(text: str | None) -> str:
    # One plain clause: the zsh and bash quoting below then has nothing to fear.
    first = re.split(r"[;(]", text or "", maxsplit=1)[0]
    return re.sub(r"[^A-Za-z0-9 ,./_+-]", "", first).strip()[:70]


def walk(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> list[Command]:
    """Every parser under ``parser`` (itself first), as :class:`Command` records."""
    options: list[Option] = []
    subs: list[tuple[str, str]] = []
    children: list[Command] = []
    positional = ""
    positional_choices: tuple[str, ...] = ()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                subs.append((name, _summary(helps.get(name))))
                children += walk(child, (*words, name))
        elif action.option_strings:
            choices = tuple(str(c) for c in action.choices or ())
            options.append(
                Option(
                    tuple(action.option_strings),
                    _summary(action.help),
                    action.nargs != 0,
                    choices,
                    _value_kind(action),
                )
            )
        elif action.choices:
            positional, positional_choices = "any", tuple(str(c) for c in action.choices)
        else:
            positional = "file" if _value_kind(action) or action.dest == "logs" else "any"
    command = Command(words, tuple(options), tuple(subs), positional, positional_choices)
    return [command, *children]


# --------------------------------------------------------------------------- bash


_BASH_FILES = 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
_BASH_DIRS = 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))'


def bash_script(commands: list[Command]) -> str:
    """A bash completion function for every command path."""
    known = " ".join(f'"{" ".join(c.words)}"' for c in commands if c.words)
    lines = [
        f"# bash completion for {PROG}; generated by `{PROG} completion bash`.",
        "_token_inspector() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local path="" word i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        word="${COMP_WORDS[i]}"',
        "        [[ $word == -* ]] && continue",
        '        local next="${path:+$path }$word"',
        f"        for known in {known}; do",
        '            [[ $known == "$next" ]] && path=$next && break',
        "        done",
        "    done",
        '    case "$path|$prev" in',
    ]
    for command in commands:
        key = " ".join(command.words)
        for option in command.options:
            if not option.takes_value:
                continue
            pattern = "|".join(f'"{key}|{flag}"' for flag in option.flags)
            if option.choices:
                action = f'COMPREPLY=($(compgen -W "{" ".join(option.choices)}" -- "$cur"))'
            elif option.value == "dir":
                action = _BASH_DIRS
            elif option.value == "file":
                action = _BASH_FILES
            else:
                action = "COMPREPLY=()"
            lines.append(f"        {pattern}) {action}; return ;;")
    lines += ["    esac", '    case "$path" in']
    for command in commands:
        flags = " ".join(f for o in command.options for f in o.flags)
        subs = " ".join(name for name, _ in command.subcommands)
        lines.append(f'        "{" ".join(command.words)}")')
        lines.append(
            f'            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "{flags}" -- "$cur"))'
        )
        if subs:
            lines.append(f'            else COMPREPLY=($(compgen -W "{subs}" -- "$cur"))')
        elif command.positional_choices:
            words = " ".join(command.positional_choices)
            lines.append(f'            else COMPREPLY=($(compgen -W "{words}" -- "$cur"))')
        elif command.positional == "file":
            lines.append(f"            else {_BASH_FILES}")
        lines += ["            fi ;;"]
    lines += ["    esac", "}", f"complete -F _token_inspector {PROG}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- zsh


def _zsh_function(words: tuple[str, ...]) -> str:
    return "_token_inspector" + "".join(f"_{w.replace('-', '_')}" for w in words)


def _zsh_option(option: Option) -> str:
    spec = f"[{option.summary}]"
    if option.takes_value:
        if option.choices:
            spec += f":value:({' '.join(option.choices)})"
        elif option.value == "dir":
            spec += ":directory:_files -/"
        elif option.value == "file":
            spec += ":file:_files"
        else:
            spec += ":value: "
    if len(option.flags) == 1:
        return f"'{option.flags[0]}{spec}'"
    exclusive = " ".join(option.flags)
    return f"'({exclusive})'{{{','.join(option.flags)}}}'{spec}'"


def zsh_script(commands: list[Command]) -> str:
    """A zsh completion function per command path, dispatching on the command words."""
    lines = [
        f"#compdef {PROG}",
        f"# zsh completion for {PROG}; generated by `{PROG} completion zsh`.",
        "",
    ]
    for command in commands:
        specs = [_zsh_option(o) for o in command.options]
        lines.append(f"{_zsh_function(command.words)}() {{")
        if command.subcommands:
            lines.append('    local curcontext="$curcontext" state line')
            lines.append("    _arguments -C \\")
            lines += [f"        {spec} \\" for spec in specs]
            lines += ["        '1: :->command' \\", "        '*:: :->args'", "    case $state in"]
            values = " ".join(f"'{name}[{summary}]'" for name, summary in command.subcommands)
            lines.append(f"        command) _values command {values} ;;")
            lines.append("        args)")
            lines.append("            case $line[1] in")
            for name, _ in command.subcommands:
                lines.append(f"                {name}) {_zsh_function((*command.words, name))} ;;")
            lines += ["            esac ;;", "    esac", "}", ""]
            continue
        if command.positional_choices:
            specs.append(f"':argument:({' '.join(command.positional_choices)})'")
        elif command.positional == "file":
            specs.append("'*:file:_files'")
        elif command.positional == "any":
            specs.append("'*:argument: '")
        lines.append("    _arguments \\")
        lines += [f"        {spec} \\" for spec in specs]
        lines[-1] = lines[-1].removesuffix(" \\")
        lines += ["}", ""]
    lines += ['_token_inspector "$@"', ""]
    return "\n".join(lines)
