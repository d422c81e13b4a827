"""The exported PL/SQL script: hostile values survive quoting exactly, in both quoting styles.

A small evaluator for PL/SQL string expressions (``'..'`` with doubled quotes, ``q'[..]'``,
``chr(n)`` and ``||``) reads the generated literals back; the script is also checked against
the SQL*Plus rules that would let a value escape (blank lines, ``/`` lines, substitution).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.database import JwtApi
from inspector.ords.plsql import apply_block, check_identifier, delete_block, script, string_literal
from parsers.printable import is_printable

Q_CLOSE = {"[": "]", "{": "}", "<": ">", "(": ")"}

HOSTILE = [
    "x'); drop table t; --",
    "it's",
    "]'",
    "a]'b}'c>'d)'e!'f#'",
    "line1\nline2",
    "\n\n/\n",
    "&user_password",
    "&&x .\n.\n",
    "tab\there\r\n",
    "'",
    "''",
    "",
    "q'[x]'",
    "ünïcødé 日本語",
    "-- comment\n#host rm -rf /",
    "admin\u202e\u2066txt.exe",
    "c1\x85\x9bcontrol",
    "line\u2028separator\u2029paragraph\x85next",
    "zero\u200bwidth\u200cnon\u200djoiner\u00adsoft\ufeffbom\u2060wj",
    "no\u00a0break\u3000ideographic\u202fnarrow",
    "tag\U000e0041\U000e007f and private \ue000\U000f0000",
    "lone \ud800 and \udfff surrogates",
    "emoji \u2764\ufe0f",
]


def evaluate(expr: str) -> str | None:
    """Evaluate a PL/SQL string expression produced by ``string_literal``."""
    pos = 0
    out: list[str] = []
    expect_operand = True
    text = expr.strip()
    if text == "null":
        return None
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        if not expect_operand:
            assert text.startswith("||", pos), f"expected || at {pos} in {text!r}"
            pos += 2
            expect_operand = True
            continue
        if text.startswith("unistr('\\", pos):
            # UTF-16 code units \XXXX..., a surrogate pair for a character beyond U+FFFF.
            end = text.index("')", pos)
            units = text[pos + 8 : end].split("\\")
            assert units[0] == "" and all(re.fullmatch("[0-9A-F]{4}", u) for u in units[1:])
            raw = b"".join(int(u, 16).to_bytes(2, "big") for u in units[1:])
            out.append(raw.decode("utf-16-be", "surrogatepass"))
            pos = end + 2
        elif text.startswith("chr(", pos):
            end = text.index(")", pos)
            out.append(chr(int(text[pos + 4 : end])))
            pos = end + 1
        elif text.startswith("q'", pos):
            open_ = text[pos + 2]
            close = Q_CLOSE.get(open_, open_)
            end = text.index(close + "'", pos + 3)
            out.append(text[pos + 3 : end])
            pos = end + 2
        elif text[pos] == "'":
            pos += 1
            buf = []
            while True:
                ch = text[pos]
                if ch == "'":
                    if text.startswith("''", pos):
                        buf.append("'")
                        pos += 2
                        continue
                    pos += 1
                    break
                buf.append(ch)
                pos += 1
            out.append("".join(buf))
        else:
            raise AssertionError(f"unexpected text at {pos}: {text[pos:]!r}")
        expect_operand = False
    assert not expect_operand or not out, "dangling ||"
    return "".join(out)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("style", ["doubled", "q"])
def test_hostile_values_round_trip(value: str, style: str) -> None:
    literal = string_literal(value, style=style)
    assert evaluate(literal) == value
    assert "\n" not in literal.replace("\n      || ", "")


@given(st.text(max_size=300))
def test_any_text_round_trips_doubled(value: str) -> None:
    assert evaluate(string_literal(value)) == value


@given(st.text(alphabet=st.sampled_from(list("]'}>)!#[{<(ab\n&")), max_size=60))
def test_any_text_round_trips_q_quote(value: str) -> None:
    assert evaluate(string_literal(value, style="q")) == value


@given(
    st.text(
        alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()),
        max_size=80,
    )
)
def test_any_code_point_round_trips_and_never_appears_raw(value: str) -> None:
    # Lone surrogates, supplementary characters and every separator included.
    for style in ("doubled", "q"):
        literal = string_literal(value, style=style)
        assert evaluate(literal) == value
        literal.encode("utf-8")
        assert is_printable(literal.replace("\n      || ", ""))


def test_separators_and_invisible_characters_are_spliced() -> None:
    assert string_literal("a\u2028b") == "'a' || unistr('\\2028') || 'b'"
    assert string_literal("\u2029\x85") == "unistr('\\2029') || unistr('\\0085')"
    assert string_literal("x\u200c") == "'x' || unistr('\\200C')"
    assert string_literal("\U000e0041") == "unistr('\\DB40\\DC41')"
    assert string_literal("\ud800") == "unistr('\\D800')"


def test_script_is_printable_utf8_whatever_the_values() -> None:
    hostile = "".join(HOSTILE)
    profile = JwtProfile(hostile, hostile, "https://k/\ud800\u2028", description=hostile)
    text = script(profile, header=["generated"])
    text.encode("utf-8")
    assert all(is_printable(line) for line in text.splitlines())
    assert _argument(apply_block(profile), "p_jwk_url") == profile.jwk_url


def test_bidi_and_c1_characters_are_spelled_out() -> None:
    literal = string_literal("a\u202eb\x9b")
    assert literal == "'a' || unistr('\\202E') || 'b' || unistr('\\009B')"
    assert "\u202e" not in literal


def test_none_is_null() -> None:
    assert string_literal(None) == "null"


def test_long_values_are_split_into_short_lines() -> None:
    value = "x" * 3000
    literal = string_literal(value)
    assert evaluate(literal) == value
    assert max(len(line) for line in literal.splitlines()) < 600


def _argument(block: str, name: str) -> str | None:
    match = re.search(rf"{name} => (.*?)(?=,\n    p_|\n  \);)", block, re.S)
    return evaluate(match.group(1)) if match else None


def script_value(text: str, attr: str) -> str | None:
    """The value a script passes for ``attr`` (``jwk_url``...): from the static call's
    ``p_attr => ...`` or from the run-time form's ``l_attr varchar2(32767) := ...;``."""
    static = _argument(text, f"p_{attr}")
    if static is not None:
        return static
    # Raw newlines never occur inside a literal, so ";\n" then a declaration ends it.
    found = re.search(rf"\n  l_{attr} varchar2\(32767\) := (.*?);\n(?=  l_|begin)", text, re.S)
    return evaluate(found.group(1)) if found else None


@pytest.mark.parametrize("style", ["doubled", "q"])
def test_script_carries_hostile_claims_verbatim(style: str) -> None:
    profile = JwtProfile(
        issuer="https://evil/'); execute immediate 'drop user x'; --",
        audience="api://x]'\n/\n&pwd",
        jwk_url="https://k/keys?a=1&b=2",
        description="multi\n\nline",
        allowed_skew=30,
        role_claim_name="/roles",
    )
    text = script(profile, header=["generated"], style=style)
    block = apply_block(profile, style=style)
    assert block in text
    assert _argument(block, "p_issuer") == profile.issuer
    assert _argument(block, "p_audience") == profile.audience
    assert _argument(block, "p_jwk_url") == profile.jwk_url
    assert _argument(block, "p_description") == profile.description
    assert _argument(block, "p_role_claim_name") == "/roles"
    assert "p_allowed_skew => 30" in block
    # SQL*Plus: substitution off before any value; inside the block no blank line and no
    # line that is only "/" or "." (either would end the block early).
    assert text.index("set define off") < text.index("create_jwt_profile")
    body = block.splitlines()[:-1]
    assert all(line.strip() not in ("", "/", ".") for line in body)
    assert block.splitlines()[-1] == "/"


def test_null_parameters_are_left_out_for_older_ords() -> None:
    block = apply_block(JwtProfile("https://i/", "a", "https://k"))
    assert "p_role_claim_name" not in block
    assert "p_allowed_age" not in block


def test_script_deletes_only_an_existing_profile_and_verifies() -> None:
    text = script(JwtProfile("https://i/", "a", "https://k"))
    assert "select count(*) into l_count from user_ords_jwt_profile;" in text
    assert "if l_count > 0 then\n    ords_security.delete_jwt_profile;" in text
    assert "commit;" in text
    assert "whenever sqlerror exit failure rollback" in text
    assert text.rstrip().endswith("from user_ords_jwt_profile;")


def test_admin_script_for_another_schema() -> None:
    text = script(JwtProfile("https://i/", "a", "https://k"), schema="hr")
    assert "ords_security_admin.delete_jwt_profile(p_schema => 'HR');" in text
    assert "ords_security_admin.create_jwt_profile(\n    p_schema => 'HR'," in text


@pytest.mark.parametrize("name", ["hr; drop", "a'b", "1abc", "", "x" * 200])
def test_schema_names_must_be_plain_identifiers(name: str) -> None:
    with pytest.raises(ValueError):
        check_identifier(name)


def test_header_lines_cannot_smuggle_statements() -> None:
    with pytest.raises(ValueError):
        script(JwtProfile("https://i/", "a", "https://k"), header=["ok\ndrop table t;"])


def test_previous_profile_is_offered_as_a_commented_restore_block() -> None:
    previous = JwtProfile("https://old/\n/\n", "old", "https://old/keys")
    text = script(JwtProfile("https://i/", "a", "https://k"), previous=previous)
    tail = text.split("-- To go back to the previous profile, run this block instead:\n")[1]
    assert all(line.startswith("-- ") for line in tail.splitlines())
    restored = "\n".join(line[3:] for line in tail.splitlines())
    assert _argument(restored, "p_issuer") == previous.issuer


# -- the package: named for a known release, picked at run time otherwise -------------------

RUNTIME_HOSTILE = JwtProfile(
    issuer="https://evil/'); execute immediate 'drop user x'; --",
    audience="api://x]'\n/\n&pwd",
    jwk_url="https://k/keys?a=1&b=2\u202e",
    description="multi\n\nline '; end;\n/\n",
    allowed_skew=30,
    allowed_age=600,
    role_claim_name="/roles' using x; --",
)
RUNTIME_BENIGN = JwtProfile("a", "b", "c", "d", 1, 2, "e")


@pytest.mark.parametrize("style", ["doubled", "q"])
@pytest.mark.parametrize("schema", [None, "hr"])
def test_runtime_block_passes_hostile_values_as_binds(style: str, schema: str | None) -> None:
    block = apply_block(RUNTIME_HOSTILE, schema=schema, style=style, api=None)
    for attr in ("issuer", "audience", "jwk_url", "description", "role_claim_name"):
        assert script_value(block, attr) == getattr(RUNTIME_HOSTILE, attr)
    assert "\n  l_allowed_skew number := 30;" in block
    assert "\n  l_allowed_age number := 600;" in block
    # Everything after the declarations is our text: the same whatever the values.
    head, body = block.split("\nbegin\n", 1)
    benign = apply_block(RUNTIME_BENIGN, schema=schema, style=style, api=None)
    assert body == benign.split("\nbegin\n", 1)[1]
    # Each placeholder of the dynamic call has its declared local in USING, in order.
    create = re.search(r"\.create_jwt_profile\((.*?)\); end;'\n    using (.*?);\n", body)
    assert create is not None
    placeholders = re.findall(r"=> :(\w+)", create.group(1))
    using = create.group(2).split(", ")
    assert using == ["l_schema" if p == "schema_name" else f"l_{p}" for p in placeholders]
    declared = re.findall(r"^  (l_\w+) ", head, re.M)
    assert set(using) <= set(declared)
    assert len(placeholders) == len(set(placeholders))
    # PL/SQL shape and SQL*Plus safety: balanced ifs, no line that ends the block early.
    assert block.startswith("declare\n") and block.endswith("\nend;\n/")
    assert len(re.findall(r"^\s*if .* then$", body, re.M)) == body.count("end if;")
    assert all(line.strip() not in ("", "/", ".") for line in block.splitlines()[:-1])
    package = "ords_security" if schema is None else "ords_security_admin"
    old = "oauth" if schema is None else "oauth_admin"
    assert f"l_package := '{package}';" in body and f"l_package := '{old}';" in body
    assert f"object_name = '{package.upper()}' and procedure_name = 'CREATE_JWT_PROFILE'" in body


def test_runtime_script_is_printable_and_sets_define_off() -> None:
    text = script(RUNTIME_HOSTILE, header=["generated"], api=None, previous=RUNTIME_BENIGN)
    assert is_printable(text.replace("\n", ""))
    assert text.index("set define off") < text.index("create_jwt_profile")
    assert "-- To go back to the previous profile" in text


@pytest.mark.parametrize("schema", [None, "hr"])
def test_a_known_release_names_its_package(schema: str | None) -> None:
    text = script(RUNTIME_BENIGN, schema=schema, api=JwtApi.OAUTH)
    package = "oauth" if schema is None else "oauth_admin"
    assert f"{package}.create_jwt_profile(" in text
    assert f"    {package}.delete_jwt_profile" in text
    assert "ords_security" not in text and "all_procedures" not in text


def test_delete_block_for_a_known_and_an_unknown_release() -> None:
    assert delete_block(api=JwtApi.OAUTH) == "begin oauth.delete_jwt_profile; commit; end;\n/\n"
    admin = delete_block(schema="hr", api=JwtApi.ORDS_SECURITY)
    assert admin == (
        "begin ords_security_admin.delete_jwt_profile(p_schema => 'HR'); commit; end;\n/\n"
    )
    runtime = delete_block(schema="hr", api=None)
    assert "l_package varchar2(30) := 'oauth_admin';" in runtime
    assert "l_package := 'ords_security_admin';" in runtime
    assert (
        "execute immediate 'begin ' || l_package || "
        "'.delete_jwt_profile(p_schema => :schema_name); end;' using 'HR';"
    ) in runtime
    assert runtime.endswith("\nend;\n/\n")
