"""The issuer service with two real witnesses: receipts and bundles carry the quorum-cosigned
checkpoint and verify offline; a witness killed with -9 keeps its state; a forked log is refused
by the witnesses and reported by the auditor as a split view."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import declare, receipt_verifies
from tests.witness.conftest import Server, WitnessProcess
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.store.home import init_home
from vc_runid.transparency import (
    parse_signed_checkpoint,
    parse_witness_vkey,
    verify_cosignatures,
    vkey,
)

MANIFEST = """model: {id: demo-model, provider: local}
parameters: {temperature: 0}
instructions: [system.txt]
input: input.txt
executor: {id: billing-agent-7}
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "vc_runid", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


class Deployment:
    def __init__(self, root: Path) -> None:
        self.root = root
        issuer = init_home(root / "service")[0]
        self.log_vkey = vkey(issuer.did, issuer.key.private_key.public_key())
        self.w1 = WitnessProcess(root / "w1", "w1.example/witness", [self.log_vkey])
        self.w2 = WitnessProcess(root / "w2", "w2.example/witness", [self.log_vkey])
        self.service = Server(root / "service", extra_args=self.witness_args())

    def witness_args(self) -> list[str]:
        return ["--witness", self.w1.option(), "--witness", self.w2.option(), "--witness-quorum", "2"]

    @property
    def witnesses(self) -> list[object]:
        return [parse_witness_vkey(self.w1.vkey), parse_witness_vkey(self.w2.vkey)]

    def stop(self) -> None:
        self.service.kill(signal.SIGTERM)
        self.w1.kill()
        self.w2.kill()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("witnessed"))
    yield d
    d.stop()


def test_receipts_carry_a_checkpoint_cosigned_by_the_quorum(deployment: Deployment) -> None:
    with deployment.service.client() as client:
        response = declare(client)
    assert response.status_code == 201, response.text
    body = response.json()
    receipt = body["receipt"]
    cosigned = verify_cosignatures(receipt["checkpoint"], deployment.witnesses, 2)  # type: ignore[arg-type]
    assert {c.witness.name for c in cosigned} == {"w1.example/witness", "w2.example/witness"}
    assert receipt_verifies(body["declaration"], receipt)
    with deployment.service.client() as client:  # asked again later: the same cosigned checkpoint
        again = client.get("/log/proof/inclusion", params={"index": receipt["leafIndex"], "size": receipt["treeSize"]})
    assert again.json()["checkpoint"] == receipt["checkpoint"]


def test_log_verify_checks_the_witness_quorum_offline(deployment: Deployment, tmp_path: Path) -> None:
    with deployment.service.client() as client:
        first = declare(client).json()["receipt"]["checkpoint"]
        second = declare(client).json()["receipt"]["checkpoint"]
        proof = client.get("/log/proof/consistency", params={
            "from": parse_signed_checkpoint(first)[0].tree_size, "to": parse_signed_checkpoint(second)[0].tree_size,
        }).json()
    (tmp_path / "old.txt").write_text(first)
    (tmp_path / "new.txt").write_text(second)
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    base = ["log", "verify", "--from", str(tmp_path / "old.txt"), "--to", str(tmp_path / "new.txt"),
            "--proof", str(tmp_path / "proof.json")]
    ok = cli(*base, "--witness", deployment.w1.vkey, "--witness", deployment.w2.vkey, "--witness-quorum", "2")
    assert ok.returncode == 0, ok.stderr
    assert "cosigned by w1.example/witness, w2.example/witness" in ok.stdout
    # The same from a trust policy file: the log it pins, its witnesses and witnessQuorum.
    origin = parse_signed_checkpoint(second)[0].origin
    (tmp_path / "trust.json").write_text(json.dumps({
        "logs": [{"origin": origin, "key": deployment.log_vkey}], "witnessQuorum": 2,
        "witnesses": [{"name": "w1.example/witness", "key": deployment.w1.vkey},
                      {"name": "w2.example/witness", "key": deployment.w2.vkey}]}))
    by_policy = cli(*base, "--trust", str(tmp_path / "trust.json"))
    assert by_policy.returncode == 0, by_policy.stderr
    assert "cosigned by w1.example/witness, w2.example/witness" in by_policy.stdout
    # Strip one witness's line: 1 of 2 is not the quorum.
    stripped = "".join(line for line in second.splitlines(keepends=True) if "w2.example" not in line)
    (tmp_path / "new.txt").write_text(stripped)
    short = cli(*base, "--witness", deployment.w1.vkey, "--witness", deployment.w2.vkey, "--witness-quorum", "2")
    assert short.returncode == 1 and short.stderr.startswith(ErrorCode.LOG_WITNESS_QUORUM.value), short.stderr
    short = cli(*base, "--trust", str(tmp_path / "trust.json"))
    assert short.returncode == 1 and short.stderr.startswith(ErrorCode.LOG_WITNESS_QUORUM.value), short.stderr


def test_bundles_carry_cosigned_checkpoints_and_verify_bundle_checks_them(deployment: Deployment, tmp_path: Path) -> None:
    (tmp_path / "system.txt").write_text("You are terse.\n")
    (tmp_path / "input.txt").write_text("hello\n")
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    remote = ["--issuer", deployment.service.url, "--token", deployment.service.tokens["alice"], "--home", "executor"]
    run = cli("run", "--manifest", "manifest.yaml", "--out-dir", "out", *remote, "--", sys.executable, "-c", "print(1)", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run_id = json.loads((tmp_path / "out" / "declaration.json").read_text())["credentialSubject"]["id"]
    made = cli("bundle", run_id, "--home", "executor", "--out", "audit.zip", "--fetch-status", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    keys = ["--witness", deployment.w1.vkey, "--witness", deployment.w2.vkey]
    verified = cli("verify-bundle", "audit.zip", "--json", *keys, "--witness-quorum", "2", cwd=tmp_path)
    assert verified.stdout, verified.stderr
    report = json.loads(verified.stdout)
    witness_checks = [c for c in report["checks"] if c["name"].startswith("witnesses:")]
    assert witness_checks and all(c["passed"] for c in witness_checks), witness_checks
    # The same quorum from a trust policy file (witnesses + witnessQuorum), with the run verdicts.
    service_issuer = init_home(deployment.service.home)[0]
    issuer_did = service_issuer.did
    # A did:web issuer's document is the auditor's to supply (the bundle's own counts only with --any-issuer).
    (tmp_path / "dids").mkdir()
    (tmp_path / "dids" / "service.json").write_text(json.dumps(service_issuer.did_document()))
    policy = {"issuers": [issuer_did], "witnessQuorum": 2, "witnesses": [
        {"name": "w1.example/witness", "key": deployment.w1.vkey}, {"name": "w2.example/witness", "key": deployment.w2.vkey}]}
    (tmp_path / "trust.json").write_text(json.dumps(policy))
    trusted = cli("verify-bundle", "audit.zip", "--json", "--trust", "trust.json", "--did-store", "dids", cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    by_policy = [c for c in json.loads(trusted.stdout)["checks"] if c["name"].startswith("witnesses:")]
    assert by_policy and all(c["passed"] for c in by_policy)
    # A witness the log never asked: its quorum cannot be met, and the bundle says so.
    stranger = WitnessProcess(tmp_path / "stranger", "stranger.example/w", [deployment.log_vkey])
    stranger.kill()
    refused = cli("verify-bundle", "audit.zip", "--json", "--witness", stranger.vkey, "--witness-quorum", "1", cwd=tmp_path)
    assert refused.returncode == 1
    codes = {c["code"] for c in json.loads(refused.stdout)["checks"] if c["name"].startswith("witnesses:")}
    assert codes == {ErrorCode.LOG_WITNESS_QUORUM.value}


def test_without_a_quorum_the_service_answers_503_and_a_killed_witness_keeps_its_state(deployment: Deployment) -> None:
    with deployment.service.client() as client:
        assert declare(client).status_code == 201
        before = parse_signed_checkpoint(client.get("/log/checkpoint").text)[0].tree_size
        deployment.w1.kill()  # SIGKILL, mid-life
        refused = declare(client)
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == ErrorCode.WITNESS_UNAVAILABLE.value
        deployment.w1.start()  # same home, same port
        import hashlib

        import httpx

        origin = parse_signed_checkpoint(client.get("/log/checkpoint").text)[0].origin
        served = httpx.get(f"{deployment.w1.url}/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint").text
        assert parse_signed_checkpoint(served)[0].tree_size >= before  # what it cosigned before the kill
        again = declare(client)
        assert again.status_code == 201, again.text
        verify_cosignatures(again.json()["receipt"]["checkpoint"], deployment.witnesses, 2)  # type: ignore[arg-type]


def test_a_forked_log_is_refused_by_the_witnesses_and_reported_by_the_auditor(deployment: Deployment, tmp_path: Path) -> None:
    honest = deployment.service
    with honest.client() as client:
        assert declare(client).status_code == 201
    # The operator copies the log (same key, same entries so far) and runs a second service on it.
    fork_home = tmp_path / "fork"
    shutil.copytree(honest.home, fork_home, ignore=shutil.ignore_patterns("service.sqlite3*", "server-*.log"))
    with sqlite3.connect(honest.home / "service.sqlite3") as source, sqlite3.connect(fork_home / "service.sqlite3") as copy:
        source.backup(copy)
    fork = Server.__new__(Server)  # the copied database already has the clients' tokens
    fork.home, fork.database, fork.extra_args, fork.tokens = fork_home, None, deployment.witness_args(), honest.tokens
    fork.process, fork.port = None, 0
    fork.start()
    try:
        with honest.client() as client:
            assert declare(client).status_code == 201  # the witnesses follow the honest branch
        with fork.client() as client:
            refused = declare(client)  # the fork's entry: no witness will cosign that branch
            assert refused.status_code == 503, refused.text
            fork_checkpoint = client.get("/log/checkpoint").text
    finally:
        fork.kill(signal.SIGTERM)
    evidence = json.loads(cli("witness", "evidence", "--home", str(deployment.w1.home)).stdout)
    assert evidence, "the witness keeps the log-signed fork as evidence"
    # Offline: the fork's checkpoint is signed by the log's key...
    parse_signed_checkpoint(fork_checkpoint)
    with pytest.raises(RunIdError):
        verify_cosignatures(fork_checkpoint, deployment.witnesses, 1)  # type: ignore[arg-type]
    # ...and the auditor holding it next to the honest log sees two histories.
    (tmp_path / "fork.txt").write_text(fork_checkpoint)
    audit = cli("log", "audit", "--home", str(honest.home), "--checkpoint", str(tmp_path / "fork.txt"), "--json")
    assert audit.returncode == 1, audit.stdout + audit.stderr
    split = [c for c in json.loads(audit.stdout)["checks"] if c["name"] == "split-view"]
    assert split and split[0]["code"] == ErrorCode.LOG_SPLIT_VIEW.value, split
    # The honest log, compared with what the witnesses serve, is clean.
    clean = cli("log", "audit", "--home", str(honest.home), "--witness-url", deployment.w1.url,
                "--witness-url", deployment.w2.url, "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
