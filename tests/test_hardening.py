"""Hostile or odd input at the edges: each case fails closed, with a code, and touches nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import vc_runid as runid
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs import compose_from_manifest, output_digest
from vc_runid.store.files import receipt_path, run_file_stem
from vc_runid.vc import KeyPair, jose
from vc_runid.vc.credentials import Issuer
from vc_runid.vc.dids import DidResolver, did_web_document
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.verification import Verifier

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def composition() -> runid.RunComposition:
    return runid.CompositionBuilder().model("m-1").input("hi").build()[0]


def test_a_did_document_with_malformed_relationship_entries_fails_a_check_not_the_verifier() -> None:
    issuer = Issuer.from_key(KeyPair.generate(), did_web="did:web:issuer.example")
    document = did_web_document(issuer.did, [issuer.key.public])
    document["assertionMethod"] = [1, None, ["nested"]]
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "credentialSubject": {"id": "did:example:s"},
    }
    signed = runid.issue_credential(credential, issuer, created=T0)
    report = Verifier(resolver=DidResolver({issuer.did: document}), now=T0).verify_credential(signed)
    assert not report.valid
    assert report.error_codes == ["RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"]


def test_an_unexpected_error_inside_a_check_is_a_failed_check() -> None:
    class Exploding(DidResolver):
        def verification_method(self, vm_url: str, relationship: str):  # type: ignore[no-untyped-def]
            raise KeyError("boom")

    issuer = Issuer.generate()
    signed = runid.issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:s"}},
        issuer,
        created=T0,
    )
    report = Verifier(resolver=Exploding(), now=T0).verify_credential(signed)
    assert not report.valid
    assert report.error_codes == ["RUNID_INTERNAL"]


def test_an_enveloped_jose_declaration_given_as_bytes_links_to_its_binding() -> None:
    issuer = Issuer.generate()
    with runid.run(composition(), issuer=issuer, proof_format=ProofFormat.JOSE) as run:
        run.record_output("out")
    assert isinstance(run.declaration, str)
    enveloped = json.dumps(jose.envelop(run.declaration)).encode()
    report = runid.verify_run(enveloped, run.binding, policy=runid.TrustPolicy.trusting(issuer.did))
    assert report.valid, report.failures


def test_bind_refuses_a_start_before_the_declaration() -> None:
    issuer = Issuer.generate()
    declaration = runid.declare(composition(), issuer, declared_at=T0)
    assert isinstance(declaration, dict)
    with pytest.raises(RunIdError) as refused:
        runid.bind(
            declaration, issuer, declaration_id=declaration["id"], run_id=declaration["credentialSubject"]["id"],
            output=output_digest(b"x"), started_at=T0 - timedelta(seconds=1), completed_at=T0,
            bound_at=T0 + timedelta(seconds=1),
        )
    assert refused.value.code is ErrorCode.DECLARED_AFTER_START


@pytest.mark.parametrize("run_id", ["urn:x:../../../etc/passwd", "urn:uuid:a/b", "..", "urn:x:" + "a" * 200])
def test_run_ids_never_reach_a_path_unchecked(tmp_path: Path, run_id: str) -> None:
    stem = run_file_stem(run_id)
    assert "/" not in stem and ".." not in stem and len(stem) <= 64
    assert receipt_path(tmp_path, run_id, "declaration").parent == tmp_path / "receipts"


def test_the_client_never_sends_a_token_over_plain_http_to_another_host() -> None:
    from vc_runid.client.issuer import IssuerClient

    with pytest.raises(RunIdError) as refused:
        IssuerClient("http://issuer.example", token="runid_secret")
    assert refused.value.code is ErrorCode.USAGE
    IssuerClient("http://127.0.0.1:9", token="runid_secret").close()  # loopback is fine
    IssuerClient("https://issuer.example", token="runid_secret").close()


def test_the_demo_never_writes_into_a_directory_it_did_not_make(tmp_path: Path) -> None:
    from vc_runid.demo.job import run_demo

    mine = tmp_path / "mine"
    (mine / "weights").mkdir(parents=True)
    (mine / "weights" / "precious.bin").write_bytes(b"keep me")
    with pytest.raises(RunIdError):
        run_demo(tmp_path / "home", mine, echo=lambda _: None)
    assert (mine / "weights" / "precious.bin").read_bytes() == b"keep me"


def test_a_tool_file_with_duplicate_keys_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tool.json").write_text('{"name": "search", "name": "delete_everything"}')
    (tmp_path / "m.yaml").write_text("model: {id: m}\ntools: [tool.json]\n")
    with pytest.raises(RunIdError) as refused:
        compose_from_manifest(tmp_path / "m.yaml")
    assert refused.value.code is ErrorCode.MANIFEST_INVALID
    assert "duplicate" in refused.value.message
