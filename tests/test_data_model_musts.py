"""VC Data Model 2.0 MUSTs that the issuer and the verifier enforce alike (``check_credential``).

Each rule is tested twice: issuing refuses it, and a credential that breaks it but is validly
signed (signed directly with the suite, as a careless or hostile issuer would) fails verification.
The figures for related resources are the W3C's: the SHA-256 that VC Data Model 2.0 (the
Recommendation, Appendix B.1) publishes for https://www.w3.org/ns/credentials/v2, and the digests
the W3C vc-data-model-2.0-test-suite sends (tests/fixtures.js, 5-advanced-concepts.js).
"""

from __future__ import annotations

import base64
import copy
import hashlib
from datetime import datetime
from typing import Any

import pytest

from vc_runid._internal.contexts import contexts_dir, default_loader, served_context_bytes
from vc_runid.errors import DataModelError, ErrorCode, RunIdError
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.documents import check_credential
from vc_runid.vc.proofs import EDDSA_JCS_2022, ProofOptions
from vc_runid.vc.verification import Verifier

VC_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLE = "https://example.org/examples#"

#: VC Data Model 2.0 (Recommendation), Appendix B.1: the SHA-256 of the v2 context as served.
V2_SHA256 = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
#: Its digestMultibase as the Recommendation's Example 26 writes it (a sha2-256 multihash).
V2_DIGEST_MULTIBASE = "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"
#: Its SRI (sha384). The Recommendation's Example 25 prints "sha384-M…": that "M" is a stray
#: multibase prefix (65 base64 characters cannot encode 48 bytes); this is the digest without it.
V2_DIGEST_SRI = "sha384-l/HrjlBCNWyAX91hr6LFV2Y3heB5Tcr6IeE4/Tje8YyzYBM8IhqjHWiWpr8+ZbYU"
#: What the W3C data-model suite sends as "valid": digests of the v2 context of July 2024 (the
#: CR2 snapshot, w3c/vc-data-model 8d0ee10), which the context has since changed from.
SUITE_STALE_DIGEST_SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
SUITE_STALE_DIGEST_MULTIBASE = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"


@pytest.fixture
def signer(ed25519_issuer: Issuer) -> Issuer:
    return ed25519_issuer


def unsigned(signer: Issuer, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2, {"ExampleType": f"{EXAMPLE}ExampleType"}],
        "id": "urn:uuid:8b4b0f5e-5a43-4d3e-9b0c-8c6f1b6c2f10",
        "type": ["VerifiableCredential"],
        "issuer": signer.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
        **extra,
    }


def signed_anyway(credential: dict[str, Any], signer: Issuer, now: datetime) -> dict[str, Any]:
    """A valid signature over a credential that breaks a data model rule (JCS signs any JSON)."""
    proof = EDDSA_JCS_2022.create_proof(
        credential, signer.key, ProofOptions(signer.verification_method, created=now.replace(hour=1)), default_loader()
    )
    return {**credential, "proof": proof}


def assert_refused_by_issuer_and_verifier(credential: dict[str, Any], signer: Issuer, now: datetime, code: ErrorCode) -> None:
    with pytest.raises(RunIdError) as caught:
        issue_credential(copy.deepcopy(credential), signer)
    assert caught.value.code is code, caught.value

    report = Verifier(now=now).verify_credential(signed_anyway(credential, signer, now))

    assert report.valid is False
    assert report.failures[0].name == "data-model"
    assert report.error_codes == [code.value]


def assert_accepted_by_issuer_and_verifier(credential: dict[str, Any], signer: Issuer, now: datetime) -> None:
    secured = issue_credential(copy.deepcopy(credential), signer, created=now.replace(hour=1))

    report = Verifier(now=now).verify_credential(secured)

    assert report.valid, report.failures


# --- typed objects: §4.10, §4.11, §5.4, §5.5, §5.6 -------------------------------------------------

TYPED = [
    # (field, a value that MUST be refused, why)
    ("credentialStatus", {"id": "did:example:status"}, "each credentialStatus MUST specify its type"),
    ("credentialSchema", {"id": "did:example:schemas/1"}, "each credentialSchema MUST specify its type"),
    ("credentialSchema", {"type": "ExampleType"}, "each credentialSchema MUST have an id"),
    ("refreshService", {"id": "did:example:refresh/1"}, "each refreshService MUST specify its type"),
    ("termsOfUse", {"id": "did:example:terms/1"}, "each termsOfUse MUST specify its type"),
    ("termsOfUse", {}, "each termsOfUse MUST specify its type (an empty object)"),
    ("evidence", {}, "each evidence MUST specify its type"),
    ("evidence", [], "evidence is one or more objects"),
    ("credentialStatus", "did:example:status", "credentialStatus is one or more objects, not a string"),
    ("termsOfUse", {"type": 2}, "a type is a term or a URL, not a number"),
]


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, v, _ in TYPED], ids=[why for _, _, why in TYPED])
def test_typed_values_without_their_type_are_refused(field: str, value: Any, signer: Issuer, now: datetime) -> None:
    assert_refused_by_issuer_and_verifier(unsigned(signer, **{field: value}), signer, now, ErrorCode.NOT_A_CREDENTIAL)


ACCEPTED = [
    ("credentialStatus", {"type": "ExampleType"}, "a credentialStatus without an id (it is optional)"),
    ("credentialSchema", [{"id": "did:example:schemas/1", "type": "ExampleType"}, {"id": "did:example:schemas/2", "type": "ExampleType"}], "several schemas"),
    ("refreshService", {"id": "did:example:refresh/1", "type": "ExampleType"}, "a refreshService with its type"),
    ("termsOfUse", {"type": "ExampleType", "id": "did:example:terms/1"}, "termsOfUse MAY specify its id"),
    ("evidence", [{"type": "ExampleType"}, {"type": "ExampleType"}], "evidence is a set of one or more objects"),
]


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, v, _ in ACCEPTED], ids=[why for _, _, why in ACCEPTED])
def test_typed_values_with_their_type_are_accepted(field: str, value: Any, signer: Issuer, now: datetime) -> None:
    assert_accepted_by_issuer_and_verifier(unsigned(signer, **{field: value}), signer, now)


def test_valid_from_must_not_be_later_than_valid_until(signer: Issuer, now: datetime) -> None:
    """§4.9: validFrom is temporally the same or earlier than validUntil."""
    credential = unsigned(signer, validFrom="2025-03-01T00:00:00Z", validUntil="2025-02-01T00:00:00Z")

    assert_refused_by_issuer_and_verifier(credential, signer, now, ErrorCode.NOT_A_CREDENTIAL)


# --- §5.3 Integrity of related resources ---------------------------------------------------------


def related(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"relatedResource": list(resources)}


RELATED_REFUSED = [
    ("relatedResource MUST be objects, not strings", related(VC_V2)),  # type: ignore[arg-type]
    ("the id is REQUIRED", related({"digestMultibase": V2_DIGEST_MULTIBASE})),
    ("the id is a URL", related({"id": "not a url", "digestMultibase": V2_DIGEST_MULTIBASE})),
    (
        "the id MUST be unique among the related resource objects",
        related({"id": VC_V2, "digestSRI": V2_DIGEST_SRI}, {"id": VC_V2, "digestMultibase": V2_DIGEST_MULTIBASE}),
    ),
    ("each object MUST contain at least a digestSRI or a digestMultibase", related({"id": VC_V2})),
    ("digestSRI in base64url (the suite's wrong-digest fixture)", related({"id": VC_V2, "digestSRI": "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ0d0P"})),
    ("digestSRI of an unknown algorithm", related({"id": VC_V2, "digestSRI": "md5-" + base64.b64encode(b"0" * 16).decode()})),
    ("digestMultibase that is not a multihash", related({"id": "https://example.org/a", "digestMultibase": "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"})),
]


@pytest.mark.parametrize("extra", [e for _, e in RELATED_REFUSED], ids=[why for why, _ in RELATED_REFUSED])
def test_malformed_related_resources_are_refused(extra: dict[str, Any], signer: Issuer, now: datetime) -> None:
    assert_refused_by_issuer_and_verifier(unsigned(signer, **extra), signer, now, ErrorCode.NOT_A_CREDENTIAL)


MISMATCHED = [
    ("a sha384 SRI of another document", related({"id": VC_V2, "digestSRI": "sha384-" + base64.b64encode(hashlib.sha384(b"other").digest()).decode()})),
    ("a sha2-256 multihash of another document", related({"id": EXAMPLES_V2, "digestMultibase": V2_DIGEST_MULTIBASE})),
    ("the suite's digestSRI of the superseded v2 context", related({"id": VC_V2, "digestSRI": SUITE_STALE_DIGEST_SRI})),
    ("one good digest and one bad", related({"id": VC_V2, "digestSRI": SUITE_STALE_DIGEST_SRI, "digestMultibase": V2_DIGEST_MULTIBASE})),
]


@pytest.mark.parametrize("extra", [e for _, e in MISMATCHED], ids=[why for why, _ in MISMATCHED])
def test_a_digest_that_does_not_match_a_resource_vc_runid_holds_is_an_error(
    extra: dict[str, Any], signer: Issuer, now: datetime
) -> None:
    """§5.3: if the digest provided by the issuer does not match the digest computed for the
    resource, the verifier MUST produce an error (the resource: a pinned context, held byte for
    byte)."""
    assert_refused_by_issuer_and_verifier(unsigned(signer, **extra), signer, now, ErrorCode.RELATED_RESOURCE_MISMATCH)


RELATED_ACCEPTED = [
    ("the Recommendation's digestMultibase of the v2 context", related({"id": VC_V2, "digestMultibase": V2_DIGEST_MULTIBASE})),
    ("its sha384 SRI", related({"id": VC_V2, "digestSRI": V2_DIGEST_SRI, "mediaType": "application/ld+json"})),
    ("a single object", {"relatedResource": {"id": VC_V2, "digestSRI": V2_DIGEST_SRI}}),
    (
        "several resources, one vc-runid cannot fetch (not checked: verification is offline)",
        related(
            {"id": VC_V2, "digestSRI": V2_DIGEST_SRI},
            {"id": "https://example.org/image.png", "digestSRI": "sha256-" + base64.b64encode(hashlib.sha256(b"png").digest()).decode()},
        ),
    ),
]


@pytest.mark.parametrize("extra", [e for _, e in RELATED_ACCEPTED], ids=[why for why, _ in RELATED_ACCEPTED])
def test_well_formed_related_resources_are_accepted(extra: dict[str, Any], signer: Issuer, now: datetime) -> None:
    assert_accepted_by_issuer_and_verifier(unsigned(signer, **extra), signer, now)


def test_the_data_model_suites_valid_fixture_states_a_superseded_digest() -> None:
    """Why the suite's relatedResource "positive" cases stay refused (docs/conformance.md)."""
    stale = base64.urlsafe_b64decode(SUITE_STALE_DIGEST_MULTIBASE[1:] + "=").hex()

    assert stale == "24a18c90e9856d526111f29376e302d970b2bd10182e33959995b0207d7043b9"
    assert hashlib.sha256(served_context_bytes()[VC_V2]).hexdigest() == V2_SHA256 != stale
    with pytest.raises(DataModelError) as caught:
        check_credential({**unsigned_plain(), **related({"id": VC_V2, "digestSRI": SUITE_STALE_DIGEST_SRI})})
    assert caught.value.code is ErrorCode.RELATED_RESOURCE_MISMATCH


def unsigned_plain() -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:alice"},
    }


# --- the examples context is pinned ---------------------------------------------------------------


def test_the_w3c_examples_context_is_pinned_with_the_bytes_w3c_serves() -> None:
    assert EXAMPLES_V2 in default_loader().allowed_urls
    assert default_loader()(EXAMPLES_V2)["document"] == {
        "@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}
    }
    # The Recommendation's Example 26 gives its sha2-256 multihash.
    digest = hashlib.sha256(served_context_bytes()[EXAMPLES_V2]).digest()
    assert "u" + base64.urlsafe_b64encode(b"\x12\x20" + digest).decode().rstrip("=") == (
        "uEiBXOT-8adbvubm13Jy2uYgLCUQ2Cr_i6vRZyeWM8iedfA"
    )
    assert (contexts_dir() / "credentials-examples-v2.jsonld").is_file()


def test_a_credential_using_the_examples_context_issues_and_verifies(signer: Issuer, now: datetime) -> None:
    credential = unsigned(signer)
    credential["@context"] = [VC_V2, EXAMPLES_V2]
    credential["type"] = ["VerifiableCredential", "AlumniCredential"]
    credential["credentialSubject"] = {"id": "did:example:alice", "alumniOf": "The School of Examples"}

    assert_accepted_by_issuer_and_verifier(credential, signer, now)
