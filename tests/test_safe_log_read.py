"""Lines of the safe token log (signature dropped) are read and judged everywhere."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from inspector.cli.main import main
from inspector.demo.idp import LocalIdP, generate_rsa_key
from inspector.judge import checks
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from parsers.authorization import parse_authorization
from parsers.nginx.log_format import compile_format
from parsers.nginx.safe_log import NOT_JWS_MARKER, SAFE_FORMAT, SIGNATURE_MARKER, UNKNOWN_MARKER
from parsers.records import LogRecord, Source
from parsers.token import TokenKind, decode_token


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture
def jwks(tmp_path: Path, idp: LocalIdP) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(idp.jwks()))
    (tmp_path / "empty.toml").write_text("")
    return path


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(token: str) -> str:
    """What the safe log's map writes for ``token``."""
    return token.rsplit(".", 1)[0] + "." + SIGNATURE_MARKER


def decode_json(token: str, jwks: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    main(
        [
            "decode",
            token,
            "--json",
            "--jwks",
            str(jwks),
            "--config",
            str(jwks.parent / "empty.toml"),
        ]
    )
    doc: dict = json.loads(capsys.readouterr().out)  # type: ignore[type-arg]
    return doc


def codes(doc: dict) -> list[str]:  # type: ignore[type-arg]
    return [v["code"] for v in doc["verdicts"]]


def test_a_signature_less_jws_is_read_as_a_jws(idp: LocalIdP) -> None:
    token = idp.mint(idp.entra_v2_claims())
    decoded = decode_token(unsigned(token))
    assert decoded.kind is TokenKind.JWS
    assert decoded.signature_logged is False
    assert decoded.raw_signature_b64 == ""
    assert decoded.claims["iss"] == idp.entra_v2_claims()["iss"]
    assert decode_token(token).signature_logged is True


def test_decode_says_signature_not_logged_not_invalid(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A forged token and a genuine one look the same once the signature is dropped:
    # neither may be called invalid nor verified.
    genuine = idp.mint(idp.entra_v2_claims())
    forged = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid=idp.keys[0].kid))
    for token in (genuine, forged):
        doc = decode_json(unsigned(token), jwks, capsys)
        assert "signature-invalid" not in codes(doc)
        assert "signature-not-logged" in codes(doc)
        assert doc["token"]["verified"] is None
        (note,) = [v for v in doc["verdicts"] if v["code"] == "signature-not-logged"]
        assert note["severity"] == "info" and note["fix"]


def test_claims_kid_and_alg_checks_still_run(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expired = idp.mint(idp.entra_v2_claims(now=1_000_000_000))
    assert "expired" in codes(decode_json(unsigned(expired), jwks, capsys))
    stranger = idp.mint(idp.entra_v2_claims(), key=generate_rsa_key(kid="unknown-kid"))
    found = codes(decode_json(unsigned(stranger), jwks, capsys))
    assert "kid-not-found" in found and "signature-not-logged" not in found
    header = b64({"alg": "HS256", "typ": "JWT"})
    hs = f"{header}.{b64(idp.entra_v2_claims())}.{SIGNATURE_MARKER}"
    assert "alg-unsupported" in codes(decode_json(hs, jwks, capsys))


def test_without_keys_it_is_still_signature_not_logged(idp: LocalIdP) -> None:
    token = unsigned(idp.mint(idp.entra_v2_claims()))
    _, verdicts = Analyzer(None, Expectations()).analyze_token(token)
    found = [v.code for v in verdicts]
    assert "signature-not-logged" in found and "signature-unchecked" not in found


def test_the_safe_format_is_parsed_with_the_token_as_authorization(idp: LocalIdP) -> None:
    token = unsigned(idp.mint(idp.entra_v2_claims()))
    parser = compile_format(SAFE_FORMAT)
    line = (
        '127.0.0.1 - - [03/Dec/2026:17:30:45 +0000] "GET /ords/demo/mcp/ HTTP/1.1" 401 0 '
        f'referer:"-" ua:"-" content-type:"-" authorization:"Bearer {token}" '
        'mcp-protocol-version:"-"'
    )
    record = parser.parse(line, Source("x.log", 1, 0))
    assert isinstance(record, LogRecord)
    assert record.authorization == f"Bearer {token}"
    assert "http_authorization" in SAFE_FORMAT.variables


def test_a_not_a_jws_line_says_what_the_client_sent(
    jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = decode_json(NOT_JWS_MARKER, jwks, capsys)
    (malformed,) = [v for v in doc["verdicts"] if v["code"] == "malformed-token"]
    assert "safe token log" in malformed["message"] and "not a signed JWT" in malformed["message"]


def test_an_unknown_scheme_line_says_the_log_did_not_record_it() -> None:
    (verdict,) = checks.check_credentials(parse_authorization(UNKNOWN_MARKER), 401)
    assert verdict.code == "not-bearer"
    assert "not recorded by the safe token log" in verdict.message
