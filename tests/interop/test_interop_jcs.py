"""eddsa-jcs-2022 across the boundary, both ways, against the Digital Bazaar JS stack
(@digitalbazaar/data-integrity + @digitalbazaar/eddsa-jcs-2022-cryptosuite, in interop/js).

What vc-runid issues, the peer verifies; what the peer issues, vc-runid verifies; a one-character
change fails on both sides. The W3C eddsa-jcs-2022 vector is checked by the peer first, so the
oracle itself is known good.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.verification import Verifier

from . import dbjs

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not dbjs.node_available(), reason=dbjs.MISSING_REASON),
]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
CREATED = datetime(2024, 3, 1, 9, 30, 5, tzinfo=UTC)
NOW = datetime(2024, 3, 2, tzinfo=UTC)

# The W3C vc-di-eddsa eddsa-jcs-2022 vector (TestVectors/eddsa-jcs-2022/signedJCS.json).
W3C_SIGNED: dict[str, Any] = {
    "@context": [VC_V2, EXAMPLES_V2],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "proofPurpose": "assertionMethod",
        "@context": [VC_V2, EXAMPLES_V2],
        "proofValue": "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX",
    },
}


def unsigned(issuer: Issuer) -> dict[str, Any]:
    return {
        "@context": [VC_V2, EXAMPLES_V2],
        "id": "urn:uuid:1f0c6a52-91b6-4c55-8c0e-3d1bd7c4f5a1",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": issuer.did,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "alumniOf": "The School of Examples"},
    }


def tampered(credential: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["alumniOf"] = "The School of Examplez"
    return changed


def test_the_peer_accepts_the_w3c_vector_and_refuses_it_tampered() -> None:
    assert dbjs.verify_credential(W3C_SIGNED, check_issuer=False)["verified"] is True
    assert dbjs.verify_credential(tampered(W3C_SIGNED), check_issuer=False)["verified"] is False


def test_the_peer_verifies_what_vc_runid_signs_with_eddsa_jcs_2022() -> None:
    issuer = Issuer.generate()
    secured = issue_credential(unsigned(issuer), issuer, proof_format=ProofFormat.EDDSA_JCS, created=CREATED)
    assert isinstance(secured, dict)

    result = dbjs.verify_credential(secured, now=NOW.isoformat())

    assert result["verified"] is True, result["error"]
    assert dbjs.verify_credential(tampered(secured), now=NOW.isoformat())["verified"] is False


def test_vc_runid_verifies_what_the_peer_signs_with_eddsa_jcs_2022() -> None:
    issuer = Issuer.generate()
    signed = dbjs.issue_credential(
        unsigned(issuer),
        issuer.key.public.multikey,
        issuer.key.secret_multikey,
        created=CREATED.isoformat().replace("+00:00", "Z"),
        cryptosuite="eddsa-jcs-2022",
    )
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    verifier = Verifier(now=NOW)

    report = verifier.verify_credential(json.dumps(signed).encode())

    assert report.valid, report.failures
    assert report.format == "eddsa-jcs-2022"
    assert verifier.verify_credential(tampered(signed)).error_codes == ["RUNID_PROOF_INVALID"]
