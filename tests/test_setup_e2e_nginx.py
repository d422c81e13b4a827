"""``token-inspector setup`` end to end against a real nginx on loopback (issue 12's DONE).

A bare configuration (a server proxying ``/ords/`` to an ORDS-like backend that answers
401, no metadata, no challenge rewrite, no token log) is taken by ``setup --yes`` to one
where doctor passes its challenge, resource-metadata and nginx steps; the ORDS role,
privilege and profile land in the in-memory stand-in. A broken change (a headers-more
module that is not a module) is rolled back with nginx still serving the old
configuration; an ORDS failure restores the schema; ``--dry-run`` changes nothing;
``--json`` describes plan and results; ``setup rollback`` restores the previous files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.demo.idp import LocalIdP
from inspector.doctor import DoctorOptions, DoctorReport, Status, run_doctor
from inspector.schema_version import SCHEMA_VERSION
from tests.support.command_run import isolate, run_cli
from tests.support.faulty_ords import FaultyOrds
from tests.support.memory_db import open_memory_dsn
from tests.support.nginx import (
    HEADERS_MORE_MODULE,
    NGINX,
    NginxServer,
    free_port,
    http_conf,
    requires_headers_more,
)
from tests.support.reference_site import ORDS_CHALLENGE, OrdsStandIn

pytestmark = [requires_headers_more, pytest.mark.nginx]

MCP_PATH = "/ords/hr/mcp/server"
ROLE = "MCPUsers"
SET_UP_STEPS = ("challenge", "resource-metadata", "nginx")
# What a loopback site without TLS cannot avoid.
EXPECTED_WARNINGS = {
    "mcp-url-not-https",
    "challenge-resource-metadata-not-https",
    "prm-authorization-server-not-https",
}


def bare_conf(
    backend_port: int,
    *,
    load_headers_more: bool = True,
    http_extra: str = "",
    server_extra: str = "",
) -> str:
    """The reference without metadata, challenge rewrite or token log."""
    body = f"""
        {http_extra}
        server {{
            listen 127.0.0.1:@PORT@;
            server_name localhost;
            {server_extra}
            location /ords/ {{
                proxy_pass http://127.0.0.1:{backend_port};
            }}
        }}
    """
    modules = (HEADERS_MORE_MODULE,) if load_headers_more else ()
    return http_conf(textwrap.dedent(body), load_modules=modules)


@dataclass
class Site:
    """A running bare nginx, its backend, the IdP, and the setup configuration file."""

    nginx: NginxServer
    backend: OrdsStandIn
    idp: LocalIdP
    root: Path

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx.port}{MCP_PATH}"

    @property
    def conf(self) -> Path:
        return self.nginx.conf_path

    @property
    def state(self) -> Path:
        return self.root / "ords.json"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def token_log(self) -> Path:
        return self.nginx.prefix / "logs" / "mcp-tokens.log"

    def argv(self, *extra: str, dsn: str | None = None) -> list[str]:
        return [
            "setup",
            self.mcp_url,
            "--nginx-conf",
            str(self.conf),
            "--snippet-dir",
            str(self.nginx.prefix / "conf" / "token-inspector"),
            "--token-log",
            str(self.token_log),
            "--role",
            ROLE,
            "--token",
            "-",
            "--allow-http",
            # The loopback IdP stands in for Entra ID (its issuer is not on Entra's hosts).
            "--idp",
            "entra",
            "--dsn",
            dsn or f"memory:{self.state}",
            *extra,
        ]

    def token(self) -> str:
        return self.idp.mint(self.idp.entra_v2_claims(roles=[ROLE]))

    def files(self) -> dict[str, str]:
        """Every file under the prefix's conf directory, by relative path, hashed."""
        root = self.nginx.prefix / "conf"
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    def doctor(self) -> DoctorReport:
        report = run_doctor(
            DoctorOptions(self.mcp_url, allow_http=True, nginx_conf=self.conf, timeout=5.0)
        )
        return report

    def role_protects_the_module(self) -> bool:
        """What the stand-in ORDS decides by: a committed privilege carries the role."""
        try:
            privileges = json.loads(self.state.read_text())["privileges"]
        except FileNotFoundError:
            return False
        return any(ROLE in p["roles"] for p in privileges)

    def answers_old(self) -> bool:
        status, headers, _ = self.nginx.request(MCP_PATH, method="POST", body=b"{}")
        return status == 401 and headers.get("www-authenticate") == ORDS_CHALLENGE

    def answers_new(self) -> bool:
        status, headers, _ = self.nginx.request(MCP_PATH, method="POST", body=b"{}")
        return status == 401 and "resource_metadata=" in headers.get("www-authenticate", "")

    def comes_to_answer_old(self, timeout: float = 10.0) -> bool:
        """After a reload the old workers may answer a moment: wait for the new ones."""
        return self._eventually(self.answers_old, timeout)

    def comes_to_answer_new(self, timeout: float = 10.0) -> bool:
        """The probe passed on a new worker; an old one may still take a connection or two."""
        return self._eventually(lambda: self.answers_new() and self.answers_new(), timeout)

    @staticmethod
    def _eventually(condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


@contextlib.contextmanager
def running_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, workers: str | None = None
) -> Iterator[Site]:
    """The bare site; ``workers`` (``"nobody nogroup"``) runs nginx's workers as that user,
    in a prefix of its own under the temporary directory they can enter."""
    isolate(tmp_path, monkeypatch)
    backend = OrdsStandIn()
    backend.start()
    conf = bare_conf(backend.port)
    prefix: Path | None = tmp_path / "nginx"
    if workers is not None:
        conf = conf.replace("user root;", f"user {workers};")
        prefix = None
    try:
        with LocalIdP() as idp, NginxServer(prefix, port=free_port()) as nginx:
            if workers is not None:
                nginx.prefix.chmod(0o711)  # mkdtemp's 0700 would keep the workers out
            nginx.start(conf)
            where = (
                "-p",
                str(nginx.prefix),
                "-e",
                str(nginx.error_log),
                "-c",
                str(nginx.conf_path),
            )
            config = tmp_path / "config" / "token-inspector" / "config.toml"
            config.parent.mkdir(parents=True)
            config.write_text(
                f'[keys]\ntrusted_issuers = ["{idp.issuer_v2}"]\n'
                f"[setup]\nbackup_dir = '{tmp_path / 'backups'}'\n"
                f"test_command = {json.dumps([NGINX, '-t', *where])}\n"
                f"reload_command = {json.dumps([NGINX, '-s', 'reload', *where])}\n"
            )
            yield Site(nginx, backend, idp, tmp_path)
    finally:
        backend.stop()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    with running_site(tmp_path, monkeypatch) as running:
        yield running


def test_bare_configuration_is_set_up_until_doctor_passes(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = site.doctor()
    assert {"challenge-ords-realm-leak", "prm-unreachable"} <= set(before.codes(Status.FAIL))
    token = site.token()
    status, out, err = run_cli(site.argv("--yes"), monkeypatch, stdin=token)
    assert status == 0, err
    assert "nginx: applied" in err and "ords: applied" in err
    assert token not in out + err
    assert site.comes_to_answer_new()
    after = site.doctor()
    for step in after.steps:
        if step.id in SET_UP_STEPS:
            assert step.status is not Status.FAIL, step
            warned = {f.code for f in step.findings if f.status is Status.WARN}
            assert warned <= EXPECTED_WARNINGS, warned
    assert {"challenge-401", "prm-reachable", "nginx-log-signature-free"} <= set(
        after.codes(Status.PASS)
    )
    # Created by setup before nginx could create it world-readable.
    assert "nginx-log-world-readable" not in after.codes()
    assert "nginx-log-private" in after.codes(Status.PASS)
    log = site.token_log.stat()
    assert stat.S_IMODE(log.st_mode) == 0o640
    assert (log.st_uid, log.st_gid) == (os.geteuid(), site.token_log.parent.stat().st_gid)
    repo = open_memory_dsn(f"memory:{site.state}")
    assert ROLE in [r.name for r in repo.roles()]
    privilege = next(p for p in repo.privileges() if "mcp" in p.modules)
    assert ROLE in privilege.roles and "ORDSUsers" in privilege.roles  # kept
    profile = repo.get_profile()
    assert profile is not None and profile.issuer == site.idp.issuer_v2
    # A second run finds nothing to change.
    status, out, err = run_cli(site.argv("--yes"), monkeypatch, stdin=token)
    assert status == 0, err
    assert "nothing to change" in out


def test_a_broken_change_rolls_back_and_nginx_serves_the_old_configuration(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bare configuration without headers-more: setup loads the "module" it is given,
    # which nginx -t refuses.
    site.nginx.reload(bare_conf(site.backend.port, load_headers_more=False))
    fake = tmp_path / "ngx_http_headers_more_filter_module.so"
    fake.write_bytes(b"not a shared object")
    files = site.files()
    argv = site.argv("--yes", "--only", "nginx", "--headers-more-module", str(fake))
    status, _, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 1, err
    assert "nginx: failed-restored" in err
    assert site.files() == files
    assert site.answers_old()
    assert not site.token_log.exists()  # created empty by this run, removed with it


def test_an_nginx_failure_that_was_there_before_does_not_roll_back_the_change(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another log, world-readable and full of bearer tokens: doctor's nginx step fails on
    # it before setup and after, and setup does not touch it.
    other = site.nginx.prefix / "logs" / "other.log"
    other.touch()
    other.chmod(0o644)
    site.nginx.reload(
        bare_conf(
            site.backend.port,
            http_extra="log_format with_auth '$request $http_authorization';",
            server_extra=f"access_log {other} with_auth;",
        )
    )
    assert site.comes_to_answer_old()
    failing = {(f.code, f.observed) for f in site.doctor().findings if f.status is Status.FAIL}
    assert ("nginx-log-world-readable", f"{other} -rw-r--r--") in failing
    argv = site.argv("--yes", "--only", "nginx", "--json")
    status, out, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 0, err
    nginx = json.loads(out)["results"]["nginx"]
    assert nginx["result"] == "applied", nginx
    (kept,) = nginx["probe"]["preexisting"]
    assert kept.startswith("pre-existing, not caused by setup: nginx: nginx-log-world-readable")
    assert str(other) in kept and nginx["probe"]["failures"] == []
    assert site.comes_to_answer_new()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs nginx's workers as another user")
def test_under_a_restrictive_umask_nginx_workers_still_read_the_new_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sudo on a hardened host: umask 077. The workers (nobody) must still read what setup
    # writes, or the metadata answers 403.
    with running_site(tmp_path, monkeypatch, workers="nobody nogroup") as site:
        argv = site.argv("--yes", "--only", "nginx")
        old = os.umask(0o077)
        try:
            status, _, err = run_cli(argv, monkeypatch, stdin=site.token())
        finally:
            os.umask(old)
        assert status == 0, err
        snippets = site.nginx.prefix / "conf" / "token-inspector"
        assert stat.S_IMODE(snippets.stat().st_mode) == 0o755
        assert {stat.S_IMODE(f.stat().st_mode) for f in snippets.iterdir()} == {0o644}
        assert site.comes_to_answer_new()
        status, _, body = site.nginx.request(f"/.well-known/oauth-protected-resource{MCP_PATH}")
        assert status == 200, body
        assert json.loads(body)["resource"] == site.mcp_url


def test_an_ords_failure_restores_the_schema(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = FaultyOrds()
    before = (list(repo.roles()), list(repo.privileges()), repo.get_profile())
    repo.fail("define_privilege")
    monkeypatch.setattr("inspector.cli.profile_steps.open_repository", lambda _settings: repo)
    monkeypatch.setattr(repo, "close", lambda: None)  # read afterwards
    argv = site.argv("--yes", "--only", "ords", dsn="memory:")
    status, _, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 1, err
    assert "ords: failed-restored" in err
    assert (list(repo.roles()), list(repo.privileges()), repo.get_profile()) == before


def test_dry_run_changes_nothing(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    files = site.files()
    status, out, err = run_cli(site.argv("--dry-run"), monkeypatch, stdin=site.token())
    assert status == 0, err
    assert "+++ b" in out and "ords.create_role" in out
    assert "dry run: nothing changed" in err
    assert "extended_safe" in out and "full bearer tokens" not in out
    argv = site.argv("--dry-run", "--full-token-log")
    status, out, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 0, err
    assert "will record full bearer tokens" in out and "switch back" in out
    assert site.files() == files
    assert not site.state.exists() and not site.backups.exists()
    assert site.answers_old()


def test_json_describes_the_plan_then_the_results(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_cli(site.argv("--dry-run", "--json"), monkeypatch, stdin=site.token())
    assert status == 0, err
    plan = json.loads(out)
    assert plan["schema_version"] == SCHEMA_VERSION
    assert plan["facts"]["mcp_url"] == site.mcp_url
    assert {c["path"] for c in plan["nginx"]["changes"]} >= {str(site.conf)}
    diffs = "".join(c["diff"] for c in plan["nginx"]["changes"])
    # Kept exact: redaction would have rewritten the safe format's own text.
    assert 'authorization:"$token_without_signature"' in diffs
    assert plan["ords"]["role_to_create"] == ROLE
    # --idp entra: Entra's checklist, naming the audience the planned profile is made with.
    assert plan["idp"]["family"] == "entra" and "results" not in plan
    audiences = [
        v["value"]
        for item in plan["idp"]["items"]
        for v in item["values"]
        if v["field"] == "ORDS profile p_audience"
    ]
    assert audiences == [plan["ords"]["profile"]["proposed"]["audience"]]
    status, out, err = run_cli(site.argv("--yes", "--json"), monkeypatch, stdin=site.token())
    assert status == 0, err
    done = json.loads(out)
    assert done["results"]["nginx"]["result"] == "applied"
    assert done["results"]["nginx"]["probe"]["ok"] is True
    assert done["results"]["ords"]["result"] == "applied"


def test_rollback_restores_the_previous_files(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    files = site.files()
    argv = site.argv("--yes", "--only", "nginx")
    status, _, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 0, err
    assert site.files() != files
    status, out, err = run_cli(["setup", "history"], monkeypatch)
    assert status == 0 and " apply applied: " in out
    status, out, err = run_cli(["setup", "history", "--json"], monkeypatch)
    (backup,) = json.loads(out)["backups"]
    assert backup["kind"] == "apply" and str(site.conf) in backup["files"]
    status, out, err = run_cli(["setup", "rollback", backup["backup"], "--yes"], monkeypatch)
    assert status == 0, err
    assert "rollback: applied" in out
    assert site.files() == files
    assert site.comes_to_answer_old()


def test_ords_goes_first_so_a_module_not_protected_yet_gets_its_challenge(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ORDS answers without a token until setup's privilege protects the module: nginx's
    # probe can only pass once the ORDS part is done.
    site.backend.protected = site.role_protects_the_module
    status, _, _ = site.nginx.request(MCP_PATH, method="POST", body=b"{}")
    assert status == 200
    # A first setup: no connector token yet (it only gets one after the challenge).
    argv = [a for a in site.argv("--yes") if a not in ("--token", "-")]
    argv += ["--issuer", site.idp.issuer_v2]
    status, out, err = run_cli(argv, monkeypatch)
    assert status == 0, err
    assert err.index("ords: applied") < err.index("nginx: applied")
    assert out.index("1. ORDS") < out.index("2. nginx")
    assert site.comes_to_answer_new()
    assert site.role_protects_the_module()
    assert open_memory_dsn(f"memory:{site.state}").get_profile() is None  # no token, no profile


def test_nginx_alone_on_an_unprotected_module_says_to_set_up_ords_first(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.backend.protected = site.role_protects_the_module
    files = site.files()
    argv = site.argv("--yes", "--only", "nginx", "--json")
    status, out, err = run_cli(argv, monkeypatch, stdin=site.token())
    assert status == 1, err
    nginx = json.loads(out)["results"]["nginx"]
    assert nginx["result"] == "refused" and nginx["backup"] is None
    assert "ORDS does not protect the MCP module" in nginx["failure"]
    assert "--only ords" in nginx["failure"]
    assert site.files() == files and not site.backups.exists()


@pytest.mark.parametrize(
    ("answers", "result"),
    [([False], None), ([True, False], "declined"), ([True, True, False], "declined")],
)
def test_each_step_is_asked_for_and_a_no_stops_there(
    answers: list[bool], result: str | None, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return answers[len(asked) - 1]

    monkeypatch.setattr("inspector.cli.setup_apply.confirm", confirm)
    files = site.files()
    status, out, err = run_cli(site.argv("--json"), monkeypatch, stdin=site.token())
    assert status == 1, err
    assert len(asked) == len(answers)
    results = json.loads(out)["results"]
    assert "ORDS" in asked[0]
    if len(answers) > 1:
        assert "nginx -t" in asked[1]
    if len(answers) > 2:
        assert "reload" in asked[2].lower()
    if result is None:
        assert results["ords"]["result"] == "declined" and "nginx" not in results
        assert not site.state.exists()  # nothing committed to the stand-in
    else:
        assert results["ords"]["result"] == "applied"
        assert results["nginx"]["result"] == result
        assert site.role_protects_the_module()  # ORDS was set up, nginx was not
    assert site.files() == files and site.comes_to_answer_old()
