"""Interop with an independent C2SP implementation, both directions, a tamper failing both ways:
``aics-tlog`` (signed-note, tlog-checkpoint, tlog-cosignature) and ``aics-witness`` (tlog-witness)
from PyPI, run as separate processes under their own Python 3.12 (interop/tlog/.venv, made by
scripts/test). They are never imported into vc-runid."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.server.helpers import declare, receipt_verifies
from tests.witness.conftest import Server, WitnessProcess, free_port
from vc_runid.errors import RunIdError
from vc_runid.store.home import init_home
from vc_runid.transparency import (
    Checkpoint,
    MerkleTree,
    add_cosignatures,
    cosign,
    leaf_hash,
    parse_signed_checkpoint,
    parse_witness_vkey,
    sign_checkpoint,
    verify_cosignatures,
    verify_signed_checkpoint,
    vkey,
)
from vc_runid.transparency.witness_protocol import format_add_checkpoint

PEER = Path(__file__).resolve().parents[2] / "interop" / "tlog"
PYTHON = PEER / ".venv" / "bin" / "python"
AICS_WITNESS = PEER / ".venv" / "bin" / "aics-witness"

ORIGIN = "log.example/interop"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(40, 72)))
W_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(80, 112)))


@pytest.fixture(scope="module", autouse=True)
def _peer() -> None:
    if not PYTHON.exists():
        message = "aics-tlog/aics-witness are not installed (interop/tlog/.venv; run scripts/test): interop SKIPPED"
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)


def oracle(**request: object) -> dict[str, object]:
    result = subprocess.run([str(PYTHON), str(PEER / "oracle.py")], input=json.dumps(request), capture_output=True,
                            text=True, timeout=60, check=True)
    return dict(json.loads(result.stdout))


def _seed(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()


def _note(size: int = 5) -> tuple[str, MerkleTree]:
    tree = MerkleTree([leaf_hash(b"entry-%d" % i) for i in range(size)])
    return sign_checkpoint(Checkpoint(origin=ORIGIN, tree_size=size, root_hash=tree.root()), ORIGIN, LOG_KEY), tree


def _flip_root(note: str) -> str:
    lines = note.split("\n")
    root = bytearray(base64.b64decode(lines[2]))
    root[0] ^= 1
    lines[2] = base64.b64encode(bytes(root)).decode()
    return "\n".join(lines)


# --- our encodings, their verifier ----------------------------------------------------------------


def test_our_checkpoint_and_cosignatures_verify_in_aics_tlog() -> None:
    note, _ = _note()
    w2 = Ed25519PrivateKey.from_private_bytes(bytes(range(120, 152)))
    lines = [cosign(note, "w1.example/w", W_KEY, timestamp=1_700_000_000),
             cosign(note, "w2.example/w", w2, timestamp=1_700_000_001)]
    cosigned = add_cosignatures(note, lines)
    from vc_runid.transparency import Witness

    keys = [Witness("w1.example/w", W_KEY.public_key()).vkey(), Witness("w2.example/w", w2.public_key()).vkey()]
    verdict = oracle(op="verify", note=cosigned, log_vkey=vkey(ORIGIN, LOG_KEY.public_key()), witness_vkeys=keys, quorum=2)
    assert verdict["ok"] is True and verdict["cosignatures"] == 2, verdict
    tampered = oracle(op="verify", note=_flip_root(cosigned), log_vkey=vkey(ORIGIN, LOG_KEY.public_key()),
                      witness_vkeys=keys, quorum=2)
    assert tampered["ok"] is False


def test_our_witness_servers_cosignature_verifies_in_aics_tlog(tmp_path: Path) -> None:
    witness = WitnessProcess(tmp_path / "w", "ours.example/w", [vkey(ORIGIN, LOG_KEY.public_key())])
    try:
        note, _ = _note()
        response = httpx.post(f"{witness.url}/add-checkpoint", content=format_add_checkpoint(0, [], note), timeout=10)
        assert response.status_code == 200, response.text
    finally:
        witness.kill()
    verdict = oracle(op="verify", note=note + response.text, log_vkey=vkey(ORIGIN, LOG_KEY.public_key()),
                     witness_vkeys=[witness.vkey], quorum=1)
    assert verdict["ok"] is True, verdict
    line = response.text
    raw = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    raw[-1] ^= 1  # one bit of the signature
    forged = line.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    assert oracle(op="verify", note=note + forged, log_vkey=vkey(ORIGIN, LOG_KEY.public_key()),
                  witness_vkeys=[witness.vkey], quorum=1)["ok"] is False


# --- their encodings, our verifier ----------------------------------------------------------------


def test_aics_tlog_checkpoint_verifies_with_ours() -> None:
    _, tree = _note()
    made = oracle(op="sign", origin=ORIGIN, size=tree.size, root=base64.b64encode(tree.root()).decode(),
                  name=ORIGIN, seed=_seed(LOG_KEY))
    assert made["vkey"] == vkey(ORIGIN, LOG_KEY.public_key())  # the same vkey text, byte for byte
    assert verify_signed_checkpoint(str(made["note"]), ORIGIN, LOG_KEY.public_key()).root_hash == tree.root()
    with pytest.raises(RunIdError):
        verify_signed_checkpoint(_flip_root(str(made["note"])), ORIGIN, LOG_KEY.public_key())


def test_aics_tlog_cosignature_verifies_with_ours() -> None:
    note, _ = _note()
    made = oracle(op="cosign", note=note, name="theirs.example/w", seed=_seed(W_KEY), timestamp=1_700_000_123)
    witness = parse_witness_vkey(str(made["vkey"]))
    assert witness.vkey() == made["vkey"]
    cosigned = add_cosignatures(note, [str(made["line"])])
    [one] = verify_cosignatures(cosigned, [witness], 1)
    assert one.timestamp == 1_700_000_123
    # Same bytes as ours for the same key, checkpoint and time (Ed25519 is deterministic).
    assert cosign(note, "theirs.example/w", W_KEY, timestamp=1_700_000_123).line() == made["line"]
    with pytest.raises(RunIdError):
        verify_cosignatures(_flip_root(cosigned), [witness], 1)


# --- the service with the independent witness (aics-witness) --------------------------------------


class AicsWitness:
    def __init__(self, home: Path, log_vkey: str, origin: str) -> None:
        self.home = home
        self.port = free_port()
        config = str(home / "witness.json")
        init = subprocess.run([str(AICS_WITNESS), "init", "--config", config, "--name", "aics.example/witness",
                               "--listen", f"127.0.0.1:{self.port}"], capture_output=True, text=True, timeout=60, check=True)
        self.vkey = init.stdout.strip().splitlines()[0]
        subprocess.run([str(AICS_WITNESS), "add-log", "--config", config, "--origin", origin, "--vkey", log_vkey],
                       capture_output=True, text=True, timeout=60, check=True)
        self.log = open(home / "serve.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([str(AICS_WITNESS), "serve", "--config", config], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError((home / "serve.log").read_text())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        self.log.close()


@pytest.fixture()
def aics_service(tmp_path: Path) -> Iterator[tuple[Server, AicsWitness]]:
    tmp_path.joinpath("aw").mkdir()
    issuer = init_home(tmp_path / "service")[0]
    log_vkey = vkey(issuer.did, issuer.key.private_key.public_key())
    witness = AicsWitness(tmp_path / "aw", log_vkey, issuer.did)
    server = Server(tmp_path / "service", extra_args=["--witness", f"aics.example/witness={witness.vkey}={witness.url}",
                                                     "--witness-quorum", "1"])
    yield server, witness
    server.kill(signal.SIGTERM)
    witness.stop()


def test_the_service_gets_cosignatures_from_aics_witness(aics_service: tuple[Server, AicsWitness]) -> None:
    server, witness = aics_service
    with server.client() as client:
        first = declare(client)
        second = declare(client)
    for response in (first, second):
        assert response.status_code == 201, response.text
        body = response.json()
        verify_cosignatures(body["receipt"]["checkpoint"], [parse_witness_vkey(witness.vkey)], 1)
        assert receipt_verifies(body["declaration"], body["receipt"])
    note = second.json()["receipt"]["checkpoint"]
    origin = parse_signed_checkpoint(note)[0].origin
    log_vkey = httpx.get(f"{server.url}/log/key").text.strip()
    assert oracle(op="verify", note=note, log_vkey=log_vkey, witness_vkeys=[witness.vkey], quorum=1)["ok"] is True
    # A checkpoint of another history at the size aics-witness cosigned: refused (not 200).
    size = parse_signed_checkpoint(note)[0].tree_size
    key = init_home(server.home)[0].key.private_key
    forked = sign_checkpoint(Checkpoint(origin=origin, tree_size=size, root_hash=bytes(32)), origin, key)  # type: ignore[arg-type]
    refused = httpx.post(f"{witness.url}/add-checkpoint", content=format_add_checkpoint(size, [], forked), timeout=10)
    assert refused.status_code == 422, refused.text
