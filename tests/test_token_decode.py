"""Decoding untrusted credentials: classification, reasons, and never raising."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.demo.idp import LocalIdP, generate_ec_key
from parsers.authorization import parse_authorization
from parsers.redaction import fingerprint
from parsers.token import MAX_TOKEN_CHARS, TokenKind, decode_token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seg(obj: object) -> str:
    return b64(json.dumps(obj).encode())


DUPLICATE = b64(b'{"alg":"RS256","alg":"none"}') + ".e30."
NAN = b64(b'{"a": NaN}') + ".e30."


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


def test_signed_token_is_split_into_header_and_claims(idp: LocalIdP) -> None:
    token = idp.mint(idp.entra_v2_claims())
    decoded = decode_token(token)
    assert decoded.kind is TokenKind.JWS
    assert decoded.header["alg"] == "RS256"
    assert decoded.kid == idp.keys[0].kid
    assert decoded.claims["ver"] == "2.0"
    assert decoded.problem is None
    assert decoded.fingerprint == fingerprint(token)
    assert (
        ".".join((decoded.raw_header_b64, decoded.raw_payload_b64, decoded.raw_signature_b64))
        == token
    )


def test_ec_signed_token_decodes_with_its_alg(idp: LocalIdP) -> None:
    key = generate_ec_key()
    decoded = decode_token(idp.mint({"iss": "x"}, key=key))
    assert decoded.kind is TokenKind.JWS and decoded.alg == "ES256"


def test_five_segments_are_a_jwe_with_readable_header() -> None:
    token = ".".join(
        [seg({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k"}), "a", "b", "c", "d"]
    )
    decoded = decode_token(token)
    assert decoded.kind is TokenKind.JWE
    assert decoded.header["enc"] == "A256GCM"
    assert decoded.claims == {}


def test_no_dots_is_opaque() -> None:
    decoded = decode_token("8xLOxBtZp8")
    assert decoded.kind is TokenKind.OPAQUE and decoded.problem is None


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "empty"),
        ("a.b", "2 dot-separated segments"),
        ("a.b.c.d", "4 dot-separated segments"),
        ("!!!.e30.", "header is not base64url"),
        (f"{b64(b'not json')}.e30.", "header is not valid JSON"),
        (f"{seg([1, 2])}.e30.", "header is JSON but not an object"),
        (f"{seg({'alg': 'RS256'})}.{seg('str')}.", "payload is JSON but not an object"),
        (DUPLICATE, "duplicate member"),
        (f"{b64(bytes([0xFF, 0xFE]))}.e30.", "header is not UTF-8"),
        (NAN, "not valid JSON"),
        (f"{seg({'alg': 'RS256'})}.e30.#", "signature is not base64url"),
        ("e30.e30.A", "impossible length"),
        ("has space", "characters a bearer token cannot have"),
    ],
)
def test_malformed_tokens_say_why(token: str, reason: str) -> None:
    decoded = decode_token(token)
    assert decoded.kind is TokenKind.MALFORMED
    assert decoded.problem is not None and reason in decoded.problem


def test_deep_nesting_is_malformed_not_a_crash() -> None:
    deep = b64(b"[" * 100_000 + b"]" * 100_000)
    decoded = decode_token(f"{deep}.e30.")
    assert decoded.kind is TokenKind.MALFORMED


def test_oversized_input_is_refused_before_decoding() -> None:
    decoded = decode_token("a" * (MAX_TOKEN_CHARS + 1))
    assert decoded.kind is TokenKind.MALFORMED
    assert "limit" in (decoded.problem or "")


def test_padding_is_tolerated() -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "RS256"}).encode()).decode()
    assert decode_token(f"{header}.e30.").kind is TokenKind.JWS


@given(st.text(max_size=300))
def test_any_string_decodes_without_raising(text: str) -> None:
    decoded = decode_token(text)
    assert decoded.kind in set(TokenKind)
    assert (decoded.problem is None) == (decoded.kind is not TokenKind.MALFORMED)


@given(st.lists(st.binary(max_size=60), min_size=3, max_size=3))
def test_any_segments_decode_without_raising(parts: list[bytes]) -> None:
    decoded = decode_token(".".join(b64(p) for p in parts))
    assert decoded.kind in (TokenKind.JWS, TokenKind.MALFORMED)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("-", (None, None)),
        ("Bearer abc.def.ghi", ("Bearer", "abc.def.ghi")),
        ("bearer abc", ("Bearer", "abc")),
        ("BEARER   abc  ", ("Bearer", "abc")),
        ("Bearer\tabc", ("Bearer", "abc")),
        ("Bearer", ("Bearer", None)),
        ("Basic dXNlcjpwYXNz", ("Basic", "dXNlcjpwYXNz")),
        ("dpop eyJ.x.y", ("DPoP", "eyJ.x.y")),
        ("eyJhbGciOi.eyJzdWIi.sig", (None, "eyJhbGciOi.eyJzdWIi.sig")),
        ("Negotiate YIIx", ("Negotiate", "YIIx")),
        ("Custom   thing", ("Custom", "thing")),
    ],
)
def test_authorization_header_parsing(
    value: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert tuple(parse_authorization(value)) == expected


def test_bearer_property_needs_a_credential() -> None:
    assert parse_authorization("bearer x").is_bearer
    assert not parse_authorization("Bearer").is_bearer
    assert not parse_authorization("Basic x").is_bearer


@given(st.text(max_size=200))
def test_any_header_value_parses(value: str) -> None:
    auth = parse_authorization(value)
    assert auth.scheme is None or isinstance(auth.scheme, str)
