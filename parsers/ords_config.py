"""ORDS's own configuration: the Java XML properties files of an ORDS config directory.

ORDS (22.x on) keeps its settings in ``global/settings.xml`` and, per connection pool,
``databases/<pool>/pool.xml``; a pool's value replaces the global one. Each file is the
standard Java ``Properties.storeToXML`` format::

    <?xml version="1.0" encoding="UTF-8" standalone="no"?>
    <!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
    <properties>
    <entry key="security.jwt.profile.mode">POOL</entry>
    </properties>

Pure parsing: no file is opened here (the loader is ``inspector.judge.ords_settings``).
The files are read by a tool that often runs as root, so the parser takes no chances:
the one DOCTYPE Java writes is allowed (no internal subset, its external DTD is never
fetched), any other DOCTYPE and every ENTITY declaration are refused before the XML
parser sees the text (no entity expansion, no billion laughs, no external entities),
and the size is capped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

# A real settings.xml is a few kilobytes; anything this large is not one.
MAX_CONFIG_BYTES = 256 * 1024
MAX_ENTRIES = 2000
# Documented default of security.jwks.size (bytes) and of the two JWKS timeouts (seconds).
DEFAULT_JWKS_SIZE = 100_000
DEFAULT_JWKS_TIMEOUT = 5.0
DEFAULT_POOL = "default"
# ORDS: a pool folder name holds only lowercase a-z, digits, '-', '.' and '_'.
POOL_NAME = re.compile(r"[a-z0-9_][a-z0-9._-]{0,127}")

_JAVA_DOCTYPE = re.compile(
    r"<!DOCTYPE\s+properties\s+SYSTEM\s+[\"']http://java\.sun\.com/dtd/properties\.dtd[\"']\s*>"
)
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

# The settings this tool reads (every other key is kept but not interpreted).
MODE = "security.jwt.profile.mode"
ENABLED = "security.jwt.profile.enabled"
ISSUER = "security.jwt.profile.issuer"
AUDIENCE = "security.jwt.profile.audience"
JWK_URL = "security.jwt.profile.jwk.url"
ROLE_CLAIM = "security.jwt.profile.role.claim.name"
ALLOWED_URLS = "security.jwks.allowed.urls"
JWKS_SIZE = "security.jwks.size"
CONNECT_TIMEOUT = "security.jwks.connection.timeout"
READ_TIMEOUT = "security.jwks.read.timeout"
REFRESH_INTERVAL = "security.jwks.refresh.interval"
ALLOWED_SKEW = "security.jwt.allowed.skew"
ALLOWED_AGE = "security.jwt.allowed.age"


class OrdsConfigError(ValueError):
    """A settings file that cannot be read safely; the message names the problem."""


def parse_properties(data: bytes, source: str = "settings") -> dict[str, str]:
    """``{key: value}`` of one Java XML properties file; ``OrdsConfigError`` otherwise.

    ``source`` names the file in messages. Values are stripped of surrounding whitespace.
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise OrdsConfigError(f"{source}: larger than {MAX_CONFIG_BYTES} bytes, not read")
    # Decoded first and parsed as text, so the XML parser sees exactly what was checked:
    # a UTF-16 file would hide "<!ENTITY" from a byte search.
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OrdsConfigError(f"{source}: not UTF-8 text") from None
    if "\x00" in text:
        raise OrdsConfigError(f"{source}: not UTF-8 text (NUL bytes)")
    # Only Java's own DOCTYPE (no internal subset) may stay; it declares nothing.
    text = _JAVA_DOCTYPE.sub("", text, count=1)
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise OrdsConfigError(f"{source}: DOCTYPE or ENTITY declarations are refused")
    try:
        # Safe here: every DOCTYPE and ENTITY was refused above (defusedxml is not a
        # dependency), so expat has nothing to expand or fetch.
        root = ET.fromstring(text)  # noqa: S314
    except ET.ParseError as exc:
        raise OrdsConfigError(f"{source}: not well-formed XML ({exc})") from None
    if root.tag != "properties":
        raise OrdsConfigError(f"{source}: root element is <{root.tag[:40]}>, not <properties>")
    entries: dict[str, str] = {}
    for child in root:
        if child.tag != "entry":
            continue  # <comment> and anything else carry no setting
        key = child.get("key")
        if not key:
            continue
        if len(entries) >= MAX_ENTRIES:
            raise OrdsConfigError(f"{source}: more than {MAX_ENTRIES} entries")
        entries[key.strip()] = (child.text or "").strip()
    return entries


def seconds(value: str | None) -> float | None:
    """``5``, ``5s``, ``500ms``, ``1m`` as seconds; None when absent or unreadable.

    A bare number is read as seconds: ORDS's unit for these settings is not documented
    (unconfirmed), and messages quote the raw value beside the reading.
    """
    if value is None:
        return None
    match = _DURATION.fullmatch(value)
    if not match:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]


def _whole(value: str | None) -> int | None:
    number = seconds(value)
    return None if number is None else int(number)


def _boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    return None


@dataclass(frozen=True, slots=True)
class OrdsConfig:
    """The JWT-related settings of one pool, pool over global.

    ``entries`` holds every key read, ``origins`` which file each came from
    (``global/settings.xml`` or ``databases/<pool>/pool.xml``).
    """

    pool: str = DEFAULT_POOL
    entries: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        """The raw value of ``key``, or None (an empty value counts as unset)."""
        value = self.entries.get(key)
        return value if value else None

    def where(self, key: str) -> str:
        """``KEY=VALUE (FILE)`` for messages."""
        return f"{key}={self.entries.get(key, '')} ({self.origins.get(key, 'default')})"

    @property
    def pool_mode(self) -> bool:
        """True when ``security.jwt.profile.mode`` is POOL (any letter case)."""
        return (self.get(MODE) or "").strip().upper() == "POOL"

    @property
    def profiles_enabled(self) -> bool | None:
        """``security.jwt.profile.enabled``; None when unset (ORDS's default applies)."""
        return _boolean(self.get(ENABLED))

    @property
    def issuer(self) -> str | None:
        return self.get(ISSUER)

    @property
    def audience(self) -> str | None:
        return self.get(AUDIENCE)

    @property
    def jwk_url(self) -> str | None:
        return self.get(JWK_URL)

    @property
    def role_claim_name(self) -> str | None:
        return self.get(ROLE_CLAIM)

    @property
    def allowed_urls(self) -> tuple[str, ...] | None:
        """``security.jwks.allowed.urls`` split at commas; None when unset."""
        raw = self.get(ALLOWED_URLS)
        if raw is None:
            return None
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    @property
    def jwks_size(self) -> int:
        """``security.jwks.size`` in bytes (default 100000)."""
        raw = self.get(JWKS_SIZE)
        if raw is None or not raw.strip().isdigit():
            return DEFAULT_JWKS_SIZE
        return int(raw.strip())

    @property
    def connect_timeout(self) -> float:
        """``security.jwks.connection.timeout`` in seconds (default 5)."""
        found = seconds(self.get(CONNECT_TIMEOUT))
        return DEFAULT_JWKS_TIMEOUT if found is None else found

    @property
    def read_timeout(self) -> float:
        """``security.jwks.read.timeout`` in seconds (default 5)."""
        found = seconds(self.get(READ_TIMEOUT))
        return DEFAULT_JWKS_TIMEOUT if found is None else found

    @property
    def refresh_interval(self) -> str | None:
        """``security.jwks.refresh.interval`` as written, or None."""
        return self.get(REFRESH_INTERVAL)

    @property
    def allowed_skew(self) -> int | None:
        """Global ``security.jwt.allowed.skew`` in seconds, None when unset."""
        return _whole(self.get(ALLOWED_SKEW))

    @property
    def allowed_age(self) -> int | None:
        """Global ``security.jwt.allowed.age`` in seconds, None when unset."""
        return _whole(self.get(ALLOWED_AGE))


def merge(
    global_entries: Mapping[str, str],
    pool_entries: Mapping[str, str],
    pool: str = DEFAULT_POOL,
) -> OrdsConfig:
    """The pool's view: its ``pool.xml`` values over ``global/settings.xml``."""
    entries = dict(global_entries)
    origins = dict.fromkeys(global_entries, "global/settings.xml")
    entries.update(pool_entries)
    origins.update(dict.fromkeys(pool_entries, f"databases/{pool}/pool.xml"))
    return OrdsConfig(pool=pool, entries=entries, origins=origins)


def url_admitted(allowed: tuple[str, ...], url: str) -> bool:
    """Whether ``security.jwks.allowed.urls`` may admit ``url``.

    ORDS does not document the format of the list (unconfirmed). It is read here as
    comma-separated entries, and an entry admits the URL when it equals it, is a prefix
    of it, or is a regular expression matching it whole: the most lenient reading, so
    a "not admitted" finding holds whichever reading ORDS uses.
    """
    for entry in allowed:
        if entry == "*" or url == entry or url.startswith(entry):
            return True
        try:
            if re.fullmatch(entry, url):
                return True
        except re.error:
            continue
    return False
