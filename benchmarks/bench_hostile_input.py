"""What hostile input costs now (issue 8 §4): oversized encodings, and heavy public verifications
against the issuer service's issuance.

    python benchmarks/bench_hostile_input.py [--verifications 6] [--seconds 10] [--json out.json]

1. **Encodings.** The time to refuse a credential whose ``proofValue`` is 1 MiB of base58, next to
   what decoding base58 costs (quadratic: the reason lengths are bounded before decoding).
2. **Service liveness.** One service process (``python -m vc_runid.server``, SQLite). While
   ``--verifications`` clients POST a legitimate 800 KB credential to ``/credentials/verify`` in a
   loop, one client times ``GET /log/checkpoint`` and ``POST /runs`` one after the other; the same
   is measured with no verification load for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import base58
import httpx

from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import create_token
from vc_runid.store.home import init_home
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.verification import Verifier

COMPOSITION = {
    "model": {"modelId": "llama-3.1-8b-instruct", "provider": "local", "revision": "r1"},
    "input": {"digestMultibase": "uEiCvZBZBqvVCLLCsoTrbqVVjK0_WCmXVCgCbmFCoq1QxSQ", "salted": True},
}


def encodings() -> dict[str, float]:
    issuer = Issuer.generate()
    credential: Any = issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:1", "name": "A"}},
        issuer,
    )
    credential["proof"]["proofValue"] = "z" + "2" * (1 << 20)
    started = time.perf_counter()
    report = Verifier().verify_credential(credential)
    refuse = time.perf_counter() - started
    assert not report.valid
    figures = {"refuse_1MiB_proofValue_s": refuse}
    for size in (10_000, 20_000, 40_000):
        started = time.perf_counter()
        base58.b58decode("2" * size)
        figures[f"b58decode_{size // 1000}k_chars_s"] = time.perf_counter() - started
    return figures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def heavy_body() -> bytes:
    secured = issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": [{"id": f"did:example:{i}", "name": f"n{i}"} for i in range(20_000)]},
        Issuer.generate(),
    )
    return json.dumps({"verifiableCredential": secured}).encode()


def probe(url: str, token: str, seconds: float) -> dict[str, list[float]]:
    """Two clients for ``seconds``, one timing GET /log/checkpoint, one POST /runs, each pausing
    0.1 s between requests."""
    times: dict[str, list[float]] = {"checkpoint": [], "declare": []}
    deadline = time.monotonic() + seconds

    def loop(name: str) -> None:
        with httpx.Client(base_url=url, timeout=300, headers={"Authorization": f"Bearer {token}"}) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                if name == "checkpoint":
                    assert client.get("/log/checkpoint").status_code == 200
                else:
                    assert client.post("/runs", json={"composition": COMPOSITION}).status_code == 201
                times[name].append(time.perf_counter() - started)
                time.sleep(0.1)

    threads = [threading.Thread(target=loop, args=(name,)) for name in times]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": 1000 * statistics.median(ordered), "max_ms": 1000 * ordered[-1]}


def liveness(verifications: int, seconds: float) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="runid-bench-hostile-")) / "home"
    init_home(home)
    storage = open_storage(home, None)
    token = create_token(storage, "bench")
    storage.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "vc_runid.server", "--port", str(port), "--home", str(home)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/log/checkpoint", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        quiet = probe(url, token, seconds)
        body = heavy_body()
        stop = threading.Event()
        verified: list[float] = []

        def verify() -> None:
            with httpx.Client(base_url=url, timeout=300) as client:
                while not stop.is_set():
                    started = time.perf_counter()
                    client.post("/credentials/verify", content=body, headers={"content-type": "application/json"})
                    verified.append(time.perf_counter() - started)

        threads = [threading.Thread(target=verify, daemon=True) for _ in range(verifications)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        busy = probe(url, token, seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    return {
        "quiet": {k: summary(v) for k, v in quiet.items()},
        "under_verification_load": {k: summary(v) for k, v in busy.items()},
        "verifications": summary(verified) if verified else {},
        "concurrent_verifying_clients": verifications,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verifications", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-encodings", action="store_true", help="(for a baseline older than the length bounds)")
    args = parser.parse_args()
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "encodings": {} if args.skip_encodings else encodings(),
        "service": liveness(args.verifications, args.seconds),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
