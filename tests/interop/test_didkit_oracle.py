"""The didkit oracle itself: didkit must accept what it signs and reject a one-character change.

If these fail, every other interop test that leans on the oracle means nothing.
"""

from __future__ import annotations

import base64
import copy
import json
import sys
from typing import Any

import pytest

from . import didkit_oracle as oracle

pytestmark = pytest.mark.interop

needs_didkit = pytest.mark.skipif(
    not oracle.available(),
    reason=(
        f"DIDKIT NOT AVAILABLE - interop oracle tests skipped: {oracle.unavailable_reason()}."
        " Install it with: pip install 'vc-runid[didkit]' (didkit==0.3.3)"
    ),
)

VC_V1 = "https://www.w3.org/2018/credentials/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
# didkit loads only built-in context URLs, so extra terms travel in an inline context.
INLINE_TERMS = {"name": "https://schema.org/name"}
CREATED = "2024-01-01T00:00:00Z"
CHALLENGE = "5d0b0c62-challenge"
DOMAIN = "verifier.example.org"


def b64url_json(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def b64url_encode_json(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def flip_one_character(text: str) -> str:
    """``text`` with its last letter replaced by a different one."""
    for i in range(len(text) - 1, -1, -1):
        if text[i].isalpha():
            replacement = "b" if text[i] == "a" else "a"
            return text[:i] + replacement + text[i + 1 :]
    raise AssertionError(f"no letter to change in {text!r}")


@pytest.fixture(scope="module")
def jwk() -> dict[str, Any]:
    return oracle.generate_ed25519_jwk()


@pytest.fixture(scope="module")
def did(jwk: dict[str, Any]) -> str:
    return oracle.key_to_did(jwk)


@pytest.fixture(scope="module")
def credential(did: str) -> dict[str, Any]:
    return {
        "@context": [VC_V1, ED25519_2020, INLINE_TERMS],
        "id": "urn:uuid:7c2e7a40-3c07-4d0a-9a0e-3f3c1c6f9a11",
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "name": "Alice"},
    }


@pytest.fixture(scope="module")
def signed_ldp(credential: dict[str, Any], jwk: dict[str, Any]) -> dict[str, Any]:
    signed = oracle.issue_credential(credential, jwk, created=CREATED)
    assert isinstance(signed, dict)
    return signed


@pytest.fixture(scope="module")
def signed_jwt(credential: dict[str, Any], jwk: dict[str, Any]) -> str:
    signed = oracle.issue_credential(credential, jwk, proof_format="jwt")
    assert isinstance(signed, str)
    return signed


@pytest.fixture(scope="module")
def signed_presentation(
    signed_ldp: dict[str, Any], jwk: dict[str, Any], did: str
) -> dict[str, Any]:
    presentation = {
        "@context": [VC_V1, ED25519_2020],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "verifiableCredential": [signed_ldp],
    }
    signed = oracle.issue_presentation(presentation, jwk, CHALLENGE, DOMAIN)
    assert isinstance(signed, dict)
    return signed


# --- keys and DIDs ---------------------------------------------------------------------------


@needs_didkit
def test_generated_key_is_an_ed25519_okp_private_jwk(jwk: dict[str, Any]) -> None:
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    assert {"x", "d"} <= jwk.keys()


@needs_didkit
def test_verification_method_is_the_did_key_fragment_form(jwk: dict[str, Any], did: str) -> None:
    assert did.startswith("did:key:z6Mk")
    assert oracle.verification_method(jwk) == f"{did}#{did.removeprefix('did:key:')}"


# --- VC 1.1 + Ed25519Signature2020 -----------------------------------------------------------


@needs_didkit
def test_didkit_signs_ed25519signature2020_for_assertion(
    signed_ldp: dict[str, Any], credential: dict[str, Any], jwk: dict[str, Any]
) -> None:
    proof = signed_ldp["proof"]
    assert proof["type"] == "Ed25519Signature2020"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == oracle.verification_method(jwk)
    assert proof["created"] == CREATED
    assert proof["proofValue"].startswith("z")
    # The credential already carries the suite context, so the proof needs none of its own.
    assert "@context" not in proof
    assert {k: v for k, v in signed_ldp.items() if k != "proof"} == credential


@needs_didkit
def test_didkit_verifies_the_credential_it_signed(signed_ldp: dict[str, Any]) -> None:
    result = oracle.verify_credential(signed_ldp)
    assert result["errors"] == []
    assert "proof" in result["checks"]


@pytest.mark.parametrize(
    "field",
    ["credentialSubject.name", "issuanceDate", "proof.created", "proof.proofValue"],
)
@needs_didkit
def test_one_character_tamper_fails_ldp(signed_ldp: dict[str, Any], field: str) -> None:
    tampered = copy.deepcopy(signed_ldp)
    parent_key, _, key = field.rpartition(".")
    parent = tampered[parent_key] if parent_key else tampered
    if key in ("issuanceDate", "created"):
        parent[key] = parent[key].replace("2024", "2025", 1)
    else:
        parent[key] = flip_one_character(parent[key])
    assert tampered != signed_ldp

    assert oracle.verify_credential(tampered)["errors"] != []


# --- VC-JWT 1.1 ------------------------------------------------------------------------------


@needs_didkit
def test_didkit_vc_jwt_header_and_claims(
    signed_jwt: str, credential: dict[str, Any], jwk: dict[str, Any], did: str
) -> None:
    header_b64, payload_b64, signature_b64 = signed_jwt.split(".")
    header = b64url_json(header_b64)
    payload = b64url_json(payload_b64)
    assert header == {"alg": "EdDSA", "kid": oracle.verification_method(jwk)}
    assert payload["iss"] == did
    assert payload["nbf"] == 1704067200
    assert payload["jti"] == credential["id"]
    assert payload["sub"] == credential["credentialSubject"]["id"]
    assert payload["vc"] == credential
    assert len(base64.urlsafe_b64decode(signature_b64 + "==")) == 64


@needs_didkit
def test_didkit_verifies_the_vc_jwt_it_signed(signed_jwt: str) -> None:
    result = oracle.verify_credential(signed_jwt, proof_format="jwt")
    assert result["errors"] == []
    assert "JWS" in result["checks"]


@needs_didkit
def test_one_character_tamper_fails_vc_jwt(signed_jwt: str) -> None:
    header_b64, payload_b64, signature_b64 = signed_jwt.split(".")
    payload = b64url_json(payload_b64)
    subject = payload["vc"]["credentialSubject"]
    subject["name"] = flip_one_character(subject["name"])
    tampered = ".".join([header_b64, b64url_encode_json(payload), signature_b64])

    assert oracle.verify_credential(tampered, proof_format="jwt")["errors"] != []


# --- VC 1.1 presentations --------------------------------------------------------------------


@needs_didkit
def test_didkit_signs_presentation_for_authentication(
    signed_presentation: dict[str, Any], jwk: dict[str, Any]
) -> None:
    proof = signed_presentation["proof"]
    assert proof["type"] == "Ed25519Signature2020"
    assert proof["proofPurpose"] == "authentication"
    assert (proof["challenge"], proof["domain"]) == (CHALLENGE, DOMAIN)
    assert proof["verificationMethod"] == oracle.verification_method(jwk)


@needs_didkit
def test_presentation_verifies_with_its_challenge_and_domain(
    signed_presentation: dict[str, Any],
) -> None:
    result = oracle.verify_presentation(signed_presentation, CHALLENGE, DOMAIN)
    assert result["errors"] == []
    assert "proof" in result["checks"]


@pytest.mark.parametrize(
    ("challenge", "domain"),
    [("another-challenge", DOMAIN), (CHALLENGE, "other.example.org")],
    ids=["other-challenge", "other-domain"],
)
@needs_didkit
def test_presentation_fails_with_another_challenge_or_domain(
    signed_presentation: dict[str, Any], challenge: str, domain: str
) -> None:
    assert oracle.verify_presentation(signed_presentation, challenge, domain)["errors"] != []


@needs_didkit
def test_vp_jwt_binds_challenge_and_domain(
    signed_ldp: dict[str, Any], jwk: dict[str, Any], did: str
) -> None:
    presentation = {
        "@context": [VC_V1],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "verifiableCredential": [signed_ldp],
    }
    vp_jwt = oracle.issue_presentation(presentation, jwk, CHALLENGE, DOMAIN, proof_format="jwt")
    assert isinstance(vp_jwt, str)
    payload = b64url_json(vp_jwt.split(".")[1])
    assert (payload["nonce"], payload["aud"]) == (CHALLENGE, DOMAIN)

    assert oracle.verify_presentation(vp_jwt, CHALLENGE, DOMAIN, proof_format="jwt")["errors"] == []
    other = oracle.verify_presentation(vp_jwt, "another-challenge", DOMAIN, proof_format="jwt")
    assert other["errors"] != []


# --- the child-process harness ---------------------------------------------------------------


@needs_didkit
def test_didkit_exception_becomes_didkit_error(
    credential: dict[str, Any], jwk: dict[str, Any]
) -> None:
    unknown = dict(credential, **{"@context": [VC_V1, "https://example.org/unknown/v1"]})
    with pytest.raises(oracle.DidkitError, match="Unknown context"):
        oracle.issue_credential(unknown, jwk)


def test_crash_after_the_result_is_printed_does_not_fail_the_call() -> None:
    # What the wheel does at exit: the answer is out, then the interpreter aborts.
    source = (
        'import json, os, sys; print(json.dumps({"result": 42})); sys.stdout.flush(); os.abort()'
    )
    assert oracle._run_child({"fn": "get_version", "args": []}, source=source) == 42


def test_crash_before_any_result_is_a_didkit_error_with_stderr() -> None:
    source = (
        'import os, sys; sys.stderr.write("runtime exploded\\n"); sys.stderr.flush(); os.abort()'
    )
    with pytest.raises(oracle.DidkitError, match="runtime exploded") as caught:
        oracle._run_child({"fn": "get_version", "args": []}, source=source)
    assert caught.value.returncode != 0


def test_child_uses_the_running_interpreter() -> None:
    source = 'import json, sys; print(json.dumps({"result": sys.executable}))'
    assert oracle._run_child({"fn": "get_version", "args": []}, source=source) == sys.executable
