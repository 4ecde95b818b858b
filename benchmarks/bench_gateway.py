"""The latency the declaring gateway adds to a call, on loopback.

    python benchmarks/bench_gateway.py [--calls 200] [--warmup 20] [--json out.json]

Starts the bundled demo model as an OpenAI-compatible server, ``vc-runid gateway --home`` in
front of it (its own key), and ``vc-runid serve --gateway-upstream`` (the gateway inside the
issuer service: every call declared and bound through the service's logged run endpoints). Then,
one call at a time (so the figure is the added latency of one call, not a throughput), the
three targets in turn (so that each sees the same load on a shared machine):

- non-streaming ``POST /v1/chat/completions``: total time, direct vs through each gateway;
- streaming: time to the first byte of the body (TTFB), direct vs through each gateway.

Added latency = gateway p50/p99 − direct p50/p99; the gateway's ``Server-Timing`` header
splits it (``runid-declare``: sign + store before forwarding; ``runid-bind``: after the answer). The client is httpx on a keep-alive
connection; all processes share the machine (report ``uptime`` with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from vc_runid.demo.model import MODEL_ID

BODY = {"model": MODEL_ID, "messages": [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "what does the declaration say"}],
        "temperature": 0, "max_tokens": 16}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], ready: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(ready, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{command} did not start")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def server_timing(header: str | None, into: dict[str, list[float]]) -> None:
    for part in (header or "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            into.setdefault(name, []).append(float(duration))


def one_call(client: httpx.Client, url: str, stream: bool) -> tuple[float, str | None]:
    started = time.perf_counter()
    if stream:
        with client.stream("POST", url, json={**BODY, "stream": True}) as response:
            chunks = response.iter_raw()
            first = next(chunks)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200 and first
            for _ in chunks:
                pass
    else:
        response = client.post(url, json=BODY)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
    return elapsed * 1000, response.headers.get("server-timing")


def measure(client: httpx.Client, targets: dict[str, str], calls: int, warmup: int, stream: bool) -> dict[str, Any]:
    """Round robin over the targets, so that each sees the same load on a shared machine."""
    times: dict[str, list[float]] = {name: [] for name in targets}
    timings: dict[str, dict[str, list[float]]] = {name: {} for name in targets}
    for i in range(warmup + calls):
        for name, url in targets.items():
            elapsed, header = one_call(client, url, stream)
            if i >= warmup:
                times[name].append(elapsed)
                server_timing(header, timings[name])
    return {
        name: {"p50": statistics.median(values), "p99": percentile(values, 99), "calls": len(values),
               "server_timing_p50": {k: statistics.median(v) for k, v in timings[name].items()}}
        for name, values in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        up, gw, svc = free_port(), free_port(), free_port()
        upstream = f"http://127.0.0.1:{up}/v1"
        processes = [start([python, "-m", "vc_runid.gateway.demo_upstream", "--port", str(up)], f"{upstream}/models")]
        try:
            processes.append(start([python, "-m", "vc_runid", "gateway", "--upstream", upstream, "--port", str(gw),
                                    "--home", str(tmp / "gateway")], f"http://127.0.0.1:{gw}/v1/models"))
            processes.append(start([python, "-m", "vc_runid", "serve", "--port", str(svc), "--home", str(tmp / "service"),
                                    "--gateway-upstream", upstream], f"http://127.0.0.1:{svc}/v1/models"))
            targets = {
                "direct": f"{upstream}/chat/completions",
                "gateway --home": f"http://127.0.0.1:{gw}/v1/chat/completions",
                "serve --gateway-upstream": f"http://127.0.0.1:{svc}/v1/chat/completions",
            }
            results: dict[str, Any] = {}
            with httpx.Client(timeout=60) as client:
                for stream in (False, True):
                    for name, figures in measure(client, targets, args.calls, args.warmup, stream).items():
                        results[f"{name} {'ttfb' if stream else 'total'}"] = figures
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(20)
    print(f"{'':34} {'p50 ms':>8} {'p99 ms':>8} {'+p50':>8} {'+p99':>8}")
    for key, figures in results.items():
        kind = key.rsplit(" ", 1)[1]
        base = results[f"direct {kind}"]
        inside = "  ".join(f"{k} {v:.1f}" for k, v in figures["server_timing_p50"].items())
        print(f"{key:34} {figures['p50']:8.2f} {figures['p99']:8.2f} "
              f"{figures['p50'] - base['p50']:8.2f} {figures['p99'] - base['p99']:8.2f}  {inside}")
    print(f"load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
