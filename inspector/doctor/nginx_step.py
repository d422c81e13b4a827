"""Step 6: the local nginx configuration, when it is readable.

nginx refuses to start on an undefined log format or an unknown ``more_*`` directive, so
those findings usually mean the file on disk differs from what runs (an edit not yet
reloaded, or one that will fail on the next reload). The configuration is parsed in
lenient mode: what ``nginx -t`` would refuse comes back as problem codes, and the other
checks still run on the rest.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import stat
import subprocess
from collections.abc import Generator
from pathlib import Path

from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.logs.nginx_host import find_config_path, find_prefix
from parsers.nginx.conf import (
    UNKNOWN_LOG_FORMAT,
    UNREADABLE,
    AccessLog,
    ConfigProblem,
    NginxConfig,
    NginxConfigError,
    logs_recording_authorization,
    parse_config,
)
from parsers.nginx.safe_log import (
    REFERER_VARIABLE,
    REQUEST_VARIABLE,
    SAFE_FORMAT_NAME,
    SAFE_VARIABLE,
    raw_query_variables,
    records_raw_authorization,
)

HEADERS_MORE = "headers_more"
# Where Debian, Ubuntu and RHEL packages put nginx's rotation; read only when a log holds
# full tokens, to say how long they stay on disk.
LOGROTATE_CONF = Path("/etc/logrotate.d/nginx")
SAFE_LOG_FIX = (
    "log tokens without their signature (nothing left to replay): in the http block add "
    f"the map $http_authorization ${SAFE_VARIABLE} {{...}} and log_format "
    f"{SAFE_FORMAT_NAME} of docs/safe-token-log.md, then access_log <this path> "
    f"{SAFE_FORMAT_NAME}; and nginx -s reload. Every check but the signature still runs."
)
QUERY_LOG_FIX = (
    f"log ${REQUEST_VARIABLE} and ${REFERER_VARIABLE} instead (the maps of "
    f"docs/safe-token-log.md write them without the query and without a token-sized path), "
    f"e.g. the log_format {SAFE_FORMAT_NAME} there, and nginx -s reload"
)
_LOGROTATE_BLOCK = re.compile(r"([^{}]*)\{([^{}]*)\}")
_ROTATE = re.compile(r"^\s*rotate\s+(\d+)\s*$", re.MULTILINE)
_PERIOD = re.compile(r"^\s*(hourly|daily|weekly|monthly|yearly)\s*$", re.MULTILINE)


def check_nginx(options: DoctorOptions, origin: str) -> Generator[Finding]:
    """Parse nginx.conf and check the access log, the headers-more module and permissions."""
    path, how = find_config_path(options.nginx_conf)
    prefix = find_prefix(path)
    try:
        config = parse_config(path, strict=False, prefix=prefix)
    except NginxConfigError as exc:
        yield from _config_error(exc, how)
        return
    yield Finding(
        "nginx-conf-read", Status.PASS, f"nginx configuration read ({how})", str(config.path)
    )
    for problem in config.problems:
        yield _problem(problem)
    yield from _authorization_logs(config, prefix_known=prefix is not None)
    yield from _headers_more(config)


def _problem(problem: ConfigProblem) -> Finding:
    if problem.code == UNKNOWN_LOG_FORMAT:
        name = problem.subject or "?"
        return Finding(
            "nginx-undefined-format",
            Status.FAIL,
            f"an access_log names log format {name!r}, which no log_format "
            "defines before it: nginx refuses this configuration",
            str(problem),
            f"define log_format {name} in the http block before it is used, or "
            "name a defined format",
        )
    return Finding(
        "nginx-conf-invalid",
        Status.FAIL,
        f"nginx refuses this configuration ({problem.code})",
        str(problem),
        "nginx -t shows the same problem; fix it there",
    )


def _config_error(exc: NginxConfigError, how: str) -> Generator[Finding]:
    if exc.code == UNREADABLE:
        yield Finding(
            "nginx-conf-unreadable",
            Status.WARN if how == "explicit" else Status.SKIP,
            "nginx configuration not readable here; nginx checks skipped",
            str(exc),
            "run doctor on the nginx host as a user who can read it, or give --nginx-conf",
        )
    else:
        yield Finding(
            "nginx-conf-invalid",
            Status.FAIL,
            "the nginx configuration does not parse",
            str(exc),
            "nginx -t shows the same problem; fix it there",
        )


def _authorization_logs(config: NginxConfig, *, prefix_known: bool) -> Generator[Finding]:
    logs = logs_recording_authorization(config)
    if not logs:
        written = [f"{log.path} {log.format_name}" for log in config.effective_logs]
        ignored = [
            f"{log.path} {log.format_name} ({log.file}:{log.line}, never written)"
            for log in logs_recording_authorization(config, written_only=False)
        ]
        yield Finding(
            "nginx-no-authorization-log",
            Status.WARN,
            "no access_log that nginx writes records $http_authorization: the inspector "
            "has no tokens to explain",
            ", ".join(written + ignored) or None,
            "log_format extended '... authorization:\"$http_authorization\"'; access_log "
            "/var/log/nginx/extended.log extended; where no access_log off stands on the "
            "same level (see docs: the file then holds credentials)",
        )
        return
    for log in logs:
        relative = log.written_path != log.path
        yield Finding(
            "nginx-authorization-log",
            Status.PASS,
            "access log records $http_authorization",
            f"{log.path} ({log.format_name})"
            + (f", written as {log.written_path} under prefix {config.prefix}" if relative else ""),
        )
        fmt = config.log_formats.get(log.format_name)
        replayable = fmt is None or records_raw_authorization(fmt)
        if replayable:
            where = f", {fmt.file}:{fmt.line}" if fmt is not None and fmt.file else ""
            yield Finding(
                "nginx-log-replayable-tokens",
                Status.WARN,
                "the token log records full bearer tokens: whoever reads it (or a backup "
                "of it) can replay them until they expire",
                f"{log.path} (log_format {log.format_name}{where} records $http_authorization)",
                SAFE_LOG_FIX,
            )
            yield from _rotation(log)
        elif fmt is not None and (raw := raw_query_variables(fmt)):
            # Not a pass: the Authorization field is safe, but a client that sends its token
            # in the query (MCP forbids it: a broken or hostile client) or a Referer that
            # holds one leaves it whole in the line. Warn, as for a full-token log: either
            # way the file can hold a replayable token, and the fix is a copy-paste.
            where = f", {fmt.file}:{fmt.line}" if fmt.file else ""
            yield Finding(
                "nginx-log-query-tokens",
                Status.WARN,
                "the token log records the Authorization header without its signature, "
                "but the query string or referer as sent: a token a client puts in the "
                "URL (?access_token=) or a Referer holding one is logged whole, replayable",
                f"{log.path} (log_format {log.format_name}{where} records "
                + ", ".join(f"${name}" for name in raw)
                + ")",
                QUERY_LOG_FIX,
            )
        else:
            yield Finding(
                "nginx-log-signature-free",
                Status.PASS,
                "the token log records tokens without their signature, and the request "
                "line and referer without their query (safe token log)",
                f"{log.path} ({log.format_name})",
            )
        yield from _permissions(
            log, guessed_prefix=relative and not prefix_known, replayable=replayable
        )


def _rotation(log: AccessLog) -> Generator[Finding]:
    """How many rotated copies of a full-token log logrotate keeps, when that is cheap to say."""
    try:
        text = LOGROTATE_CONF.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return
    for match in _LOGROTATE_BLOCK.finditer(text):
        patterns = match.group(1).split()
        if not any(fnmatch.fnmatchcase(log.path, p.strip("\"'")) for p in patterns):
            continue
        rotate = _ROTATE.search(match.group(2))
        if rotate is None:
            return
        period = _PERIOD.search(match.group(2))
        every = f", rotated {period.group(1)}" if period else ""
        yield Finding(
            "nginx-log-rotation-keeps-tokens",
            Status.WARN,
            f"logrotate keeps {rotate.group(1)} old copies of the full-token log{every}: "
            "each holds replayable tokens until they expire, and backups keep them longer",
            f"{LOGROTATE_CONF}: rotate {rotate.group(1)}",
            SAFE_LOG_FIX,
        )
        return


def _permissions(
    log: AccessLog, *, guessed_prefix: bool, replayable: bool = True
) -> Generator[Finding]:
    path = Path(log.path)
    if not path.is_absolute():
        yield Finding(
            "nginx-log-mode-unknown",
            Status.SKIP,
            "relative log path and nginx's prefix unknown: permissions not checked",
            str(path),
        )
        return
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        # nginx -V did not vouch for the prefix: the relative path may live elsewhere.
        guess = (
            f" (relative {log.written_path}: prefix guessed as the configuration "
            "directory's parent, nginx -V did not confirm it)"
            if guessed_prefix
            else ""
        )
        yield Finding(
            "nginx-log-mode-unknown",
            Status.SKIP,
            "log file not found or not accessible: permissions not checked" + guess,
            f"{path}: {exc.strerror or exc}",
        )
        return
    if mode & stat.S_IROTH:
        yield Finding(
            "nginx-log-world-readable",
            Status.FAIL if replayable else Status.WARN,
            "the log holds bearer tokens and every local user can read it"
            if replayable
            else "the log holds token claims (user names, e-mail) and every local user can read it",
            f"{path} {stat.filemode(mode)}",
            f"chmod o-r {path}; and in logrotate: create 0640 www-data adm",
        )
    else:
        yield Finding(
            "nginx-log-private",
            Status.PASS,
            "log file not readable by other users",
            f"{path} {stat.filemode(mode)}",
        )


def _headers_more(config: NginxConfig) -> Generator[Finding]:
    used = [d for d in config.walk() if d.name.startswith("more_")]
    if not used:
        return
    loaded = any(
        HEADERS_MORE in arg for d in config.iter_directives("load_module") for arg in d.args
    )
    if loaded or _compiled_in():
        yield Finding(
            "nginx-headers-more-loaded",
            Status.PASS,
            "headers-more module loaded for " + used[0].name,
        )
        return
    first = used[0]
    yield Finding(
        "nginx-headers-more-not-loaded",
        Status.FAIL,
        f"{first.name} is used but the headers-more module is not loaded: nginx refuses "
        "the configuration (unknown directive)",
        f"{first.file}:{first.line} {first.name}",
        "apt install libnginx-mod-http-headers-more-filter (Debian/Ubuntu), or load_module "
        "modules/ngx_http_headers_more_filter_module.so; at the top of nginx.conf",
    )


def _compiled_in() -> bool:
    """nginx built with headers-more statically (``nginx -V`` lists it)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no user input
            [binary, "-V"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    output = result.stderr + result.stdout
    # Only --add-module= is static; --add-dynamic-module= still needs load_module.
    return re.search(r"--add-module=\S*headers-more", output) is not None
