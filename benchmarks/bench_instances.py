"""Declarations/s with 1, 2 and 3 service instances sharing one PostgreSQL database.

    python benchmarks/bench_instances.py [--instances 1,2,3] [--clients 48] [--seconds 12] [--json out.json]

Each instance is a separate ``vc-runid serve`` process (one worker) on its own port, with its own
copy of the home (the same issuer key) and the same ``--database``, as on separate machines
behind a load balancer; the clients are spread evenly over the instances. Every answer is durable
(PostgreSQL with ``fsync`` and ``synchronous_commit`` on) and after each run the one log must
hold at least every declaration answered 201. Uses the lean load generator and the throwaway
PostgreSQL of bench_server.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import ThrowawayPostgres, load, log_size, start_server

from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import create_token
from vc_runid.store.home import init_home


def run(count: int, database: str, root: Path, clients: int, seconds: float) -> dict[str, Any]:
    first = root / f"n{count}-0"
    init_home(first)
    storage = open_storage(first, database)
    try:
        token = create_token(storage, f"bench-{count}")
    finally:
        storage.close()
    servers = [start_server(first, database, workers=1)]  # creates every key the home needs, once
    for n in range(1, count):
        home = root / f"n{count}-{n}"
        shutil.copytree(first, home)
        servers.append(start_server(home, database, workers=1))
    before = log_size(servers[0][1])
    results: list[dict[str, Any]] = [{} for _ in servers]

    def drive(i: int) -> None:
        share = clients // count + (1 if i < clients % count else 0)
        results[i] = load(servers[i][1], token, share, seconds, "di")

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = log_size(servers[-1][1])
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)
    answered = sum(r["requests"] for r in results)
    assert after - before >= answered, f"the log holds {after - before} new entries, {answered} were acknowledged"
    return {
        "instances": count,
        "declarations_per_s": round(sum(r["declarations_per_s"] for r in results), 1),
        "per_instance": [r["declarations_per_s"] for r in results],
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "logged": after - before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="1,2,3")
    parser.add_argument("--clients", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--database", help="an existing postgresql:// URL instead of a throwaway cluster")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="runid-bench-instances-"))
    cluster = None if args.database else ThrowawayPostgres()
    out: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "runs": []}
    try:
        for count in (int(n) for n in args.instances.split(",")):
            database = args.database or cluster.url()  # type: ignore[union-attr]
            out["loadavg_before"] = out.get("loadavg_before") or os.getloadavg()
            result = run(count, database, root, args.clients, args.seconds)
            result["loadavg"] = os.getloadavg()
            out["runs"].append(result)
            print(json.dumps(result), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
