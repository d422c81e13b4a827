"""Running setup again after the user took over part of what setup's include added.

Once the user writes their own ``error_page 401`` or well-known location in a block that
setup's include already fills, setup's copy conflicts (nginx -t refuses a second exact
location; a second ``error_page 401`` shadows one of them). Setup run again must take its
own part out, so nginx -t passes and the user's part is what nginx serves (real nginx).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.command_run import run_cli
from tests.support.nginx import check_config, requires_headers_more
from tests.test_setup_e2e_nginx import MCP_PATH, Site, running_site

pytestmark = [requires_headers_more, pytest.mark.nginx]

WELL_KNOWN = f"/.well-known/oauth-protected-resource{MCP_PATH}"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    with running_site(tmp_path, monkeypatch) as running:
        yield running


def set_up(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = site.argv("--yes", "--only", "nginx")
    status, _, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 0, err
    assert site.comes_to_answer_new()


def add_to_server(site: Site, text: str) -> None:
    """The user's own lines, at the top of the server block in nginx.conf."""
    conf = site.conf.read_text()
    marker = "server_name localhost;"
    assert conf.count(marker) == 1
    site.conf.write_text(conf.replace(marker, f"{marker}\n        {text}"))


def test_a_well_known_location_of_the_users_own_replaces_setups(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(site, monkeypatch)
    mine = json.dumps({"resource": site.mcp_url, "authorization_servers": ["mine"]})
    add_to_server(
        site,
        f"location = {WELL_KNOWN} {{ default_type application/json; return 200 '{mine}'; }}",
    )
    refused = check_config(site.conf, site.nginx.prefix)
    assert refused.returncode != 0 and "duplicate location" in refused.stderr
    argv = site.argv("--yes", "--only", "nginx")
    status, _, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 0, err
    assert check_config(site.conf, site.nginx.prefix).returncode == 0

    def serves_mine() -> bool:
        status, _, body = site.nginx.request(WELL_KNOWN)
        return status == 200 and json.loads(body)["authorization_servers"] == ["mine"]

    assert site._eventually(serves_mine, 10.0)


@pytest.mark.parametrize("intercept", ["", "proxy_intercept_errors on; "])
def test_an_error_page_401_of_the_users_own_replaces_setups(
    intercept: str, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up(site, monkeypatch)
    _, headers, _ = site.nginx.request(MCP_PATH, method="POST", body=b"{}")
    challenge = headers["www-authenticate"]
    conf = site.conf.read_text()
    marker = f"proxy_pass http://127.0.0.1:{site.backend.port};"
    site.conf.write_text(
        conf.replace(marker, f"{marker}\n            {intercept}error_page 401 = @mine;")
    )
    add_to_server(
        site,
        "location @mine { more_clear_headers WWW-Authenticate; "
        f"add_header WWW-Authenticate '{challenge}' always; "
        "add_header X-Mine yes always; return 401; }",
    )
    argv = site.argv("--yes", "--only", "nginx")
    status, _, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 0, err
    location = next((site.nginx.prefix / "conf" / "token-inspector").glob("location-*.conf"))
    assert "error_page" not in location.read_text()
    assert check_config(site.conf, site.nginx.prefix).returncode == 0

    def answers_mine() -> bool:
        status, headers, _ = site.nginx.request(MCP_PATH, method="POST", body=b"{}")
        return status == 401 and headers.get("x-mine") == "yes"

    assert site._eventually(answers_mine, 10.0)
    # Planned again: nothing more to change.
    status, out, err = run_cli(
        site.argv("--dry-run", "--only", "nginx"), monkeypatch, stdin=site.token()
    )
    assert status == 0 and "nothing to change" in out, out + err
