"""Where this host's nginx keeps its configuration: asking the installed ``nginx -V``.

Host discovery, not parsing: it runs a program, so it lives here rather than in
``parsers``. The answer feeds ``parsers.nginx.conf.parse_config`` (path and prefix).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from parsers.nginx.conf import DEFAULT_CONF_PATH

_NGINX_DEFAULT_PREFIX = "/usr/local/nginx"
# Debian puts nginx in /usr/sbin, which is not on an unprivileged user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")


def find_config_path(explicit: Path | None, *, search_path: str | None = None) -> tuple[Path, str]:
    """Where the nginx configuration is, and how we know.

    Order: the path the user gave (``"explicit"``), the ``--conf-path=`` nginx was built
    with (``"nginx -V"``; a missing or failing binary is tolerated), else
    ``/etc/nginx/nginx.conf`` (``"default"``). ``nginx`` is looked up in ``search_path``
    (default: ``$PATH`` plus the sbin directories an unprivileged user's PATH lacks).
    """
    if explicit is not None:
        return explicit, "explicit"
    found = _conf_path_from_nginx(search_path)
    if found is not None:
        return found, "nginx -V"
    return DEFAULT_CONF_PATH, "default"


def find_prefix(config_path: Path, *, search_path: str | None = None) -> Path | None:
    """nginx's prefix, when the installed nginx is built to read ``config_path``.

    Relative ``access_log`` paths are relative to it: ``--prefix=`` from ``nginx -V``
    (nginx's default ``/usr/local/nginx`` when absent; Debian builds say
    ``/usr/share/nginx``). ``None`` when no nginx answers or it was built for another
    file, since then we cannot know (nginx started with ``-p`` is not visible either);
    ``parse_config`` then guesses and says so in a note.
    """
    build = _nginx_build(search_path)
    if build is None:
        return None
    conf, prefix = build
    return prefix if conf.resolve() == config_path.resolve() else None


def _conf_path_from_nginx(search_path: str | None) -> Path | None:
    build = _nginx_build(search_path)
    return build[0] if build is not None else None


def _nginx_build(search_path: str | None) -> tuple[Path, Path] | None:
    """``(conf path, prefix)`` from ``nginx -V``, or None when nginx cannot tell us."""
    if search_path is None:
        search_path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    binary = shutil.which("nginx", path=search_path)
    if binary is None:
        return None
    try:
        # nginx prints its build configuration to stderr.
        result = subprocess.run(  # noqa: S603 (a binary found on PATH, fixed arguments)
            [binary, "-V"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = result.stderr + result.stdout
    conf = re.search(r"--conf-path=(\S+)", output)
    if conf is None:
        return None
    found = re.search(r"--prefix=(\S+)", output)
    prefix = Path(found.group(1) if found else _NGINX_DEFAULT_PREFIX)
    path = Path(conf.group(1))
    return (path if path.is_absolute() else prefix / path), prefix
