"""Benchmark: ``scan`` over a log where every line carries a token never seen before.

The issue's worst case: 1,000,000 lines, 1,000,000 distinct tokens, each really signed
(RS256, 2048-bit key) and valid at its line's time, unique request lines, a timestamp per
second. Signing a million tokens takes minutes, so the log is generated once into
``--dir`` (kept and reused when it already holds a log of that size) and its generation
is timed apart. The measured command is the real one in a child process, output to
/dev/null: ``scan --json`` and the report, each with wall time, CPU time (the command and
its workers) and peak RSS. Goal: under 30 s.

Run: ``python -m bench.million_tokens [--tokens N] [--dir D] [--modes json report]``.
Not part of ``make bench`` (generation alone takes minutes); run it on its own.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.synthetic import CLIENT_ADDRESSES, EXTENDED_TEMPLATE, USER_AGENTS
from inspector.demo.idp import LocalIdP
from parsers.nginx.escape import escape_default
from parsers.nginx.time import format_time_local

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GOAL_S = 30.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _chunk(job: tuple[bytes, str, dict[str, object], int, int, str]) -> int:
    """Write lines ``[first, stop)`` to ``path``, each with a new signed token."""
    pem, kid, claims, first, stop, path = job
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    head = _b64(json.dumps({"typ": "JWT", "alg": "RS256", "kid": kid}).encode())
    pad, digest = padding.PKCS1v15(), hashes.SHA256()
    agents = [escape_default(ua) for ua in USER_AGENTS]
    with open(path, "w", encoding="ascii", newline="\n") as out:
        batch: list[str] = []
        for i in range(first, stop):
            when = START + timedelta(seconds=i)
            iat = int(when.timestamp()) - 60
            body = {
                **claims,
                "iat": iat,
                "nbf": iat,
                "exp": iat + 3600,
                "oid": f"{i:08d}-0000-4000-8000-000000000000",
                "uti": _b64(i.to_bytes(8, "big")),
            }
            signing_input = f"{head}.{_b64(json.dumps(body).encode())}"
            signature = _b64(key.sign(signing_input.encode("ascii"), pad, digest))
            status = "401" if i % 10 == 9 else "200"
            batch.append(
                f"{CLIENT_ADDRESSES[i % len(CLIENT_ADDRESSES)]} - - [{format_time_local(when)}] "
                f'"POST /ords/demo/mcp/?request_id={i:010d} HTTP/1.1" {status} {i % 4000} '
                f'referer:"-" ua:"{agents[i % len(agents)]}" content-type:"application/json" '
                f'authorization:"Bearer {signing_input}.{signature}" '
                f'mcp-protocol-version:"2025-06-18"\n'
            )
            if len(batch) >= 2048:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return stop - first


def generate(root: Path, count: int, processes: int) -> tuple[Path, Path, float]:
    """The log and JWKS under ``root`` (reused when already there); (log, jwks, seconds)."""
    log, jwks, done = root / "million.log", root / "jwks.json", root / "lines.txt"
    if done.exists() and done.read_text() == str(count) and log.exists() and jwks.exists():
        return log, jwks, 0.0
    started = time.perf_counter()
    idp = LocalIdP()
    signer = idp.keys[0]
    pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    claims = idp.entra_v2_claims(now=START.timestamp())
    step = max(1, -(-count // (processes * 8)))
    jobs = [
        (pem, signer.kid, claims, first, min(count, first + step), str(root / f"part-{n:04d}"))
        for n, first in enumerate(range(0, count, step))
    ]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        written = sum(pool.map(_chunk, jobs))
    assert written == count
    with log.open("wb") as out:
        for job in jobs:
            part = Path(job[5])
            out.write(part.read_bytes())
            part.unlink()
    jwks.write_text(json.dumps(idp.jwks()))
    done.write_text(str(count))
    return log, jwks, time.perf_counter() - started


def measure(argv: list[str]) -> tuple[float, float, int, float]:
    """The command in a child process: (seconds, CPU seconds, exit status, peak MiB).

    CPU and peak are that command's alone (``os.wait4``): its own and its workers'.
    """
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen([sys.executable, "-m", "inspector", *argv], cwd=ROOT, stdout=sink)
        _, code, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(code)
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, child.returncode, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the log, run the scans, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, help="where the log is kept (default: a temp dir)")
    parser.add_argument("--modes", nargs="+", choices=("json", "report"), default=["json"])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="million-") as tmp:
        root = opts.dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        log, jwks, took = generate(root, opts.tokens, opts.processes)
        config = root / "empty.toml"
        config.write_text("")
        label = f"[{opts.tokens:,} lines, {opts.tokens:,} distinct signed tokens]"
        size = log.stat().st_size / 2**20
        how = f"generated in {took:.0f} s" if took else "reused from an earlier run"
        print(f"{label} log: {size:.0f} MiB, {how} ({opts.processes} processes; not "
              f"measured); load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
        failed = False
        for mode in opts.modes:
            args = ["scan", str(log), "--log-format", EXTENDED_TEMPLATE, "--jwks", str(jwks),
                    "--config", str(config)] + (["--json"] if mode == "json" else [])  # fmt: skip
            seconds, cpu, status, peak = measure(args)
            goal = "met" if seconds < GOAL_S else "NOT met"
            print(f"{label} scan{' --json' if mode == 'json' else ' (report)'}: {seconds:.1f} s "
                  f"(cpu {cpu:.1f} s, exit {status}, {cpu / opts.tokens * 1e6:.0f} us cpu per "
                  f"token); peak RSS {peak:.0f} MiB (largest of the command and its "
                  f"workers); load average {os.getloadavg()[0]:.2f}; goal < {GOAL_S:.0f} s: "
                  f"{goal}", flush=True)  # fmt: skip
            failed = failed or status not in (0, 1)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
