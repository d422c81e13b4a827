from __future__ import annotations

from parsers.redaction import fingerprint, redact_authorization, redact_credential, redact_text

TOKEN = "eyJhbGciOiJSUzI1NiJ9." + "eyJzdWIiOiJhbGljZSJ9" * 5 + ".c2lnbmF0dXJlc2lnbmF0dXJl"


def test_authorization_keeps_scheme_prefix_and_fingerprint_only() -> None:
    out = redact_authorization(f"Bearer {TOKEN}")
    assert out is not None
    assert out.startswith("Bearer eyJhbGciOi…[sha256:")
    assert TOKEN not in out
    assert fingerprint(TOKEN) in out


def test_short_credential_shows_no_prefix() -> None:
    assert redact_credential("abc").startswith("…[sha256:")


def test_none_and_empty() -> None:
    assert redact_authorization(None) is None
    assert redact_credential("") == ""


def test_free_text_loses_every_token() -> None:
    line = f'1.2.3.4 - - "GET / HTTP/1.1" authorization:"Bearer {TOKEN}" x={TOKEN}'
    out = redact_text(line)
    assert TOKEN not in out
    assert out.count("[sha256:") == 2
    assert out.startswith("1.2.3.4 - -")
