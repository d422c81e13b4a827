"""An access log in the reference ``extended`` format holding bearer tokens, and the
nginx.conf that names its format, for command tests that read a log the way users do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from inspector.logsource import REFERENCE_EXTENDED


@dataclass(frozen=True)
class BearerLog:
    """``log`` with one 401 MCP request per token, and ``nginx_conf`` writing it."""

    log: Path
    nginx_conf: Path


def write_bearer_log(directory: Path, *tokens: str) -> BearerLog:
    """One line per token, stamped now, as a connector's refused request."""
    log = directory / "extended.log"
    when = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    log.write_text(
        "".join(
            f'127.0.0.1 - - [{when}] "POST /ords/hr/mcp HTTP/1.1" 401 0 referer:"-" '
            f'ua:"Claude-User" content-type:"application/json" '
            f'authorization:"Bearer {token}" mcp-protocol-version:"2025-06-18"\n'
            for token in tokens
        )
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        "events {}\nhttp {\n"
        f"  log_format extended '{REFERENCE_EXTENDED.template}';\n"
        f"  access_log {log} extended;\n}}\n"
    )
    return BearerLog(log, conf)
