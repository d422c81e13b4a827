"""ORDS's own settings files: the Java XML properties parser (hostile files included), the
loader of one pool (pool over global), and the ``[ords]`` / ``--ords-*`` settings."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.judge.ords_settings import load_ords_config
from inspector.settings import ConfigError, Settings, load_settings
from parsers.ords_config import (
    DEFAULT_JWKS_SIZE,
    MAX_CONFIG_BYTES,
    OrdsConfigError,
    merge,
    parse_properties,
    seconds,
    url_admitted,
)

HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">\n'
)


def properties(**entries: str) -> bytes:
    """A settings file as ORDS (Java's Properties.storeToXML) writes it."""
    body = "".join(f'<entry key="{k.replace("_", ".")}">{v}</entry>\n' for k, v in entries.items())
    return (HEADER + "<properties>\n<comment>Saved</comment>\n" + body + "</properties>\n").encode()


def write_config(
    root: Path, pool: str = "default", *, glob: bytes | None, pool_xml: bytes | None
) -> Path:
    if glob is not None:
        (root / "global").mkdir(parents=True, exist_ok=True)
        (root / "global" / "settings.xml").write_bytes(glob)
    if pool_xml is not None:
        (root / "databases" / pool).mkdir(parents=True, exist_ok=True)
        (root / "databases" / pool / "pool.xml").write_bytes(pool_xml)
    return root


# --- the parser ------------------------------------------------------------------------------


def test_parses_the_file_ords_writes_with_javas_doctype() -> None:
    found = parse_properties(
        properties(security_jwt_profile_mode="POOL", db_hostname=" localhost ")
    )
    assert found == {"security.jwt.profile.mode": "POOL", "db.hostname": "localhost"}


@pytest.mark.parametrize(
    "text",
    [
        # Billion laughs: nested entity expansion.
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<properties><entry key="a">&lol2;</entry></properties>',
        # External entity (XXE).
        '<?xml version="1.0"?><!DOCTYPE properties [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<properties><entry key="a">&xxe;</entry></properties>',
        # Java's DOCTYPE with an internal subset smuggled in.
        '<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd" '
        '[<!ENTITY a "b">]><properties/>',
        # Another DOCTYPE, and a parameter entity.
        '<!DOCTYPE properties SYSTEM "http://attacker.example/x.dtd"><properties/>',
        '<!doctype properties [<!entity % p SYSTEM "http://attacker.example/">%p;]><properties/>',
    ],
)
def test_refuses_doctype_and_entity_declarations(text: str) -> None:
    with pytest.raises(OrdsConfigError, match="DOCTYPE or ENTITY"):
        parse_properties(text.encode())


def test_refuses_entities_hidden_in_utf16() -> None:
    hostile = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE p [<!ENTITY a "b">]>'
        '<properties><entry key="k">&a;</entry></properties>'
    )
    with pytest.raises(OrdsConfigError, match="UTF-8"):
        parse_properties(hostile.encode("utf-16"))


def test_caps_the_size_before_parsing() -> None:
    big = properties(a="x" * (MAX_CONFIG_BYTES + 1))
    started = time.monotonic()
    with pytest.raises(OrdsConfigError, match="larger than"):
        parse_properties(big)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"<properties><entry key='a'>b</properties>", "not well-formed"),
        (b"<html><entry key='a'>b</entry></html>", "not <properties>"),
        (b"\xff\xfe\x00garbage", "UTF-8"),
    ],
)
def test_refuses_broken_files(data: bytes, problem: str) -> None:
    with pytest.raises(OrdsConfigError, match=problem):
        parse_properties(data)


def test_pool_values_override_global_ones() -> None:
    config = merge(
        {"security.jwks.size": "1000", "security.jwt.profile.mode": "schema"},
        {"security.jwt.profile.mode": "pool"},
        "sales",
    )
    assert config.pool_mode  # case-insensitive
    assert config.jwks_size == 1000
    assert config.origins["security.jwt.profile.mode"] == "databases/sales/pool.xml"
    assert "global/settings.xml" in config.where("security.jwks.size")


def test_defaults_when_unset() -> None:
    config = merge({}, {})
    assert not config.pool_mode
    assert config.jwks_size == DEFAULT_JWKS_SIZE
    assert config.connect_timeout == config.read_timeout == 5.0
    assert config.allowed_urls is None and config.profiles_enabled is None
    assert config.allowed_skew is None and config.allowed_age is None


@pytest.mark.parametrize(
    ("text", "expected"), [("5", 5.0), ("500ms", 0.5), ("2s", 2.0), ("1m", 60.0), ("x", None)]
)
def test_durations(text: str, expected: float | None) -> None:
    assert seconds(text) == expected


def test_allowed_urls_read_leniently() -> None:
    allowed = merge(
        {"security.jwks.allowed.urls": "https://login.example/, https://b.example/keys"}, {}
    ).allowed_urls
    assert allowed == ("https://login.example/", "https://b.example/keys")
    assert url_admitted(allowed, "https://login.example/t/discovery/v2.0/keys")  # prefix
    assert url_admitted(allowed, "https://b.example/keys")  # exact
    assert url_admitted((r"https://[a-z]+\.example/.*",), "https://c.example/k")  # regex
    assert not url_admitted(allowed, "https://evil.example/keys")
    assert not url_admitted(("(unclosed",), "https://a.example/")


# --- the loader ------------------------------------------------------------------------------


def test_loader_reads_global_and_the_named_pool(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "sales",
        glob=properties(security_jwt_allowed_age="600", security_jwt_profile_mode="SCHEMA"),
        pool_xml=properties(
            security_jwt_profile_mode="POOL", security_jwt_profile_issuer="https://i/"
        ),
    )
    config = load_ords_config(tmp_path, "sales")
    assert config.pool == "sales" and config.pool_mode
    assert config.issuer == "https://i/" and config.allowed_age == 600
    # The default pool has no pool.xml here: global values only.
    assert not load_ords_config(tmp_path).pool_mode


def test_loader_refuses_what_is_not_a_config_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"neither global/settings\.xml"):
        load_ords_config(tmp_path)
    with pytest.raises(ConfigError, match="not a directory"):
        load_ords_config(tmp_path / "missing")
    with pytest.raises(ConfigError, match="pool name"):
        load_ords_config(tmp_path, "../../etc")


def test_loader_names_the_hostile_file(tmp_path: Path) -> None:
    write_config(tmp_path, glob=b'<!DOCTYPE x [<!ENTITY a "b">]><properties/>', pool_xml=None)
    with pytest.raises(ConfigError, match=r"global/settings\.xml: DOCTYPE or ENTITY"):
        load_ords_config(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_loader_does_not_hang_on_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "global").mkdir()
    os.mkfifo(tmp_path / "global" / "settings.xml")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="not a regular file"):
        load_ords_config(tmp_path)
    assert time.monotonic() - started < 2.0


# --- settings and flags ----------------------------------------------------------------------


def test_ords_table_and_flags(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text(f'[ords]\nconfig_dir = "{tmp_path}"\npool = "sales"\n')
    settings = load_settings(conf)
    assert settings.ords.config_dir == tmp_path and settings.ords.pool == "sales"
    args = argparse.Namespace(ords_config=str(tmp_path / "other"), ords_pool="hr")
    flagged = settings_from_args(args, base=settings)
    assert flagged.ords.config_dir == tmp_path / "other" and flagged.ords.pool == "hr"
    assert Settings().ords.pool == "default" and Settings().ords.config_dir is None


def test_bad_pool_names_are_refused(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('[ords]\npool = "../x"\n')
    with pytest.raises(ConfigError, match=r"\[ords\] pool"):
        load_settings(conf)
    with pytest.raises(ConfigError, match="--ords-pool"):
        settings_from_args(argparse.Namespace(ords_pool="Bad/Name"), base=Settings())
