"""What witness cosigning costs: per checkpoint at a witness, per declaration at the service.

    python benchmarks/bench_witness.py [--checkpoints 200] [--declarations 100] [--clients 16]
                                       [--seconds 8] [--json out.json]

Three figures, every process real and on 127.0.0.1 (``vc-runid witness serve``, ``vc-runid serve``):

1. **add-checkpoint at one witness**: a log driven in this process signs a checkpoint one entry
   larger each time and posts it with its consistency proof; the round trip covers HTTP, the
   log-signature check, the proof check, the SQLite commit with fsync and the cosignature.
2. **one declaration at a time** through the service without witnesses and with two witnesses
   (quorum 2): each declaration makes a new checkpoint that both witnesses must cosign before
   the receipt is returned, so the difference is the cosigning latency per checkpoint.
3. **concurrent declarations** (``--clients`` at once for ``--seconds``) with and without
   witnesses: one cosigning round answers every request committed meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server.conftest import Server, free_port
from vc_runid.store.home import init_home
from vc_runid.transparency import Checkpoint, MerkleTree, leaf_hash, sign_checkpoint, vkey
from vc_runid.transparency.witness_protocol import format_add_checkpoint
from vc_runid.witness.server import add_log, init_witness

COMPOSITION = {
    "model": {"modelId": "llama-3.1-8b-instruct", "provider": "local", "revision": "r1"},
    "input": {"digestMultibase": "uEiCvZBZBqvVCLLCsoTrbqVVjK0_WCmXVCgCbmFCoq1QxSQ", "salted": True},
}


class Witness:
    def __init__(self, home: Path, name: str, log_vkey: str) -> None:
        self.name, self.vkey = name, init_witness(home, name)
        add_log(home, log_vkey)
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vc_runid", "witness", "serve", "--home", str(home), "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("witness did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def option(self) -> str:
        return f"{self.name}={self.vkey}={self.url}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def add_checkpoint_latency(root: Path, count: int) -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    origin = "bench.example/log"
    witness = Witness(root / "w-direct", "w.example/direct", vkey(origin, key.public_key()))
    tree = MerkleTree()
    times = []
    try:
        with httpx.Client(timeout=10) as client:
            old = 0
            for i in range(count):
                tree.append(leaf_hash(b"entry-%d" % i))
                note = sign_checkpoint(Checkpoint(origin=origin, tree_size=tree.size, root_hash=tree.root()), origin, key)
                body = format_add_checkpoint(old, tree.consistency_proof(old, tree.size) if old else [], note)
                start = time.perf_counter()
                response = client.post(f"{witness.url}/add-checkpoint", content=body)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
                old = tree.size
    finally:
        witness.stop()
    return {"checkpoints": count, "p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99), "mean_ms": statistics.mean(times) * 1000}


def sequential(server: Server, count: int) -> dict[str, Any]:
    times = []
    with server.client() as client:
        for _ in range(count):
            start = time.perf_counter()
            response = client.post("/runs", json={"composition": COMPOSITION})
            times.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
    return {"declarations": count, "p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99)}


def concurrent(server: Server, clients: int, seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.tokens['alice']}"}

    async def main() -> tuple[int, int, list[float]]:
        ok = errors = 0
        times: list[float] = []
        stop = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60,
                                     limits=httpx.Limits(max_connections=clients)) as client:

            async def worker() -> None:
                nonlocal ok, errors
                while time.monotonic() < stop:
                    start = time.perf_counter()
                    response = await client.post("/runs", json={"composition": COMPOSITION})
                    times.append(time.perf_counter() - start)
                    if response.status_code == 201:
                        ok += 1
                    else:
                        errors += 1

            await asyncio.gather(*(worker() for _ in range(clients)))
        return ok, errors, times

    ok, errors, times = asyncio.run(main())
    return {"clients": clients, "seconds": seconds, "declarations_per_s": ok / seconds, "errors": errors,
            "p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=200)
    parser.add_argument("--declarations", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="runid-bench-witness-"))
    results: dict[str, Any] = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                               "loadavg_before": os.getloadavg()}
    results["add_checkpoint"] = add_checkpoint_latency(root, args.checkpoints)
    print("add-checkpoint at one witness:", json.dumps(results["add_checkpoint"]))
    for label, witnesses in (("no_witness", 0), ("two_witnesses", 2)):
        home = root / label / "service"
        issuer = init_home(home)[0]
        log_vkey = vkey(issuer.did, issuer.key.private_key.public_key())
        running = [Witness(root / label / f"w{i}", f"w{i}.example/w", log_vkey) for i in range(witnesses)]
        extra = [a for w in running for a in ("--witness", w.option())] + (["--witness-quorum", str(witnesses)] if witnesses else [])
        server = Server(home, extra_args=extra)
        try:
            results[label] = {"sequential": sequential(server, args.declarations),
                              "concurrent": concurrent(server, args.clients, args.seconds)}
        finally:
            server.kill(signal.SIGTERM)
            for w in running:
                w.stop()
        print(f"{label}:", json.dumps(results[label]))
    results["loadavg_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
