"""The segment decoder (strict alphabet check, then the C decoder; the signature checked,
not decoded) accepts and refuses exactly what the previous one did, with the same reasons,
over thousands of generated malformed tokens."""

from __future__ import annotations

import base64
import binascii
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.demo.idp import LocalIdP
from parsers import token as token_module
from parsers.token import DecodedToken, decode_token


def old_b64url_decode(segment: str, *, name: str) -> bytes:
    """The decoder as it was (base64.urlsafe_b64decode), verbatim."""
    if not token_module._B64URL.fullmatch(segment):
        raise token_module._Unreadable(f"{name} is not base64url (unexpected characters)")
    stripped = segment.rstrip("=")
    if len(stripped) % 4 == 1:
        raise token_module._Unreadable(f"{name} is not base64url (impossible length)")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise token_module._Unreadable(f"{name} is not base64url ({exc})") from None


def old_check(segment: str, *, name: str) -> str:
    old_b64url_decode(segment, name=name)  # the signature was decoded, then dropped
    return segment.rstrip("=")


class OldDecoder:
    """json.loads with the hooks, a decoder built per call (as json_limits.loads did)."""

    def decode(self, text: str) -> object:
        return json.loads(
            text,
            object_pairs_hook=token_module._no_duplicates,
            parse_constant=token_module._reject_constant,
        )


def as_before(token: str) -> DecodedToken:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(token_module, "b64url_decode", old_b64url_decode)
        patch.setattr(token_module, "b64url_check", old_check)
        patch.setattr(token_module, "_DECODER", OldDecoder())
        patch.setattr(token_module, "_HEADERS", {})
        patch.setattr(token_module, "_HEADERS_MAX", 0)  # nothing kept: decoded every time
        return decode_token(token)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seeds() -> list[str]:
    idp = LocalIdP()
    good = idp.mint(idp.entra_v2_claims())
    head = b64(json.dumps({"alg": "RS256"}).encode())
    return [
        good,
        good + "=",
        f"{head}.{b64(b'not json')}.c2ln",
        f"{head}.{b64(json.dumps([1]).encode())}.c2ln",
        f"{head}.{b64(json.dumps({'a': 1}).encode())}==.c2ln=",
        f"{head}.e30.[signature-not-logged]",
        f"{head}.{b64(b'k')}.{b64(b'iv')}.{b64(b'c')}.{b64(b't')}",
        "opaque-token_value~+/=",
    ] + [
        f"{head}.{b64(payload)}.c2ln"
        for payload in (
            b'{"a": 1, "a": 2}',
            b'{"a": NaN}',
            b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}",
            b'{"a": "\\ud800"}',
            b"\xef\xbb\xbf{}",
            b'{"a": 1e999999}',
            b"\xff{}",
            b'"text"',
        )
    ]


_ODD = "=.-_+/!~ %é\x00\\[]"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def mutated(token: str, rng: random.Random) -> str:
    chars = list(token)
    for _ in range(rng.randint(1, 3)):
        dots = [i for i, c in enumerate(chars) if c == "."] + [len(chars)]
        at = (
            max(0, rng.choice(dots) - rng.randint(0, 3))
            if rng.random() < 0.6
            else rng.randrange(len(chars) + 1)
        )
        letter = rng.choice(_ODD) if rng.random() < 0.5 else rng.choice(_LETTERS)
        kind = rng.random()
        if kind < 0.4 and at < len(chars):
            chars[at] = letter
        elif kind < 0.8:
            chars.insert(at, letter)
        elif at < len(chars):
            del chars[at]
    return "".join(chars)


def test_mutated_tokens_are_decoded_as_before() -> None:
    rng = random.Random(11)
    kinds = set()
    for seed in seeds():
        assert decode_token(seed) == as_before(seed)
        for _ in range(600):
            candidate = mutated(seed, rng)
            decoded = decode_token(candidate)
            assert decoded == as_before(candidate), candidate
            kinds.add((decoded.kind, (decoded.problem or "").split(" (")[0]))
    # The mutations reach every refusal of the segment decoder, and readable tokens.
    problems = {problem for _, problem in kinds}
    assert {"header is not base64url", "payload is not base64url"} <= problems, problems
    assert "signature is not base64url" in problems


segment = st.text(alphabet=_LETTERS + "=+/!é", max_size=12)


@settings(max_examples=3000, deadline=None)
@given(parts=st.lists(segment, min_size=1, max_size=6))
def test_generated_segments_are_decoded_as_before(parts: list[str]) -> None:
    candidate = ".".join(parts)
    assert decode_token(candidate) == as_before(candidate)
