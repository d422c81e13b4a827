from __future__ import annotations

from collections.abc import Callable

import pytest

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


# A realistic header (36 characters): with "accessToken=" in front it is a 32+ run.
RS256 = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJhbGljZSIsImF1ZCI6Im9yZHMiLCJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLyJ9."
    "Kx3vZ8q1Qm0rT5yWb9NcE2uH7jL4oP6sA1dF3gJ8kM2nR5tV9wX0zB4cD7eG1hI3kL6mN8pQ0rS2uV5xY7zA9b"
)
RS256_SIGNATURE = RS256.rsplit(".", 1)[1]


@pytest.mark.parametrize(
    "path",
    [
        "/ords/mcp?auth={t}",
        "/ords/mcp?accessToken={t}",
        "/ords/mcp?id_token_hint={t}&x=1",
        "/ords/mcp?state={t}",
        "/ords/mcp?x={t}",
        "/ords/mcp;jsessionid={t}",
        "/ords/mcp?a=Bearer%20{t}",
        "/ords/mcp?a=Bearer+{t}",
        "/ords/mcp/{t}",
        "/ords/mcp?{t}",
        "/ords/mcp?t=x.{t}",
    ],
)
@pytest.mark.parametrize(
    "spelling",
    [
        lambda t: t,
        lambda t: t.replace(".", "%2E"),
        lambda t: t.replace(".", "%252e"),
        lambda t: t.replace(".", "\\x2e"),
        lambda t: t.replace(".", "\\u002e"),
        lambda t: "".join(f"%{ord(c):02x}" for c in t),
    ],
    ids=["raw", "pct-dots", "pct-twice", "x-escape", "json-escape", "pct-every"],
)
@pytest.mark.parametrize("opaque", [True, False])
def test_a_jwt_in_a_query_or_path_shape_loses_its_signature(
    path: str, spelling: Callable[[str], str], opaque: bool
) -> None:
    # The long-run rule matched first at "name=" and swallowed the header segment, so the
    # JWT rule never fired; percent-encoded dots hid the JWT from it altogether.
    text = path.format(t=spelling(RS256))
    out = redact_text(text, opaque=opaque)
    assert RS256_SIGNATURE not in out and spelling(RS256_SIGNATURE) not in out
    assert f"eyJhbGciOi…[sha256:{fingerprint(RS256)}]" in out
    assert out.startswith(path.split("{t}")[0])
    assert redact_text(out, opaque=opaque) == out


def test_a_standard_base64_jwt_goes_whole() -> None:
    std = RS256.replace("-", "+").replace("_", "/") + "+/=="
    out = redact_text(f"/cb?x={std.replace('+', '%2B').replace('/', '%2F')}&y=2")
    assert out == f"/cb?x=eyJhbGciOi…[sha256:{fingerprint(std)}]&y=2"


def test_jwe_five_segments_go_whole() -> None:
    jwe = (
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..MTIzNDU2Nzg5MDEy."
        "Y2lwaGVydGV4dC1oZXJl.dGFnLXRhZy10YWctdGFn"
    )
    assert redact_text(f"ua {jwe} end") == f"ua {redact_credential(jwe)} end"


def test_dotted_words_that_are_no_jose_header_stay() -> None:
    for text in ("see example.com.au", "ex.foo.bar", "ey.j.k", "I.am.here", "Chrome/120.0.6099"):
        assert redact_text(text) == text


def test_a_path_after_a_base64url_jwt_stays() -> None:
    # "-" or "_" in the payload: base64url, so "/" ends the token (it would not in base64).
    url_safe = RS256.replace("LCJpc3Mi", "LCJpc3-i", 1)
    out = redact_text(f"/ords/mcp/{url_safe}/items?x=1")
    assert out == f"/ords/mcp/{redact_credential(url_safe)}/items?x=1"
    standard = RS256 + "/+x"
    assert redact_text(f"/ords/mcp/{standard}") == f"/ords/mcp/{redact_credential(standard)}"
