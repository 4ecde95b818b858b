"""``vc-runid witness serve`` as a real process, against c2sp.org/tlog-witness "add-checkpoint":
one test per status the spec prescribes, durability across kill -9, and the monitoring endpoint."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.witness.conftest import WitnessProcess
from vc_runid.transparency import (
    EMPTY_ROOT,
    Checkpoint,
    MerkleTree,
    leaf_hash,
    parse_witness_vkey,
    sign_checkpoint,
    verify_cosignatures,
    vkey,
)
from vc_runid.transparency.witness_protocol import format_add_checkpoint

ORIGIN = "log.example/runs"


class Log:
    """A log the test drives by hand: its key signs real checkpoints over a real tree."""

    def __init__(self, seed: int = 7, origin: str = ORIGIN) -> None:
        self.origin = origin
        self.key = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
        self.tree = MerkleTree()

    def vkey(self) -> str:
        return vkey(self.origin, self.key.public_key())

    def grow(self, n: int, tag: bytes = b"e") -> None:
        for _ in range(n):
            self.tree.append(leaf_hash(tag + str(self.tree.size).encode()))

    def note(self, size: int | None = None, root: bytes | None = None) -> str:
        size = self.tree.size if size is None else size
        root = (self.tree.root(size) if size else EMPTY_ROOT) if root is None else root
        return sign_checkpoint(Checkpoint(origin=self.origin, tree_size=size, root_hash=root), self.origin, self.key)

    def body(self, old: int, size: int | None = None, **kw: object) -> bytes:
        size = self.tree.size if size is None else size
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return format_add_checkpoint(old, proof, self.note(size, **kw))  # type: ignore[arg-type]


@pytest.fixture()
def log() -> Log:
    return Log()


@pytest.fixture()
def witness(tmp_path: Path, log: Log) -> Iterator[WitnessProcess]:
    process = WitnessProcess(tmp_path / "w", "witness.example/w1", [log.vkey()])
    yield process
    process.kill()


def post(witness: WitnessProcess, body: bytes) -> httpx.Response:
    return httpx.post(f"{witness.url}/add-checkpoint", content=body, timeout=10)


def test_200_returns_a_cosignature_that_verifies(witness: WitnessProcess, log: Log) -> None:
    log.grow(5)
    response = post(witness, log.body(0))
    assert response.status_code == 200, response.text
    assert response.text.startswith("\u2014 witness.example/w1 ") and response.text.endswith("\n")
    cosigned = log.note() + response.text
    assert verify_cosignatures(cosigned, [parse_witness_vkey(witness.vkey)], 1)


def test_then_a_consistent_extension_is_cosigned(witness: WitnessProcess, log: Log) -> None:
    log.grow(5)
    assert post(witness, log.body(0)).status_code == 200
    log.grow(9)
    assert post(witness, log.body(5)).status_code == 200
    assert post(witness, log.body(14)).status_code == 200  # same size, same root: again


def test_404_for_an_unknown_origin(witness: WitnessProcess) -> None:
    other = Log(origin="other.example/log")
    assert post(witness, other.body(0)).status_code == 404


def test_403_without_a_signature_from_a_trusted_key(witness: WitnessProcess, log: Log) -> None:
    impostor = Log(seed=9)  # same origin, another key
    assert post(witness, impostor.body(0)).status_code == 403


def test_403_when_a_trusted_key_line_fails(witness: WitnessProcess, log: Log) -> None:
    log.grow(2)
    tampered = log.body(0).replace(b"\n2\n", b"\n3\n", 1)
    assert post(witness, tampered).status_code == 403


def test_400_when_the_old_size_exceeds_the_checkpoint(witness: WitnessProcess, log: Log) -> None:
    log.grow(2)
    assert post(witness, format_add_checkpoint(3, [], log.note())).status_code == 400


@pytest.mark.parametrize(
    "body",
    [b"", b"old 01\n\n", b"new 0\n\n", b"old 0\nnot-base64!\n\n", b"old 0\n" + b"AAAA\n" + b"\n", b"\xff\xfe"],
    ids=["empty", "leading-zero", "no-old", "bad-proof-line", "short-hash", "not-utf8"],
)
def test_400_for_a_malformed_body(witness: WitnessProcess, log: Log, body: bytes) -> None:
    assert post(witness, body + log.note().encode() if body.endswith(b"\n\n") else body).status_code == 400


def test_409_with_the_latest_size_when_old_does_not_match(witness: WitnessProcess, log: Log) -> None:
    log.grow(4)
    assert post(witness, log.body(0)).status_code == 200
    log.grow(1)
    response = post(witness, format_add_checkpoint(0, [], log.note()))
    assert response.status_code == 409
    assert response.text == "4\n"
    assert response.headers["content-type"] == "text/x.tlog.size"


def test_422_for_size_zero_without_the_empty_root(witness: WitnessProcess, log: Log) -> None:
    assert post(witness, log.body(0, 0, root=b"\x01" * 32)).status_code == 422


def test_422_for_a_proof_from_size_zero(witness: WitnessProcess, log: Log) -> None:
    log.grow(2)
    assert post(witness, format_add_checkpoint(0, [b"\x00" * 32], log.note())).status_code == 422


def test_422_for_the_same_size_with_another_root(witness: WitnessProcess, log: Log) -> None:
    log.grow(3)
    assert post(witness, log.body(0)).status_code == 200
    assert post(witness, format_add_checkpoint(3, [], log.note(3, root=b"\x02" * 32))).status_code == 422


def test_422_for_a_fork_and_the_request_is_kept_as_evidence(witness: WitnessProcess, log: Log) -> None:
    log.grow(3)
    assert post(witness, log.body(0)).status_code == 200
    fork = Log()
    fork.grow(2)
    fork.grow(3, tag=b"fork")  # the first 3 entries differ from what the witness cosigned
    assert post(witness, fork.body(3)).status_code == 422
    out = subprocess.run([sys.executable, "-m", "vc_runid", "witness", "evidence", "--home", str(witness.home)],
                         capture_output=True, text=True, timeout=60, check=True)
    evidence = json.loads(out.stdout)
    assert [e["reason"] for e in evidence] == ["not consistent"]


def test_a_rollback_is_refused(witness: WitnessProcess, log: Log) -> None:
    log.grow(6)
    assert post(witness, log.body(0)).status_code == 200
    assert post(witness, format_add_checkpoint(6, [], log.note(4))).status_code == 400  # old > size
    assert post(witness, format_add_checkpoint(0, [], log.note(4))).status_code == 409


def test_the_state_survives_kill_9(witness: WitnessProcess, log: Log) -> None:
    log.grow(5)
    assert post(witness, log.body(0)).status_code == 200
    witness.kill()  # SIGKILL: no shutdown handler runs
    witness.start()
    response = post(witness, format_add_checkpoint(0, [], log.note()))
    assert (response.status_code, response.text) == (409, "5\n")
    log.grow(1)
    assert post(witness, log.body(5)).status_code == 200


def test_monitoring_endpoint_serves_the_cosigned_checkpoint(witness: WitnessProcess, log: Log) -> None:
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    assert httpx.get(f"{witness.url}/{origin_hash}/checkpoint").status_code == 404
    log.grow(2)
    assert post(witness, log.body(0)).status_code == 200
    served = httpx.get(f"{witness.url}/{origin_hash}/checkpoint").text
    assert served.startswith(log.note())
    assert verify_cosignatures(served, [parse_witness_vkey(witness.vkey)], 1)


def test_a_body_over_the_limit_is_413(witness: WitnessProcess) -> None:
    assert post(witness, b"old 0\n" + b"A" * (65 * 1024)).status_code == 413
