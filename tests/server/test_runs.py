"""The run endpoints and the log against the real service, on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import signal
import threading
import time
from datetime import timedelta
from typing import Any

import httpx

from vc_runid._internal.timeutil import parse_datetime, utc_now
from vc_runid.audit.log import AuditEntry, audit_entries
from vc_runid.cli.serve import checkpoint_key
from vc_runid.errors import ErrorCode
from vc_runid.runs.digests import jcs
from vc_runid.runs.verify import verify_run
from vc_runid.server.log import verify_checkpoints
from vc_runid.transparency import MerkleTree, leaf_hash, verify_signed_checkpoint
from vc_runid.transparency.receipt import Receipt
from vc_runid.vc.verification import verify_credential

from .conftest import Server
from .helpers import (
    COMPOSITION,
    b64decode_all,
    bind,
    declare,
    declare_and_wait,
    log_size,
    receipt_verifies,
    service_policy,
)


def _entries(client: httpx.Client) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get("/log/entries", params={"start": len(out)}).json()
        out.extend(page["entries"])
        if len(out) >= page["treeSize"] or not page["entries"]:
            return out


def _whole_log_verifies(client: httpx.Client) -> tuple[str, int]:
    """Every entry hashes to its leaf, the tree of them has the signed root, and the audit passes."""
    note = client.get("/log/checkpoint").text
    key_name, key = checkpoint_key(note, None)
    checkpoint = verify_signed_checkpoint(note, key_name, key)
    entries = _entries(client)[: checkpoint.tree_size]
    assert [e["index"] for e in entries] == list(range(checkpoint.tree_size))
    report = audit_entries(
        [AuditEntry(e["index"], e["kind"], e["entry"], base64.b64decode(e["leafHash"])) for e in entries],
        now=utc_now(), grace=timedelta(days=1), checkpoint=note, key_name=key_name, public_key=key,
    )
    assert report.valid, report.checks
    return note, checkpoint.tree_size


def test_declare_then_bind_gives_a_pair_that_verifies_offline(server: Server) -> None:
    with server.client() as alice:
        declared = declare_and_wait(alice)
        declaration, run_id = declared["declaration"], declared["runId"]
        assert verify_credential(declaration).valid
        assert receipt_verifies(declaration, declared["receipt"])
        assert alice.get(f"/runs/{run_id}").json()["status"] == "declared"

        bound = bind(alice, run_id)
        assert bound.status_code == 201, bound.text
        binding = bound.json()["binding"]
        assert receipt_verifies(binding, bound.json()["receipt"])
        policy = service_policy(alice, declaration)
        report = verify_run(declaration, binding, policy=policy, receipts=[Receipt.model_validate(declared["receipt"])])
        assert report.valid, report.failures
        assert report.passed("trust.log") and report.passed("trust.issuer")
        # The same pair without its receipt is not proven in the pinned log.
        unproven = verify_run(declaration, binding, policy=policy)
        assert ErrorCode.LOG_INCLUSION_REQUIRED.value in unproven.error_codes
        record = alice.get(f"/runs/{run_id}").json()
        assert record["status"] == "bound" and record["binding"] == binding
        assert record["bindingIndex"] > record["declarationIndex"]

        verified = alice.post("/credentials/verify", json={"verifiableCredential": binding})
        assert verified.status_code == 200 and verified.json()["verified"] is True
        _whole_log_verifies(alice)


def test_the_service_stamps_validFrom_with_its_own_clock(server: Server) -> None:
    before = utc_now()
    with server.client() as alice:
        declaration = declare_and_wait(alice)["declaration"]
    valid_from = declaration["validFrom"]
    assert before <= parse_datetime(valid_from, "validFrom") <= utc_now()


def test_jose_declarations_are_logged_and_bound_too(server: Server) -> None:
    with server.client() as alice:
        response = alice.post("/runs", json={"composition": COMPOSITION, "format": "jose"})
        assert response.status_code == 201, response.text
        declaration = response.json()["declaration"]
        assert isinstance(declaration, str)
        assert receipt_verifies(declaration, response.json()["receipt"])
        bound = bind(alice, response.json()["runId"])
        assert bound.status_code == 201, bound.text
        report = verify_run(declaration, bound.json()["binding"], policy=service_policy(alice, declaration),
                            receipts=[Receipt.model_validate(response.json()["receipt"])])
        assert report.valid, report.failures


def test_concurrent_declarations_get_distinct_consecutive_indices(server: Server) -> None:
    start = log_size(httpx.Client(base_url=server.url))
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with server.client() as client:
            for _ in range(6):
                response = declare(client)
                with lock:
                    (results.append(response.json()) if response.status_code == 201 else errors.append(response.text))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    indices = sorted(r["receipt"]["leafIndex"] for r in results)
    assert indices == list(range(start, start + 48))
    for r in results:
        assert receipt_verifies(r["declaration"], r["receipt"])
    with server.client() as client:
        _whole_log_verifies(client)


def test_consistency_proof_links_two_checkpoints(server: Server) -> None:
    with server.client() as alice:
        declare_and_wait(alice)
        old = alice.get("/log/checkpoint").text
        for _ in range(3):
            declare_and_wait(alice)
        new = alice.get("/log/checkpoint").text
        key_name, key = checkpoint_key(new, None)
        old_size = verify_signed_checkpoint(old, key_name, key).tree_size
        new_size = verify_signed_checkpoint(new, key_name, key).tree_size
        proof = alice.get("/log/proof/consistency", params={"from": old_size, "to": new_size}).json()
        _, _, ok = verify_checkpoints(old, new, b64decode_all(proof["consistencyProof"]), key_name, key)
        assert ok
        # the proof for another pair of sizes does not pass
        wrong = alice.get("/log/proof/consistency", params={"from": old_size - 0, "to": new_size - 1}).json()
        _, _, bad = verify_checkpoints(old, new, b64decode_all(wrong["consistencyProof"]), key_name, key)
        assert not bad


def test_kill_9_during_a_burst_loses_no_acknowledged_entry(server: Server) -> None:
    with server.client() as c:
        declare_and_wait(c)
        before_note = c.get("/log/checkpoint").text
    acknowledged: list[dict[str, Any]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker() -> None:
        with server.client() as client:
            while not stop.is_set():
                try:
                    response = declare(client)
                except httpx.HTTPError:
                    return  # the server died under us: this one was never acknowledged
                if response.status_code == 201:
                    with lock:
                        acknowledged.append(response.json())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    server.kill(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) > 10
    server.start()
    with server.client() as client:
        note, size = _whole_log_verifies(client)
        entries = {e["index"]: e for e in _entries(client)}
        for ack in acknowledged:
            index = ack["receipt"]["leafIndex"]
            assert index < size
            assert base64.b64decode(entries[index]["leafHash"]) == leaf_hash(jcs(ack["declaration"]))
            assert client.get(f"/runs/{ack['runId']}").json()["declaration"] == ack["declaration"]
        # and the log after the crash extends the log before it
        key_name, key = checkpoint_key(note, None)
        old_size = verify_signed_checkpoint(before_note, key_name, key).tree_size
        proof = client.get("/log/proof/consistency", params={"from": old_size, "to": size}).json()
        assert verify_checkpoints(before_note, note, b64decode_all(proof["consistencyProof"]), key_name, key)[2]
        # the service keeps appending after the restart
        assert declare(client).json()["receipt"]["leafIndex"] == size


def test_a_tree_rebuilt_from_the_entries_matches_every_receipt(server: Server) -> None:
    with server.client() as alice:
        receipts = [declare_and_wait(alice) for _ in range(5)]
        tree = MerkleTree(base64.b64decode(e["leafHash"]) for e in _entries(alice))
        for r in receipts:
            size = r["receipt"]["treeSize"]
            assert tree.inclusion_proof(r["receipt"]["leafIndex"], size) == b64decode_all(r["receipt"]["inclusionProof"])
