"""Where expectations come from: ``[expect]`` config, then flags, then the ORDS profile."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.options import add_expectation_options, add_key_options
from inspector.judge.engine import build_analyzer, build_expectations, build_key_store
from inspector.judge.ords_objects import JwtProfile
from inspector.settings import ConfigError, ExpectSettings, KeySettings, Settings, load_settings


def flags(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_expectation_options(parser)
    add_key_options(parser)
    return parser.parse_args(list(argv))


def config(tmp_path: Path, text: str, *argv: str) -> Settings:
    """The settings of a config file holding ``text``, with the flags ``argv`` over it."""
    path = tmp_path / "config.toml"
    path.write_text(text)
    return settings_from_args(flags(*argv), base=load_settings(path))


def test_config_values_are_read_and_tagged(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        '[expect]\nissuer = "https://i/"\naudience = "a"\nroles = ["ORDSUsers"]\n'
        'scopes = "s1 s2"\nrequire_upn = true\nallowed_skew = 30\nallowed_age = 3600\n'
        'role_claim = "/roles"\n',
    )
    exp = build_expectations(cfg.expect)
    assert exp.issuer == "https://i/" and exp.audience == "a"
    assert exp.roles == ("ORDSUsers",) and exp.scopes == ("s1", "s2")
    assert exp.require_upn and exp.allowed_skew == 30 and exp.allowed_age == 3600
    assert exp.role_claim == "/roles"
    assert exp.origin["issuer"] == "config"


def test_flags_beat_config_and_profile_beats_flags(tmp_path: Path) -> None:
    text = '[expect]\nissuer = "https://config/"\naudience = "config-aud"\n'
    argv = ("--expect-iss", "https://flag/", "--expect-role", "R", "--allowed-skew", "10")
    cfg = config(tmp_path, text, *argv)
    exp = build_expectations(cfg.expect)
    assert (exp.issuer, exp.audience, exp.roles) == ("https://flag/", "config-aud", ("R",))
    assert exp.origin["issuer"] == "flags" and exp.origin["audience"] == "config"
    profile = JwtProfile("https://profile/", "profile-aud", "https://k/", allowed_skew=5)
    exp = build_expectations(cfg.expect, profile)
    assert (exp.issuer, exp.audience, exp.allowed_skew) == ("https://profile/", "profile-aud", 5)
    assert exp.roles == ("R",)
    assert exp.origin["issuer"] == "profile"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[expect]\nissuer = 3\n", "issuer: must be a non-empty string"),
        ("[expect]\nroles = [1]\n", "roles: must be a list of strings"),
        ("[expect]\nallowed_skew = true\n", "allowed_skew: must be a whole number"),
        ("[expect]\nrequire_upn = 'yes'\n", "require_upn: must be true or false"),
        ("[expect]\nisuser = 'x'\n", "isuser: unknown key"),
    ],
)
def test_bad_config_values_are_one_clear_error(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, text)


def test_key_store_from_flags_and_config(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text('{"keys": []}')
    cfg = config(
        tmp_path,
        f'[keys]\njwks = "{tmp_path / "k.json"}"\ntrusted_issuers = ["https://a/"]\n'
        "http_timeout = 2\n",
    )
    store = build_key_store(cfg.keys, build_expectations(cfg.expect))
    assert store.offline_jwks == tmp_path / "k.json"
    assert store.trusted_issuers == ("https://a/",)
    text = (tmp_path / "config.toml").read_text()
    flagged = config(tmp_path, text, "--trusted-issuer", "https://b/")
    store = build_key_store(flagged.keys, build_expectations(flagged.expect))
    assert store.trusted_issuers == ("https://b/",)


def test_expected_issuer_limits_discovery_when_nothing_is_trusted() -> None:
    exp = build_expectations(ExpectSettings(issuer="https://only/"))
    assert build_key_store(KeySettings(), exp).trusted_issuers == ("https://only/",)


def test_bad_keys_and_clients_sections(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="trusted_issuers"):
        config(tmp_path, '[keys]\ntrusted_issuers = "x"\n')
    with pytest.raises(ConfigError, match="clients"):
        config(tmp_path, '[clients]\n"(" = "broken"\n')
    analyzer = build_analyzer(config(tmp_path, '[clients]\n"^MyBot/" = "My bot"\n'))
    assert analyzer.clients.classify("MyBot/1.0") == "My bot"


def test_named_key_files_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--jwks .*no such file"):
        settings_from_args(flags("--jwks", str(tmp_path / "nope.json")), base=Settings())
    with pytest.raises(ConfigError, match=r"oidc_metadata: .*no such file"):
        config(tmp_path, f'[keys]\noidc_metadata = "{tmp_path / "m.json"}"\n')
