"""Load on the issuer service: N concurrent clients POST /runs on loopback for a bounded time.

    python benchmarks/bench_server.py [--clients 64] [--seconds 15] [--workers 2] [--format di]
                                      [--backend sqlite|postgresql|both] [--load python|wrk] [--json out.json]

Reports declarations/s, p50/p99 latency and the error count (must be 0), per backend. Every
request is durable when answered (SQLite synchronous=FULL in WAL mode; PostgreSQL with fsync and
synchronous_commit on), and after the run the log is checked to hold every declaration that was
answered 201 (its signed checkpoint's size against the count). The load generator runs on the same
machine and competes for its cores: ``--load python`` (default) is a lean asyncio client, one
keep-alive HTTP/1.1 connection per client and the request bytes built once (about 0.05 ms of CPU
per request, where an httpx client costs about 1 ms); ``--load wrk`` runs ``wrk`` instead (C, when
installed; p50/p99 from its ``--latency`` report). PostgreSQL is a throwaway cluster started from
/usr/lib/postgresql/*/bin (as user postgres when run as root), or ``--database URL`` for an
existing one.
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
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import create_token
from vc_runid.store.home import init_home

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
    """``clients`` keep-alive connections, each sending POST /runs as soon as the previous answer
    is in, for ``seconds``."""
    import asyncio

    body = json.dumps({"composition": COMPOSITION, "format": proof_format}).encode()
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"POST /runs HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors: list[str] = []

    async def client(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = next(
                    int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
                )
                answer = await reader.readexactly(length)
                if status == 201:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors.append(f"HTTP {status}: {answer[:300].decode(errors='replace')}")
        except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
            errors.append(type(exc).__name__)
        finally:
            writer.close()

    async def run() -> float:
        began = time.perf_counter()
        await asyncio.gather(*(client(began + seconds) for _ in range(clients)))
        return time.perf_counter() - began

    wall = asyncio.run(run())
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


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def load_wrk(url: str, token: str, clients: int, seconds: float, proof_format: str) -> dict[str, Any]:
    """The same load from ``wrk`` (2 threads, ``clients`` connections); its latency report."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("--load wrk: wrk is not installed")
    body = json.dumps({"composition": COMPOSITION, "format": proof_format})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (body, token))
    try:
        out = subprocess.run(
            [wrk, "-t2", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-s", script.name, f"{url}/runs"],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(script.name)

    lines = out.splitlines()

    def line(prefix: str) -> str | None:
        return next((text.strip() for text in lines if text.strip().startswith(prefix)), None)

    def ms(label: str) -> float:
        value = str(line(label)).split()[1]
        unit = value.lstrip("0123456789.")
        return round(float(value[: len(value) - len(unit)]) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 1)

    total = int(next(text.split()[0] for text in lines if " requests in " in text))
    non_2xx = int(str(line("Non-2xx")).split(":")[1]) if line("Non-2xx") else 0
    socket_errors = sum(int(part.split()[1]) for part in str(line("Socket errors")).split(":", 1)[1].split(",")) \
        if line("Socket errors") else 0
    rate = float(str(line("Requests/sec")).split()[1])
    ok = total - non_2xx
    return {
        "requests": ok,
        "declarations_per_s": round(rate * ok / total, 1) if total else 0.0,
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "mean_ms": None,
        "errors": non_2xx + socket_errors,
        "error_kinds": [f"wrk: {non_2xx} non-2xx answers, {socket_errors} socket errors"] if non_2xx + socket_errors else [],
    }


def log_size(url: str) -> int:
    """The size of the log's signed checkpoint (the signature checked)."""
    from vc_runid.cli.serve import checkpoint_key
    from vc_runid.transparency import verify_signed_checkpoint

    note = httpx.get(f"{url}/log/checkpoint").text
    key_name, key = checkpoint_key(note, None)
    return verify_signed_checkpoint(note, key_name, key).tree_size


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
    generate = load_wrk if args.load == "wrk" else load
    try:
        warm = generate(url, token, args.clients, min(2.0, args.seconds), args.format)
        result = generate(url, token, args.clients, args.seconds, args.format)
        # Every declaration answered 201 is in the signed log (the durability promise, checked).
        result["log_size"] = log_size(url)
        result["log_ok"] = result["log_size"] >= warm["requests"] + result["requests"]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
    return {"backend": backend, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--format", default="di", choices=["di", "di-2020", "jose", "jwt-1.1"])
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--database", help="an existing postgresql:// URL instead of a throwaway cluster")
    parser.add_argument("--load", default="python", choices=["python", "wrk"], help="the load generator")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [run_backend(b, args) for b in backends]
    print(f"# {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{args.clients} clients ({args.load}), {args.workers} worker(s), format {args.format}, {args.seconds:g} s")
    print(f"{'backend':<11} {'decl/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'log':>9}")
    for r in results:
        log = "ok" if r["log_ok"] else "MISSING"
        print(f"{r['backend']:<11} {r['declarations_per_s']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['errors']:>7} {log:>9}")
        for kind in r["error_kinds"][:5]:
            print(f"  error: {kind}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
