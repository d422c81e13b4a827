"""Redaction of credentials. Every output that shows a log line, a header or a claim goes
through ``redact_text`` (or ``redact_authorization`` for an Authorization value, which is a
credential whole): scan's report and JSON (both read paths), tail, decode, doctor, the TUI.

A bearer token is a credential: we show its scheme, its first ten characters (enough to
tell a JWT's header apart) and a short SHA-256 fingerprint that identifies it across lines
without revealing it.

``redact_text`` is for free text (a path, a user agent, a raw log line, an exception
message). It looks for the shapes credentials take there, not for "anything long". JWS and
JWE compact serializations come first and on their own: dot-separated base64 segments
(base64url or standard, padded or not) from a segment that decodes to a JSON object, found
also behind the encodings a client or nginx gives them (``%2E``, ``%252E``, ``\\x2e``,
``\\u002e``, ``\\/``), wherever they start (after ``name=``, ``Bearer%20``, a path ``/``,
glued to a word at ``eyJ``). Then, on what is left: a credential after an authentication
scheme (``Bearer …``, ``Basic …``), the value of a credential-named query or form parameter
(``access_token=…``) or JSON member, a quoted ``authorization:"…"`` value, and long
random-looking runs (mixed case and digits). Paths, user agents, dates, addresses, UUIDs and
dotted identifiers are left alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

PREFIX_CHARS = 10
FINGERPRINT_CHARS = 12

# An Authorization "scheme" longer than this, or with a dot, is a credential sent without
# one (``<jwt> extra``): no registered scheme looks like that.
MAX_SCHEME_CHARS = 24

# Query/form parameters and JSON members whose value is a credential.
_CREDENTIAL_KEYS = (
    "access_token|id_token|refresh_token|token|client_secret|client_assertion|assertion"
    "|code|password|passwd|pwd|api_key|apikey|sig|signature|jwt"
)
_TEXT = re.compile(
    # authorization:"…" as nginx's extended log_format (or a header dump) writes it.
    r"(?P<auth>(?i:\bauthorization)[\"']?\s*[:=]\s*\")(?P<auth_value>[^\"\r\n]*)(?=\")"
    # "access_token": "…" in a JSON body quoted in an error.
    rf"|(?P<json>\"(?i:{_CREDENTIAL_KEYS})\"\s*:\s*\")(?P<json_value>[^\"\\\r\n…]++)(?!…)"
    # ?access_token=… &id_token=… in a URL, a form body or a log line.
    rf"|(?P<param>(?<![A-Za-z0-9_\-])(?i:{_CREDENTIAL_KEYS})=)(?P<param_value>[^&\s\"'#;,<>…]++)(?!…)"
    # Bearer <credential>; a lowercase word after it is prose ("Bearer realm", "bearer token"),
    # and so is a challenge's parameter named with "_" or "-" (resource_metadata="...").
    r"|(?P<scheme>(?<![A-Za-z0-9_\-])(?i:bearer|basic|dpop|negotiate)[ \t]+)"
    r"(?![a-z]+(?:[^A-Za-z0-9._~+/\-=]|=\"|$)|[a-z][a-z0-9]*+(?:[_\-][a-z0-9]++)++=\")"
    r"(?P<scheme_value>[A-Za-z0-9._~+/\-]++=*+)(?!…)"
    # A long random-looking run: an opaque token (checked for mixed case and digits below).
    # It starts after "=": ``accessToken=…`` is a name and a value, not one run.
    r"|(?P<run>(?<![A-Za-z0-9_\-+~])[A-Za-z0-9_\-+~]{32,}+=*+)"
)
# An authorization value as redact_authorization leaves it (a scheme, at most ten
# characters of the credential, its fingerprint): nothing more to redact.
_AUTH_DONE = re.compile(r"(?:[^\s.]{1,24} )?[^…]{0,10}…\[sha256:[0-9a-f]{12}\]")

# JOSE compact serializations. A whole dotted run of base64 (url-safe or standard, "="
# padding anywhere a segment may end) with at least two dots; taken from its start only,
# so a long run costs one pass, not one per character.
_SEGMENT_CHARS = "A-Za-z0-9_\\-+/="
_DOTTED = re.compile(
    rf"(?<![{_SEGMENT_CHARS}.])[{_SEGMENT_CHARS}]*+(?:\.[{_SEGMENT_CHARS}]*+){{2,}}+"
)
# Where a JOSE header may start inside a run: after a character that is no base64url
# letter ("/", "+", "=", or the run's start) with the base64 of "{" (e) or of whitespace
# before it (I, C, D); glued to letters, only at the usual ``eyJ``/``eyI`` (``{"``).
_HEADER_START = re.compile(r"(?<![A-Za-z0-9_\-])[eICD]|ey[JI]")
# What may hide a token's characters: %XX at any depth (%252E), \xHH (nginx's escaping
# or a client's own), \uXXXX and \/ \\ \" (JSON).
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})|\\x([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\([\\/\"])")
_DECODE_ROUNDS = 4
# "-" or "_" in a token's header or payload: it is base64url (standard base64 has neither).
_URL_SAFE = re.compile(r"[\-_]")
_NOT_URL_SAFE = re.compile(r"[^A-Za-z0-9_\-=.]")
_JSON_SPACE = b" \t\r\n"
# What redact_credential leaves behind: never redacted twice.
_REDACTED = "…[sha256:"
_LONG_RUN = re.compile(r"[A-Za-z0-9_\-+=~]{32}")
_HINT_WORDS = ("bearer", "basic", "dpop", "negotiate", "authorization")
# Every name in _CREDENTIAL_KEYS contains one of these.
_CREDENTIAL_WORDS = (
    "token", "client_secret", "assertion", "code", "passw", "pwd", "api_key", "apikey",
    "sig", "jwt",
)  # fmt: skip
# For ASCII text, where case-insensitive means what lower() gives: one search instead
# of a test per word.
_ASCII_CREDENTIAL_WORD = re.compile("|".join(_CREDENTIAL_WORDS), re.IGNORECASE | re.ASCII)
_ASCII_HINT_WORD = re.compile("|".join(_HINT_WORDS), re.IGNORECASE | re.ASCII)
# What claim text (``opaque=False``) needs for anything to be redacted, besides two dots:
# an escape (%, \\), a parameter (=), a JSON member ("), or a scheme or header name.
_CLAIM_MAY_HOLD = re.compile(r'[%\\="]|(?i:bearer|basic|dpop|negotiate|authorization)')
_HAS_UPPER = re.compile(r"[A-Z]")
_HAS_LOWER = re.compile(r"[a-z]")
_HAS_DIGIT = re.compile(r"[0-9]")


def fingerprint(credential: str) -> str:
    """Short SHA-256 of the credential: stable, safe to print, used as the token's key."""
    return hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()[
        :FINGERPRINT_CHARS
    ]


def redact_credential(credential: str) -> str:
    """``eyJ0eXAiOi…[sha256:0123abcd4567]`` for a credential of any length."""
    if not credential:
        return ""
    shown = credential[:PREFIX_CHARS] if len(credential) > PREFIX_CHARS * 2 else ""
    return f"{shown}…[sha256:{fingerprint(credential)}]"


def redact_authorization(value: str | None) -> str | None:
    """Redact an ``Authorization`` header value, keeping its scheme.

    ``Bearer eyJ...`` becomes ``Bearer eyJ0eXAiOi…[sha256:…]``; a value with no scheme is
    redacted whole, and so is one whose first word cannot be a scheme (longer than
    ``MAX_SCHEME_CHARS`` or with a dot: ``<jwt> extra`` is a token, not a scheme).
    ``None`` stays ``None``.
    """
    if value is None:
        return None
    stripped = value.strip()
    scheme, sep, rest = stripped.partition(" ")
    if not sep or len(scheme) > MAX_SCHEME_CHARS or "." in scheme:
        return redact_credential(stripped)
    return f"{scheme} {redact_credential(rest.strip())}"


def looks_like_jose(candidate: str) -> bool:
    """True when ``candidate``'s first dot-separated segment decodes to a JSON object start.

    Every JWS and JWE header is a non-empty JSON object, so its base64 (url-safe or
    standard) decodes to ``{`` and then ``"`` (JSON whitespace allowed around ``{``);
    ``access.log.1``, ``1.2.3.4`` or ``example.com`` do not. ``{}`` is taken too.
    """
    head = candidate.split(".", 1)[0].rstrip("=")[:24]
    head = head[: len(head) - len(head) % 4] if len(head) % 4 == 1 else head
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    decoded = decoded.lstrip(_JSON_SPACE)
    if not decoded.startswith(b"{"):
        return False
    rest = decoded[1:].lstrip(_JSON_SPACE)
    return rest[:1] in (b'"', b"}")


def _jose_start(run: str) -> int | None:
    """Where a JOSE compact serialization starts in a dotted run, if one does.

    The header is the first segment, or a suffix of it from a header start (glued text
    before it), followed by at least two more segments; a later segment may be the header
    (``x.eyJ….….…``). Everything from there to the run's end is the token: a trailing
    ``.json`` or ``/path`` goes with it rather than a piece of a standard-base64 signature
    staying behind.
    """
    segments = run.split(".")
    offset = 0
    for segment in segments[:-2]:
        for found in _HEADER_START.finditer(segment):
            if looks_like_jose(segment[found.start() :]):
                return offset + found.start()
        offset += len(segment) + 1
    return None


def _second_dot(token: str) -> int:
    first = token.find(".")
    return token.find(".", first + 1)


def _decoded(text: str) -> tuple[str, list[int]]:
    """``text`` with one round of escapes undone, and where each character came from.

    ``starts[i]`` is the index in ``text`` of the character (or escape) that gave the
    ``i``-th character of the result; ``starts[len(result)]`` is ``len(text)``.
    """
    pieces: list[str] = []
    starts: list[int] = []
    pos = 0
    for match in _ESCAPE.finditer(text):
        begin, end = match.span()
        if begin > pos:
            pieces.append(text[pos:begin])
            starts.extend(range(pos, begin))
        code = match.group(1) or match.group(2) or match.group(3)
        pieces.append(chr(int(code, 16)) if code else match.group(4))
        starts.append(begin)
        pos = end
    pieces.append(text[pos:])
    starts.extend(range(pos, len(text) + 1))
    return "".join(pieces), starts


def _redact_jose(text: str) -> str:
    """Every JWS/JWE in ``text`` replaced by its redacted form, however it was encoded.

    The text is searched with its escapes undone (what an escape hides is found there),
    then as it is (an escape glued to a token, ``%2eyJ…``, is not taken for part of it).
    """
    if "%" in text or "\\" in text:
        view: str = text
        starts: list[int] | None = None
        for _ in range(_DECODE_ROUNDS):
            decoded, more = _decoded(view)
            if decoded == view:
                break
            view = decoded
            starts = more if starts is None else [starts[i] for i in more]
            if "%" not in view and "\\" not in view:
                break
        if starts is not None and view.count(".") >= 2:
            text = _replace_jose(text, view, starts)
    if text.count(".") >= 2:
        text = _replace_jose(text, text, None)
    return text


def _replace_jose(text: str, view: str, starts: list[int] | None) -> str:
    # ``view`` is ``text`` decoded; ``starts`` maps its indexes back (None: the same).
    out: list[str] = []
    done = 0
    for match in _DOTTED.finditer(view):
        start = _jose_start(match.group())
        if start is None:
            continue
        begin, end = match.start() + start, match.end()
        token = view[begin:end]
        if _URL_SAFE.search(token, 0, _second_dot(token)):
            # Header or payload in base64url: "/" and "+" are not the token's, so a path
            # that goes on after it (``/<jwt>/items``) stays.
            cut = _NOT_URL_SAFE.search(token)
            if cut is not None:
                token = token[: cut.start()]
                end = begin + len(token)
        if starts is not None:
            begin, end = starts[begin], starts[end]
        out.append(text[done:begin])
        out.append(redact_credential(token))
        done = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _redact_run(run: str) -> str:
    # Mixed case and digits over 32 characters: random, not a word, a UUID or a hex digest.
    if (
        len(run) >= 32
        and _HAS_UPPER.search(run)
        and _HAS_LOWER.search(run)
        and _HAS_DIGIT.search(run)
    ):
        return redact_credential(run)
    return run


def _replace_all(match: re.Match[str]) -> str:
    return _replace(match, opaque=True)


def _replace_shaped(match: re.Match[str]) -> str:
    return _replace(match, opaque=False)


def _replace(match: re.Match[str], *, opaque: bool) -> str:
    kind = match.lastgroup
    if kind == "auth_value":
        value = match.group("auth_value")
        done = value in ("", "-") or _AUTH_DONE.fullmatch(value) is not None
        shown = value if done else redact_authorization(value)
        return match.group("auth") + (shown or "")
    if kind in ("json_value", "param_value", "scheme_value"):
        prefix = match.group(kind.removesuffix("_value"))
        return prefix + redact_credential(match.group(kind))
    if kind == "run" and opaque:
        return _redact_run(match.group("run"))
    return match.group()


def _may_hold_credential(text: str) -> bool:
    # Most paths and user agents hold none of the shapes: skip the full pattern for them
    # (scan redacts the path of every attempt).
    if "=" in text and not (text.isascii() and _plain_parameters(text)):
        return True
    if text.count(".") >= 2 or _LONG_RUN.search(text):
        return True
    if text.isascii():
        return _ASCII_HINT_WORD.search(text) is not None
    lowered = text.lower()
    return any(word in lowered for word in _HINT_WORDS)


def _claim_is_quiet(text: str) -> bool:
    """True when no rule but the (claim-kept) long run can match ``text``."""
    if text.isascii():
        # Plain substring tests, much quicker than the pattern; for ASCII text they
        # find exactly what its case-insensitive words find.
        if "=" in text or '"' in text or "%" in text or "\\" in text:
            return False
        lowered = text.lower()
        return not (
            "bearer" in lowered
            or "basic" in lowered
            or "dpop" in lowered
            or "negotiate" in lowered
            or "authorization" in lowered
        )
    return _CLAIM_MAY_HOLD.search(text) is None


def _plain_parameters(text: str) -> bool:
    """True when ASCII ``text``'s "=" can start no credential: no credential parameter
    name in it, and no quote (a JSON member or an authorization value).

    The pattern's other rules need a scheme or header word, two dots or a long run,
    which are looked for apart.
    """
    return '"' not in text and _ASCII_CREDENTIAL_WORD.search(text) is None


def redact_text(text: str, *, opaque: bool = True) -> str:
    """Replace every credential in free text (a path, a user agent, a raw line, an error).

    ``opaque=False`` leaves long random-looking runs alone and redacts only what has a
    credential's shape or place (JWTs, ``access_token=``, ``Bearer …``): for claim values,
    where such runs are identifiers (Entra's pairwise ``sub``, ``aio``, ``uti``).
    Idempotent: redacted output has nothing left to redact.
    """
    if not opaque and text.count(".") < 2 and _claim_is_quiet(text):
        # Most claim values (names, ids, URLs with one dot): no rule can change them.
        return text
    # JWTs first and on their own: a rule that starts earlier (a long run from ``name=``,
    # a JSON value cut at a backslash) must never take the header and leave the rest.
    text = _redact_jose(text)
    if not _may_hold_credential(text):
        return text
    return _TEXT.sub(_replace_all if opaque else _replace_shaped, text)
