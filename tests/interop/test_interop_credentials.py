"""Credentials cross the boundary both ways: what vc-runid issues, an independent peer accepts,
and what the peer issues, vc-runid accepts. A one-character change fails on both sides.

Peers:
  * didkit 0.3.3 for the VC 1.1 profile: Ed25519Signature2020 (``ProofFormat.DI_2020``) and the
    VC-JWT 1.1 encoding (``ProofFormat.JWT_V1``). didkit resolves only its built-in context
    URLs, so every credential here uses the VC 1.1 and ed25519-2020 contexts plus an inline
    context object for its extra terms.
  * The Digital Bazaar JS stack for VC 2.0 + DataIntegrityProof eddsa-rdfc-2022
    (``ProofFormat.DI``), signing with a key vc-runid generated.

Not covered: ecdsa-rdfc-2019 (``ProofFormat.ECDSA``). interop/js loads only the eddsa cryptosuite
("insufficient proofs matched the acceptable suite(s)" for a P-256 proof); checking it needs
@digitalbazaar/ecdsa-rdfc-2019-cryptosuite and @digitalbazaar/ecdsa-multikey in the harness.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from vc_runid.errors import ErrorCode
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.verification import VerificationReport, verify_credential

from . import dbjs
from . import didkit_oracle as oracle

pytestmark = pytest.mark.interop

needs_didkit = pytest.mark.skipif(
    not oracle.available(),
    reason=(
        f"DIDKIT NOT AVAILABLE - VC 1.1 interop tests skipped: {oracle.unavailable_reason()}."
        " Install it with: pip install 'vc-runid[didkit]' (didkit==0.3.3)"
    ),
)
needs_node = pytest.mark.skipif(
    not dbjs.node_available(),
    reason=f"DIGITAL BAZAAR JS NOT AVAILABLE - VC 2.0 interop tests skipped: {dbjs.MISSING_REASON}",
)

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
# Terms beyond the base vocabulary travel inline: didkit would refuse any other context URL.
INLINE_TERMS = {"name": "https://schema.org/name", "degree": "https://schema.org/educationalLevel"}

ISSUED_AT = "2024-03-01T09:30:00Z"
PROOF_CREATED = datetime(2024, 3, 1, 9, 30, 5, tzinfo=UTC)
PROOF_CREATED_TEXT = "2024-03-01T09:30:05Z"

PROOF_INVALID = ErrorCode.PROOF_INVALID.value


def v1_credential(issuer: str | None = None) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [VC_V1, ED25519_2020, INLINE_TERMS],
        "id": "urn:uuid:0d6f4c1e-9b2a-4c57-8f61-2a7d3e5b9c10",
        "type": ["VerifiableCredential"],
        "issuanceDate": ISSUED_AT,
        "credentialSubject": {"id": "did:example:holder", "name": "Ada", "degree": "MSc"},
    }
    if issuer is not None:
        credential["issuer"] = issuer
    return credential


def v2_credential(issuer: str | None = None) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [VC_V2, INLINE_TERMS],
        "id": "urn:uuid:6a3e1f02-57c4-4b8e-a0d9-3c1b7e2f4d85",
        "type": ["VerifiableCredential"],
        "validFrom": ISSUED_AT,
        "credentialSubject": {"id": "did:example:holder", "name": "Ada", "degree": "MSc"},
    }
    if issuer is not None:
        credential["issuer"] = issuer
    return credential


# -- helpers ------------------------------------------------------------------------------------


def change_one_character(text: str) -> str:
    """``text`` with its last letter swapped for another letter."""
    for i in range(len(text) - 1, -1, -1):
        if text[i].isalpha():
            return text[:i] + ("b" if text[i] == "a" else "a") + text[i + 1 :]
    raise AssertionError(f"no letter to change in {text!r}")


def tamper_subject(credential: dict[str, Any]) -> dict[str, Any]:
    tampered = copy.deepcopy(credential)
    subject = tampered["credentialSubject"]
    subject["degree"] = change_one_character(subject["degree"])
    return tampered


def _b64url_json(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def _b64url_of_json(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def tamper_jwt_subject(token: str) -> str:
    """The same header and signature over a ``vc`` claim with one subject character changed."""
    header, payload_b64, signature = token.split(".")
    payload = _b64url_json(payload_b64)
    subject = payload["vc"]["credentialSubject"]
    subject["degree"] = change_one_character(subject["degree"])
    return ".".join([header, _b64url_of_json(payload), signature])


def assert_valid(report: VerificationReport) -> None:
    assert report.valid, [(c.name, c.code, c.message) for c in report.failures]


def assert_proof_invalid(report: VerificationReport) -> None:
    assert not report.valid
    assert PROOF_INVALID in report.error_codes, [
        (c.name, c.code, c.message) for c in report.failures
    ]
    assert report.passed("data-model"), "the tamper must leave a well-formed credential"


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture(scope="module")
def didkit_jwk() -> dict[str, Any]:
    return oracle.generate_ed25519_jwk()


@pytest.fixture(scope="module")
def didkit_did(didkit_jwk: dict[str, Any]) -> str:
    return oracle.key_to_did(didkit_jwk)


@pytest.fixture(scope="module")
def runid_di_2020(issuer: Issuer) -> dict[str, Any]:
    secured = issue_credential(
        v1_credential(), issuer, proof_format=ProofFormat.DI_2020, created=PROOF_CREATED
    )
    assert isinstance(secured, dict)
    return secured


@pytest.fixture(scope="module")
def runid_jwt_v1(issuer: Issuer) -> str:
    secured = issue_credential(v1_credential(), issuer, proof_format=ProofFormat.JWT_V1)
    assert isinstance(secured, str)
    return secured


@pytest.fixture(scope="module")
def didkit_ldp(didkit_jwk: dict[str, Any], didkit_did: str) -> dict[str, Any]:
    signed = oracle.issue_credential(
        v1_credential(didkit_did), didkit_jwk, created=PROOF_CREATED_TEXT
    )
    assert isinstance(signed, dict)
    return signed


@pytest.fixture(scope="module")
def didkit_jwt(didkit_jwk: dict[str, Any], didkit_did: str) -> str:
    signed = oracle.issue_credential(v1_credential(didkit_did), didkit_jwk, proof_format="jwt")
    assert isinstance(signed, str)
    return signed


@pytest.fixture(scope="module")
def runid_di(issuer: Issuer) -> dict[str, Any]:
    secured = issue_credential(
        v2_credential(), issuer, proof_format=ProofFormat.DI, created=PROOF_CREATED
    )
    assert isinstance(secured, dict)
    return secured


@pytest.fixture(scope="module")
def db_js_di(issuer: Issuer) -> dict[str, Any]:
    # The JS side signs with vc-runid's key, so the did:key and its document are vc-runid's too.
    return dbjs.issue_credential(
        v2_credential(issuer.did),
        issuer.key.public.multikey,
        issuer.key.secret_multikey,
        created=PROOF_CREATED_TEXT,
    )


# -- VC 1.1: vc-runid → didkit ------------------------------------------------------------------


@needs_didkit
def test_di_2020_credential_from_vc_runid_verifies_in_didkit(runid_di_2020: dict[str, Any]) -> None:
    assert runid_di_2020["proof"]["type"] == "Ed25519Signature2020"
    result = oracle.verify_credential(runid_di_2020)
    assert result["errors"] == []
    assert "proof" in result["checks"]


@needs_didkit
def test_jwt_v1_credential_from_vc_runid_verifies_in_didkit(runid_jwt_v1: str) -> None:
    result = oracle.verify_credential(runid_jwt_v1, proof_format="jwt")
    assert result["errors"] == []
    assert "JWS" in result["checks"]


@needs_didkit
def test_tampered_di_2020_credential_from_vc_runid_fails_in_didkit(
    runid_di_2020: dict[str, Any],
) -> None:
    assert oracle.verify_credential(tamper_subject(runid_di_2020))["errors"] != []


@needs_didkit
def test_tampered_jwt_v1_credential_from_vc_runid_fails_in_didkit(runid_jwt_v1: str) -> None:
    result = oracle.verify_credential(tamper_jwt_subject(runid_jwt_v1), proof_format="jwt")
    assert result["errors"] != []


# -- VC 1.1: didkit → vc-runid ------------------------------------------------------------------


@needs_didkit
def test_didkit_ed25519signature2020_credential_verifies_in_vc_runid(
    didkit_ldp: dict[str, Any], didkit_did: str
) -> None:
    report = verify_credential(didkit_ldp)
    assert_valid(report)
    assert report.format == "Ed25519Signature2020"
    assert report.issuer == didkit_did


@needs_didkit
def test_didkit_vc_jwt_verifies_in_vc_runid(didkit_jwt: str, didkit_did: str) -> None:
    report = verify_credential(didkit_jwt)
    assert_valid(report)
    assert report.format == "vc-jwt-1.1"
    assert report.issuer == didkit_did


@needs_didkit
def test_tampered_didkit_ed25519signature2020_credential_fails_in_vc_runid(
    didkit_ldp: dict[str, Any],
) -> None:
    assert_proof_invalid(verify_credential(tamper_subject(didkit_ldp)))


@needs_didkit
def test_tampered_didkit_vc_jwt_fails_in_vc_runid(didkit_jwt: str) -> None:
    assert_proof_invalid(verify_credential(tamper_jwt_subject(didkit_jwt)))


# -- VC 2.0 eddsa-rdfc-2022: vc-runid ↔ Digital Bazaar JS ---------------------------------------


@needs_node
def test_di_credential_from_vc_runid_verifies_in_db_js(runid_di: dict[str, Any]) -> None:
    assert runid_di["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    # Default checks, including @digitalbazaar/vc's "issuer is the key's controller".
    assert dbjs.verify_credential(runid_di) == {"verified": True, "error": None}


@needs_node
def test_tampered_di_credential_from_vc_runid_fails_in_db_js(runid_di: dict[str, Any]) -> None:
    result = dbjs.verify_credential(tamper_subject(runid_di))
    assert result["verified"] is False
    assert "Invalid signature." in result["error"]


@needs_node
def test_db_js_credential_signed_with_a_vc_runid_key_verifies_in_vc_runid(
    db_js_di: dict[str, Any], issuer: Issuer
) -> None:
    assert db_js_di["proof"]["verificationMethod"] == issuer.verification_method
    report = verify_credential(db_js_di)
    assert_valid(report)
    assert report.format == "eddsa-rdfc-2022"


@needs_node
def test_tampered_db_js_credential_fails_in_vc_runid(db_js_di: dict[str, Any]) -> None:
    assert_proof_invalid(verify_credential(tamper_subject(db_js_di)))
