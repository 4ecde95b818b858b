"""A VALID run verdict means "signed by someone I trust" (docs/verification.md, "Trust policy").

Every test signs for real (fresh did:key issuers), builds a real Merkle log with a signed
checkpoint where log inclusion is at stake, and verifies offline with a fixed clock.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import vc_runid as runid
from vc_runid import CompositionBuilder, ErrorCode, Issuer, RunIdError, Verifier, verify_run
from vc_runid.cli.main import app
from vc_runid.runs.digests import jcs
from vc_runid.runs.runner import Run
from vc_runid.store.files import write_secured
from vc_runid.transparency import Checkpoint, MerkleTree, leaf_hash, sign_checkpoint, vkey
from vc_runid.transparency.receipt import Receipt
from vc_runid.vc.policy import TrustPolicy

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
AT = T0 + timedelta(hours=1)


def clock() -> Any:
    ticks = iter(range(1000))
    return lambda: T0 + timedelta(seconds=next(ticks))


def a_run(issuer: Issuer, executor: str | None = None) -> Run:
    builder = CompositionBuilder().model("demo-model", provider="local").input("hi")
    if executor is not None:
        builder = builder.executor(id=executor, name="agent")
    with runid.run(builder.build(), issuer=issuer, clock=clock()) as current:
        current.record_output("hello")
    return current


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture(scope="module")
def run(issuer: Issuer) -> Run:
    return a_run(issuer)


def codes(report: Any) -> list[str]:
    return report.error_codes


def test_a_run_verified_without_a_policy_is_not_valid(run: Run) -> None:
    report = verify_run(run.declaration, run.binding, verifier=Verifier(now=AT))
    assert not report.valid
    assert codes(report) == [ErrorCode.TRUST_POLICY_MISSING.value]
    assert report.policy is None


def test_a_run_from_a_trusted_issuer_is_valid_and_names_the_policy(run: Run, issuer: Issuer) -> None:
    policy = TrustPolicy.trusting(issuer.did)
    report = verify_run(run.declaration, run.binding, policy=policy, verifier=Verifier(now=AT))
    assert report.valid, report.failures
    assert report.passed("trust.issuer") and report.passed("trust.independence")
    assert report.policy == policy.describe() and issuer.did in report.policy


def test_a_strangers_fresh_did_key_does_not_make_a_valid_run(issuer: Issuer) -> None:
    stranger = Issuer.generate()
    forged = a_run(stranger)
    report = verify_run(forged.declaration, forged.binding, policy=TrustPolicy.trusting(issuer.did), verifier=Verifier(now=AT))
    assert not report.valid
    assert codes(report) == [ErrorCode.ISSUER_NOT_TRUSTED.value]


def test_the_unsafe_policy_accepts_anyone_and_says_so() -> None:
    forged = a_run(Issuer.generate())
    report = verify_run(forged.declaration, forged.binding, policy=TrustPolicy.unsafe_any_issuer(), verifier=Verifier(now=AT))
    assert report.valid
    assert report.policy is not None and report.policy.startswith("UNSAFE")


def test_a_run_declared_by_its_own_executor_is_not_independent(issuer: Issuer) -> None:
    self_declared = a_run(issuer, executor=issuer.did)
    policy = TrustPolicy.trusting(issuer.did)
    report = verify_run(self_declared.declaration, self_declared.binding, policy=policy, verifier=Verifier(now=AT))
    assert codes(report) == [ErrorCode.NOT_INDEPENDENT.value]
    relaxed = TrustPolicy.trusting(issuer.did, requireIndependence=False)
    assert verify_run(self_declared.declaration, self_declared.binding, policy=relaxed, verifier=Verifier(now=AT)).valid


def test_did_web_domains_are_trusted_by_host() -> None:
    policy = TrustPolicy(domains=("runs.example.com",))
    assert policy.trusts_issuer("did:web:runs.example.com")
    assert policy.trusts_issuer("did:web:runs.example.com:tenants:a")
    assert not policy.trusts_issuer("did:web:runs.example.com.evil.org")
    assert not policy.trusts_issuer("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")


# --- log inclusion -----------------------------------------------------------------------------


def _log_with(entries: list[bytes], key: Any, origin: str) -> tuple[MerkleTree, str]:
    tree = MerkleTree()
    for entry in entries:
        tree.append(leaf_hash(entry))
    note = sign_checkpoint(Checkpoint(origin=origin, tree_size=tree.size, root_hash=tree.root()), origin, key)
    return tree, note


def _receipt(tree: MerkleTree, index: int, note: str) -> Receipt:
    proof = tree.inclusion_proof(index, tree.size)
    return Receipt(leafIndex=index, treeSize=tree.size, checkpoint=note, inclusionProof=[base64.b64encode(h).decode() for h in proof])


def test_log_inclusion_is_proven_against_the_pinned_log_key_only(run: Run, issuer: Issuer) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    log_key = Ed25519PrivateKey.generate()
    origin = "runs.example.com/log"
    tree, note = _log_with([b"other", jcs(run.declaration), b"later"], log_key, origin)
    pinned = {"origin": origin, "key": vkey(origin, log_key.public_key())}
    policy = TrustPolicy.trusting(issuer.did, logs=[pinned], requireLogInclusion=True)

    proven = verify_run(run.declaration, run.binding, policy=policy, receipts=[_receipt(tree, 1, note)], verifier=Verifier(now=AT))
    assert proven.valid, proven.failures
    assert "runs.example.com/log" in next(c.message for c in proven.checks if c.name == "trust.log")

    missing = verify_run(run.declaration, run.binding, policy=policy, verifier=Verifier(now=AT))
    assert codes(missing) == [ErrorCode.LOG_INCLUSION_REQUIRED.value]

    wrong_leaf = verify_run(run.declaration, run.binding, policy=policy, receipts=[_receipt(tree, 0, note)], verifier=Verifier(now=AT))
    assert codes(wrong_leaf) == [ErrorCode.LOG_INCLUSION_REQUIRED.value]

    # The same tree signed by a key the policy does not pin proves nothing.
    rogue = Ed25519PrivateKey.generate()
    _, rogue_note = _log_with([b"other", jcs(run.declaration), b"later"], rogue, origin)
    unpinned = verify_run(
        run.declaration, run.binding, policy=policy, receipts=[_receipt(tree, 1, rogue_note)], verifier=Verifier(now=AT)
    )
    assert codes(unpinned) == [ErrorCode.LOG_INCLUSION_REQUIRED.value]


# --- policy files ------------------------------------------------------------------------------


def test_a_policy_file_reads_as_json_or_yaml(tmp_path: Path, issuer: Issuer) -> None:
    as_json = tmp_path / "trust.json"
    as_json.write_text(json.dumps({"issuers": [issuer.did], "requireIndependence": True}))
    as_yaml = tmp_path / "trust.yaml"
    as_yaml.write_text(f"issuers:\n  - {issuer.did}\ndomains: [runs.example.com]\n")
    assert TrustPolicy.from_file(as_json).issuers == (issuer.did,)
    assert TrustPolicy.from_file(as_yaml).domains == ("runs.example.com",)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"issuers": ["not-a-did"]}', "not a DID"),
        ('{"issuer": ["did:key:z6Mk"]}', "issuer"),
        ('{"anyIssuer": true}', "--any-issuer"),
        ('{"requireLogInclusion": true}', "logs"),
        ('{"logs": [{"origin": "x", "key": "nope"}]}', "verifier key"),
        ('{"witnessQuorum": 2}', "witnesses"),
        ("[1, 2]", "object"),
        ("{", "JSON"),
    ],
)
def test_a_bad_policy_file_is_refused_with_its_code(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(content)
    with pytest.raises(RunIdError) as caught:
        TrustPolicy.from_file(path)
    assert caught.value.code is ErrorCode.TRUST_POLICY_INVALID
    assert fragment in caught.value.message


# --- the command line --------------------------------------------------------------------------


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture()
def run_files(tmp_path: Path, run: Run) -> tuple[str, str]:
    declaration, binding = tmp_path / "declaration.json", tmp_path / "binding.json"
    write_secured(declaration, run.declaration)
    assert run.binding is not None
    write_secured(binding, run.binding)
    return str(declaration), str(binding)


def test_cli_verify_without_a_policy_exits_1_and_says_which_flag_to_add(run_files: tuple[str, str]) -> None:
    result = _cli("verify", *run_files, "--at", AT.isoformat())
    assert result.exit_code == 1
    assert ErrorCode.TRUST_POLICY_MISSING.value in result.output
    assert "--trusted-issuer DID" in result.output and "--trust FILE" in result.output


def test_cli_verify_with_the_trusted_issuer_exits_0_and_prints_the_policy(run_files: tuple[str, str], issuer: Issuer) -> None:
    result = _cli("verify", *run_files, "--at", AT.isoformat(), "--trusted-issuer", issuer.did)
    assert result.exit_code == 0, result.output
    assert f"trust policy: issuers {issuer.did}" in result.output


def test_cli_verify_with_another_issuer_trusted_exits_1(run_files: tuple[str, str]) -> None:
    other = Issuer.generate().did
    result = _cli("verify", *run_files, "--at", AT.isoformat(), "--trusted-issuer", other)
    assert result.exit_code == 1
    assert ErrorCode.ISSUER_NOT_TRUSTED.value in result.output


def test_cli_any_issuer_is_printed_as_unsafe(run_files: tuple[str, str]) -> None:
    result = _cli("verify", *run_files, "--at", AT.isoformat(), "--any-issuer")
    assert result.exit_code == 0
    assert "UNSAFE" in result.output
    clash = _cli("verify", *run_files, "--any-issuer", "--trusted-issuer", "did:key:z6Mk")
    assert clash.exit_code == 2


def test_cli_trust_file_applies_to_verify(run_files: tuple[str, str], issuer: Issuer, tmp_path: Path) -> None:
    policy = tmp_path / "trust.yaml"
    policy.write_text(f"issuers: [{issuer.did}]\n")
    assert _cli("verify", *run_files, "--at", AT.isoformat(), "--trust", str(policy)).exit_code == 0


def test_cli_verify_recognises_the_run_in_any_order(run_files: tuple[str, str], issuer: Issuer) -> None:
    declaration, binding = run_files
    result = _cli("verify", binding, declaration, "--at", AT.isoformat(), "--trusted-issuer", issuer.did)
    assert result.exit_code == 0, result.output


def test_cli_a_valid_strangers_credential_never_stands_in_for_the_declaration(
    run_files: tuple[str, str], issuer: Issuer, tmp_path: Path
) -> None:
    other = runid.issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:someone"},
        },
        issuer,
    )
    path = tmp_path / "other.json"
    write_secured(path, other)
    _, binding = run_files
    result = _cli("verify", str(path), binding, "--at", AT.isoformat(), "--trusted-issuer", issuer.did)
    assert result.exit_code == 1
    assert ErrorCode.BINDING_WITHOUT_DECLARATION.value in result.output


def test_cli_a_tampered_declaration_with_output_is_invalid_not_a_usage_error(
    run_files: tuple[str, str], issuer: Issuer, tmp_path: Path, run: Run
) -> None:
    declaration, binding = run_files
    tampered = json.loads(Path(declaration).read_text())
    tampered["credentialSubject"]["model"]["modelId"] = "another-model"
    Path(declaration).write_text(json.dumps(tampered))
    output = tmp_path / "out.txt"
    output.write_text("hello")
    result = _cli("verify", declaration, binding, "--output", str(output), "--at", AT.isoformat(), "--trusted-issuer", issuer.did)
    assert result.exit_code == 1, result.output
    assert ErrorCode.PROOF_INVALID.value in result.output
