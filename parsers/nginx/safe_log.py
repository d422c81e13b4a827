"""The safe token log: nginx records the bearer JWS without its signature.

A log that holds full bearer tokens is a credential store: anyone who can read it can
replay every token until it expires. nginx can log the token without its third segment
(a ``map`` from ``$http_authorization``): the header and the claims are all the inspector
needs for every check but the signature, and a line without a signature can never be
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
"""

from __future__ import annotations

from parsers.nginx.model import EXTENDED_TEMPLATE, SAFE_VARIABLE, VARIABLE, LogFormat
from parsers.token import NOT_JWS_LOGGED as NOT_JWS_MARKER
from parsers.token import SIGNATURE_NOT_LOGGED as SIGNATURE_MARKER
from parsers.token import UNKNOWN_SCHEME_LOGGED as UNKNOWN_MARKER

__all__ = [
    "NOT_JWS_MARKER",
    "SAFE_FORMAT",
    "SAFE_FORMAT_NAME",
    "SAFE_LOG_MAP",
    "SAFE_TEMPLATE",
    "SAFE_VARIABLE",
    "SIGNATURE_MARKER",
    "UNKNOWN_MARKER",
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


# The map block, for the http context (before the log_format that uses it).
SAFE_LOG_MAP = "\n".join(_map_lines()) + "\n"

# The reference extended format with the signature-less token in the authorization field.
SAFE_TEMPLATE = EXTENDED_TEMPLATE.replace("$http_authorization", f"${SAFE_VARIABLE}")
SAFE_FORMAT = LogFormat(SAFE_FORMAT_NAME, "default", SAFE_TEMPLATE)


def safe_log_format_directive(name: str = SAFE_FORMAT_NAME) -> str:
    """The ``log_format`` directive recording the safe token (nginx syntax, one line)."""
    return f"log_format {name} '{SAFE_TEMPLATE}';\n"


def safe_log_config(name: str = SAFE_FORMAT_NAME) -> str:
    """The ``map`` and the ``log_format`` together, ready for the ``http`` context."""
    return SAFE_LOG_MAP + safe_log_format_directive(name)


def records_raw_authorization(fmt: LogFormat) -> bool:
    """Whether ``fmt`` writes the ``Authorization`` header as sent: replayable tokens.

    ``LogFormat.variables`` names the safe variable ``http_authorization`` too (log readers
    read both alike); this looks at the template as written.
    """
    return any(
        (braced or plain).lower() == "http_authorization"
        for braced, plain in VARIABLE.findall(fmt.template)
    )
