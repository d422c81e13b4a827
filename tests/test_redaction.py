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


SHORT_JWT = "eyJhbGciOi.eyJzdWIi.sig"
ALG_NONE = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."


def test_a_token_sent_without_scheme_is_not_taken_for_one() -> None:
    # "<jwt> extra": the first word is the credential, not a scheme.
    out = redact_authorization(f"{TOKEN} extra")
    assert out is not None and TOKEN not in out
    assert out.startswith("eyJhbGciOi…[sha256:")
    dotted = redact_authorization("abc.def.ghi x")
    assert dotted is not None and "abc.def.ghi" not in dotted
    long_word = "A" * 25
    assert long_word not in (redact_authorization(f"{long_word} x") or "")
    assert redact_authorization("Bearer x y") == f"Bearer {redact_credential('x y')}"
    assert redact_authorization("DPoP abc") == f"DPoP {redact_credential('abc')}"


def test_free_text_loses_short_and_unsigned_jwts_and_query_tokens() -> None:
    text = (
        f"GET /ords/mcp?access_token={TOKEN}&x=1 ua:{SHORT_JWT} id_token={ALG_NONE} "
        f'{{"refresh_token": "rT0ken-123"}} Basic dXNlcjpwYXNz code=Q1w2e3'
    )
    out = redact_text(text)
    for secret in (TOKEN, SHORT_JWT, ALG_NONE, "rT0ken-123", "dXNlcjpwYXNz", "Q1w2e3"):
        assert secret not in out
    assert out.startswith("GET /ords/mcp?access_token=eyJhbGciOi…[sha256:")
    assert fingerprint(TOKEN) in out and fingerprint(SHORT_JWT) in out
    assert "&x=1 ua:" in out
    assert redact_text(out) == out


def test_free_text_keeps_normal_text_intact() -> None:
    normal = [
        "/ords/hr/employees/7839?offset=25",
        "/ords/mcp/mcp",
        "/var/log/nginx/access.log.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.109 Safari/537.36",
        "openai-mcp/1.0.0",
        "2026-11-21T09:30:01+00:00 [21/Nov/2026:09:30:01 +0000]",
        "203.0.113.10 ::1 2001:db8::1 [::ffff:192.0.2.1]:443",
        "ORDS_SECURITY.CREATE_JWT_PROFILE ords_metadata.ords_privileges",
        "tid 72f988bf-86f1-41af-91ab-2d7cd011db47 "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        'Bearer realm="ords", error="invalid_token", error_description="expired"',
        "bearer token missing; Basic authentication refused",
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "com.microsoft.teams www.example.com 1.2.3",
    ]
    for text in normal:
        assert redact_text(text) == text


def test_opaque_random_run_is_redacted_but_not_a_path() -> None:
    opaque = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    assert opaque not in redact_text(f"ua:x {opaque}")
    assert redact_text(f"/ords/{'a' * 40}/x") == f"/ords/{'a' * 40}/x"


def test_claims_keep_random_looking_identifiers() -> None:
    sub = "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ"
    assert redact_text(sub, opaque=False) == sub
    assert sub not in redact_text(sub)
    assert TOKEN not in redact_text(f"nested {TOKEN}", opaque=False)
