"""``jwks_uri`` is a URL or unknown, never the ``--jwks`` file the keys were read from.

ORDS fetches keys from p_jwk_url, so a file path there would be a broken profile. With
``--jwks FILE`` alone the URL is unknown and the proposal says to give ``--jwk-url``;
with ``--oidc-metadata FILE`` as well, the metadata's ``jwks_uri`` is the URL. Every key
the token is verified with comes from files; the URLs named as ``p_jwk_url`` are real HTTPS
endpoints on 127.0.0.1 (a test CA, trusted through ``REQUESTS_CA_BUNDLE``) publishing the same
keys, because a proposal checks the token under the profile it proposes and so fetches them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.cli.configure import settings_from_args
from inspector.cli.main import build_parser
from inspector.cli.watch import build_session
from inspector.demo.idp import LocalIdP
from inspector.judge.attempt import Attempt
from inspector.settings import Settings
from inspector.tui.present import signature_text
from inspector.tui.profile_view import needed_by
from tests.support.command_run import first_attempt, isolate, run_cli, write_bearer_log
from tests.support.https_keys import HttpsKeys, https_keys


@pytest.fixture(scope="module")
def idp() -> LocalIdP:
    return LocalIdP()  # never started: it only signs, and its keys go into a file


@pytest.fixture(scope="module")
def key_host(idp: LocalIdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsKeys]:
    # The signing IdP's keys, at URLs other than its own issuer's: the token's issuer stays
    # unreachable, so "keys from a file alone" cannot quietly turn into discovery.
    with https_keys(idp.keys, tmp_path_factory.mktemp("key-host")) as served:
        yield served


@dataclass(frozen=True)
class Files:
    log: Path
    nginx_conf: Path
    jwks: Path
    metadata: Path
    published: str  # the jwks_uri the offline metadata names
    given: str  # what the admin passes with --jwk-url


@pytest.fixture
def files(
    tmp_path: Path, idp: LocalIdP, key_host: HttpsKeys, monkeypatch: pytest.MonkeyPatch
) -> Files:
    isolate(tmp_path, monkeypatch)
    key_host.trust(monkeypatch)
    written = write_bearer_log(tmp_path, idp.mint(idp.entra_v2_claims()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(idp.jwks()))
    metadata = tmp_path / "openid-configuration.json"
    metadata.write_text(json.dumps({"issuer": idp.issuer_v2, "jwks_uri": key_host.url}))
    return Files(written.log, written.nginx_conf, jwks, metadata, key_host.url, key_host.other_url)


def scanned_token(files: Files, monkeypatch: pytest.MonkeyPatch, *keys: str) -> dict[str, object]:
    argv = ["scan", "--json", "--nginx-conf", str(files.nginx_conf), *keys, str(files.log)]
    _, out, err = run_cli(argv, monkeypatch)
    tokens = [json.loads(x)["token"] for x in out.splitlines() if '"token"' in x]
    assert len(tokens) == 1, err
    token: dict[str, object] = tokens[0]
    return token


def watched_attempt(files: Files, *flags: str) -> tuple[Attempt, object]:
    args = build_parser().parse_args(
        ["watch", "--no-db", "--from-start", "--nginx-conf", str(files.nginx_conf),
         *flags, str(files.log)]
    )  # fmt: skip
    session = build_session(args, settings_from_args(args, base=Settings()))
    attempt = first_attempt(session)
    return attempt, session.plan(attempt)


def sql(files: Files, monkeypatch: pytest.MonkeyPatch, *flags: str) -> tuple[int, str, str]:
    # A named release gives the plain CREATE_JWT_PROFILE call (without one the script picks
    # the package at run time and binds the values): the URL is what these tests look at.
    argv = ["profile", "sql", "--ords-version", "25.2", "--from-log", str(files.log),
            "--nginx-conf", str(files.nginx_conf), *flags]  # fmt: skip
    return run_cli(argv, monkeypatch)


def jwk_url_line(script: str) -> str:
    return next(x.strip() for x in script.splitlines() if x.strip().startswith("p_jwk_url"))


# -- a JWKS file alone ---------------------------------------------------------------------


def test_keys_from_a_file_alone_verify_but_name_no_url(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = scanned_token(files, monkeypatch, "--jwks", str(files.jwks))
    assert token["verified"] is True
    assert token["jwks_uri"] is None
    assert token["key_source"] == f"file:{files.jwks}"


def test_profile_from_file_keys_alone_says_p_jwk_url_must_be_given(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = sql(files, monkeypatch, "--jwks", str(files.jwks))
    assert status == 2 and out == ""
    assert "(no-jwks-uri)" in err and "p_jwk_url is unknown" in err
    assert "--jwk-url URL" in err
    assert f"read from the file {files.jwks}" in err  # said as where keys came from only


def test_profile_from_file_keys_takes_the_url_given_with_jwk_url(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = sql(files, monkeypatch, "--jwks", str(files.jwks), "--jwk-url", files.given)
    assert status == 0, err
    assert jwk_url_line(out) == f"p_jwk_url => '{files.given}',"


def test_live_screen_with_file_keys_alone_shows_no_url_and_refuses_to_guess(
    files: Files,
) -> None:
    attempt, plan = watched_attempt(files, "--jwks", str(files.jwks))
    assert attempt.token is not None and attempt.token.verified is True
    assert attempt.token.jwks_uri is None
    needed = needed_by(attempt)
    assert needed is not None and needed["jwk_url"] is None
    refusal = getattr(plan, "refusal", "") or ""
    assert "p_jwk_url is unknown" in refusal and "--jwk-url" in refusal
    assert getattr(plan, "proposed", None) is None
    # The detail pane still says where the keys came from.
    assert f"file:{files.jwks}" in signature_text(attempt).plain


def test_live_screen_proposes_the_url_given_with_jwk_url(files: Files) -> None:
    _, plan = watched_attempt(files, "--jwks", str(files.jwks), "--jwk-url", files.given)
    proposed = getattr(plan, "proposed", None)
    assert proposed is not None and proposed.jwk_url == files.given


# -- a JWKS file with the issuer's metadata ------------------------------------------------


def test_offline_metadata_names_the_url_the_file_keys_are_published_at(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ("--jwks", str(files.jwks), "--oidc-metadata", str(files.metadata))
    token = scanned_token(files, monkeypatch, *keys)
    assert token["verified"] is True
    assert token["jwks_uri"] == files.published
    assert token["key_source"] == f"file:{files.jwks}"


def test_profile_from_file_keys_uses_the_metadata_jwks_uri(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ("--jwks", str(files.jwks), "--oidc-metadata", str(files.metadata))
    status, out, err = sql(files, monkeypatch, *keys)
    assert status == 0, err
    assert jwk_url_line(out) == f"p_jwk_url => '{files.published}',"
    assert str(files.jwks) not in out


def test_live_screen_with_metadata_shows_and_proposes_its_jwks_uri(files: Files) -> None:
    attempt, plan = watched_attempt(
        files, "--jwks", str(files.jwks), "--oidc-metadata", str(files.metadata)
    )
    needed = needed_by(attempt)
    assert needed is not None and needed["jwk_url"] == files.published
    proposed = getattr(plan, "proposed", None)
    assert proposed is not None and proposed.jwk_url == files.published
