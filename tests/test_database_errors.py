"""Database failures become one line with the code and a hint, from real driver errors."""

from __future__ import annotations

import oracledb
import pytest
from oracledb import errors as driver_errors

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.database import database_error, driver_error
from inspector.ords.errors import describe, one_line
from inspector.ords.standin import InMemoryOrds, package_missing_error

TNS = driver_errors.ERR_TNS_ENTRY_NOT_FOUND


def test_wrong_credentials() -> None:
    exc = database_error("ORA-01017: invalid credential or not authorized; logon denied", 1017)
    info = describe(exc)
    assert info.code == "ORA-01017"
    assert info.line.startswith("ORA-01017: invalid credential")
    assert "Help:" not in str(info)
    assert info.hint is not None and "password" in info.hint


def test_listener_unreachable_names_the_cause() -> None:
    exc = driver_error(
        driver_errors.ERR_CONNECTION_FAILED,
        cause=ConnectionRefusedError(111, "Connection refused"),
        connection_id="x",
    )
    assert isinstance(exc, oracledb.OperationalError)
    info = describe(exc)
    assert info.code == "DPY-6005"
    assert "Connection refused" in info.line
    assert info.hint is not None and "unreachable" in info.hint
    assert "\n" not in str(info)


def test_no_listener_ora_12541() -> None:
    exc = database_error("ORA-12541: Cannot connect. No listener at host db port 1521.", 12541)
    info = describe(exc)
    assert info.code == "ORA-12541"
    assert info.hint is not None and "listener" in info.hint


@pytest.mark.parametrize(
    ("error_num", "args", "code", "word"),
    [
        (TNS, {"name": "mydb", "file_name": "tnsnames.ora"}, "DPY-4000", "alias"),
        (driver_errors.ERR_MISSING_FILE, {"file_name": "/x/tnsnames.ora"}, "DPY-4026", "tnsnames"),
        (driver_errors.ERR_NO_CONFIG_DIR, {}, "DPY-4027", "--config-dir"),
    ],
)  # fmt: skip
def test_unknown_alias_and_missing_tnsnames(
    error_num: int, args: dict[str, str], code: str, word: str
) -> None:
    info = describe(driver_error(error_num, **args))
    assert info.code == code
    assert info.hint is not None and word in info.hint


def test_native_network_encryption_needs_tls() -> None:
    exc = driver_error(
        driver_errors.ERR_FEATURE_NOT_SUPPORTED,
        feature="Native Network Encryption and Data Integrity",
        driver_type="thick",
    )
    info = describe(exc)
    assert info.code == "DPY-3001"
    assert info.hint is not None and "TLS" in info.hint


def test_ords_security_missing_is_explained_from_the_pls_line() -> None:
    info = describe(package_missing_error("ORDS_SECURITY", "CREATE_JWT_PROFILE"))
    assert info.code == "PLS-00201"
    assert "ORDS_SECURITY.CREATE_JWT_PROFILE" in info.line
    assert info.hint is not None and "23.3" in info.hint and "REST-enabled" in info.hint


def test_role_claim_on_old_ords_is_explained() -> None:
    ords = InMemoryOrds(ords_version=(24, 2))
    with pytest.raises(oracledb.DatabaseError) as exc:
        ords.create_profile(JwtProfile("https://i/", "a", "https://k", role_claim_name="/roles"))
    info = describe(exc.value)
    assert info.code == "PLS-00306"
    assert info.hint is not None and "25.1" in info.hint


def test_insufficient_privileges() -> None:
    info = describe(database_error("ORA-01031: insufficient privileges", 1031))
    assert info.hint is not None and "ORDS_ADMINISTRATOR_ROLE" in info.hint


def test_call_timeout() -> None:
    exc = driver_error(driver_errors.ERR_CALL_TIMEOUT_EXCEEDED, timeout=10000)
    info = describe(exc)
    assert info.code == "DPY-4024"
    assert info.hint is not None and "call_timeout" in info.hint


def test_ords_application_error_keeps_its_message() -> None:
    info = describe(database_error("ORA-20001: p_jwk_url must start with https://", 20001))
    assert info.line == "ORA-20001: p_jwk_url must start with https://"
    assert info.hint is None
    assert str(info) == info.line


def test_a_plain_exception_still_gives_one_line() -> None:
    text = one_line(RuntimeError("something\nbroke"))
    assert text == "something"


def test_tokens_inside_an_error_message_are_redacted() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    text = one_line(database_error(f"ORA-20001: bad value {token}", 20001))
    assert token not in text
    assert "sha256:" in text
