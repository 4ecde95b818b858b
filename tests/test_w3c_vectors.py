"""W3C vc-di-eddsa test vectors, reproduced byte for byte (figures copied verbatim from the
W3C Data Integrity EdDSA Cryptosuites v1.0 repository, TestVectors/, commit abb673e)."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime

import pytest

from vc_runid._internal.canonical import canonicalize
from vc_runid._internal.contexts import DocumentLoader
from vc_runid.vc.keys import KeyPair
from vc_runid.vc.proofs import ED25519_SIGNATURE_2020, EDDSA_RDFC_2022, ProofOptions
from vc_runid.vc.verification import Verifier

EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
LOADER = DocumentLoader({EXAMPLES_V2: {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}})

PUBLIC_KEY_MULTIBASE = 'z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'
SECRET_KEY_MULTIBASE = 'z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq'
VERIFICATION_METHOD = f"did:key:{PUBLIC_KEY_MULTIBASE}#{PUBLIC_KEY_MULTIBASE}"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)

UNSIGNED = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2"
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": [
        "VerifiableCredential",
        "AlumniCredential"
    ],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:example:abcdefgh",
        "alumniOf": "The School of Examples"
    }
}

CANONICAL_DOCUMENT = (
    '<did:example:abcdefgh> <https://www.w3.org/ns/credentials/examples#alumniOf> "The School of Examples" .\n'
    '<urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://www.w3.org/2018/credentials#VerifiableCredential> .\n'
    '<urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://www.w3.org/ns/credentials/examples#AlumniCredential> .\n'
    '<urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33> <https://schema.org/description> "A minimum viable example of an Alumni Credential." .\n'
    '<urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33> <https://schema.org/name> "Alumni Credential" .\n'
    '<urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33> <https://www.w3.org/2018/credentials#credentialSubject> <did:example:abcdefgh> .\n'
    '<urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33> <https://www.w3.org/2018/credentials#issuer> <https://vc.example/issuers/5678> .\n'
    '<urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33> <https://www.w3.org/2018/credentials#validFrom> "2023-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n'
)

EDDSA_PROOF_CANONICAL = (
    '_:c14n0 <http://purl.org/dc/terms/created> "2023-02-24T23:36:38Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n'
    '_:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/security#DataIntegrityProof> .\n'
    '_:c14n0 <https://w3id.org/security#cryptosuite> "eddsa-rdfc-2022"^^<https://w3id.org/security#cryptosuiteString> .\n'
    '_:c14n0 <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .\n'
    '_:c14n0 <https://w3id.org/security#verificationMethod> <did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2> .\n'
)
EDDSA_DOC_HASH = '517744132ae165a5349155bef0bb0cf2258fff99dfe1dbd914b938d775a36017'
EDDSA_PROOF_HASH = 'bea7b7acfbad0126b135104024a5f1733e705108f42d59668b05c0c50004c6b0'
EDDSA_SIGNATURE_HEX = '4d8e53c2d5b3f2a7891753eb16ca993325bdb0d3cfc5be1093d0a18426f5ef8578cadc0fd4b5f4dd0d1ce0aefd15ab120b7a894d0eb094ffda4e6553cd1ed50d'
EDDSA_PROOF_VALUE = 'z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme'

ED2020_PROOF_CANONICAL = (
    '_:c14n0 <http://purl.org/dc/terms/created> "2023-02-24T23:36:38Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n'
    '_:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/security#Ed25519Signature2020> .\n'
    '_:c14n0 <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .\n'
    '_:c14n0 <https://w3id.org/security#verificationMethod> <did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2> .\n'
)
ED2020_PROOF_HASH = '04e14bcf5727cba0c0aa04a04d22a56fef915d5f8f7756bb92ae67cb1d0c4847'
ED2020_SIGNATURE_HEX = 'cd8d023e8a9b462d563bbbd24c4499d8172738eb3f5235d74f65971e9be36dd7f23a1e201791e9a6747e45b8fa877a984f51f591567365c4d8222ecad39be60c'
ED2020_PROOF_VALUE = 'z57Mm1vboMtZiCyJ4aReZsv8co4Re64Y8GEjL1ZARzMbXZgkARFLqFs1P345NpPGG2hgCrS4nNdvJhpwnrNyG3kEF'

KEY = KeyPair.from_secret_multikey(SECRET_KEY_MULTIBASE)
OPTIONS = ProofOptions(VERIFICATION_METHOD, created=CREATED)


def test_key_pair_matches_vector() -> None:
    assert KEY.public.multikey == PUBLIC_KEY_MULTIBASE
    assert KEY.secret_multikey == SECRET_KEY_MULTIBASE


def test_rdfc_canonical_document_matches_vector() -> None:
    assert canonicalize(UNSIGNED, LOADER) == CANONICAL_DOCUMENT
    assert hashlib.sha256(CANONICAL_DOCUMENT.encode()).hexdigest() == EDDSA_DOC_HASH


@pytest.mark.parametrize(
    ("suite", "document", "proof_canonical", "proof_hash", "signature_hex", "proof_value"),
    [
        (EDDSA_RDFC_2022, UNSIGNED, EDDSA_PROOF_CANONICAL, EDDSA_PROOF_HASH, EDDSA_SIGNATURE_HEX, EDDSA_PROOF_VALUE),
        (
            ED25519_SIGNATURE_2020,
            ED25519_SIGNATURE_2020.prepare_document(UNSIGNED),
            ED2020_PROOF_CANONICAL,
            ED2020_PROOF_HASH,
            ED2020_SIGNATURE_HEX,
            ED2020_PROOF_VALUE,
        ),
    ],
    ids=["eddsa-rdfc-2022", "Ed25519Signature2020"],
)
def test_proof_reproduces_vector_byte_for_byte(suite, document, proof_canonical, proof_hash, signature_hex, proof_value) -> None:  # type: ignore[no-untyped-def]
    config = suite.proof_config(OPTIONS, document["@context"])
    assert canonicalize(config, LOADER) == proof_canonical
    combined = suite.hash_data(document, config, LOADER)
    assert combined.hex() == proof_hash + EDDSA_DOC_HASH
    assert KEY.sign(combined).hex() == signature_hex
    proof = suite.create_proof(document, KEY, OPTIONS, LOADER)
    assert proof["proofValue"] == proof_value


def test_signed_vector_verifies_and_names_the_issuer_mismatch() -> None:
    # The vector's issuer is an https URL while its key is a did:key: the signature is valid,
    # but the key is not the issuer's, and a verifier must say exactly that.
    signed = {**UNSIGNED, "proof": EDDSA_RDFC_2022.create_proof(UNSIGNED, KEY, OPTIONS, LOADER)}
    report = Verifier(loader=LOADER, now=CREATED).verify_credential(signed)
    assert not report.valid
    assert [c.code for c in report.failures] == ["RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"]


def test_vector_signature_verifies_when_issuer_is_the_key() -> None:
    document = {**UNSIGNED, "issuer": VERIFICATION_METHOD.split("#")[0]}
    signed = {**document, "proof": EDDSA_RDFC_2022.create_proof(document, KEY, OPTIONS, LOADER)}
    report = Verifier(loader=LOADER, now=CREATED).verify_credential(signed)
    assert report.valid, report.failures
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "The School of Exampled"
    report = Verifier(loader=LOADER, now=CREATED).verify_credential(tampered)
    assert report.error_codes == ["RUNID_PROOF_INVALID"]
