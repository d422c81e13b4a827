"""How setup checks and reloads the user's nginx: two command lines, run without a shell.

The commands are data (argv tuples) so the command author, the tests and a user with an
unusual installation (a wrapper script, ``systemctl reload nginx``) can say exactly what
runs; ``NginxControl.for_config`` builds the usual pair for a configuration file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Debian puts nginx in /usr/sbin, which is not on an unprivileged user's PATH (the same
# places inspector/logs/nginx_host.py looks in).
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")
# nginx -t parses every included file and may resolve host names in upstreams; a hung
# resolver must not hang setup forever with the new files in place.
COMMAND_TIMEOUT = 60.0


def find_nginx(search_path: str | None = None) -> str | None:
    """The nginx binary on ``$PATH`` plus the sbin directories, or ``None``."""
    if search_path is None:
        search_path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    return shutil.which("nginx", path=search_path)


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """How one command ended: ``output`` is stderr then stdout, stripped (nginx speaks on
    stderr); ``error`` is set when it could not run at all or timed out."""

    argv: tuple[str, ...]
    returncode: int | None
    output: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the command ran and exited 0."""
        return self.error is None and self.returncode == 0

    def describe(self) -> str:
        """One line saying how it failed (empty when it did not)."""
        if self.error is not None:
            return self.error
        if self.returncode != 0:
            first = next((line for line in self.output.splitlines() if line.strip()), "")
            return f"exit status {self.returncode}" + (f": {first.strip()}" if first else "")
        return ""


def run_command(argv: tuple[str, ...], *, timeout: float = COMMAND_TIMEOUT) -> CommandOutcome:
    """Run ``argv`` (no shell), capture its output, never raise."""
    if not argv:
        return CommandOutcome(argv, None, "", "no command configured")
    try:
        done = subprocess.run(  # noqa: S603 (argv from NginxControl, no shell)
            list(argv), capture_output=True, text=True, errors="replace", timeout=timeout
        )
    except FileNotFoundError:
        return CommandOutcome(argv, None, "", f"cannot run {argv[0]}: not found")
    except subprocess.TimeoutExpired:
        return CommandOutcome(argv, None, "", f"{argv[0]} did not finish within {timeout:g} s")
    except OSError as exc:
        return CommandOutcome(argv, None, "", f"cannot run {argv[0]}: {exc.strerror or exc}")
    output = "\n".join(part.strip() for part in (done.stderr, done.stdout) if part.strip())
    return CommandOutcome(argv, done.returncode, output)


@dataclass(frozen=True, slots=True)
class NginxControl:
    """The command that checks the real configuration and the one that reloads nginx.

    ``config`` is the main configuration file the commands act on (recorded in backups
    and the audit file); ``None`` when the commands were given by hand.
    """

    test: tuple[str, ...]
    reload: tuple[str, ...]
    config: Path | None = None

    @classmethod
    def for_config(
        cls,
        conf: Path,
        *,
        prefix: Path | None = None,
        binary: str | None = None,
        error_log: Path | None = None,
    ) -> NginxControl:
        """``nginx -t -c conf`` and ``nginx -s reload -c conf`` (with ``-p prefix`` when
        given). The binary is looked up on ``$PATH`` and in the sbin directories; when it
        is nowhere, plain ``nginx`` is kept so running it says "not found".
        ``error_log`` (nginx's ``-e``) is where these commands log before the configuration
        names a log: without it, nginx's built-in path (``/var/log/nginx/error.log``).
        """
        nginx = binary or find_nginx() or "nginx"
        where: tuple[str, ...] = ("-p", str(prefix)) if prefix is not None else ()
        if error_log is not None:
            where = (*where, "-e", str(error_log))
        return cls(
            test=(nginx, "-t", *where, "-c", str(conf)),
            reload=(nginx, "-s", "reload", *where, "-c", str(conf)),
            config=conf,
        )

    def run_test(self) -> CommandOutcome:
        """Run the configuration test."""
        return run_command(self.test)

    def run_reload(self) -> CommandOutcome:
        """Ask nginx to reload (it does so asynchronously: old workers answer a moment)."""
        return run_command(self.reload)

    def describe(self) -> str:
        """The two commands as a user would type them (for manual steps)."""
        return f"{shlex.join(self.test)} && {shlex.join(self.reload)}"
