"""``WWW-Authenticate`` parsing (RFC 9110 section 11, RFC 6750 section 3), without HTTP.

A response may carry several challenges, in one field or in several fields; each challenge
is a scheme followed either by a token68 or by comma-separated ``name=value`` parameters
whose values are tokens or quoted strings with backslash escapes. The grammar is ambiguous
at commas (a new challenge or another parameter?); RFC 9110 resolves it by looking for
``=`` after the next token, which is what we do.

The header is attacker- or misconfiguration-controlled text: malformed input raises
:class:`ChallengeSyntaxError` with the position, never anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# RFC 9110 tchar.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TOKEN68 = frozenset("-._~+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_OWS = " \t"

# OpenID Connect scopes that are never qualified with a resource, whatever the IdP.
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access", "address", "phone"})


class ChallengeSyntaxError(ValueError):
    """The header does not follow the RFC 9110 challenge grammar."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at character {position}")
        self.position = position


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge: scheme as sent, parameters with lower-cased names, or a token68.

    ``duplicates`` names parameters that appeared more than once (the first value is kept;
    RFC 9110 says each may occur only once, and clients disagree on which copy wins).
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)
    token68: str | None = None
    duplicates: tuple[str, ...] = ()

    def is_scheme(self, name: str) -> bool:
        """Schemes compare case-insensitively (``Bearer`` == ``bearer``)."""
        return self.scheme.lower() == name.lower()

    def param(self, name: str) -> str | None:
        """The parameter ``name`` (case-insensitive), or None."""
        return self.params.get(name.lower())

    @property
    def scopes(self) -> tuple[str, ...]:
        """The ``scope`` parameter split on spaces (RFC 6750: space-delimited list)."""
        raw = self.param("scope")
        return tuple(raw.split()) if raw else ()

    def as_dict(self) -> dict[str, object]:
        """JSON shape for reports."""
        return {"scheme": self.scheme, "params": dict(self.params), "token68": self.token68}


class _Reader:
    """A cursor over one field value."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ows(self) -> None:
        while self.peek() and self.peek() in _OWS:
            self.pos += 1

    def skip_list_separators(self) -> None:
        """Skip OWS and empty list elements (``a, , b`` is legal)."""
        while self.peek() and (self.peek() in _OWS or self.peek() == ","):
            self.pos += 1

    def read_token(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in _TCHAR:
            self.pos += 1
        return self.text[start : self.pos]

    def read_quoted(self) -> str:
        """A quoted-string starting at the current ``"``; returns the unescaped value."""
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise ChallengeSyntaxError("unterminated quoted string", start)
            self.pos += 1
            if ch == '"':
                return "".join(out)
            if ch == "\\":
                escaped = self.peek()
                if not escaped:
                    raise ChallengeSyntaxError("backslash at end of quoted string", self.pos)
                self.pos += 1
                out.append(escaped)
            elif ch in "\r\n\x00":
                raise ChallengeSyntaxError("control character in quoted string", self.pos - 1)
            else:
                out.append(ch)

    def looks_like_param(self) -> bool:
        """Is the next list element ``token BWS "="`` (a parameter, not a new challenge)?"""
        saved = self.pos
        try:
            if not self.read_token():
                return False
            self.skip_ows()
            if self.peek() != "=":
                return False
            # ``abc==`` right after a scheme is a token68, not a parameter with value "=".
            self.pos += 1
            self.skip_ows()
            return self.peek() not in ("=", ",", "")
        finally:
            self.pos = saved

    def try_token68(self) -> str | None:
        """A token68 that fills the element up to the next comma, or None (cursor unmoved)."""
        saved = self.pos
        start = self.pos
        while self.peek() and self.peek() in _TOKEN68:
            self.pos += 1
        if self.pos == start:
            return None
        while self.peek() == "=":
            self.pos += 1
        value = self.text[start : self.pos]
        self.skip_ows()
        if self.peek() in (",", ""):
            return value
        self.pos = saved
        return None


def _parse_field(text: str) -> list[Challenge]:
    reader = _Reader(text)
    challenges: list[Challenge] = []
    reader.skip_list_separators()
    while not reader.at_end():
        scheme_at = reader.pos
        scheme = reader.read_token()
        if not scheme:
            found = reader.peek()
            raise ChallengeSyntaxError(f"expected an auth-scheme, found {found!r}", scheme_at)
        params: dict[str, str] = {}
        duplicates: list[str] = []
        token68: str | None = None
        if reader.peek() and reader.peek() not in _OWS + ",":
            raise ChallengeSyntaxError(f"unexpected {reader.peek()!r} after scheme", reader.pos)
        reader.skip_ows()
        if reader.peek() not in (",", "") and not reader.looks_like_param():
            token68 = reader.try_token68()
            if token68 is None:
                raise ChallengeSyntaxError("expected token68 or auth-param", reader.pos)
        elif reader.peek() not in (",", ""):
            _read_params(reader, params, duplicates)
        challenges.append(Challenge(scheme, params, token68, tuple(duplicates)))
        # After a challenge: commas, then either the end or another challenge.
        reader.skip_list_separators()
    return challenges


def _read_params(reader: _Reader, params: dict[str, str], duplicates: list[str]) -> None:
    """Parameters of one challenge, up to the element that starts a new challenge."""
    while True:
        name_at = reader.pos
        name = reader.read_token().lower()
        if not name:
            raise ChallengeSyntaxError("expected a parameter name", name_at)
        reader.skip_ows()
        if reader.peek() != "=":
            raise ChallengeSyntaxError(f"expected '=' after {name!r}", reader.pos)
        reader.pos += 1
        reader.skip_ows()
        if reader.peek() == '"':
            value = reader.read_quoted()
        else:
            value_at = reader.pos
            value = reader.read_token()
            if not value:
                raise ChallengeSyntaxError(f"expected a value for {name!r}", value_at)
        if name in params:
            if name not in duplicates:
                duplicates.append(name)
        else:
            params[name] = value
        reader.skip_ows()
        if reader.at_end():
            return
        if reader.peek() != ",":
            raise ChallengeSyntaxError(f"expected ',' after {name!r}", reader.pos)
        reader.skip_list_separators()
        if reader.at_end() or not reader.looks_like_param():
            return


def parse_challenges(values: str | Iterable[str]) -> list[Challenge]:
    """Every challenge in one ``WWW-Authenticate`` value or in several header fields.

    Fields are parsed one by one rather than joined, so a broken field is reported on
    its own terms. Raises :class:`ChallengeSyntaxError` on malformed input.
    """
    fields = [values] if isinstance(values, str) else list(values)
    found: list[Challenge] = []
    for value in fields:
        found.extend(_parse_field(value))
    return found


def quote(value: str) -> str:
    """``value`` as a quoted-string (for fixes that show a header to copy)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
