"""Every command's help: wrapped prose, real defaults, and examples that really parse."""

from __future__ import annotations

import argparse
import shlex

import pytest

from inspector.cli.help import HelpFormatter, example_commands, examples
from inspector.cli.main import COMMANDS, build_parser


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser by its words ("scan", "profile apply"), nested ones too."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found[" ".join((*words, name))] = child
                    walk(child, (*words, name))

    walk(build_parser(), ())
    return found


PARSERS = _parsers()


def _invocations(command_line: str) -> list[list[str]]:
    """The token-inspector arguments in an example (pipes and redirections dropped)."""
    runs = []
    for segment in command_line.split("|"):
        words = shlex.split(segment)
        if words and words[0] == "token-inspector":
            args = words[1:]
            redirect = next((i for i, w in enumerate(args) if w in ("<", ">", ">>")), None)
            runs.append(args[:redirect])
    return runs


def test_every_command_is_covered() -> None:
    assert set(COMMANDS) <= set(PARSERS)
    assert {"profile show", "profile sql", "profile apply"} <= set(PARSERS)


@pytest.mark.parametrize("words", sorted(PARSERS))
def test_help_ends_with_two_or_three_examples_that_parse(words: str) -> None:
    parser = PARSERS[words]
    assert parser.epilog, f"{words}: no examples"
    commands = example_commands(parser.epilog)
    assert 2 <= len(commands) <= 3, commands
    for command in commands:
        runs = _invocations(command)
        assert runs, f"{words}: {command!r} does not run token-inspector"
        for args in runs:
            assert args[: len(words.split())] == words.split(), command
            build_parser().parse_args(args)  # SystemExit (argparse's error) fails the test
    text = parser.format_help().rstrip().splitlines()
    assert text[-1].strip().startswith("token-inspector") or "token-inspector" in text[-1]


@pytest.mark.parametrize("words", sorted(PARSERS))
def test_descriptions_wrap_to_the_terminal(words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    parser = PARSERS[words]
    assert parser.formatter_class is HelpFormatter
    help_text = parser.format_help()
    prose, _, _ = help_text.partition("examples:")
    usage_end = prose.index("\n\n")
    # Option lines may run over when a metavar is long; descriptions and notes may not.
    for line in prose[usage_end:].splitlines():
        if not line.startswith(" "):
            assert len(line) <= 60, line


def test_a_real_default_is_shown_and_an_absent_one_is_not() -> None:
    parser = argparse.ArgumentParser(formatter_class=HelpFormatter)
    parser.add_argument("--rate", type=int, default=7, help="lines a second")
    parser.add_argument("--name", help="a name")
    parser.add_argument("--flag", action="store_true", help="a switch")
    parser.add_argument("--many", action="append", default=[], help="repeatable")
    parser.add_argument("--timeout", default=5, help="seconds (default 5)")
    text = " ".join(parser.format_help().split())
    assert "lines a second (default: 7)" in text
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "(default: [])" not in text
    assert "(default 5) (default" not in text


def test_examples_keep_their_lines() -> None:
    parser = argparse.ArgumentParser(
        prog="x",
        formatter_class=HelpFormatter,
        epilog=examples("token-inspector scan a.log   # one", "token-inspector scan b.log"),
    )
    tail = parser.format_help().split("examples:\n", 1)[1]
    assert tail.splitlines() == [
        "  token-inspector scan a.log   # one",
        "  token-inspector scan b.log",
    ]


def test_n_is_short_for_last() -> None:
    for command in ("watch", "tail", "scan"):
        assert build_parser().parse_args([command, "-n", "50"]).last == 50
    assert build_parser().parse_args(["profile", "sql", "-n", "50"]).last == 50


def test_defaults_written_in_help_texts_are_the_real_ones() -> None:
    from inspector.settings import CONFIG_ENV, DEFAULT_HTTP_TIMEOUT, SYSTEM_CONFIG_PATH

    scan = " ".join(PARSERS["scan"].format_help().split())
    assert f"(default {DEFAULT_HTTP_TIMEOUT:g})" in scan
    assert f"${CONFIG_ENV}" in scan and str(SYSTEM_CONFIG_PATH) in scan
    demo = PARSERS["demo"]
    speed = next(a for a in demo._actions if "--speed" in a.option_strings)
    assert speed.default == 1 and "(default 1:" in (speed.help or "")
