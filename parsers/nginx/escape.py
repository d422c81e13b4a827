"""Escaping of variable values in access logs, both ways, per ``log_format escape=`` mode.

What nginx (ngx_http_log_module) writes, checked against nginx 1.22:

- ``default``: ``"``, ``\\``, bytes below 0x20 and from 0x7F up become ``\\xHH`` (upper
  case). UTF-8 user agents therefore arrive as ``\\xE3\\x81\\x82``.
- ``json``: ``\\"``, ``\\\\``, ``\\n \\r \\t \\b \\f``, other bytes below 0x20 as
  ``\\u00hh``; everything else raw (so non-UTF-8 bytes may appear).
- ``none``: nothing is escaped.

A missing value is ``-`` in ``default`` mode and empty in ``json`` and ``none`` modes.
"""

from __future__ import annotations

import codecs
import json
import re

_HEX_ESCAPE = re.compile(rb"\\x([0-9A-Fa-f]{2})")
_JSON_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _default_byte(b: int) -> str:
    if b < 0x20 or b >= 0x7F or b in (0x22, 0x5C):
        return f"\\x{b:02X}"
    return chr(b)


_DEFAULT_TABLE = tuple(_default_byte(b) for b in range(256))


def _json_char(c: str) -> str:
    if c == '"':
        return '\\"'
    if c == "\\":
        return "\\\\"
    if c in _JSON_SHORT:
        return _JSON_SHORT[c]
    if ord(c) < 0x20:
        return f"\\u{ord(c):04x}"
    return c


_JSON_TABLE = {i: _json_char(chr(i)) for i in range(0x20)} | {0x22: '\\"', 0x5C: "\\\\"}


def escape_default(value: str) -> str:
    """Write ``value`` the way nginx's default escaping does (UTF-8 bytes as ``\\xHH``)."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    return "".join(_DEFAULT_TABLE[b] for b in value.encode("utf-8", "replace"))


def escape_json(value: str) -> str:
    """Write ``value`` the way ``escape=json`` does."""
    return value.translate(_JSON_TABLE)


def unescape_default(value: str) -> str:
    """``\\xHH`` sequences back to bytes, then UTF-8 (invalid bytes become U+FFFD).

    A backslash not followed by ``xHH`` cannot come from nginx (it writes ``\\`` as
    ``\\x5C``) and is kept as written.
    """
    encoded = value.encode("utf-8", "surrogateescape")
    if value.count("\\") == value.count("\\x"):
        # Every backslash starts \x..: the C codec does the work ten times faster.
        try:
            return codecs.escape_decode(encoded)[0].decode("utf-8", "replace")
        except ValueError:
            pass
    raw = _HEX_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), encoded)
    return raw.decode("utf-8", "replace")


def unescape_json(value: str) -> str:
    """JSON string escapes back to text; a malformed escape is kept as written."""
    try:
        result = json.loads(f'"{value}"', strict=False)
    except ValueError:
        return _unescape_json_lenient(value)
    if not isinstance(result, str):
        return value
    try:
        result.encode("utf-8")
    except UnicodeEncodeError:
        # "\ud800" alone decodes to a lone surrogate that would break every later encode().
        return _unescape_json_lenient(value)
    return result


_JSON_ESCAPE = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|(["\\/bfnrt]))')
_JSON_SIMPLE = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


def _unescape_json_lenient(value: str) -> str:
    def _sub(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            # A lone surrogate would poison every later encode(); show it as U+FFFD.
            return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)
        return _JSON_SIMPLE[match.group(2)]

    return _JSON_ESCAPE.sub(_sub, value)


def escape(value: str, mode: str) -> str:
    """Escape ``value`` for a ``log_format`` with ``escape=mode``."""
    if mode == "json":
        return escape_json(value)
    if mode == "none":
        return value
    return escape_default(value)
