"""Several instances, one log: three service processes on different ports sharing one PostgreSQL
database take a bounded burst of concurrent declarations and bindings; one of them is killed with
-9 mid-burst and restarted. Afterwards every acknowledged entry is in the one log, every receipt
verifies against its checkpoint and the final one, consistency proofs link every checkpoint any
instance handed out, and `vc-runid log audit` is clean."""

from __future__ import annotations

import base64
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from vc_runid.runs.declaration import log_leaf_data
from vc_runid.transparency import leaf_hash, parse_signed_checkpoint, verify_consistency
from vc_runid.transparency.receipt import Receipt, verify_receipt

from .conftest import Postgres, Server
from .helpers import COMPOSITION, output_body, receipt_verifies

RUNS = 90  # declarations, each then bound: 180 acknowledged entries at most
THREADS = 9
KILL_AFTER = 30  # runs started before instance 1 is killed


@pytest.fixture()
def instances(postgres: Postgres, tmp_path: Path) -> Iterator[list[Server]]:
    database = postgres.new_database()
    first = Server(tmp_path / "i0", database)
    servers = [first]
    for n in (1, 2):
        # Another machine: its own copy of the home (the same issuer key), the same database.
        home = tmp_path / f"i{n}"
        shutil.copytree(first.home, home, ignore=shutil.ignore_patterns("server-*.log"))
        other = Server.__new__(Server)
        other.home, other.database, other.extra_args, other.tokens = home, database, [], first.tokens
        other.process, other.port = None, 0
        other.start()
        servers.append(other)
    yield servers
    for server in servers:
        server.kill(signal.SIGTERM)


def test_three_instances_one_log_survive_kill_9(instances: list[Server]) -> None:
    acknowledged: list[tuple[Any, dict[str, Any]]] = []  # (credential, receipt) answered 201
    handed_out: set[str] = set()  # every checkpoint any instance gave anyone
    lock = threading.Lock()
    started = threading.Semaphore(0)
    killed = threading.Event()
    clients = {id(s): s.client() for s in instances}

    def client_for(n: int) -> httpx.Client:
        server = instances[n % len(instances)]
        if server.process is None:  # down: use the next one, as a load balancer would
            server = instances[(n + 1) % len(instances)]
        with lock:
            if id(server) not in clients or clients[id(server)].base_url != httpx.URL(server.url):
                clients[id(server)] = server.client()
            return clients[id(server)]

    def one_run(n: int) -> None:
        started.release()
        try:
            declared = client_for(n).post("/runs", json={"composition": COMPOSITION}, timeout=30)
        except httpx.HTTPError:
            return  # the instance died under the request: not acknowledged
        if declared.status_code != 201:
            assert declared.status_code >= 500 or killed.is_set(), declared.text
            return
        body = declared.json()
        with lock:
            acknowledged.append((body["declaration"], body["receipt"]))
            handed_out.add(body["receipt"]["checkpoint"])
        try:
            bound = client_for(n + 1).post(f"/runs/{body['runId']}/output", json=output_body(), timeout=30)
        except httpx.HTTPError:
            return
        if bound.status_code == 201:
            answer = bound.json()
            with lock:
                acknowledged.append((answer["binding"], answer["receipt"]))
                handed_out.add(answer["receipt"]["checkpoint"])

    def killer() -> None:
        for _ in range(KILL_AFTER):
            started.acquire(timeout=60)
        instances[1].kill(signal.SIGKILL)  # mid-burst, requests in flight
        killed.set()
        instances[1].start()  # restarted (a new port, as behind a load balancer)

    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one_run, range(RUNS)))
    kill_thread.join(timeout=120)
    assert killed.is_set()
    for client in clients.values():
        client.close()

    assert len(acknowledged) >= RUNS  # most requests were answered despite the kill
    with instances[1].client() as client:  # the restarted instance serves the one log
        final_note = client.get("/log/checkpoint").text
        key_name, key = _log_key(client)
        final = parse_signed_checkpoint(final_note)[0]
        entries = _entries(client, final.tree_size)
        for other in instances:
            with other.client() as c:
                handed_out.add(c.get("/log/checkpoint").text)

        # Every acknowledged entry is in the one log, where its receipt says.
        for credential, receipt in acknowledged:
            assert entries[receipt["leafIndex"]] == base64.b64encode(leaf_hash(log_leaf_data(credential))).decode()
            assert receipt_verifies(credential, receipt)  # against the checkpoint it came with
            proof = client.get("/log/proof/inclusion", params={"index": receipt["leafIndex"], "size": final.tree_size}).json()
            verify_receipt(log_leaf_data(credential), Receipt.model_validate({**proof, "checkpoint": final_note}), key_name, key)

        # One history: checkpoints of one size agree, and each extends to the final one.
        by_size: dict[int, bytes] = {}
        for note in handed_out:
            checkpoint = parse_signed_checkpoint(note)[0]
            assert by_size.setdefault(checkpoint.tree_size, checkpoint.root_hash) == checkpoint.root_hash
            consistency = client.get("/log/proof/consistency", params={"from": checkpoint.tree_size, "to": final.tree_size}).json()
            assert verify_consistency(
                checkpoint.tree_size, final.tree_size, checkpoint.root_hash, final.root_hash,
                [base64.b64decode(h) for h in consistency["consistencyProof"]],
            )

    audit = subprocess.run(
        [sys.executable, "-m", "vc_runid", "log", "audit", "--home", str(instances[0].home), "--database",
         str(instances[0].database), "--grace", "3600"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


def _log_key(client: httpx.Client) -> tuple[str, Any]:
    from vc_runid.transparency import parse_vkey

    return parse_vkey(client.get("/log/key").text.strip())


def _entries(client: httpx.Client, size: int) -> list[str]:
    out: list[str] = []
    while len(out) < size:
        page = client.get("/log/entries", params={"start": len(out), "end": size}).json()
        assert page["entries"], page
        out.extend(e["leafHash"] for e in page["entries"])
    return out


