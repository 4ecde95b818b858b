"""Enveloped presentations (VC 2.0 §4.13.2) secured with VC-JOSE-COSE (``application/vp+jwt``):
the holder's JOSE signature over the whole presentation, bound to the verifier's challenge
(``nonce``) and domain (``aud``), the enclosed credentials verified as usual; a table of
(mutation, expected error code); and the same through the real service's /presentations/verify."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from vc_runid._internal.contexts import VC_V2
from vc_runid.runs.presentations import verify_presentation
from vc_runid.vc import jose
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.verification import Verifier

from . import runner

CHALLENGE, DOMAIN = "c-4711", "verifier.example"


def _credential(issuer: Issuer) -> dict[str, Any]:
    unsigned = {"@context": [VC_V2], "id": f"urn:uuid:{uuid.uuid4()}", "type": ["VerifiableCredential"],
                "issuer": issuer.did, "credentialSubject": {"id": "did:example:alice", "name": "Alice"}}
    token = issue_credential(unsigned, issuer, proof_format=ProofFormat.JOSE)
    assert isinstance(token, str)
    return jose.envelop(token)


def _payload(holder: Issuer, issuer: Issuer) -> dict[str, Any]:
    return {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": holder.did,
            "verifiableCredential": [_credential(issuer)], "nonce": CHALLENGE, "aud": DOMAIN}


def _envelope(token: str, media_type: str = "application/vp+jwt") -> dict[str, Any]:
    return {"@context": [VC_V2], "id": f"data:{media_type},{token}", "type": "EnvelopedVerifiablePresentation"}


def _sign(payload: dict[str, Any], signer: Issuer, **header: Any) -> str:
    return jose._sign({"alg": "EdDSA", "kid": signer.verification_method, "typ": "vp+jwt", **header}, payload, signer.key)


@pytest.fixture(scope="module")
def parties() -> tuple[Issuer, Issuer, Issuer]:
    return Issuer.generate(), Issuer.generate(), Issuer.generate()  # holder, issuer, someone else


def test_a_vp_jwt_envelope_verifies_with_its_enclosed_credential(parties: tuple[Issuer, Issuer, Issuer]) -> None:
    holder, issuer, _ = parties
    report = verify_presentation(_envelope(_sign(_payload(holder, issuer), holder)),
                                 challenge=CHALLENGE, domain=DOMAIN, verifier=Verifier())
    assert report.valid, report.failures
    assert report.format == "vp-jose" and report.holder == holder.did
    assert [c.valid for c in report.credentials] == [True]


Mutation = Callable[[Issuer, Issuer, Issuer], tuple[dict[str, Any], str, str]]


def _signed(change: Callable[[dict[str, Any]], None], signer: int = 0, **header: Any) -> Mutation:
    def build(holder: Issuer, issuer: Issuer, other: Issuer) -> tuple[dict[str, Any], str, str]:
        payload = _payload(holder, issuer)
        change(payload)
        return _envelope(_sign(payload, (holder, issuer, other)[signer], **header)), CHALLENGE, DOMAIN
    return build


def _envelope_change(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def build(holder: Issuer, issuer: Issuer, other: Issuer) -> tuple[dict[str, Any], str, str]:
        envelope = _envelope(_sign(_payload(holder, issuer), holder))
        change(envelope)
        return envelope, CHALLENGE, DOMAIN
    return build


def _tampered(holder: Issuer, issuer: Issuer, other: Issuer) -> tuple[dict[str, Any], str, str]:
    token = _sign(_payload(holder, issuer), holder)
    head, _, signature = token.split(".")
    changed = _payload(holder, issuer)
    changed["aud"] = "another.example"
    body = _sign(changed, holder).split(".")[1]
    return _envelope(f"{head}.{body}.{signature}"), CHALLENGE, DOMAIN


MUTATIONS: list[tuple[str, Mutation, str]] = [
    ("another verifier's challenge", _signed(lambda p: p.update(nonce="other")), "RUNID_PROOF_CHALLENGE_MISMATCH"),
    ("another verifier's domain", _signed(lambda p: p.update(aud="other.example")), "RUNID_PROOF_DOMAIN_MISMATCH"),
    ("no challenge answered", _signed(lambda p: p.pop("nonce")), "RUNID_PROOF_CHALLENGE_MISMATCH"),
    ("payload changed after signing", _tampered, "RUNID_PROOF_INVALID"),
    ("signed by a key not the holder's", _signed(lambda p: None, signer=2), "RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"),
    ("holder claims another DID", _signed(lambda p: p.update(holder="did:example:mallory")), "RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"),
    ("no holder", _signed(lambda p: p.pop("holder")), "RUNID_NOT_A_PRESENTATION"),
    ("VC 1.1 vp claim encoding", _signed(lambda p: p.update(vp={"type": "VerifiablePresentation"})), "RUNID_NOT_A_PRESENTATION"),
    ("typ JWT, not vp+jwt", _signed(lambda p: None, typ="JWT"), "RUNID_NOT_A_PRESENTATION"),
    ("an embedded proof as well", _signed(lambda p: p.update(proof={"type": "DataIntegrityProof"})), "RUNID_NOT_A_PRESENTATION"),
    ("unsecured member beside the envelope", _envelope_change(lambda e: e.update(holder="did:example:x")), "RUNID_NOT_A_PRESENTATION"),
    ("media type application/jwt", _envelope_change(lambda e: e.update(id=e["id"].replace("vp+jwt", "jwt"))), "RUNID_NOT_A_PRESENTATION"),
    ("id is not a data: URL", _envelope_change(lambda e: e.update(id=e["id"].split(",", 1)[1])), "RUNID_NOT_A_PRESENTATION"),
    ("type is VerifiablePresentation", _envelope_change(lambda e: e.update(type=["VerifiablePresentation"])), "RUNID_PROOF_MISSING"),
]


@pytest.mark.parametrize(("name", "mutation", "code"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_mutated_envelope_is_refused(
    parties: tuple[Issuer, Issuer, Issuer], name: str, mutation: Mutation, code: str
) -> None:
    envelope, challenge, domain = mutation(*parties)
    report = verify_presentation(envelope, challenge=challenge, domain=domain, verifier=Verifier())
    assert not report.valid
    assert code in {c.code for c in report.failures}, (name, report.failures)


def test_a_forged_enclosed_credential_fails_the_presentation(parties: tuple[Issuer, Issuer, Issuer]) -> None:
    holder, issuer, _ = parties
    payload = _payload(holder, issuer)
    inner = jose.unwrap_envelope(payload["verifiableCredential"][0])
    head, body, signature = inner.split(".")
    payload["verifiableCredential"][0] = jose.envelop(f"{head}.{body}.{signature[:-4]}AAAA")
    report = verify_presentation(_envelope(_sign(payload, holder)), challenge=CHALLENGE, domain=DOMAIN, verifier=Verifier())
    assert report.presentation_valid and not report.valid


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runner.Service]:
    with runner.running_service(tmp_path_factory.mktemp("service")) as running:
        yield running


def test_the_service_verifies_an_enveloped_presentation(service: runner.Service, parties: tuple[Issuer, Issuer, Issuer]) -> None:
    holder, issuer, _ = parties
    envelope = _envelope(_sign(_payload(holder, issuer), holder))

    def post(document: dict[str, Any], challenge: str = CHALLENGE) -> httpx.Response:
        return httpx.post(f"{service.url}/presentations/verify", verify=False, timeout=60, json={
            "verifiablePresentation": document, "options": {"challenge": challenge, "domain": DOMAIN}})

    assert post(envelope).status_code == 200
    assert post(envelope, challenge="other").status_code == 422
    tampered = copy.deepcopy(envelope)
    tampered["id"] = tampered["id"][:-6] + "AAAAAA"
    assert post(tampered).status_code == 422


@pytest.mark.parametrize("member", [{"issuer": 4}, {"credentialSubject": "x"}, {"proof": "x"}, {"issuer": "did:example:mallory"}])
def test_an_enveloped_credential_with_unsecured_members_is_refused(parties: tuple[Issuer, Issuer, Issuer], member: dict[str, Any]) -> None:
    envelope = {**_credential(parties[1]), **member}
    report = Verifier().verify_credential(envelope)
    assert not report.valid
    assert "RUNID_NOT_A_CREDENTIAL" in {c.code for c in report.failures}
