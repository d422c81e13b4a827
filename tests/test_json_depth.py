"""One JSON nesting limit everywhere, checked before the parser recurses.

The attack: a token payload (or an IdP document) nested deeper than the parser's stack
allows. Before the limit, ``HttpClient.get_json`` raised ``RecursionError`` despite its
"never raises", and whether a token decoded depended on how deep the caller's stack was.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synthetic import EXTENDED_TEMPLATE
from inspector.cli.main import main
from inspector.keys.http import HttpClient
from parsers import json_limits
from parsers.token import TokenKind, decode_token
from tests.support.scripted_http import Reply, ScriptedServer
from tests.test_scan_command import line

LIMIT = json_limits.MAX_DEPTH


def _b64(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def nested(depth: int) -> object:
    """A JSON value whose arrays and objects nest ``depth`` levels (a scalar for 0)."""
    value: object = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def token_with_payload_depth(depth: int) -> str:
    # The payload object is one level: its member holds depth - 1 more.
    payload = {"iss": "https://idp.example/", "aud": "api", "deep": nested(depth - 1)}
    return _b64({"alg": "RS256", "kid": "k1"}) + "." + _b64(payload) + ".c2ln"


def nested_text(depth: int) -> str:
    """:func:`nested` as JSON text, built without recursion (json.dumps has a limit too)."""
    opening = "".join("[" if level % 2 else '{"k": ' for level in reversed(range(depth)))
    closing = "".join("]" if level % 2 else "}" for level in range(depth))
    return opening + "1" + closing


@pytest.mark.parametrize("depth", [0, 1, 2, LIMIT - 1, LIMIT, LIMIT + 1, 5000, 100_000])
def test_nesting_depth_is_the_parsers_own(depth: int) -> None:
    text = nested_text(depth)
    assert json_limits.nesting_depth(text) == depth
    if depth <= LIMIT:
        assert text == json.dumps(nested(depth))
        assert json_limits.loads(text) == json.loads(text)
        assert json_limits.loads(text.encode("utf-16")) == json.loads(text)
    else:
        with pytest.raises(json_limits.JsonTooDeep, match=f"more than {LIMIT}"):
            json_limits.loads(text)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(alphabet='[]{}"\\ab'), inner, max_size=3)
        ),
        max_leaves=40,
    )
)
def test_brackets_inside_strings_are_not_structure(value: Any) -> None:
    def depth(v: Any) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert json_limits.nesting_depth(json.dumps(value)) == depth(value)


def _at_stack_depth(frames: int, call: Callable[[], Any]) -> Any:
    if frames <= 0:
        return call()
    return _at_stack_depth(frames - 1, call)


def test_decode_token_does_not_depend_on_the_callers_stack() -> None:
    at_limit, over = token_with_payload_depth(LIMIT), token_with_payload_depth(LIMIT + 1)
    headroom = sys.getrecursionlimit() - 200
    for token, kind in ((at_limit, TokenKind.JWS), (over, TokenKind.MALFORMED)):
        shallow = decode_token(token)
        deep = _at_stack_depth(headroom, lambda t=token: decode_token(t))  # type: ignore[misc]
        assert shallow.kind is deep.kind is kind
        assert shallow.problem == deep.problem
    assert decode_token(over).problem == f"payload JSON is nested more than {LIMIT} levels deep"


@pytest.fixture
def offline(tmp_path: Path) -> list[str]:
    (tmp_path / "jwks.json").write_text('{"keys": []}')
    (tmp_path / "empty.toml").write_text("")
    return ["--jwks", str(tmp_path / "jwks.json"), "--config", str(tmp_path / "empty.toml")]


def _decode_kind(token: str, offline: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    main(["decode", token, "--json", *offline])
    return json.loads(capsys.readouterr().out)["token"]


def _scan_kind(
    token: str, offline: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Any:
    log = tmp_path / "extended.log"
    log.write_text(line(401, f"Bearer {token}") + "\n")
    main(["scan", str(log), "--log-format", EXTENDED_TEMPLATE, "--json", *offline])
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1
    return rows[0]["token"]


@pytest.mark.parametrize("depth", [LIMIT, LIMIT + 1])
def test_decode_and_scan_agree_at_the_limit(
    depth: int, offline: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_with_payload_depth(depth)
    decoded = _decode_kind(token, offline, capsys)
    scanned = _scan_kind(token, offline, tmp_path, capsys)
    expected = "jws" if depth <= LIMIT else "malformed"
    assert decoded["kind"] == scanned["kind"] == expected
    assert decoded["claims"] == scanned["claims"]


def test_get_json_of_a_100000_deep_document_is_an_error_value() -> None:
    depth = 100_000
    body = ("[" * depth + "]" * depth).encode()
    with ScriptedServer() as server:
        server.routes["/deep"] = Reply(200, [("Content-Type", "application/json")], body)
        server.routes["/ok"] = Reply.json({"nested": nested(LIMIT - 1)})
        client = HttpClient(timeout=5)
        fetched = client.get_json(server.origin + "/deep")
        good = client.get_json(server.origin + "/ok")
    assert fetched.document is None and fetched.status == 200
    assert fetched.error is not None and "not JSON" in fetched.error
    assert f"more than {LIMIT}" in fetched.error
    assert good.ok


@pytest.mark.parametrize("flag", ["--jwks", "--oidc-metadata"])
def test_a_deep_offline_file_is_one_error_line(
    tmp_path: Path,
    flag: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A relative name: the message is cut to a fixed length, so a long temporary
    # directory (pytest-1000 and up) would push the reason out of it.
    monkeypatch.chdir(tmp_path)
    Path("deep.json").write_text('{"keys": ' + "[" * 100_000 + "]" * 100_000 + "}")
    claims = {"iss": "https://i/", "aud": "a", "exp": 4_000_000_000}
    token = f"{_b64({'alg': 'RS256', 'kid': 'k'})}.{_b64(claims)}.c2ln"
    status = main(["decode", token, "--json", flag, "deep.json"])
    out = capsys.readouterr().out
    assert status == 0
    [unavailable] = [v for v in json.loads(out)["verdicts"] if v["code"] == "jwks-unavailable"]
    assert "deep.json is not JSON (JSON ne" in unavailable["message"]
