"""Running ``token-inspector doctor`` in-process with only the doctor command registered.

``inspector.cli.main.main`` imports every command module; this keeps the doctor's CLI tests
about the doctor (the full CLI is covered by the CLI's own tests).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from inspector.cli import doctor
from inspector.cli.main import dispatch


def run_doctor_cli(argv: Sequence[str]) -> int:
    """``token-inspector doctor ARGV...``; returns the exit status (2 on argparse errors)."""
    parser = argparse.ArgumentParser(prog="token-inspector")
    doctor.register(parser.add_subparsers(dest="command"))
    try:
        args = parser.parse_args(["doctor", *argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    return dispatch(args)
