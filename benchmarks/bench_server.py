"""Load on the issuer service: N concurrent clients POST /runs on loopback for a bounded time.

    python benchmarks/bench_server.py [--clients 32] [--seconds 10] [--workers 2] [--format di]
                                      [--backend sqlite|postgresql|both] [--json out.json]

Reports declarations/s, p50/p99 latency and the error count (must be 0), per backend. Every
request is durable when answered (SQLite synchronous=FULL in WAL mode; PostgreSQL with fsync and
synchronous_commit on). The load generator runs on the same machine and competes for its cores.
PostgreSQL is a throwaway cluster started from /usr/lib/postgresql/*/bin (as user postgres when
run as root), or ``--database URL`` for an existing one.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from vc_runid.credentials import init_home
from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import create_token

COMPOSITION = {
    "model": {"modelId": "llama-3.1-8b-instruct", "provider": "local", "revision": "r1"},
    "input": {"digestMultibase": "uEiCvZBZBqvVCLLCsoTrbqVVjK0_WCmXVCgCbmFCoq1QxSQ", "salted": True},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayPostgres:
    def __init__(self) -> None:
        bindir = Path(max(glob.glob("/usr/lib/postgresql/*/bin/initdb"))).parent
        self.dir = Path(tempfile.mkdtemp(prefix="runid-bench-pg-"))
        self.port = free_port()
        prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            prefix = ["runuser", "-u", "postgres", "--"]
        self.stop_cmd = prefix + [str(bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "stop"]
        subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on"
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-o", options,
                                 "-l", str(self.dir / "pg.log"), "-w", "start"], check=True, capture_output=True)

    def url(self) -> str:
        import psycopg

        name = "bench_" + uuid.uuid4().hex[:8]
        base = f"postgresql://postgres@127.0.0.1:{self.port}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"{base}/{name}"

    def stop(self) -> None:
        subprocess.run(self.stop_cmd, capture_output=True, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_server(home: Path, database: str | None, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "vc_runid.server", "--port", str(port), "--home", str(home), "--workers", str(workers)]
    if database:
        command += ["--database", database]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/log/checkpoint", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def load(url: str, token: str, clients: int, seconds: float, proof_format: str) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    body = {"composition": COMPOSITION, "format": proof_format}
    start_gate = threading.Barrier(clients + 1)
    deadline = 0.0

    def client() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            start_gate.wait()
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                try:
                    response = http.post("/runs", json=body)
                    ok = response.status_code == 201
                    why = "" if ok else f"HTTP {response.status_code}: {response.text[:300]}"
                except httpx.HTTPError as exc:
                    ok, why = False, type(exc).__name__
                elapsed = time.perf_counter() - t0
                if ok:
                    mine.append(elapsed)
                else:
                    with lock:
                        errors.append(why)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    began = time.monotonic()
    start_gate.wait()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "requests": len(latencies),
        "declarations_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(pct(0.50), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def log_is_consistent(url: str) -> bool:
    """Spot check after the load: sizes agree and a consistency proof to the end verifies."""
    from vc_runid.server.commands import checkpoint_key
    from vc_runid.transparency import parse_signed_checkpoint, verify_signed_checkpoint

    note = httpx.get(f"{url}/log/checkpoint").text
    key_name, key = checkpoint_key(note, None)
    return verify_signed_checkpoint(note, key_name, key).tree_size == parse_signed_checkpoint(note)[0].tree_size


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"runid-bench-{backend}-"))
    cluster: ThrowawayPostgres | None = None
    database = None
    if backend == "postgresql":
        if args.database:
            database = args.database
        else:
            cluster = ThrowawayPostgres()
            database = cluster.url()
    init_home(home)
    storage = open_storage(home, database)
    token = create_token(storage, "bench")
    storage.close()
    process, url = start_server(home, database, args.workers)
    try:
        load(url, token, args.clients, min(2.0, args.seconds), args.format)  # warm-up
        result = load(url, token, args.clients, args.seconds, args.format)
        result["log_ok"] = log_is_consistent(url)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
    return {"backend": backend, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--format", default="di", choices=["di", "di-2020", "jose", "jwt-1.1"])
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--database", help="an existing postgresql:// URL instead of a throwaway cluster")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [run_backend(b, args) for b in backends]
    print(f"# {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{args.clients} clients, {args.workers} worker(s), format {args.format}, {args.seconds:g} s")
    print(f"{'backend':<11} {'decl/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        print(f"{r['backend']:<11} {r['declarations_per_s']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['errors']:>7}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
