"""eddsa-jcs-2022 (vc-di-eddsa §3.3) and ecdsa-jcs-2019 with P-256 (vc-di-ecdsa §3.4).

The W3C test vectors are copied here as figures: the eddsa-jcs-2022 vector of the vc-di-eddsa
specification (TestVectors/eddsa-jcs-2022) and the P-256 ecdsa-jcs-2019 credential of the W3C
vc-di-ecdsa-test-suite (tests/vectors.js). Ed25519 is deterministic, so the eddsa vector is
reproduced byte for byte; ECDSA is not, so its vector is verified.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import base58
import pytest
import rfc8785

from vc_runid._internal.contexts import default_loader
from vc_runid._internal.multiformats import multibase_decode
from vc_runid.errors import ErrorCode, ProofError, RunIdError
from vc_runid.vc.credentials import Issuer
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.keys import KeyPair, KeyType, PublicKey
from vc_runid.vc.proofs import (
    ECDSA_JCS_2019,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    ProofOptions,
    suite_for,
)
from vc_runid.vc.verification import Verifier

EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
VC_V2 = "https://www.w3.org/ns/credentials/v2"

# --- the W3C eddsa-jcs-2022 vector (vc-di-eddsa TestVectors) ------------------------------------

VECTOR_PUBLIC_KEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_SECRET_KEY = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_METHOD = f"did:key:{VECTOR_PUBLIC_KEY}#{VECTOR_PUBLIC_KEY}"
VECTOR_CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
UNSIGNED: dict[str, Any] = {
    "@context": [VC_V2, EXAMPLES_V2],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
CANONICAL_DOCUMENT = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},'
    '"description":"A minimum viable example of an Alumni Credential.",'
    '"id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678",'
    '"name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],'
    '"validFrom":"2023-01-01T00:00:00Z"}'
)
CANONICAL_PROOF_CONFIG = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",'
    '"type":"DataIntegrityProof","verificationMethod":"' + VECTOR_METHOD + '"}'
)
PROOF_CONFIG_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
DOCUMENT_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
SIGNATURE_HEX = (
    "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803"
    "51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808"
)
PROOF_VALUE = "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
SIGNED_PROOF: dict[str, Any] = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": VECTOR_METHOD,
    "proofPurpose": "assertionMethod",
    "@context": [VC_V2, EXAMPLES_V2],
    "proofValue": PROOF_VALUE,
}

# --- the W3C vc-di-ecdsa-test-suite's P-256 ecdsa-jcs-2019 credential ---------------------------

ECDSA_PUBLIC_KEY = "zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKVP"
ECDSA_SIGNED: dict[str, Any] = {
    **UNSIGNED,
    "proof": {
        "type": "DataIntegrityProof",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": f"did:key:{ECDSA_PUBLIC_KEY}#{ECDSA_PUBLIC_KEY}",
        "cryptosuite": "ecdsa-jcs-2019",
        "proofPurpose": "assertionMethod",
        "@context": [VC_V2, EXAMPLES_V2],
        "proofValue": "z48fSpWLud2PXMmBjRnacU3oE4WMHX4J1hx7qjc2K31x1aoVfLPCcpEincvjUg8ptbDnrYgcytmSj51Uj2Ap3a7WB",
    },
}

JCS_FORMATS = [ProofFormat.EDDSA_JCS, ProofFormat.ECDSA_JCS]
SUITE_NAME = {ProofFormat.EDDSA_JCS: "eddsa-jcs-2022", ProofFormat.ECDSA_JCS: "ecdsa-jcs-2019"}


def vector_key() -> KeyPair:
    return KeyPair.from_secret_multikey(VECTOR_SECRET_KEY)


def vector_options() -> ProofOptions:
    return ProofOptions(VECTOR_METHOD, created=VECTOR_CREATED)


# --- the W3C vectors, byte for byte --------------------------------------------------------------


def test_the_vector_key_pair_is_the_published_one() -> None:
    assert vector_key().public.multikey == VECTOR_PUBLIC_KEY


def test_transformation_is_rfc8785_of_the_unsecured_document() -> None:
    assert rfc8785.dumps(UNSIGNED).decode() == CANONICAL_DOCUMENT


def test_hashing_is_sha256_of_the_canonical_proof_config_then_of_the_canonical_document() -> None:
    config = {k: v for k, v in SIGNED_PROOF.items() if k != "proofValue"}
    assert rfc8785.dumps(config).decode() == CANONICAL_PROOF_CONFIG

    hash_data = EDDSA_JCS_2022.hash_data(UNSIGNED, config, default_loader())

    assert hash_data.hex() == PROOF_CONFIG_HASH + DOCUMENT_HASH


def test_create_proof_reproduces_the_w3c_eddsa_jcs_2022_proof_byte_for_byte() -> None:
    proof = EDDSA_JCS_2022.create_proof(UNSIGNED, vector_key(), vector_options(), default_loader())

    assert proof == SIGNED_PROOF
    assert list(proof) == list(SIGNED_PROOF)  # the vector's order: @context just before proofValue
    assert multibase_decode(proof["proofValue"]).hex() == SIGNATURE_HEX


def test_verify_proof_accepts_the_w3c_eddsa_jcs_2022_credential() -> None:
    signed = {**UNSIGNED, "proof": SIGNED_PROOF}

    EDDSA_JCS_2022.verify_proof(signed, SIGNED_PROOF, PublicKey.from_multikey(VECTOR_PUBLIC_KEY), default_loader())


def test_verify_proof_accepts_the_w3c_ecdsa_jcs_2019_p256_credential() -> None:
    proof = ECDSA_JCS_2019.verify_proof(
        ECDSA_SIGNED, ECDSA_SIGNED["proof"], PublicKey.from_multikey(ECDSA_PUBLIC_KEY), default_loader()
    )
    assert proof is None


def test_a_sliced_proof_value_fails_the_ecdsa_vector() -> None:
    """What the vc-di-ecdsa suite's "Verify Proof (ecdsa-jcs-2019)" test sends second."""
    sliced = copy.deepcopy(ECDSA_SIGNED)
    sliced["proof"]["proofValue"] = sliced["proof"]["proofValue"][:-1]

    with pytest.raises(ProofError) as caught:
        ECDSA_JCS_2019.verify_proof(sliced, sliced["proof"], PublicKey.from_multikey(ECDSA_PUBLIC_KEY), default_loader())
    assert caught.value.code is ErrorCode.PROOF_INVALID


@pytest.mark.parametrize("vector", [{**UNSIGNED, "proof": SIGNED_PROOF}, ECDSA_SIGNED], ids=["eddsa", "ecdsa"])
def test_a_full_verification_of_a_w3c_vector_refuses_its_issuer(vector: dict[str, Any]) -> None:
    """The vectors' issuer (https://vc.example/issuers/5678) does not control the did:key that
    signed them: the signature is good, the credential is not the issuer's."""
    report = Verifier(now=VECTOR_CREATED).verify_credential(vector)

    assert report.passed("json-ld") and report.passed("signed-form")
    assert report.error_codes == [ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED.value]


# --- Create Proof / Proof Configuration / Serialization MUSTs, through issue_credential ----------


@pytest.fixture(params=JCS_FORMATS, ids=lambda f: f.value)
def jcs_format(request: pytest.FixtureRequest) -> ProofFormat:
    return request.param  # type: ignore[no-any-return]


def test_the_proof_options_contain_type_and_cryptosuite(jcs_format: ProofFormat, issue: Any) -> None:
    proof = issue(jcs_format)["proof"]

    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == SUITE_NAME[jcs_format]


def test_proof_context_is_set_to_the_unsecured_documents_context(jcs_format: ProofFormat, issue: Any) -> None:
    secured = issue(jcs_format)

    assert secured["proof"]["@context"] == secured["@context"]


def test_proof_value_is_a_base58btc_multibase_signature(jcs_format: ProofFormat, issue: Any) -> None:
    proof_value = issue(jcs_format)["proof"]["proofValue"]

    assert proof_value.startswith("z")
    assert len(multibase_decode(proof_value)) == 64  # Ed25519, or P-256 r || s


def test_proof_created_is_a_valid_xml_schema_datetime(jcs_format: ProofFormat, issue: Any) -> None:
    created = issue(jcs_format)["proof"]["created"]

    assert datetime.fromisoformat(created).tzinfo is not None


def test_an_issued_jcs_credential_verifies(jcs_format: ProofFormat, issue: Any, verifier: Verifier) -> None:
    report = verifier.verify_credential(json.dumps(issue(jcs_format)).encode())

    assert report.valid, report.failures
    assert report.format == SUITE_NAME[jcs_format]
    assert report.proofs_checked == 1


def test_jcs_ignores_key_order_and_whitespace(jcs_format: ProofFormat, issue: Any, verifier: Verifier) -> None:
    secured = issue(jcs_format)
    reordered = dict(reversed(list(secured.items())))
    text = json.dumps(reordered, indent=4)

    assert verifier.verify_credential(text.encode()).valid


def test_the_wrong_key_type_is_refused_when_signing(jcs_format: ProofFormat, issue: Any) -> None:
    other = Issuer.generate(KeyType.ED25519 if jcs_format is ProofFormat.ECDSA_JCS else KeyType.P256)

    with pytest.raises(RunIdError) as caught:
        issue(jcs_format, issuer=other)
    assert caught.value.code is ErrorCode.KEY_INVALID


# --- verification: type/cryptosuite, and a table of tampering -----------------------------------


def test_a_cryptosuite_other_than_the_known_ones_raises() -> None:
    with pytest.raises(ProofError) as caught:
        suite_for({"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2019"})
    assert caught.value.code is ErrorCode.CRYPTOSUITE_UNSUPPORTED


def _set(path: str, value: Any) -> Any:
    def mutate(c: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = c
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


TAMPERING = [
    ("a claim changed", _set("credentialSubject.name", "Mallory"), ErrorCode.PROOF_INVALID),
    ("a claim added", _set("description", "added after signing"), ErrorCode.PROOF_INVALID),
    ("created changed", _set("proof.created", "2025-05-31T11:00:01Z"), ErrorCode.PROOF_INVALID),
    # Any other @context in a proof is a second reading of its terms: refused before the signature.
    ("proof @context not the document's", _set("proof.@context", [EXAMPLES_V2]), ErrorCode.NOT_COMPACTED),
    ("created not a dateTime", _set("proof.created", "invalidDate"), ErrorCode.PROOF_MALFORMED),
    ("an undefined term in the document", _set("credentialSubject.undefinedTerm", 1), ErrorCode.UNDEFINED_TERM),
]


@pytest.mark.parametrize(("mutate", "code"), [(m, c) for _, m, c in TAMPERING], ids=[i for i, _, _ in TAMPERING])
def test_tampering_with_a_jcs_credential_fails(
    mutate: Any, code: ErrorCode, jcs_format: ProofFormat, issue: Any, verifier: Verifier
) -> None:
    secured = copy.deepcopy(issue(jcs_format))
    mutate(secured)

    report = verifier.verify_credential(secured)

    assert report.valid is False
    assert code.value in report.error_codes, report.failures


def test_a_jcs_proof_relabelled_as_rdfc_fails(jcs_format: ProofFormat, issue: Any, verifier: Verifier) -> None:
    secured = copy.deepcopy(issue(jcs_format))
    secured["proof"]["cryptosuite"] = secured["proof"]["cryptosuite"].replace("jcs", "rdfc")

    assert verifier.verify_credential(secured).error_codes == [ErrorCode.PROOF_INVALID.value]


def test_a_sliced_proof_value_fails(jcs_format: ProofFormat, issue: Any, verifier: Verifier) -> None:
    secured = copy.deepcopy(issue(jcs_format))
    secured["proof"]["proofValue"] = secured["proof"]["proofValue"][:-1]

    assert verifier.verify_credential(secured).error_codes == [ErrorCode.PROOF_INVALID.value]


# --- JSON signed, JSON-LD still required -----------------------------------------------------------


def test_issuing_refuses_an_undefined_term_although_jcs_would_sign_it(issue: Any, credential_v2: dict[str, Any]) -> None:
    credential_v2["credentialSubject"]["undefinedTerm"] = "x"

    with pytest.raises(RunIdError) as caught:
        issue(ProofFormat.EDDSA_JCS, credential=credential_v2)
    assert caught.value.code is ErrorCode.UNDEFINED_TERM


def test_a_validly_signed_jcs_credential_with_an_undefined_term_is_refused(verifier: Verifier) -> None:
    """The signature covers the JSON, but safe mode still refuses what no context defines."""
    key = KeyPair.generate()
    issuer = Issuer.from_key(key)
    document = {**UNSIGNED, "issuer": issuer.did, "@context": [VC_V2], "credentialSubject": {"id": "did:example:a", "nickname": "x"}}
    document["type"] = ["VerifiableCredential"]
    del document["name"], document["description"]
    proof = EDDSA_JCS_2022.create_proof(document, key, ProofOptions(issuer.verification_method, created=VECTOR_CREATED), default_loader())

    report = verifier.verify_credential({**document, "proof": proof})

    assert report.error_codes == [ErrorCode.UNDEFINED_TERM.value]


def test_a_validly_signed_jcs_credential_not_in_compacted_form_is_refused(verifier: Verifier) -> None:
    """JSON a reader would take for another statement than the JSON-LD makes: refused, signed or not."""
    key = KeyPair.generate()
    issuer = Issuer.from_key(key)
    document = {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "https://schema.org/description": "written with its IRI, not its term",
        "credentialSubject": {"id": "did:example:a"},
    }
    proof = EDDSA_JCS_2022.create_proof(document, key, ProofOptions(issuer.verification_method, created=VECTOR_CREATED), default_loader())

    report = verifier.verify_credential({**document, "proof": proof})

    assert report.error_codes == [ErrorCode.NOT_COMPACTED.value]


def test_a_jcs_document_outside_the_json_number_range_is_a_typed_error() -> None:
    document = {**UNSIGNED, "credentialSubject": {"id": "did:example:a", "alumniOf": 2**60}}

    with pytest.raises(RunIdError) as caught:
        EDDSA_JCS_2022.create_proof(document, vector_key(), vector_options(), default_loader())
    assert caught.value.code is ErrorCode.INPUT_NOT_JSON


def test_the_rdfc_suite_does_not_verify_the_jcs_vector() -> None:
    relabelled = {**SIGNED_PROOF, "cryptosuite": "eddsa-rdfc-2022"}

    with pytest.raises(ProofError):
        EDDSA_RDFC_2022.verify_proof(
            {**UNSIGNED, "proof": relabelled}, relabelled, PublicKey.from_multikey(VECTOR_PUBLIC_KEY), default_loader()
        )


def test_a_proof_without_context_is_verified_over_its_options_as_written() -> None:
    """vc-di-eddsa §3.3.2: the proof options are the proof without proofValue; the document's
    @context joins them only through the proof's own @context (the reference suite agrees)."""
    key = vector_key()
    options = {k: v for k, v in SIGNED_PROOF.items() if k not in ("proofValue", "@context")}
    signature = key.sign(EDDSA_JCS_2022.hash_data(UNSIGNED, options, default_loader()))
    proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode()}
    public = PublicKey.from_multikey(VECTOR_PUBLIC_KEY)

    EDDSA_JCS_2022.verify_proof({**UNSIGNED, "proof": proof}, proof, public, default_loader())
    # The W3C proofValue signed options that included the @context: without it, it fails.
    bare = {k: v for k, v in SIGNED_PROOF.items() if k != "@context"}
    with pytest.raises(ProofError):
        EDDSA_JCS_2022.verify_proof({**UNSIGNED, "proof": bare}, bare, public, default_loader())
