"""Database errors as one clear line with the code, plus a hint for the common causes.

Works on any exception: python-oracledb errors carry an ``_Error`` object in ``args[0]`` with
``full_code`` (``ORA-01017``, ``DPY-6005``) and ``message``; for anything else the code is
read from the text. No import of ``oracledb`` here (``database.py`` owns the driver).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.redaction import redact_credential

_CODE = re.compile(r"\b((?:ORA|DPY|DPI|PLS|TNS)-\d{4,5})\b")
# A value echoed back by the database could be a token: JWT-shaped or long base64url runs.
# Narrower than redact_text so identifiers such as ORDS_SECURITY.CREATE_JWT_PROFILE survive.
_SECRET_RUN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){1,4}|[A-Za-z0-9_-]{40,}")


def _redact(text: str) -> str:
    return _SECRET_RUN.sub(lambda m: redact_credential(m.group()), text)


# One hint per code: what it usually means for someone setting up ORDS JWT profiles.
HINTS: dict[str, str] = {
    "ORA-01017": "wrong user name or password (check --user and ORACLE_PASSWORD)",
    "ORA-28000": "the account is locked: ask a DBA to unlock it",
    "ORA-28001": "the password has expired: change it, then retry",
    "ORA-01005": "no password given: set ORACLE_PASSWORD or run on a terminal to be prompted",
    "DPY-4001": "no credentials: give --user and set ORACLE_PASSWORD",
    "DPY-6005": "the database listener is unreachable: check host, port and firewall in --dsn",
    "ORA-12541": "no listener at that address: check host and port in --dsn",
    "DPY-6000": "the listener refused the connection: check the service name in --dsn",
    "DPY-6001": "the service name is not registered with the listener: check --dsn",
    "ORA-12514": "the service name is not registered with the listener: check --dsn",
    "DPY-6003": "the SID is not registered with the listener: use a service name in --dsn",
    "DPY-4000": "the TNS alias is not in tnsnames.ora: check the alias or --config-dir",
    "DPY-4026": "tnsnames.ora is missing or unreadable: point --config-dir at its directory",
    "DPY-4027": "a TNS alias needs --config-dir (the directory holding tnsnames.ora)",
    "DPY-3001": (
        "the database requires Native Network Encryption, which thin mode lacks: "
        "connect over TLS (tcps:// in --dsn) or ask the DBA to allow TLS"
    ),
    "DPY-4024": "the database did not answer within the call timeout ([database] call_timeout)",
    "DPY-4011": "the database or network closed the connection: retry, check the network",
    "DPY-6002": "the server certificate name does not match: check the host name in --dsn",
    "DPY-6006": "the server certificate name does not match: check the host name in --dsn",
    "ORA-01031": (
        "insufficient privileges: --schema needs ORDS_ADMINISTRATOR_ROLE; "
        "without --schema connect as the REST-enabled schema itself"
    ),
    "ORA-00942": (
        "the ORDS views are not visible: ORDS not installed in this database, or --schema "
        "used on ORDS before 24.4 (no DBA_ORDS_ views) or without access to them"
    ),
}

# PLS-00201 names the identifier: the hint depends on which package was missing.
_IDENTIFIER = re.compile(r"identifier '([A-Za-z0-9_$#.\"]+)' must be declared", re.I)
_ORDS_SECURITY_MISSING = (
    "{package} is missing: it comes with ORDS 24.3 and later; 23.3 to 24.2 have "
    "OAUTH.CREATE_JWT_PROFILE / OAUTH_ADMIN instead (used when the database shows them); "
    "JWT profiles need ORDS 23.3 at least. Or this schema is not REST-enabled "
    "(ORDS.ENABLE_SCHEMA)"
)
_OAUTH_MISSING = (
    "{package} has no JWT procedures here: they exist in ORDS 23.3 to 25.2 only (from 25.3 "
    "use ORDS_SECURITY / ORDS_SECURITY_ADMIN, from 24.3 on). Or this schema is not "
    "REST-enabled (ORDS.ENABLE_SCHEMA)"
)
_UNKNOWN_MISSING = (
    "an identifier is not declared: ORDS is not installed here, the package does not exist "
    "in this ORDS release (OAUTH JWT procedures 23.3 to 25.2, ORDS_SECURITY 24.3+), or "
    "this schema is not REST-enabled"
)
_WRONG_ARGUMENTS = (
    "this ORDS does not accept p_role_claim_name (needs ORDS 25.1+): upgrade ORDS or use a "
    "scope-based profile (--scope-based)"
)


@dataclass(frozen=True, slots=True)
class DbErrorInfo:
    """A database failure summarised: the code (or ``None``), the one line and a hint."""

    code: str | None
    line: str
    hint: str | None

    def __str__(self) -> str:
        return f"{self.line} ({self.hint})" if self.hint else self.line


def _missing_hint(pls: str) -> str:
    match = _IDENTIFIER.search(pls)
    package = match.group(1).replace('"', "").split(".")[0].upper() if match else ""
    if package in ("ORDS_SECURITY", "ORDS_SECURITY_ADMIN"):
        return _ORDS_SECURITY_MISSING.format(package=package)
    if package in ("OAUTH", "OAUTH_ADMIN"):
        return _OAUTH_MISSING.format(package=package)
    return _UNKNOWN_MISSING


def _full_message(exc: BaseException) -> tuple[str | None, str]:
    detail = exc.args[0] if exc.args else None
    full_code = getattr(detail, "full_code", None)
    message = getattr(detail, "message", None)
    text = str(message if message is not None else exc)
    return (str(full_code) if full_code else None), text


def describe(exc: BaseException) -> DbErrorInfo:
    """One line for ``exc`` (``ORA-01017: invalid credential ...``) and a hint when known.

    PL/SQL failures (``ORA-06550``) are described by the ``PLS-`` line inside them, because
    that is the part that says what went wrong.
    """
    code, text = _full_message(exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("Help: ")]
    if code is None:
        match = _CODE.search(text)
        code = match.group(1) if match else None
    line = lines[0] if lines else type(exc).__name__
    hint = HINTS.get(code or "")
    pls = next((ln for ln in lines if ln.startswith("PLS-")), None)
    if pls is not None:
        line = pls
        if "PLS-00201" in pls:
            hint = _missing_hint(pls)
        elif "PLS-00306" in pls:
            hint = _WRONG_ARGUMENTS
        code = pls.split(":", 1)[0]
    elif code == "DPY-6005" and len(lines) > 1:
        # The cause (connection refused, name resolution...) is on the next line.
        line = f"{lines[0]} {lines[1]}"
    return DbErrorInfo(code=code, line=_redact(line), hint=hint)


def one_line(exc: BaseException) -> str:
    """``describe(exc)`` as a single printable line."""
    return str(describe(exc))
