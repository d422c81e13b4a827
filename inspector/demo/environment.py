"""Everything the demo runs on, started and stopped together.

A loopback IdP with a key generated at start, a temporary directory holding the access
log (reference ``extended`` format) and the audit file, the in-memory ORDS stand-in, the
key store and analyzer the screen uses, and the replay thread writing the story.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from inspector.demo.idp import LocalIdP
from inspector.demo.replay import Replayer
from inspector.demo.scenario import (
    DemoTokens,
    afterwards,
    first_connection,
    mint_tokens,
)
from inspector.demo.tls import make_demo_tls
from inspector.judge.analyzer import Analyzer
from inspector.judge.expectations import Expectations
from inspector.keys.store import KeyStore
from inspector.ords.audit import AuditLog
from inspector.ords.proposal import ProposalOptions
from inspector.ords.standin import InMemoryOrds
from parsers.nginx.conf import EXTENDED_TEMPLATE
from parsers.nginx.log_format import LineParser, compile_format, parse_log_format_string

RecordSource = Callable[[threading.Event], Iterator[object]]


@dataclass
class DemoEnvironment:
    """Started by :func:`start_demo`; ``close()`` stops the replay and the IdP, removes files."""

    idp: LocalIdP
    directory: Path
    log_path: Path
    parser: LineParser
    repository: InMemoryOrds
    keys: KeyStore
    analyzer: Analyzer
    tokens: DemoTokens
    replayer: Replayer
    audit: AuditLog
    keep_files: bool = False

    def proposal_options(self) -> ProposalOptions:
        """Proposals name the demo in the profile's description."""
        return ProposalOptions(description="token-inspector demo")

    def close(self) -> None:
        """Stop everything the demo started."""
        self.replayer.stop()
        self.idp.stop()
        if not self.keep_files:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_demo(*, speed: float = 1.0, keep_files: bool = False) -> DemoEnvironment:
    """Start the IdP, create the log and the stand-in; the replay is started by the caller."""
    directory = Path(tempfile.mkdtemp(prefix="token-inspector-demo-"))
    try:
        tls = make_demo_tls(directory)
        idp = LocalIdP(scheme="https", ssl_context=tls.server_context).start()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    try:
        log_path = directory / "extended.log"
        log_path.touch()
        parser = compile_format(parse_log_format_string(EXTENDED_TEMPLATE, name="extended"))
        repository = InMemoryOrds(schema="DEMO")
        # Loopback only: trust just the demo CA, and never send these requests via a proxy.
        http = requests.Session()
        http.trust_env = False
        http.verify = str(tls.ca_file)
        # The demo's IdP is the one the admin set up: its issuers are trusted (anchored),
        # so its loopback address may be reached and `a` asks the usual single question.
        keys = KeyStore(timeout=2.0, session=http, trusted_issuers=(idp.issuer_v2, idp.issuer_v1))
        analyzer = Analyzer(keys, Expectations())
        tokens = mint_tokens(idp)
        replayer = Replayer(
            log_path,
            parser,
            repository,
            analyzer,
            first_connection(tokens),
            afterwards(tokens),
            speed=speed,
        )
    except BaseException:
        idp.stop()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return DemoEnvironment(
        idp=idp,
        directory=directory,
        log_path=log_path,
        parser=parser,
        repository=repository,
        keys=keys,
        analyzer=analyzer,
        tokens=tokens,
        replayer=replayer,
        audit=AuditLog(directory / "audit.jsonl"),
        keep_files=keep_files,
    )
