"""How every command's ``--help`` is laid out: wrapped prose, verbatim examples, real defaults.

Every command passes :class:`HelpFormatter` and an epilog made by :func:`examples`, so
``token-inspector COMMAND --help`` ends with commands one can paste (a test parses each of
them with the real parser).
"""

from __future__ import annotations

import argparse
import textwrap

# Defaults that say nothing worth printing: absent, a switch that is off, an empty list.
_SILENT_DEFAULTS: tuple[object, ...] = (None, False, True, argparse.SUPPRESS)


class HelpFormatter(argparse.HelpFormatter):
    """Description and epilog paragraphs wrap to the terminal; indented lines (examples)
    keep their lines; an option's default is shown where it has a real one."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                out.append(
                    textwrap.fill(
                        " ".join(paragraph),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                        break_on_hyphens=False,
                    )
                )
                paragraph.clear()

        for line in text.splitlines():
            if not line.strip():
                flush()
                out.append("")
            elif line.startswith(" "):
                # An example or a list item: its line breaks are the point.
                flush()
                out.append(indent + line)
            else:
                paragraph.append(line.strip())
        flush()
        return "\n".join(out)

    def _split_lines(self, text: str, width: int) -> list[str]:
        # Never inside a path, a URL or a --flag-name: they must stay copyable.
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or any(default is d for d in _SILENT_DEFAULTS)
            or default == []
            or default == ""
        ):
            return text
        return f"{text} (default: %(default)s)"


def examples(*lines: str, notes: str = "") -> str:
    """An epilog: ``notes`` (wrapped), then ``examples:`` with one command a line.

    Each line is ``command`` or ``command  # what it shows``; the commands must parse.
    """
    parts = [notes.strip(), ""] if notes else []
    parts.append("examples:")
    parts += [f"  {line}" for line in lines]
    return "\n".join(parts)


def example_commands(epilog: str) -> list[str]:
    """The commands of an epilog made by :func:`examples`, without their comments."""
    _, _, tail = epilog.partition("examples:\n")
    return [line.split("  #", 1)[0].strip() for line in tail.splitlines() if line.strip()]
