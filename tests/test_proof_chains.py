"""Proof sets and proof chains (Verifiable Credential Data Integrity 1.0 §2.1.2, §4.2–4.5).

The figures are the proof-set-chain vectors of the W3C vc-di-eddsa specification
(TestVectors/proof-set-chain): four Ed25519 keys, two proofs in a set, then a proof chained to both
and a fourth chained to the third. Ed25519 is deterministic, so adding a chained proof reproduces
the published proofValue byte for byte. The vectors' issuer does not control those keys, so they
are checked here at the level of the suite and of ``proof_set``; the issuer's own proof sets and
chains go through the whole verifier.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vc_runid._internal.contexts import default_loader
from vc_runid.errors import ErrorCode, ProofError, RunIdError
from vc_runid.vc.credentials import Issuer
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.keys import KeyPair, PublicKey
from vc_runid.vc.proofs import EDDSA_JCS_2022, EDDSA_RDFC_2022, ProofOptions
from vc_runid.vc.verification import Verifier, proof_set

VC_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"

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
KEYS = {  # public multikey -> secret multikey (multiKeyPairs.json)
    "z6MktgKTsu1QhX6QPbyqG6geXdw6FQCZBPq7uQpieWbiQiG7": "z3u2W4YnTstS1nSSBAgZcYSJF43JuZ9uLV6bF38B1Bf8NugW",
    "z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E": "z3u2cfp4Q17kMGhNCh348a3yw3cUBiWK6RXRzyJE54sixMFn",
    "z6MkmEq87wkHCYnWnNZkigeDMGTN7oUw1upkhzd77KuXERS1": "z3u2Zr3tcDLBDQKGxVa9SRDFNLqNqPWsa8p9rWPvCEH6bADB",
    "z6Mkm1S51iPHJvDEkJ9MRtxJmT8Pqo6wHipAFwBAjN83vntT": "z3u2ZTWiFwM17veUR7sXniY66Gf14SqMdpMLy7SW9x4EDdmw",
}
SET_1 = "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544"
SET_2 = "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54"
CHAIN_1 = "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"


def _method(public: str) -> str:
    return f"did:key:{public}#{public}"


PUBLIC = list(KEYS)
PROOF_SET_1 = {
    "type": "DataIntegrityProof",
    "id": SET_1,
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": _method(PUBLIC[0]),
    "proofPurpose": "assertionMethod",
    "proofValue": "z66vWyqwAghu52WbpRkCwFRTu6Msn92ArtjpJ3gGMSVoU5RADwBfszoDt1QWY8owqLPz4nTj7hAwV7xFti1p93zdr",
}
PROOF_SET_2 = {
    "type": "DataIntegrityProof",
    "id": SET_2,
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": _method(PUBLIC[1]),
    "proofPurpose": "assertionMethod",
    "proofValue": "z2scr94SNNrGpP2bE7ajvKWeUHm7HJ2edDkxpARvFAQ8V3USzwEzibqrXKaLHBrWostswsfvg82twQR88BgtnsrXY",
}
PROOF_CHAIN_1 = {
    "type": "DataIntegrityProof",
    "id": CHAIN_1,
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2023-02-26T22:06:38Z",
    "verificationMethod": _method(PUBLIC[2]),
    "proofPurpose": "assertionMethod",
    "previousProof": [SET_1, SET_2],
    "proofValue": "zWaPeEvBAkhQpNQj8pknuvg5STcKnt3cvM9t4kAYeJETFjvVMSXEEjadC4uxC9fKCn6JHbjt6fj2fhoaVNynBm6J",
}
PROOF_CHAIN_2 = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2023-02-26T22:16:38Z",
    "verificationMethod": _method(PUBLIC[3]),
    "proofPurpose": "assertionMethod",
    "previousProof": CHAIN_1,
    "proofValue": "z4b5uUtxNiV4E541LiR8qLvA21xM1Vt4Hfn6nLmmDePdFvLB3jFj3HyEEJyRMbpJzv4Gfdr8ABeuRTxAvZv6KWRRh",
}
SIGNED_PROOF_CHAIN_2 = {**UNSIGNED, "proof": [PROOF_SET_1, PROOF_SET_2, PROOF_CHAIN_1, PROOF_CHAIN_2]}


def _key(public: str) -> KeyPair:
    return KeyPair.from_secret_multikey(KEYS[public])


def _chain_options(proof: dict[str, Any]) -> ProofOptions:
    created = datetime.fromisoformat(proof["created"])
    extra = {k: proof[k] for k in ("id", "previousProof") if k in proof}
    return ProofOptions(proof["verificationMethod"], created=created, extra=extra)


def _verify_at_suite_level(document: dict[str, Any]) -> None:
    """Data Integrity §4.5 with the suite's own check per proof (no issuer rule)."""
    for member in proof_set(document, "credential"):
        public = member.proof["verificationMethod"].split("#")[1]
        EDDSA_RDFC_2022.verify_proof(
            document, member.proof, PublicKey.from_multikey(public), default_loader(), previous_proofs=list(member.previous)
        )


# --- the W3C vectors ------------------------------------------------------------------------------


def test_each_proof_of_a_proof_set_signs_the_document_alone() -> None:
    """§4.2: a set's proofs are independent; each reproduces the vector's proofValue."""
    for published in (PROOF_SET_1, PROOF_SET_2):
        options = _chain_options(published)
        key = _key(published["verificationMethod"].split("#")[1])

        proof = EDDSA_RDFC_2022.create_proof(UNSIGNED, key, options, default_loader())

        assert proof == published


def test_a_chained_proof_signs_the_document_with_the_proofs_it_names() -> None:
    """§4.3 step 4: inputDocument.proof is the matching proofs (proofChainTempDoc1.json)."""
    key = _key(PUBLIC[2])

    proof = EDDSA_RDFC_2022.create_proof(
        UNSIGNED, key, _chain_options(PROOF_CHAIN_1), default_loader(), previous_proofs=[PROOF_SET_1, PROOF_SET_2]
    )

    assert proof == PROOF_CHAIN_1


def test_previous_proof_may_be_a_single_id() -> None:
    proof = EDDSA_RDFC_2022.create_proof(
        UNSIGNED, _key(PUBLIC[3]), _chain_options(PROOF_CHAIN_2), default_loader(), previous_proofs=[PROOF_CHAIN_1]
    )

    assert proof == PROOF_CHAIN_2


def test_the_w3c_proof_chain_verifies_in_chain_order() -> None:
    _verify_at_suite_level(SIGNED_PROOF_CHAIN_2)


def test_referenced_proofs_are_verified_first() -> None:
    shuffled = {**UNSIGNED, "proof": [PROOF_CHAIN_2, PROOF_CHAIN_1, PROOF_SET_2, PROOF_SET_1]}

    order = [m.proof.get("id") for m in proof_set(shuffled, "credential")]

    assert order.index(SET_1) < order.index(CHAIN_1) < order.index(None)
    assert order.index(SET_2) < order.index(CHAIN_1)


def test_a_chained_proof_verified_without_its_previous_proofs_fails() -> None:
    with pytest.raises(ProofError) as caught:
        EDDSA_RDFC_2022.verify_proof(
            SIGNED_PROOF_CHAIN_2, PROOF_CHAIN_1, PublicKey.from_multikey(PUBLIC[2]), default_loader()
        )
    assert caught.value.code is ErrorCode.PROOF_INVALID


def test_a_changed_earlier_proof_breaks_the_proof_chained_to_it() -> None:
    tampered = copy.deepcopy(SIGNED_PROOF_CHAIN_2)
    tampered["proof"][0]["created"] = "2023-02-24T23:36:39Z"

    with pytest.raises(ProofError) as caught:
        _verify_at_suite_level(tampered)
    assert caught.value.code is ErrorCode.PROOF_INVALID


# --- §4.5 step 3.2: references that do not resolve -----------------------------------------------


def _with_proofs(*proofs: dict[str, Any]) -> dict[str, Any]:
    return {**UNSIGNED, "proof": list(proofs)}


BROKEN = [
    ("previousProof names a missing proof", _with_proofs(PROOF_SET_1, PROOF_CHAIN_1), ErrorCode.PROOF_CHAIN_BROKEN),
    ("two different proofs share an id", _with_proofs(PROOF_SET_1, {**PROOF_SET_2, "id": SET_1}), ErrorCode.PROOF_CHAIN_BROKEN),
    (
        "references that loop",
        _with_proofs({**PROOF_SET_1, "previousProof": SET_2}, {**PROOF_SET_2, "previousProof": SET_1}),
        ErrorCode.PROOF_CHAIN_BROKEN,
    ),
    ("a proof naming itself", _with_proofs({**PROOF_SET_1, "previousProof": SET_1}), ErrorCode.PROOF_CHAIN_BROKEN),
    ("previousProof not a string or list", _with_proofs({**PROOF_SET_1, "previousProof": 7}), ErrorCode.PROOF_MALFORMED),
    ("previousProof an empty list", _with_proofs({**PROOF_SET_1, "previousProof": []}), ErrorCode.PROOF_MALFORMED),
    ("previousProof naming one proof twice", _with_proofs(PROOF_SET_1, {**PROOF_SET_2, "previousProof": [SET_1, SET_1]}), ErrorCode.PROOF_MALFORMED),
    ("a proof id that is not a URL", _with_proofs({**PROOF_SET_1, "id": "first"}), ErrorCode.PROOF_MALFORMED),
    ("no proof at all", _with_proofs(), ErrorCode.PROOF_MISSING),
]


@pytest.mark.parametrize(("document", "code"), [(d, c) for _, d, c in BROKEN], ids=[i for i, _, _ in BROKEN])
def test_a_proof_set_that_cannot_be_followed_is_an_error(document: dict[str, Any], code: ErrorCode) -> None:
    with pytest.raises(RunIdError) as caught:
        proof_set(document, "credential")
    assert caught.value.code is code


@pytest.mark.parametrize(("document", "code"), [(d, c) for _, d, c in BROKEN], ids=[i for i, _, _ in BROKEN])
def test_the_verifier_reports_it_under_the_proofs_check(document: dict[str, Any], code: ErrorCode) -> None:
    report = Verifier(now=datetime(2024, 1, 1, tzinfo=UTC)).verify_credential(document)

    assert report.valid is False
    assert [c.name for c in report.failures] == ["proofs"]
    assert report.error_codes == [code.value]


# --- a proof set of identical proofs is a set -----------------------------------------------------


def test_identical_proofs_are_one_member_of_the_set() -> None:
    members = proof_set(_with_proofs(PROOF_SET_1, copy.deepcopy(PROOF_SET_1)), "credential")

    assert [m.proof for m in members] == [PROOF_SET_1]


def test_a_credential_repeating_its_proof_verifies_once_with_a_warning(issue: Any, verifier: Verifier) -> None:
    secured = issue(ProofFormat.DI)
    repeated = {**secured, "proof": [secured["proof"], copy.deepcopy(secured["proof"])]}

    report = verifier.verify_credential(repeated)

    assert report.valid, report.failures
    assert report.proofs_checked == 1
    assert any("identical proof" in w for w in report.warnings)


# --- the issuer's own sets and chains, through issue_credential and the whole verifier ------------


@pytest.mark.parametrize("proof_format", [ProofFormat.DI, ProofFormat.EDDSA_JCS])
def test_issuing_again_adds_a_proof_to_the_set(
    proof_format: ProofFormat, issue: Any, ed25519_issuer: Issuer, verifier: Verifier, now: datetime
) -> None:
    first = issue(proof_format)
    both = issue(ProofFormat.DI, credential=first, created=now - timedelta(minutes=30))

    report = verifier.verify_credential(both)

    assert isinstance(both["proof"], list) and len(both["proof"]) == 2
    assert report.valid, report.failures
    assert report.proofs_checked == 2


@pytest.mark.parametrize("proof_format", [ProofFormat.DI, ProofFormat.EDDSA_JCS, ProofFormat.ECDSA, ProofFormat.ECDSA_JCS])
def test_an_issuer_can_chain_a_proof_to_its_earlier_proof(
    proof_format: ProofFormat, issue: Any, verifier: Verifier, now: datetime
) -> None:
    first = issue(proof_format, proof_id="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001")
    chained = issue(
        proof_format,
        credential=first,
        created=now - timedelta(minutes=30),
        proof_id="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000002",
        previous_proof="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001",
    )

    report = verifier.verify_credential(chained)

    assert report.valid, report.failures
    assert report.proofs_checked == 2
    assert chained["proof"][1]["previousProof"] == "urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001"


def test_dropping_the_proof_a_chain_names_is_refused(issue: Any, verifier: Verifier, now: datetime) -> None:
    first = issue(ProofFormat.DI, proof_id="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001")
    chained = issue(
        ProofFormat.DI, credential=first, created=now - timedelta(minutes=30),
        previous_proof="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001",
    )
    dropped = {**chained, "proof": [chained["proof"][1]]}

    assert verifier.verify_credential(dropped).error_codes == [ErrorCode.PROOF_CHAIN_BROKEN.value]


def test_swapping_the_proof_a_chain_names_is_refused(issue: Any, verifier: Verifier, now: datetime) -> None:
    """The earlier proof is replaced by another valid proof with the same id: the chained proof
    signed the original, so its signature fails."""
    first = issue(ProofFormat.DI, proof_id="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001")
    chained = issue(
        ProofFormat.DI, credential=first, created=now - timedelta(minutes=30),
        previous_proof="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001",
    )
    other = issue(ProofFormat.DI, proof_id="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001", created=now - timedelta(minutes=50))
    swapped = {**chained, "proof": [other["proof"], chained["proof"][1]]}

    report = verifier.verify_credential(swapped)

    assert report.passed("proof[0].signature")
    assert report.error_codes == [ErrorCode.PROOF_INVALID.value]


def test_chaining_to_a_proof_the_credential_does_not_carry_is_refused(issue: Any) -> None:
    first = issue(ProofFormat.DI)

    with pytest.raises(RunIdError) as caught:
        issue(ProofFormat.DI, credential=first, previous_proof="urn:uuid:0d1f0c43-1111-4c3e-9f4e-00000000dead")
    assert caught.value.code is ErrorCode.PROOF_CHAIN_BROKEN


def test_chaining_to_a_proof_that_does_not_verify_is_refused(issue: Any) -> None:
    """Never sign what you did not check: a chained proof vouches for the proofs it signs."""
    first = issue(ProofFormat.DI, proof_id="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001")
    first["credentialSubject"]["name"] = "Mallory"

    with pytest.raises(RunIdError) as caught:
        issue(ProofFormat.DI, credential=first, previous_proof="urn:uuid:0d1f0c43-1111-4c3e-9f4e-000000000001")
    assert caught.value.code is ErrorCode.PROOF_INVALID


def test_a_jcs_chain_signs_the_previous_proofs_as_json() -> None:
    key = KeyPair.generate()
    issuer = Issuer.from_key(key)
    document = {**UNSIGNED, "issuer": issuer.did}
    options = ProofOptions(issuer.verification_method, created=datetime(2024, 1, 1, tzinfo=UTC), extra={"id": SET_1})
    first = EDDSA_JCS_2022.create_proof(document, key, options, default_loader())
    chained_options = ProofOptions(
        issuer.verification_method, created=datetime(2024, 1, 2, tzinfo=UTC), extra={"previousProof": SET_1}
    )
    second = EDDSA_JCS_2022.create_proof(document, key, chained_options, default_loader(), previous_proofs=[first])
    signed = {**document, "proof": [first, second]}

    report = Verifier(now=datetime(2024, 2, 1, tzinfo=UTC)).verify_credential(signed)

    assert report.valid, report.failures
    assert report.proofs_checked == 2


# --- proofs by other signers: the W3C-CCG data-integrity suite's chain fixtures -------------------

#: w3c-ccg/data-integrity-test-suite-assertion, inputs/eddsa-rdfc-2022/2.0-previousProofStringOk:
#: the issuer (keyPair2 of the vectors) chains its proof to a proof by another key (keyPair1).
CO_SIGNED_ISSUER = "did:key:" + PUBLIC[1]
CO_SIGNED: dict[str, Any] = {
    "@context": [
        VC_V2,
        {"@context": {"AlumniCredential": "https://www.example.org/AlumniCredential", "alumniOf": "https://www.example.org/alumniOf"}},
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of a VC 2.0 Alumni Credential.",
    "issuer": CO_SIGNED_ISSUER,
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    "proof": [
        {
            "type": "DataIntegrityProof",
            "id": SET_1,
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-26T22:06:38Z",
            "verificationMethod": _method(PUBLIC[0]),
            "proofPurpose": "assertionMethod",
            "proofValue": "z4TVsgUyowZ26aXAijJaUZHRWpZKtny2YVb75dodRGtyqMn1pB6qUqYGjczdaajnnKjwNiMocFBFG7SWkY2nmkpJz",
        },
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-26T22:16:38Z",
            "verificationMethod": _method(PUBLIC[1]),
            "proofPurpose": "assertionMethod",
            "previousProof": SET_1,
            "proofValue": "z2TSvKiHr1Fb1DnGbupX75Z1uPKxg46H1G6VxtEwFzfrGaxkCip86AR59pQ1JQ5YDsDa5hko1uMa35fwHEHoHfeCg",
        },
    ],
}
AT = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("previous", [SET_1, [SET_1]], ids=["a string", "a list"])
def test_previous_proof_is_a_string_or_a_list_of_ids(previous: Any) -> None:
    """Both fixtures (previousProofStringOk, previousProofArrayOk) carry the same proofValue: a
    one-element list and a string are the same RDF, so RDFC signs them alike."""
    document = copy.deepcopy(CO_SIGNED)
    document["proof"][1]["previousProof"] = previous

    members = proof_set(document, "credential")

    assert members[0].proof.get("id") == SET_1
    assert members[1].previous == (CO_SIGNED["proof"][0],)
    assert Verifier(now=AT).verify_credential(document).valid


def test_a_chain_to_another_signers_proof_verifies_as_the_issuers_credential() -> None:
    report = Verifier(now=AT).verify_credential(CO_SIGNED)

    assert report.valid, report.failures
    assert report.issuer == CO_SIGNED_ISSUER
    assert report.proofs_checked == 2
    assert report.passed("proof[0].signer-key") and report.passed("proof[1].issuer-key")
    assert any("co-signature" in w for w in report.warnings)


def test_a_co_signers_proof_must_verify_too() -> None:
    forged = copy.deepcopy(CO_SIGNED)
    forged["proof"][0]["created"] = "2023-02-26T22:06:39Z"

    report = Verifier(now=AT).verify_credential(forged)

    assert report.error_codes == [ErrorCode.PROOF_INVALID.value]
    assert [c.name for c in report.failures] == ["proof[0].signature"]


def test_without_a_proof_by_the_issuer_every_proof_is_held_to_the_issuer() -> None:
    only_other = {**CO_SIGNED, "proof": CO_SIGNED["proof"][0]}

    report = Verifier(now=AT).verify_credential(only_other)

    assert report.error_codes == [ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED.value]
