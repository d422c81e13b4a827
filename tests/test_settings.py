"""Settings: which files are read in which order, and errors naming file, table and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.settings import (
    ConfigError,
    InspectorError,
    Settings,
    load_config,
    load_settings,
)


@pytest.fixture
def layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A system file, a user file (under XDG_CONFIG_HOME) and a spare one, all existing."""
    system = tmp_path / "etc" / "config.toml"
    user = tmp_path / "home" / "token-inspector" / "config.toml"
    named = tmp_path / "named.toml"
    for path in (system, user):
        path.parent.mkdir(parents=True)
    system.write_text('[keys]\nhttp_timeout = 7\ntrusted_issuers = ["https://site/"]\n')
    user.write_text("[keys]\nhttp_timeout = 9\n[expect]\naudience = 'user-aud'\n")
    named.write_text("[keys]\nhttp_timeout = 11\n")
    monkeypatch.setenv("TOKEN_INSPECTOR_SYSTEM_CONFIG", str(system))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    return {"system": system, "user": user, "named": named}


def test_user_file_overrides_system_file_key_by_key(layers: dict[str, Path]) -> None:
    settings = load_settings()
    assert settings.keys.http_timeout == 9.0
    assert settings.keys.trusted_issuers == ("https://site/",)  # kept from /etc
    assert settings.expect.audience == "user-aud"
    assert settings.files == (layers["system"], layers["user"])


def test_environment_variable_replaces_user_file(
    layers: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEN_INSPECTOR_CONFIG", str(layers["named"]))
    settings = load_settings()
    assert settings.keys.http_timeout == 11.0
    assert settings.expect.audience is None  # the user file was not read
    assert settings.keys.trusted_issuers == ("https://site/",)


def test_config_flag_replaces_environment_and_user_file(
    layers: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEN_INSPECTOR_CONFIG", str(layers["named"]))
    flagged = tmp_path / "flag.toml"
    flagged.write_text("[keys]\nhttp_timeout = 13\n")
    args = build_parser().parse_args(["decode", "--config", str(flagged), "-"])
    assert settings_from_args(args).keys.http_timeout == 13.0
    args = build_parser().parse_args(
        ["decode", "--config", str(flagged), "--http-timeout", "2", "--expect-aud", "a", "-"]
    )
    settings = settings_from_args(args)
    assert settings.keys.http_timeout == 2.0  # flags beat every file
    assert settings.expect.audience == "a"
    assert settings.expect.origin["audience"] == "flags"
    assert settings.keys.trusted_issuers == ("https://site/",)


def test_named_files_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_INSPECTOR_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match=r"absent\.toml: config file not found"):
        load_settings()
    with pytest.raises(ConfigError, match=r"other\.toml: config file not found"):
        load_settings(tmp_path / "other.toml")


def test_missing_default_files_are_normal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_settings() == Settings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[keys]\nhttp_timeout = 0\n", "[keys] http_timeout: must be a positive number"),
        ("[keys]\ntrusted_issuers = 'x'\n", "[keys] trusted_issuers: must be a list of issuer"),
        ("[keys]\nallow_private_issuers = 'yes'\n", "[keys] allow_private_issuers: must be true"),
        ("[keys]\njwks = '/nonexistent/k.json'\n", "[keys] jwks: /nonexistent/k.json: no such"),
        ("[expect]\nissuer = 3\n", "[expect] issuer: must be a non-empty string"),
        ("[expect]\nisuser = 'x'\n", "[expect] isuser: unknown key"),
        ("[logs]\npaths = 3\n", "[logs] paths: must be a list of file names"),
        ("[logs]\nescape = 'xml'\n", "[logs] escape: must be one of default, json, none"),
        ("[database]\npassword = 'p'\n", "[database] password: passwords are never read"),
        ("[database]\ncall_timeout = 'x'\n", "[database] call_timeout: must be a positive"),
        ("[doctor]\nurl = 'ftp://x'\n", "[doctor] url: must be the absolute http(s) URL"),
        ("[doctor]\nidp = 'okta'\n", "[doctor] idp: must be one of auto, entra, generic"),
        ("[clients]\n'(' = 'broken'\n", "[clients] '(': invalid pattern"),
        ("[output]\ndir = 5\n", "[output] dir: must be a non-empty string"),
        ("[ords]\njwk_url = 'nope'\n", "[ords] jwk_url: must be an absolute http(s) URL"),
        ("[expct]\nissuer = 'x'\n", "unknown table [expct]"),
        ("[setup]\nbackup = '/b'\n", "[setup] backup: unknown key"),
        ("[setup]\nnginx = 'nginx'\n", "[setup] nginx: must be the absolute path"),
        ("[setup]\ntest_command = []\n", "[setup] test_command: must be a command"),
        ("[setup]\nreload_command = [1]\n", "[setup] reload_command: must be a command"),
        ('[setup]\nreload_command = "a \'b"\n', "[setup] reload_command: cannot be split"),
        ("[setup]\nsnippet_dir = ''\n", "[setup] snippet_dir: must be a non-empty string"),
    ],
)
def test_errors_name_file_table_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert isinstance(caught.value, InspectorError)


def test_error_names_the_file_the_bad_key_came_from(layers: dict[str, Path]) -> None:
    layers["system"].write_text("[keys]\nallow_private_issuers = 1\n")
    with pytest.raises(ConfigError, match="^" + str(layers["system"]) + ": .keys. allow_priv"):
        load_settings()


def test_flag_errors_are_config_errors(tmp_path: Path) -> None:
    parser = build_parser()
    with pytest.raises(ConfigError, match="--http-timeout must be a positive"):
        settings_from_args(parser.parse_args(["decode", "--http-timeout", "0", "-"]))
    with pytest.raises(ConfigError, match=r"--jwks .*: no such file"):
        settings_from_args(parser.parse_args(["decode", "--jwks", str(tmp_path / "k"), "-"]))
    with pytest.raises(ConfigError, match="--last -1: the number of lines must be 0 or more"):
        settings_from_args(parser.parse_args(["tail", "--last", "-1", "x.log"]))


def test_a_format_flag_replaces_the_files_log_format(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[logs]\nlog_format = '$remote_addr $http_authorization'\n")
    args = build_parser().parse_args(["tail", "--config", str(path), "--format", "main", "x"])
    logs = settings_from_args(args).logs
    assert (logs.format, logs.log_format, logs.paths) == ("main", None, ("x",))


def test_raw_config_remembers_origins(layers: dict[str, Path]) -> None:
    config = load_config()
    assert config.origins[("keys", "http_timeout")] == layers["user"]
    assert config.origins[("keys", "trusted_issuers")] == layers["system"]


def test_setup_table_gives_directories_and_commands(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[setup]\nbackup_dir = '~/b'\nsnippet_dir = '/etc/nginx/ti'\nnginx = '/opt/ng'\n"
        "token_log = '/var/log/nginx/t.log'\n"
        "test_command = 'sudo nginx -t'\nreload_command = ['systemctl', 'reload', 'nginx']\n"
    )
    setup = load_settings(path).setup
    assert setup.backup_dir == Path("~/b").expanduser()
    assert setup.snippet_dir == Path("/etc/nginx/ti") and setup.nginx == "/opt/ng"
    assert setup.token_log == Path("/var/log/nginx/t.log")
    assert setup.test_command == ("sudo", "nginx", "-t")
    assert setup.reload_command == ("systemctl", "reload", "nginx")
    assert Settings().setup.test_command is None
