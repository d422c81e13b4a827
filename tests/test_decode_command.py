"""``token-inspector decode``: one token from an argument or stdin, human or JSON."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from inspector.cli.decode import read_token
from inspector.cli.main import main
from inspector.demo.idp import LocalIdP, generate_rsa_key, keys_from
from inspector.schema_version import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()


@pytest.fixture
def jwks(tmp_path: Path, idp: LocalIdP) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(idp.jwks()))
    (tmp_path / "empty.toml").write_text("")
    return path


def base(jwks: Path) -> list[str]:
    return ["--jwks", str(jwks), "--config", str(jwks.parent / "empty.toml")]


@pytest.mark.parametrize(
    "text",
    ["TOKEN", "  TOKEN\n", "Bearer TOKEN", "bearer   TOKEN", "Authorization: Bearer TOKEN"],
)
def test_read_token_accepts_header_forms(text: str) -> None:
    assert read_token("-", io.StringIO(text)) == "TOKEN"
    assert read_token(text, io.StringIO("")) == "TOKEN"


def test_read_token_refuses_basic_and_empty() -> None:
    with pytest.raises(ValueError, match="Basic"):
        read_token("Basic dXNlcjpwYXNz", io.StringIO())
    with pytest.raises(ValueError, match="no token"):
        read_token("-", io.StringIO("  \n"))


def test_json_output_for_a_genuine_token(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    status = main(["decode", token, "--json", *base(jwks), "--expect-aud", idp.api_app_id])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["token"]["verified"] is True
    assert doc["token"]["idp"] == "entra-v2"
    assert doc["subject"] == "abeli@contoso.example"
    assert [v["code"] for v in doc["verdicts"]] == ["profile-issuer"]
    assert doc["verdicts"][0]["fix"]
    assert doc["outcome"] == "ok"
    assert "raw" not in doc["token"]


def test_human_output_explains_and_redacts(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = idp.mint(idp.entra_v2_claims(now=1_000_000_000))
    status = main(["decode", token, *base(jwks), "--require-upn"])
    out = capsys.readouterr().out
    assert status == 1
    assert token not in out
    assert "signature verified" in out
    # upn is the admin's policy, never ORDS's: a warning.
    assert "ERROR expired" in out and "WARN  upn-missing" in out
    assert "why: " in out and "fix: " in out
    assert "2001-09-09T01:46:40Z" in out  # iat shown as a time
    assert out.rstrip().endswith("outcome   FAIL")


def test_show_token_prints_it(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = idp.mint(idp.entra_v2_claims())
    main(["decode", token, "--json", "--show-token", *base(jwks)])
    assert json.loads(capsys.readouterr().out)["token"]["raw"] == token
    main(["decode", token, "--show-token", *base(jwks)])
    assert f"token     {token}\n" in capsys.readouterr().out


def test_a_token_in_the_subject_is_redacted_in_json(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inner = idp.mint(idp.entra_v2_claims())
    claims = {
        k: v for k, v in idp.entra_v2_claims().items() if k not in ("upn", "preferred_username")
    }
    token = idp.mint({**claims, "sub": inner})
    main(["decode", token, "--json", *base(jwks)])
    out = capsys.readouterr().out
    assert inner.rsplit(".", 1)[1] not in out
    assert json.loads(out)["subject"].startswith(inner[:10])


def test_status_and_at_flags(idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = idp.mint(idp.entra_v2_claims(now=1_000_000_000))
    args = ["decode", token, "--json", *base(jwks), "--at", "2001-09-09T01:50:00+00:00"]
    assert main([*args, "--status", "401"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [v["code"] for v in doc["verdicts"]][-1] == "rejected-by-server"


def test_stdin_keeps_the_token_out_of_argv(idp: LocalIdP, jwks: Path) -> None:
    token = idp.mint(idp.entra_v2_claims())
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "decode", "-", "--json", *base(jwks)],
        input=f"Bearer {token}\n", cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["token"]["verified"] is True
    assert token not in result.stdout


def test_garbage_is_analysed_not_crashed(jwks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "n\x1b[31mot.a.jwt-and-more-text", *base(jwks)]) == 1
    out = capsys.readouterr().out
    assert "malformed-token" in out
    assert "\x1b" not in out


def test_bad_at_is_a_usage_error(jwks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "abc", "--at", "noon", *base(jwks)]) == 2
    assert capsys.readouterr().err.startswith("token-inspector decode: --at")


# RFC 7520 section 4.1's payload: a JWS, but not a JWT (the payload is not JSON).
RFC7520_PAYLOAD = (
    "It\u2019s a dangerous business, Frodo, going out your door. You step onto the road, "
    "and if you don't keep your feet, there\u2019s no knowing where you might be swept off to."
)


def test_a_signed_payload_that_is_not_json_is_verified_but_not_a_jwt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = generate_rsa_key(kid="bilbo.baggins@hobbiton.example")
    header = {"alg": "RS256", "kid": key.kid}
    token = jwt.api_jws.encode(
        RFC7520_PAYLOAD.encode("utf-8"), key.private_key, algorithm="RS256", headers=header
    )
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys_from([key])))
    (tmp_path / "empty.toml").write_text("")
    assert main(["decode", token, "--json", *base(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["token"]["verified"] is True
    assert doc["token"]["header"]["kid"] == key.kid
    codes = [v["code"] for v in doc["verdicts"]]
    assert codes == ["malformed-token"]
    assert "not a JWT" in doc["verdicts"][0]["message"]
    assert main(["decode", token, *base(path)]) == 1
    out = capsys.readouterr().out
    assert "signature verified" in out
    assert "payload is not a JWT" in out


def test_a_forged_non_json_payload_is_reported_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, other = generate_rsa_key(kid="k1"), generate_rsa_key(kid="k1")
    token = jwt.api_jws.encode(
        RFC7520_PAYLOAD.encode("utf-8"),
        other.private_key,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys_from([key])))
    (tmp_path / "empty.toml").write_text("")
    assert main(["decode", token, "--json", *base(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["token"]["verified"] is False
    assert {v["code"] for v in doc["verdicts"]} == {"malformed-token", "signature-invalid"}


def test_no_aud_and_no_expected_audience_is_not_a_mismatch(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = idp.entra_v2_claims()
    del claims["aud"]
    main(["decode", idp.mint(claims), "--json", *base(jwks)])
    doc = json.loads(capsys.readouterr().out)
    assert "audience-mismatch" not in [v["code"] for v in doc["verdicts"]]


def test_no_aud_with_an_expected_audience_says_so(
    idp: LocalIdP, jwks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = idp.entra_v2_claims()
    del claims["aud"]
    main(["decode", idp.mint(claims), "--json", *base(jwks), "--expect-aud", "api-1"])
    doc = json.loads(capsys.readouterr().out)
    found = [v for v in doc["verdicts"] if v["code"] == "audience-mismatch"]
    assert len(found) == 1
    assert found[0]["message"].startswith('token has no aud; expected "api-1"')
