"""The safe token log: nginx records the bearer JWS without its signature.

A log that holds full bearer tokens is a credential store: anyone who can read it can
replay every token until it expires. nginx can log the token without its third segment
(a ``map`` from ``$http_authorization``): the header and the claims are all the inspector
needs for every check but the signature, and a token without its signature cannot be
replayed.

What the map writes for each kind of header value:

- ``Bearer <h>.<p>.<s>`` and ``DPoP <h>.<p>.<s>`` (scheme in any case, any spaces): the
  scheme as sent, then ``<h>.<p>.`` and ``SIGNATURE_MARKER``. DPoP tokens are kept like
  bearer tokens: a DPoP-bound token is useless without its proof, but its claims are what
  ORDS judges, and without a signature it is safe either way.
- a single JWS with no scheme (a client that forgot ``Bearer``): ``<h>.<p>.`` and the
  marker, no scheme.
- any other value of a known scheme (a JWE, an opaque token, Basic credentials, a token
  with trailing garbage, a second header joined to the first): the canonical scheme name
  and ``NOT_JWS_MARKER`` only, nothing the client sent.
- any other value: ``UNKNOWN_MARKER`` (the scheme itself is attacker-chosen text that may
  be a credential, so it is not logged).
- no header: ``-``.

The markers hold ``[`` and ``]``, which base64url never contains, so a logged marker can
never be mistaken for (or completed into) a real signature. ``alg: none`` tokens end with
an empty third segment, which the map does not match: they are logged as not-a-JWS.

A token can reach the log by other ways than the ``Authorization`` header: a client that
sends it as ``?access_token=`` (MCP forbids it: hostile or broken clients only), a page
whose URL held one and that links to us (the ``Referer``), or a token pasted into the
path. Two more maps write the request line and the referer without what could carry one
(``$request_without_token``, ``$referer_without_token``, read as ``$request`` and
``$http_referer``):

- the query (and anything after a ``#``) is replaced by ``QUERY_MARKER``; the method, the
  path and the protocol stay, so privilege checks still see the path;
- a path (a referer before its query) holding a run of ``TOKEN_RUN`` base64url characters
  or percent escapes, as every JWS segment with a signature does, is replaced by
  ``PATH_MARKER`` (the referer: ``REFERER_MARKER``);
- a request line of any other shape: ``REQUEST_MARKER``.

What stays verbatim is the user agent and the other headers a format names: a client
that puts its own token there is hostile, and nobody else's token can get there.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from parsers.nginx.model import (
    EXTENDED_TEMPLATE,
    REFERER_VARIABLE,
    REQUEST_VARIABLE,
    SAFE_VARIABLE,
    VARIABLE,
    LogFormat,
)
from parsers.token import NOT_JWS_LOGGED as NOT_JWS_MARKER
from parsers.token import SIGNATURE_NOT_LOGGED as SIGNATURE_MARKER
from parsers.token import UNKNOWN_SCHEME_LOGGED as UNKNOWN_MARKER

__all__ = [
    "NOT_JWS_MARKER",
    "PATH_MARKER",
    "QUERY_MARKER",
    "REFERER_MARKER",
    "REFERER_VARIABLE",
    "REQUEST_MARKER",
    "REQUEST_VARIABLE",
    "SAFE_FORMAT",
    "SAFE_FORMAT_NAME",
    "SAFE_LOG_MAP",
    "SAFE_MAPS",
    "SAFE_REQUEST_MAPS",
    "SAFE_TEMPLATE",
    "SAFE_VARIABLE",
    "SIGNATURE_MARKER",
    "UNKNOWN_MARKER",
    "raw_query_variables",
    "records_raw_authorization",
    "safe_log_config",
    "safe_log_format_directive",
]
SAFE_FORMAT_NAME = "extended_safe"

# base64url without padding: what each JWS compact segment is made of.
_SEG = "[A-Za-z0-9_-]+"
# Schemes whose name is logged when the credential is not a JWS (RFC 9110 registry plus
# the ones our users' clients send); matched case-insensitively, logged canonically.
_KNOWN_SCHEMES = ("Bearer", "DPoP", "Basic", "Digest", "Negotiate", "NTLM")
QUERY_MARKER = "[query-not-logged]"
PATH_MARKER = "[path-not-logged]"
REQUEST_MARKER = "[request-not-logged]"
REFERER_MARKER = "[referer-not-logged]"
# The shortest JWS signature is 43 base64url characters (HS256); a path holding a run of
# 40 base64url characters or percent escapes (ORDS decodes them) may hold a token.
TOKEN_RUN = 40
_RUN = f"(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{{2}}){{{TOKEN_RUN}}}"
# One character of a path (up to the query) where no such run starts.
_PATH_CHAR = f"(?!{_RUN})[^?# ]"
_REFERER_CHAR = f"(?!{_RUN})[^?#]"
_METHOD = "(?<tis_rm>[A-Za-z_-]+)"
_VERSION = "(?<tis_rv>(?: HTTP/[0-9.]+)?)"


def _map_lines() -> list[str]:
    lines = [
        f"map $http_authorization ${SAFE_VARIABLE} {{",
        # A missing header: nginx logs "-" for it, as it would for $http_authorization.
        '    default "-";',
        # Regexes are tried in order, the first match wins: JWS forms first. Named captures
        # are global nginx variables: prefixed so they clash with none of the user's.
        f'    "~*^(?<tis_scheme>bearer|dpop)\\s+(?<tis_hp>{_SEG}\\.{_SEG})\\.{_SEG}\\s*$"'
        f' "$tis_scheme $tis_hp.{SIGNATURE_MARKER}";',
        f'    "~^\\s*(?<tis_hp>{_SEG}\\.{_SEG})\\.{_SEG}\\s*$" "$tis_hp.{SIGNATURE_MARKER}";',
    ]
    for scheme in _KNOWN_SCHEMES:
        lines.append(f'    "~*^\\s*{scheme}(\\s|$)" "{scheme} {NOT_JWS_MARKER}";')
    # Anything non-empty that nothing above matched.
    lines.append(f'    "~." "{UNKNOWN_MARKER}";')
    lines.append("}")
    return lines


def _request_map_lines() -> list[str]:
    # Named captures are global nginx variables: tis_ prefixed, like the token map's.
    return [
        *_request_line_map_lines(),
        *_referer_map_lines(),
    ]


def _request_line_map_lines() -> list[str]:
    return [
        f"map $request ${REQUEST_VARIABLE} {{",
        '    default "-";',
        f'    "~^{_METHOD} (?<tis_rp>(?:{_PATH_CHAR})+)[?#][^ ]*{_VERSION}$"'
        f' "$tis_rm $tis_rp?{QUERY_MARKER}$tis_rv";',
        f'    "~^{_METHOD} (?<tis_rp>(?:{_PATH_CHAR})+){_VERSION}$" "$tis_rm $tis_rp$tis_rv";',
        f'    "~^{_METHOD} [^ ]+{_VERSION}$" "$tis_rm {PATH_MARKER}$tis_rv";',
        f'    "~." "{REQUEST_MARKER}";',
        "}",
    ]


def _referer_map_lines() -> list[str]:
    return [
        f"map $http_referer ${REFERER_VARIABLE} {{",
        '    default "-";',
        f'    "~^(?<tis_fu>(?:{_REFERER_CHAR})*)[?#]" "$tis_fu?{QUERY_MARKER}";',
        f'    "~^(?<tis_fu>(?:{_REFERER_CHAR})*)$" "$tis_fu";',
        f'    "~." "{REFERER_MARKER}";',
        "}",
    ]


# The map block, for the http context (before the log_format that uses it).
SAFE_LOG_MAP = "\n".join(_map_lines()) + "\n"
# The request line and the referer without a query or a token-sized path (same context).
SAFE_REQUEST_MAPS = "\n".join(_request_map_lines()) + "\n"
# Each variable the safe format uses and the map defining it, in the order written.
SAFE_MAPS: Mapping[str, str] = MappingProxyType(
    {
        SAFE_VARIABLE: SAFE_LOG_MAP,
        REQUEST_VARIABLE: "\n".join(_request_line_map_lines()) + "\n",
        REFERER_VARIABLE: "\n".join(_referer_map_lines()) + "\n",
    }
)

# The reference extended format with the signature-less token in the authorization field,
# and the request line and referer without what could carry a token.
SAFE_TEMPLATE = (
    EXTENDED_TEMPLATE.replace("$http_authorization", f"${SAFE_VARIABLE}")
    .replace("$request", f"${REQUEST_VARIABLE}")
    .replace("$http_referer", f"${REFERER_VARIABLE}")
)
# Variables that write the query, the referer or a query argument as sent.
_RAW_QUERY = frozenset({"request", "request_uri", "args", "query_string", "http_referer"})
SAFE_FORMAT = LogFormat(SAFE_FORMAT_NAME, "default", SAFE_TEMPLATE)


def safe_log_format_directive(name: str = SAFE_FORMAT_NAME) -> str:
    """The ``log_format`` directive recording the safe token (nginx syntax, one line)."""
    return f"log_format {name} '{SAFE_TEMPLATE}';\n"


def safe_log_config(name: str = SAFE_FORMAT_NAME) -> str:
    """The ``map`` blocks and the ``log_format`` together, ready for the ``http`` context."""
    return SAFE_LOG_MAP + SAFE_REQUEST_MAPS + safe_log_format_directive(name)


def records_raw_authorization(fmt: LogFormat) -> bool:
    """Whether ``fmt`` writes the ``Authorization`` header as sent: replayable tokens.

    ``LogFormat.variables`` names the safe variable ``http_authorization`` too (log readers
    read both alike); this looks at the template as written.
    """
    return any(
        (braced or plain).lower() == "http_authorization"
        for braced, plain in VARIABLE.findall(fmt.template)
    )


def raw_query_variables(fmt: LogFormat) -> tuple[str, ...]:
    """The variables ``fmt`` writes that hold the query or the referer as sent (``$request``,
    ``$request_uri``, ``$args``, ``$query_string``, ``$arg_*``, ``$http_referer``): where a
    client's ``?access_token=`` lands, signature included. Names as written, lower case.
    """
    names = ((braced or plain).lower() for braced, plain in VARIABLE.findall(fmt.template))
    return tuple(dict.fromkeys(n for n in names if n in _RAW_QUERY or n.startswith("arg_")))
