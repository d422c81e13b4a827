"""One connector attempt as analysed: the shape every consumer (scan, TUI, profile) reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inspector.judge.verdicts import Outcome, Verdict
from inspector.schema_version import SCHEMA_VERSION
from parsers.records import LogRecord
from parsers.redaction import redact_text


@dataclass(frozen=True, slots=True)
class TokenReport:
    """What the engine learned about a bearer token, without the token itself.

    ``verified`` is True when the signature verified against the issuer's published key,
    False when it did not, and None when it could not be checked (no keys, not a JWS).
    ``jwks_uri`` is always a URL (where the issuer publishes its keys: what the ORDS
    profile's p_jwk_url must name) or None when unknown; ``key_source`` says where the
    keys were actually read: that URL, or ``file:<path>`` for an offline ``--jwks`` file.
    """

    fingerprint: str
    kind: str
    idp: str | None
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    verified: bool | None
    key_id: str | None = None
    jwks_uri: str | None = None
    redacted: str = ""
    key_source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for ``scan --json``."""
        return {
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "idp": self.idp,
            "header": redacted_json(self.header),
            "claims": redacted_json(self.claims),
            "verified": self.verified,
            "key_id": self.key_id,
            "jwks_uri": self.jwks_uri,
            "key_source": self.key_source,
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    """A log record with its analysis: client, subject, token report, verdicts, outcome."""

    record: LogRecord
    client: str
    subject: str | None
    token: TokenReport | None
    verdicts: tuple[Verdict, ...]
    outcome: Outcome

    def as_dict(self) -> dict[str, Any]:
        """The JSON Lines object ``scan --json`` prints for this attempt.

        Free text from the log line goes through ``redaction_of``: clients put tokens in
        ``?access_token=`` and elsewhere, and this output is meant to be kept and shared.
        The subject is claim text (``redaction_of(…, claim=True)``).
        """
        rec = self.record
        return {
            "schema_version": SCHEMA_VERSION,
            "file": rec.source.file,
            "line": rec.source.line,
            "time": rec.time.isoformat() if rec.time else None,
            "remote_addr": redaction_of(rec.remote_addr),
            "method": redaction_of(rec.method),
            "path": redaction_of(rec.path),
            "status": rec.status,
            "client": self.client,
            "subject": redaction_of(self.subject, claim=True),
            "token": self.token.as_dict() if self.token else None,
            "verdicts": [v.as_dict() for v in self.verdicts],
            "outcome": self.outcome.value,
        }


def redacted_json(value: Any) -> Any:
    """A decoded JSON value with credentials redacted in every string, keys included.

    Claims are attacker-chosen: a token may carry another token (``sub``, ``act``, any
    private claim), and that one is a credential too. Random-looking runs are kept, as in
    any claim.
    """
    if isinstance(value, str):
        return _claim_text(value)
    if isinstance(value, Mapping):
        # A claim set is mostly flat strings and numbers: those are done here, without
        # a call per member (this runs once for every new token a scan meets).
        memo = _CLAIM_TEXTS.get
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = memo(key) if type(key) is str else None
            if name is None:
                name = _claim_text(str(key))
            kind = type(item)
            if kind is str:
                out[name] = memo(item) or _claim_text(item)
            elif kind is int or kind is float or kind is bool or item is None:
                out[name] = item
            else:
                out[name] = redacted_json(item)
        return out
    if isinstance(value, list | tuple):
        return [redacted_json(item) for item in value]
    return value


# Claim names and most claim values (issuer, audience, tenant, scopes) repeat from token
# to token: each is redacted once while it keeps coming back.
_CLAIM_TEXTS: dict[str, str] = {}
_CLAIM_TEXTS_MAX = 8192
_CLAIM_TEXT_MAX_CHARS = 256


def _claim_text(text: str) -> str:
    """``redact_text(text, opaque=False)``, memoised for short text."""
    found = _CLAIM_TEXTS.get(text)
    if found is None:
        found = redact_text(text, opaque=False)
        if len(text) <= _CLAIM_TEXT_MAX_CHARS:
            if len(_CLAIM_TEXTS) >= _CLAIM_TEXTS_MAX:
                _CLAIM_TEXTS.clear()
            _CLAIM_TEXTS[text] = found
    return found


def redaction_of(value: str | None, *, claim: bool = False) -> str | None:
    """``value`` with any credential in it redacted (``None`` stays ``None``).

    The redaction every output applies (``redact_text``; tail and the TUI call it alike):
    text from a log line loses JWTs in any encoding, ``access_token=``-style parameters,
    ``Bearer …`` and long random-looking runs. Claim text (``claim=True``) keeps such runs,
    because in a subject they are identifiers (Entra's pairwise ``sub``). An encoder that
    writes the same JSON without building the dict applies it to the same fields.
    """
    return None if value is None else redact_text(value, opaque=not claim)
