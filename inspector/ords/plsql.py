"""PL/SQL text for humans: a reviewable script a DBA runs in SQLcl / SQL*Plus.

The tool itself never executes this text (``database.py`` binds every value); it is for
display and export. Values come from attacker-controlled tokens, so literals are built to
survive both PL/SQL and the SQL*Plus client:

- quotes are doubled (``'it''s'``), or a ``q'[...]'`` literal with a delimiter absent from
  the value is used;
- control characters (newline, carriage return, tab...) never appear raw: they are spliced
  in with ``chr(n)``, so a hostile value cannot end the statement with a blank line or a
  line holding ``/``, nor break out of a ``--`` comment; every other character a terminal
  would not show as itself (C1 controls and NEL, line and paragraph separators, bidi
  overrides and other format characters, no-break spaces, variation selectors, lone
  surrogates: whatever ``parsers.printable`` escapes) is spliced in with
  ``unistr('\\XXXX')`` (UTF-16 units), so the reviewer sees what will be stored and the
  script can always be written as UTF-8;
- ``set define off`` stops SQL*Plus substitution of ``&name``.

The package is ``ORDS_SECURITY`` (24.3+) or ``OAUTH`` (23.3 to 25.2) when the release is
known (``api``); with ``api=None`` the block picks at run time: it looks the packages up in
``ALL_PROCEDURES`` and calls the one found through ``EXECUTE IMMEDIATE``, whose text holds
only our constants and whose values are bind variables (``USING`` locals assigned from the
same literals), because a static call to a package the database lacks would stop the whole
block from compiling.

Comments only ever contain text we produced (fingerprints, dates, validated schema names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from inspector.judge.ords_objects import JwtProfile
from inspector.ords.database import JwtApi
from parsers.printable import UNSAFE_CLASS

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_$#]{0,127}$")
# What a terminal would not show as itself never appears raw in the script: a reviewer
# must see what will be stored (no "Trojan source" reordering, no invisible difference).
_CONTROL = re.compile(f"[\t\n{UNSAFE_CLASS}]")
# q-quote delimiter pairs, in order of preference.
_Q_DELIMITERS = (("[", "]"), ("{", "}"), ("<", ">"), ("(", ")"), ("!", "!"), ("#", "#"))

_MAX_RUN = 500

PROFILE_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("p_issuer", "issuer"),
    ("p_audience", "audience"),
    ("p_jwk_url", "jwk_url"),
    ("p_description", "description"),
    ("p_allowed_skew", "allowed_skew"),
    ("p_allowed_age", "allowed_age"),
    ("p_role_claim_name", "role_claim_name"),
)


def check_identifier(name: str) -> str:
    """Upper-cased ``name`` if it is a plain Oracle identifier, else ``ValueError``."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain schema name: {name!r}")
    return name.upper()


def _pieces(value: str) -> list[str]:
    """Split into runs of printable text and single control characters."""
    out: list[str] = []
    last = 0
    for match in _CONTROL.finditer(value):
        if match.start() > last:
            out.append(value[last : match.start()])
        out.append(match.group())
        last = match.end()
    if last < len(value):
        out.append(value[last:])
    return out


def _join(pieces: Sequence[str], quote: str) -> str:
    parts: list[str] = []
    for piece in pieces:
        if _CONTROL.fullmatch(piece):
            parts.append(_spliced(piece))
            continue
        # SQL*Plus limits line length: long values are split into several literals.
        for start in range(0, len(piece), _MAX_RUN):
            parts.append(quote_run(piece[start : start + _MAX_RUN], quote))
    if not parts:
        return "''"
    joined = " || ".join(parts)
    return joined if len(joined) <= _MAX_RUN else "\n      || ".join(parts)


def _spliced(char: str) -> str:
    """``chr(n)`` or ``unistr('\\XXXX')`` for one character that must not appear raw."""
    code = ord(char)
    # chr() takes a byte in the database character set: ASCII only; else unistr.
    if code < 0x80:
        return f"chr({code})"
    # unistr reads UTF-16 code units: a character beyond U+FFFF is its surrogate pair
    # (a lone surrogate stays one unit: the value is spelled out, never crashes a writer).
    units = char.encode("utf-16-be", "surrogatepass")
    escapes = "".join(f"\\{units[i]:02X}{units[i + 1]:02X}" for i in range(0, len(units), 2))
    return f"unistr('{escapes}')"


def quote_run(text: str, style: str) -> str:
    """One literal for ``text`` (no control characters) in ``style`` ``doubled`` or ``q``."""
    if style == "q":
        for open_, close in _Q_DELIMITERS:
            if f"{close}'" not in text and not text.endswith(close):
                return f"q'{open_}{text}{close}'"
    return "'" + text.replace("'", "''") + "'"


def string_literal(value: str | None, *, style: str = "doubled") -> str:
    """A PL/SQL expression that evaluates to exactly ``value`` (``NULL`` for ``None``)."""
    if value is None:
        return "null"
    if style not in ("doubled", "q"):
        raise ValueError(f"unknown quoting style {style!r}")
    return _join(_pieces(value), style)


def number_literal(value: int | None) -> str:
    """An integer literal or ``null``."""
    return "null" if value is None else str(int(value))


def _arguments(profile: JwtProfile, style: str, schema: str | None) -> list[str]:
    args: list[str] = []
    if schema is not None:
        args.append(f"p_schema => {string_literal(schema)}")
    for param, attr in PROFILE_PARAMETERS:
        value = getattr(profile, attr)
        if value is None:
            # Omitted arguments default to NULL, and ORDS before 25.1 has no p_role_claim_name.
            continue
        literal = number_literal(value) if attr in ("allowed_skew", "allowed_age") else None
        if literal is None:
            literal = string_literal(value, style=style)
        args.append(f"{param} => {literal}")
    return args


def create_call(
    profile: JwtProfile,
    *,
    schema: str | None = None,
    style: str = "doubled",
    api: JwtApi = JwtApi.ORDS_SECURITY,
) -> str:
    """``ords_security(_admin)`` or ``oauth(_admin)`` ``.create_jwt_profile(...)`` with
    literals, for display."""
    package = api.package(schema)
    args = _arguments(profile, style, None if schema is None else check_identifier(schema))
    body = ",\n    ".join(args)
    return f"{package}.create_jwt_profile(\n    {body}\n  );"


def _count_query(schema: str | None) -> str:
    """The statement counting the target schema's profiles (0 or 1) into ``l_count``."""
    if schema is None:
        return "select count(*) into l_count from user_ords_jwt_profile;"
    name = check_identifier(schema)
    # Display text for a DBA: the schema name is a checked identifier, quoted as a literal.
    return (
        "select count(*) into l_count from dba_ords_jwt_profile p"  # noqa: S608
        " join dba_ords_schemas s on s.id = p.schema_id"
        f" where s.parsing_schema = {string_literal(name)};"
    )


def apply_block(
    profile: JwtProfile,
    *,
    schema: str | None = None,
    style: str = "doubled",
    api: JwtApi | None = JwtApi.ORDS_SECURITY,
) -> str:
    """One anonymous block: delete the profile if there is one, create, commit.

    A single block is atomic under ``whenever sqlerror ... rollback``: the procedures do not
    commit, so a failed create leaves the old profile in place. ``api`` ``None``: the
    package is chosen when the block runs (see the module docstring).
    """
    if api is None:
        return _runtime_block(profile, schema=schema, style=style)
    count = _count_query(schema)
    if schema is None:
        delete = f"{api.package(None)}.delete_jwt_profile;"
    else:
        name = check_identifier(schema)
        delete = f"{api.package(name)}.delete_jwt_profile(p_schema => {string_literal(name)});"
    create = create_call(profile, schema=schema, style=style, api=api)
    return (
        "declare\n"
        "  l_count pls_integer;\n"
        "begin\n"
        f"  {count}\n"
        "  if l_count > 0 then\n"
        f"    {delete}\n"
        "  end if;\n"
        f"  {create}\n"
        "  commit;\n"
        "end;\n"
        "/"
    )


def _runtime_block(profile: JwtProfile, *, schema: str | None, style: str) -> str:
    """The apply block for an unknown release: finds the package, then calls it dynamically.

    Values are assigned to locals from the same literals as the static form and passed with
    ``USING``; the dynamic text is built from our constants only (package and parameter
    names), so no value can change the statement. ``NULL`` values are left out as in the
    static form (``USING`` cannot pass a bare ``NULL`` and ORDS before 25.1 has no
    ``p_role_claim_name``).
    """
    suffix = "" if schema is None else "_ADMIN"
    declarations = ["  l_count pls_integer;", "  l_package varchar2(30);"]
    params: list[str] = []
    using: list[str] = []
    if schema is not None:
        declarations.append(
            f"  l_schema varchar2(128) := {string_literal(check_identifier(schema))};"
        )
        params.append("p_schema => :schema_name")
        using.append("l_schema")
    for param, attr in PROFILE_PARAMETERS:
        value = getattr(profile, attr)
        if value is None:
            continue
        if attr in ("allowed_skew", "allowed_age"):
            declarations.append(f"  l_{attr} number := {number_literal(value)};")
        else:
            literal = string_literal(value, style=style)
            declarations.append(f"  l_{attr} varchar2(32767) := {literal};")
        params.append(f"{param} => :{attr}")
        using.append(f"l_{attr}")
    call = ", ".join(params)
    delete_args = "" if schema is None else "(p_schema => :schema_name)"
    delete_using = "" if schema is None else " using l_schema"
    lines = [
        "declare",
        *declarations,
        "begin",
        f"  -- calls ords_security{suffix.lower()}.create_jwt_profile (ORDS 24.3+) or",
        f"  -- oauth{suffix.lower()}.create_jwt_profile (ORDS 23.3 to 25.2), whichever exists",
        "  select count(*) into l_count from all_procedures",
        f"    where object_name = 'ORDS_SECURITY{suffix}'"
        " and procedure_name = 'CREATE_JWT_PROFILE';",
        "  if l_count > 0 then",
        f"    l_package := 'ords_security{suffix.lower()}';",
        "  else",
        "    select count(*) into l_count from all_procedures",
        f"      where object_name = 'OAUTH{suffix}' and procedure_name = 'CREATE_JWT_PROFILE';",
        "    if l_count = 0 then",
        "      raise_application_error(-20000, 'no ORDS_SECURITY or OAUTH JWT profile "
        "package: JWT profiles need ORDS 23.3 or later');",
        "    end if;",
        f"    l_package := 'oauth{suffix.lower()}';",
        "  end if;",
        f"  {_count_query(schema)}",
        "  if l_count > 0 then",
        "    execute immediate",
        f"      'begin ' || l_package || '.delete_jwt_profile{delete_args}; end;'{delete_using};",
        "  end if;",
        "  execute immediate",
        f"    'begin ' || l_package || '.create_jwt_profile({call}); end;'",
        f"    using {', '.join(using)};",
        "  commit;",
        "end;",
        "/",
    ]
    return "\n".join(lines)


def delete_block(*, schema: str | None = None, api: JwtApi | None = JwtApi.ORDS_SECURITY) -> str:
    """``DELETE_JWT_PROFILE`` and commit as one block; ``api`` ``None``: whichever package
    exists when it runs."""
    target = "" if schema is None else f"(p_schema => {string_literal(check_identifier(schema))})"
    if api is not None:
        return f"begin {api.package(schema)}.delete_jwt_profile{target}; commit; end;\n/\n"
    suffix = "" if schema is None else "_admin"
    # Only our constants and a checked identifier: the text is fixed but for the schema.
    call = "delete_jwt_profile" + ("" if schema is None else "(p_schema => :schema_name)")
    using = "" if schema is None else f" using {string_literal(check_identifier(schema))}"
    return "\n".join(
        [
            "declare",
            "  l_count pls_integer;",
            f"  l_package varchar2(30) := 'oauth{suffix}';",
            "begin",
            "  select count(*) into l_count from all_procedures",
            f"    where object_name = 'ORDS_SECURITY{suffix.upper()}'"
            " and procedure_name = 'DELETE_JWT_PROFILE';",
            "  if l_count > 0 then",
            f"    l_package := 'ords_security{suffix}';",
            "  end if;",
            f"  execute immediate 'begin ' || l_package || '.{call}; end;'{using};",
            "  commit;",
            "end;",
            "/",
            "",
        ]
    )


def verification_query(schema: str | None = None) -> str:
    """The query that shows the profile after the script ran."""
    cols = "issuer, audience, jwk_url, role_claim_name, allowed_skew, allowed_age, description"
    if schema is None:
        return f"select {cols} from user_ords_jwt_profile;"  # noqa: S608 (constant columns)
    name = check_identifier(schema)
    # Display text: the schema name is a checked identifier, quoted as a literal.
    where = f"where s.parsing_schema = {string_literal(name)};"
    join = "join dba_ords_schemas s on s.id = p.schema_id"
    return f"select {cols} from dba_ords_jwt_profile p {join} {where}"  # noqa: S608


def script(
    profile: JwtProfile,
    *,
    schema: str | None = None,
    header: Sequence[str] = (),
    style: str = "doubled",
    previous: JwtProfile | None = None,
    api: JwtApi | None = JwtApi.ORDS_SECURITY,
) -> str:
    """A complete SQLcl / SQL*Plus script: settings, the apply block, the verification query.

    ``header`` lines become ``--`` comments and must be our own text: any control character
    in them is refused. ``previous`` (when known) adds a commented-out restore block.
    ``api`` names the package; ``None`` lets the script pick it when it runs.
    """
    for line in header:
        if _CONTROL.search(line):
            raise ValueError("header lines must not contain control characters")
    out = [f"-- {line}" if line else "--" for line in header]
    out += [
        "set define off",
        "set serveroutput on",
        "whenever sqlerror exit failure rollback",
        "",
        apply_block(profile, schema=schema, style=style, api=api),
        "",
        verification_query(schema),
    ]
    if previous is not None:
        restore = apply_block(previous, schema=schema, style=style, api=api)
        out += [
            "",
            "-- To go back to the previous profile, run this block instead:",
            *(f"-- {line}" for line in restore.splitlines()),
        ]
    return "\n".join(out) + "\n"
