"""Verifiable Presentations: the holder's proof is for ``authentication``, bound to the verifier's
challenge and domain (Data Integrity §2.1 and §4.3, VC 2.0 §4.13), and every credential and run
it encloses is verified as if it had been handed over alone.

Every run uses a ticking clock and every verification ``Verifier(now=NOW, policy=ANY_ISSUER)``: nothing here depends
on the wall clock.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.trust import ANY_ISSUER
from vc_runid import (
    CompositionBuilder,
    ErrorCode,
    Issuer,
    KeyType,
    ProofFormat,
    RunIdError,
    RunStore,
    Verifier,
    bind,
    run,
)
from vc_runid._internal.contexts import ED25519_2020_V1, VC_V1, VC_V2
from vc_runid.runs import output_digest
from vc_runid.runs.declaration import declare
from vc_runid.runs.presentations import RunPresentationReport, present_runs, verify_presentation
from vc_runid.runs.runner import Run
from vc_runid.runs.verify import BOUND, DECLARED
from vc_runid.vc import DidResolver
from vc_runid.vc.dids import did_web_document
from vc_runid.vc.documents import SecuredWire
from vc_runid.vc.keys import KeyPair
from vc_runid.vc.presentations import is_presentation, present
from vc_runid.vc.proofs import ED25519_SIGNATURE_2020, EDDSA_RDFC_2022, ProofOptions, RdfcSuite

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)  # when every presentation is verified
T0 = NOW - timedelta(hours=3)  # the runs happen here
CREATED = NOW - timedelta(hours=1)  # the presentation is made here
CHALLENGE = "5b2d0c1e-auditor-challenge"
DOMAIN = "audit.example"

ISSUER = Issuer.generate()
HOLDER = Issuer.generate()
OTHER = Issuer.generate()

PROFILES = [ProofFormat.DI, ProofFormat.DI_2020]
SUITE: dict[ProofFormat, RdfcSuite] = {
    ProofFormat.DI: EDDSA_RDFC_2022,
    ProofFormat.DI_2020: ED25519_SIGNATURE_2020,
}
PRESENTATION_CHECKS = [
    "data-model", "contexts", "proofs", "proof.type", "json-ld", "signed-form", "proof.purpose",
    "proof.challenge", "proof.domain", "proof.time", "proof.holder-key", "proof.signature",
]  # fmt: skip


def ticking(start: datetime) -> Callable[[], datetime]:
    ticks = iter(range(1_000_000))
    return lambda: start + next(ticks) * timedelta(seconds=1)


def composition(question: str = "What is the capital of France?") -> Any:
    return (
        CompositionBuilder().model("example-llm-7b", provider="example-ai").input(question).build()
    )


@cache
def bound_run(proof_format: ProofFormat, n: int = 0) -> Run:
    """Run ``n`` in ``proof_format``, declared and bound by ISSUER (made once, never mutated)."""
    with run(
        composition(f"question {n}"),
        issuer=ISSUER,
        proof_format=proof_format,
        clock=ticking(T0 + timedelta(minutes=n)),
    ) as current:
        current.record_output(f"answer {n}", observed={"modelId": "example-llm-7b"})
    return current


def credentials_of(current: Run) -> list[SecuredWire]:
    assert current.binding is not None
    return [current.declaration, current.binding]


@cache
def _signed(proof_format: ProofFormat) -> dict[str, Any]:
    return present(
        credentials_of(bound_run(proof_format)),
        HOLDER,
        challenge=CHALLENGE,
        domain=DOMAIN,
        proof_format=proof_format,
        created=CREATED,
    )


def signed(proof_format: ProofFormat) -> dict[str, Any]:
    """A valid presentation of one bound run, as a fresh copy a test may change."""
    return copy.deepcopy(_signed(proof_format))


def resign(
    presentation: dict[str, Any],
    proof_format: ProofFormat,
    *,
    key: KeyPair | None = None,
    verification_method: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Sign ``presentation`` directly with the profile's suite, bypassing present()'s own rules."""
    unsigned = {k: v for k, v in presentation.items() if k != "proof"}
    options.setdefault("created", CREATED)
    options.setdefault("proof_purpose", "authentication")
    options.setdefault("challenge", CHALLENGE)
    options.setdefault("domain", DOMAIN)
    proof = SUITE[proof_format].create_proof(
        unsigned,
        key or HOLDER.key,
        ProofOptions(verification_method or HOLDER.verification_method, **options),
        Verifier().loader,
    )
    return {**unsigned, "proof": proof}


def verify(
    presentation: Any,
    challenge: str | None = CHALLENGE,
    domain: str | None = DOMAIN,
    verifier: Verifier | None = None,
) -> RunPresentationReport:
    return verify_presentation(
        presentation, challenge=challenge, domain=domain, verifier=verifier or Verifier(now=NOW, policy=ANY_ISSUER)
    )


def failures(report: RunPresentationReport) -> list[tuple[str, str | None]]:
    return [(c.name, c.code) for c in report.failures]


def change_digest(declaration: dict[str, Any]) -> None:
    subject_input = declaration["credentialSubject"]["input"]
    digest = subject_input["digestMultibase"]
    i = len(digest) // 2
    subject_input["digestMultibase"] = (
        digest[:i] + ("A" if digest[i] != "A" else "B") + digest[i + 1 :]
    )


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("proof_format", PROFILES)
def test_a_presentation_of_a_run_round_trips(proof_format: ProofFormat) -> None:
    current = bound_run(proof_format)

    report = verify(signed(proof_format))

    assert report.valid, (failures(report), [r.failures for r in report.runs])
    assert report.presentation_valid
    assert [c.name for c in report.checks] == PRESENTATION_CHECKS
    assert report.proofs_checked == 1
    assert report.holder == HOLDER.did
    assert [c.valid for c in report.credentials] == [True, True]
    assert [(r.run_id, r.status, r.valid) for r in report.runs] == [(current.run_id, BOUND, True)]


def test_the_vc_2_0_presentation_is_signed_with_eddsa_rdfc_2022_for_authentication() -> None:
    vp = signed(ProofFormat.DI)

    assert vp["@context"] == [VC_V2]
    assert vp["type"] == ["VerifiablePresentation"]
    assert vp["holder"] == HOLDER.did
    assert vp["id"].startswith("urn:uuid:")
    assert [c["type"][1] for c in vp["verifiableCredential"]] == [
        "RunDeclarationCredential",
        "RunOutputCredential",
    ]
    proof = vp["proof"]
    assert (proof["type"], proof["cryptosuite"]) == ("DataIntegrityProof", "eddsa-rdfc-2022")
    assert proof["proofPurpose"] == "authentication"
    assert (proof["challenge"], proof["domain"]) == (CHALLENGE, DOMAIN)
    assert proof["verificationMethod"] == HOLDER.verification_method
    assert proof["created"] == CREATED.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert verify(vp).format == "eddsa-rdfc-2022"


def test_the_vc_1_1_presentation_is_signed_with_ed25519signature2020() -> None:
    vp = signed(ProofFormat.DI_2020)

    assert vp["@context"] == [VC_V1, ED25519_2020_V1]
    assert all(c["@context"][0] == VC_V1 for c in vp["verifiableCredential"])
    proof = vp["proof"]
    assert proof["type"] == "Ed25519Signature2020"
    assert "cryptosuite" not in proof
    assert (proof["proofPurpose"], proof["challenge"], proof["domain"]) == (
        "authentication",
        CHALLENGE,
        DOMAIN,
    )
    assert verify(vp).format == "Ed25519Signature2020"


def test_a_created_time_is_written_in_whole_seconds() -> None:
    vp = present(
        [],
        HOLDER,
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED + timedelta(microseconds=123_456),
    )
    assert vp["proof"]["created"] == CREATED.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_jose_credentials_travel_as_enveloped_credentials() -> None:
    current = bound_run(ProofFormat.JOSE)
    vp = present(
        credentials_of(current), HOLDER, challenge=CHALLENGE, domain=DOMAIN, created=CREATED
    )

    assert [c["type"] for c in vp["verifiableCredential"]] == ["EnvelopedVerifiableCredential"] * 2
    assert vp["verifiableCredential"][0]["id"] == f"data:application/vc+jwt,{current.declaration}"
    report = verify(vp)
    assert report.valid, failures(report)
    assert [(r.run_id, r.status) for r in report.runs] == [(current.run_id, BOUND)]


def test_a_p256_holder_signs_with_ecdsa_rdfc_2019() -> None:
    holder = Issuer.generate(KeyType.P256)
    vp = present(
        credentials_of(bound_run(ProofFormat.DI)),
        holder,
        challenge=CHALLENGE,
        domain=DOMAIN,
        proof_format=ProofFormat.ECDSA,
        created=CREATED,
    )

    report = verify(vp)
    assert report.valid, failures(report)
    assert report.format == "ecdsa-rdfc-2019"


def test_the_holder_may_be_a_did_web_in_the_did_store() -> None:
    key = KeyPair.generate()
    holder = Issuer.from_key(key, did_web="did:web:holder.example")
    vp = present(
        credentials_of(bound_run(ProofFormat.DI)),
        holder,
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )
    resolver = DidResolver({holder.did: holder.did_document()})

    assert verify(vp, verifier=Verifier(resolver=resolver, now=NOW, policy=ANY_ISSUER)).valid
    unresolved = verify(vp)
    assert unresolved.error_codes == [ErrorCode.DID_UNRESOLVED.value]


def test_the_holder_key_must_be_authorized_for_authentication() -> None:
    key = KeyPair.generate()
    holder = Issuer.from_key(key, did_web="did:web:holder.example")
    vp = present([], holder, challenge=CHALLENGE, domain=DOMAIN, created=CREATED)
    document = {**did_web_document(holder.did, [key.public]), "authentication": []}

    report = verify(vp, verifier=Verifier(resolver=DidResolver({holder.did: document}), now=NOW, policy=ANY_ISSUER))

    assert failures(report) == [
        ("proof.holder-key", ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED.value)
    ]


def test_a_presentation_read_from_a_file_verifies() -> None:
    text = json.dumps(signed(ProofFormat.DI), indent=2)

    assert verify(text.encode()).valid
    assert verify(text).valid


def test_an_empty_presentation_is_valid_but_says_it_holds_nothing() -> None:
    vp = present([], HOLDER, challenge=CHALLENGE, domain=DOMAIN, created=CREATED)

    report = verify(vp)

    assert "verifiableCredential" not in vp
    assert report.valid
    assert (report.credentials, report.runs) == ([], [])
    assert report.warnings == ["the presentation encloses no credentials"]


def test_a_presentation_without_a_holder_verifies_with_a_warning() -> None:
    vp = signed(ProofFormat.DI)
    del vp["holder"]

    report = verify(resign(vp, ProofFormat.DI))

    assert report.valid
    assert report.holder is None
    assert any("names no holder" in w for w in report.warnings)


def test_other_credentials_are_verified_but_are_no_run(issue: Any) -> None:
    credential = issue(ProofFormat.DI)
    vp = present([credential], HOLDER, challenge=CHALLENGE, domain=DOMAIN, created=CREATED)

    report = verify(vp)

    assert report.valid
    assert [c.kind for c in report.credentials] == ["credential"]
    assert report.runs == []


def test_the_report_serializes_with_its_nested_reports() -> None:
    data = json.loads(verify(signed(ProofFormat.DI)).model_dump_json())

    assert data["kind"] == "presentation"
    assert (data["valid"], data["presentation_valid"]) == (True, True)
    assert (data["challenge"], data["domain"], data["holder"]) == (CHALLENGE, DOMAIN, HOLDER.did)
    assert [c["valid"] for c in data["credentials"]] == [True, True]
    assert [(r["kind"], r["status"]) for r in data["runs"]] == [("run", BOUND)]
    assert "document" not in data


def test_is_presentation_tells_a_presentation_from_a_credential() -> None:
    vp = signed(ProofFormat.DI)
    assert is_presentation(vp)
    assert not is_presentation(vp["verifiableCredential"][0])
    assert not is_presentation("a.b.c")


# --- challenge and domain --------------------------------------------------------------------


def test_challenge_and_domain_have_no_default() -> None:
    with pytest.raises(TypeError):
        verify_presentation(signed(ProofFormat.DI), verifier=Verifier(now=NOW, policy=ANY_ISSUER))  # type: ignore[call-arg]


@pytest.mark.parametrize("proof_format", PROFILES)
@pytest.mark.parametrize("challenge", [None, "another-challenge", ""])
def test_a_presentation_verified_without_its_challenge_is_invalid(
    proof_format: ProofFormat, challenge: str | None
) -> None:
    report = verify(signed(proof_format), challenge=challenge)

    assert not report.valid
    assert failures(report) == [("proof.challenge", ErrorCode.PROOF_CHALLENGE_MISMATCH.value)]
    # The other checks still ran: only the challenge is wrong.
    assert report.passed("proof.signature")


@pytest.mark.parametrize("proof_format", PROFILES)
@pytest.mark.parametrize("domain", [None, "evil.example"])
def test_a_presentation_verified_for_another_domain_is_invalid(
    proof_format: ProofFormat, domain: str | None
) -> None:
    report = verify(signed(proof_format), domain=domain)

    assert not report.valid
    assert failures(report) == [("proof.domain", ErrorCode.PROOF_DOMAIN_MISMATCH.value)]


def test_a_domain_may_be_a_set_of_domains() -> None:
    vp = resign(
        signed(ProofFormat.DI), ProofFormat.DI, domain=None, extra={"domain": [DOMAIN, "b.example"]}
    )

    assert verify(vp).valid
    assert verify(vp, domain="b.example").valid
    assert verify(vp, domain="c.example").error_codes == [ErrorCode.PROOF_DOMAIN_MISMATCH.value]


# --- adversarial presentations: (mutation, expected error code) ------------------------------


@dataclass(frozen=True)
class Case:
    """What to verify (built from a valid presentation), and with which challenge and domain."""

    build: Callable[[ProofFormat], Any]
    challenge: str | None = CHALLENGE
    domain: str | None = DOMAIN


def mutated(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[ProofFormat], dict[str, Any]]:
    def build(proof_format: ProofFormat) -> dict[str, Any]:
        vp = signed(proof_format)
        mutate(vp)
        return vp

    return build


def resigned(**options: Any) -> Callable[[ProofFormat], dict[str, Any]]:
    return lambda f: resign(signed(f), f, **options)


def resigned_after(
    mutate: Callable[[dict[str, Any]], Any],
) -> Callable[[ProofFormat], dict[str, Any]]:
    """Changed, then signed again by the holder: the presentation's own proof is valid."""
    return lambda f: resign(mutated(mutate)(f), f)


def _another_credential(vp: dict[str, Any], proof_format: ProofFormat) -> None:
    assert bound_run(proof_format, 1).binding is not None
    vp["verifiableCredential"].append(copy.deepcopy(bound_run(proof_format, 1).declaration))


ADVERSARIAL: list[tuple[str, Case, ErrorCode]] = [
    # -- challenge and domain
    ("verified without a challenge", Case(signed, challenge=None), ErrorCode.PROOF_CHALLENGE_MISMATCH),
    ("verified with another challenge", Case(signed, challenge="x"), ErrorCode.PROOF_CHALLENGE_MISMATCH),
    ("signed without a challenge", Case(resigned(challenge=None)), ErrorCode.PROOF_CHALLENGE_MISMATCH),
    ("signed for another challenge", Case(resigned(challenge="old")), ErrorCode.PROOF_CHALLENGE_MISMATCH),
    ("challenge changed after signing", Case(mutated(lambda p: p["proof"].update(challenge="new")), challenge="new"), ErrorCode.PROOF_INVALID),
    ("verified without a domain", Case(signed, domain=None), ErrorCode.PROOF_DOMAIN_MISMATCH),
    ("verified for another domain", Case(signed, domain="evil.example"), ErrorCode.PROOF_DOMAIN_MISMATCH),
    ("signed without a domain", Case(resigned(domain=None)), ErrorCode.PROOF_DOMAIN_MISMATCH),
    ("domain changed after signing", Case(mutated(lambda p: p["proof"].update(domain="evil.example")), domain="evil.example"), ErrorCode.PROOF_INVALID),
    # -- purpose and holder
    ("proofPurpose assertionMethod", Case(resigned(proof_purpose="assertionMethod")), ErrorCode.PROOF_PURPOSE_MISMATCH),
    ("proofPurpose changed after signing", Case(mutated(lambda p: p["proof"].update(proofPurpose="assertionMethod"))), ErrorCode.PROOF_PURPOSE_MISMATCH),
    ("signed by a key that is not the holder's", Case(resigned(key=OTHER.key, verification_method=OTHER.verification_method)), ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED),
    ("holder switched after signing", Case(mutated(lambda p: p.update(holder=OTHER.did))), ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED),
    ("another key, verificationMethod claims the holder's", Case(resigned(key=OTHER.key)), ErrorCode.PROOF_INVALID),
    ("verificationMethod not in the holder's DID document", Case(resigned(verification_method=HOLDER.did + "#other")), ErrorCode.VERIFICATION_METHOD_NOT_FOUND),
    # -- the proof
    ("no proof", Case(mutated(lambda p: p.pop("proof"))), ErrorCode.PROOF_MISSING),
    ("the same proof twice", Case(mutated(lambda p: p.update(proof=[p["proof"], copy.deepcopy(p["proof"])]))), ErrorCode.PROOF_DUPLICATED),
    ("unsupported proof type", Case(mutated(lambda p: p["proof"].update(type="JsonWebSignature2020"))), ErrorCode.PROOF_TYPE_UNSUPPORTED),
    ("proofValue missing", Case(mutated(lambda p: p["proof"].pop("proofValue"))), ErrorCode.PROOF_MALFORMED),
    ("created in the future", Case(resigned(created=NOW + timedelta(hours=1))), ErrorCode.PROOF_CREATED_IN_FUTURE),
    ("proof expired", Case(resigned(expires=NOW - timedelta(minutes=1))), ErrorCode.PROOF_EXPIRED),
    # -- what the proof covers
    ("a credential removed after signing", Case(mutated(lambda p: p["verifiableCredential"].pop())), ErrorCode.PROOF_INVALID),
    ("a valid credential added after signing", Case(lambda f: mutated(lambda p: _another_credential(p, f))(f)), ErrorCode.PROOF_INVALID),
    ("presentation id changed after signing", Case(mutated(lambda p: p.update(id="urn:uuid:00000000-0000-4000-8000-000000000000"))), ErrorCode.PROOF_INVALID),
    # -- JSON-LD and the data model
    ("unknown context URL", Case(mutated(lambda p: p["@context"].append("https://example.org/unknown/v1"))), ErrorCode.CONTEXT_NOT_ALLOWED),
    ("undefined term added after signing", Case(mutated(lambda p: p.update(undefinedTerm=1))), ErrorCode.UNDEFINED_TERM),
    ("type without VerifiablePresentation", Case(mutated(lambda p: p.update(type=["Presentation"]))), ErrorCode.NOT_A_PRESENTATION),
    ("first context is not a VC context", Case(mutated(lambda p: p["@context"].insert(0, ED25519_2020_V1))), ErrorCode.NOT_A_PRESENTATION),
    ("holder not a URL", Case(mutated(lambda p: p.update(holder="the holder"))), ErrorCode.NOT_A_PRESENTATION),
    ("a credential that is a bare string", Case(mutated(lambda p: p["verifiableCredential"].append("a.b.c"))), ErrorCode.NOT_A_PRESENTATION),
    ("a VP-JWT", Case(lambda f: bound_run(ProofFormat.JOSE).declaration), ErrorCode.NOT_A_PRESENTATION),
    ("a JSON array", Case(lambda f: b"[]"), ErrorCode.NOT_A_PRESENTATION),
    ("not JSON", Case(lambda f: b'{"@context": ['), ErrorCode.INPUT_NOT_JSON),
    ("duplicate key", Case(lambda f: json.dumps(signed(f)).replace('"holder"', '"holder": "did:example:x", "holder"', 1).encode()), ErrorCode.INPUT_DUPLICATE_KEY),
]  # fmt: skip


@pytest.mark.parametrize("proof_format", PROFILES)
@pytest.mark.parametrize(
    ("case", "code"), [(c, e) for _, c, e in ADVERSARIAL], ids=[i for i, _, _ in ADVERSARIAL]
)
def test_adversarial_presentation_gives_an_invalid_report_with_its_code(
    case: Case, code: ErrorCode, proof_format: ProofFormat
) -> None:
    report = verify(case.build(proof_format), case.challenge, case.domain)

    assert report.valid is False
    assert report.presentation_valid is False
    assert report.failures, "an invalid report must name the check that failed"
    assert report.failures[0].code == code.value, failures(report)


def test_adversarial_table_covers_distinct_cases() -> None:
    assert len({i for i, _, _ in ADVERSARIAL}) == len(ADVERSARIAL)


# --- enclosed credentials and runs ---------------------------------------------------------


@pytest.mark.parametrize("proof_format", PROFILES)
def test_a_tampered_credential_fails_the_presentation_proof_and_its_own(
    proof_format: ProofFormat,
) -> None:
    vp = signed(proof_format)
    change_digest(vp["verifiableCredential"][0])

    report = verify(vp)

    assert not report.valid
    assert failures(report) == [("proof.signature", ErrorCode.PROOF_INVALID.value)]
    declaration, binding = report.credentials
    assert declaration.error_codes == [ErrorCode.PROOF_INVALID.value]
    assert binding.valid
    (current,) = report.runs
    assert dict(failures(current)) == {  # type: ignore[arg-type]
        "declaration.proof.signature": ErrorCode.PROOF_INVALID.value,
        "link": ErrorCode.DECLARATION_MISMATCH.value,
    }


@pytest.mark.parametrize("proof_format", PROFILES)
def test_the_holder_signature_does_not_launder_a_tampered_credential(
    proof_format: ProofFormat,
) -> None:
    vp = resigned_after(lambda p: change_digest(p["verifiableCredential"][0]))(proof_format)

    report = verify(vp)

    assert report.presentation_valid
    assert not report.valid
    assert report.credentials[0].error_codes == [ErrorCode.PROOF_INVALID.value]
    assert not report.runs[0].valid


@pytest.mark.parametrize("proof_format", PROFILES)
def test_run_pairs_in_a_presentation_are_verified_as_runs(proof_format: ProofFormat) -> None:
    a, b = bound_run(proof_format, 0), bound_run(proof_format, 1)
    assert a.binding is not None and b.binding is not None
    # Bindings first and interleaved: the pairing follows relatedResource, not the order.
    credentials = [b.binding, a.binding, a.declaration, b.declaration]
    vp = present(
        credentials,
        HOLDER,
        challenge=CHALLENGE,
        domain=DOMAIN,
        proof_format=proof_format,
        created=CREATED,
    )

    report = verify(vp)

    assert report.valid, [r.failures for r in report.runs]
    assert len(report.credentials) == 4
    assert [(r.run_id, r.status) for r in report.runs] == [(a.run_id, BOUND), (b.run_id, BOUND)]
    assert all(r.proofs_checked == 2 and r.passed("link") for r in report.runs)


@pytest.mark.parametrize("proof_format", PROFILES)
def test_an_unbound_run_is_reported_as_declared(proof_format: ProofFormat) -> None:
    declaration = declare(
        composition("unbound")[0], ISSUER, declared_at=T0, proof_format=proof_format
    )
    vp = present(
        [declaration],
        HOLDER,
        challenge=CHALLENGE,
        domain=DOMAIN,
        proof_format=proof_format,
        created=CREATED,
    )

    report = verify(vp)

    assert report.valid
    (current,) = report.runs
    assert current.status == DECLARED
    assert current.run_id == declaration["credentialSubject"]["id"]  # type: ignore[index]


def test_a_binding_without_its_declaration_makes_the_presentation_invalid() -> None:
    binding = bound_run(ProofFormat.DI).binding
    assert binding is not None
    vp = present([binding], HOLDER, challenge=CHALLENGE, domain=DOMAIN, created=CREATED)

    report = verify(vp)

    assert report.presentation_valid
    assert report.credentials[0].valid
    assert not report.valid
    assert report.runs[0].error_codes == [ErrorCode.BINDING_WITHOUT_DECLARATION.value]


def test_a_binding_presented_with_another_runs_declaration_is_not_paired_with_it() -> None:
    a, b = bound_run(ProofFormat.DI, 0), bound_run(ProofFormat.DI, 1)
    assert a.binding is not None
    vp = present(
        [b.declaration, a.binding], HOLDER, challenge=CHALLENGE, domain=DOMAIN, created=CREATED
    )

    report = verify(vp)

    assert not report.valid
    assert [r.status for r in report.runs if r.valid] == [DECLARED]
    assert [r.error_codes for r in report.runs if not r.valid] == [
        [ErrorCode.BINDING_WITHOUT_DECLARATION.value]
    ]


def test_two_bindings_of_one_declaration_are_both_refused() -> None:
    current = bound_run(ProofFormat.DI)
    second = bind(
        current.declaration,
        ISSUER,
        declaration_id=current.declaration_id,
        run_id=current.run_id,
        output=output_digest(b"another answer"),
        started_at=T0 + timedelta(seconds=1),
        completed_at=T0 + timedelta(seconds=2),
        bound_at=T0 + timedelta(seconds=3),
    )
    vp = present(
        [*credentials_of(current), second],
        HOLDER,
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )

    report = verify(vp)

    assert not report.valid
    assert len(report.runs) == 2
    assert all(ErrorCode.ALREADY_BOUND.value in r.error_codes for r in report.runs)


# --- present(): what it refuses ------------------------------------------------------------


def _vc_1_1_run() -> list[SecuredWire]:
    return credentials_of(bound_run(ProofFormat.DI_2020))


REFUSED: list[tuple[str, Callable[[], dict[str, Any]], ErrorCode]] = [
    ("VC 1.1 credentials in a VC 2.0 presentation", lambda: present(_vc_1_1_run(), HOLDER, challenge=CHALLENGE, domain=DOMAIN), ErrorCode.USAGE),
    ("VC 2.0 credentials in a VC 1.1 presentation", lambda: present(credentials_of(bound_run(ProofFormat.DI)), HOLDER, challenge=CHALLENGE, domain=DOMAIN, proof_format=ProofFormat.DI_2020), ErrorCode.USAGE),
    ("a VC-JWT 1.1 token in a VC 2.0 presentation", lambda: present(credentials_of(bound_run(ProofFormat.JWT_V1)), HOLDER, challenge=CHALLENGE, domain=DOMAIN), ErrorCode.USAGE),
    ("a VC-JOSE token in a VC 1.1 presentation", lambda: present(credentials_of(bound_run(ProofFormat.JOSE)), HOLDER, challenge=CHALLENGE, domain=DOMAIN, proof_format=ProofFormat.DI_2020), ErrorCode.USAGE),
    ("an unsigned credential", lambda: present([{k: v for k, v in bound_run(ProofFormat.DI).declaration.items() if k != "proof"}], HOLDER, challenge=CHALLENGE, domain=DOMAIN), ErrorCode.USAGE),  # type: ignore[union-attr]
    ("a presentation secured as a JWT", lambda: present([], HOLDER, challenge=CHALLENGE, domain=DOMAIN, proof_format=ProofFormat.JOSE), ErrorCode.USAGE),
    ("a single credential instead of a list", lambda: present(bound_run(ProofFormat.JOSE).declaration, HOLDER, challenge=CHALLENGE, domain=DOMAIN), ErrorCode.USAGE),  # type: ignore[arg-type]
    ("no challenge", lambda: present([], HOLDER, challenge="", domain=DOMAIN), ErrorCode.USAGE),
    ("no domain", lambda: present([], HOLDER, challenge=CHALLENGE, domain=""), ErrorCode.USAGE),
    ("a P-256 holder for eddsa-rdfc-2022", lambda: present([], Issuer.generate(KeyType.P256), challenge=CHALLENGE, domain=DOMAIN), ErrorCode.KEY_INVALID),
    ("not a credential", lambda: present([{"@context": [VC_V2], "type": ["VerifiableCredential"]}], HOLDER, challenge=CHALLENGE, domain=DOMAIN), ErrorCode.NOT_A_CREDENTIAL),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "code"), [(m, c) for _, m, c in REFUSED], ids=[i for i, _, _ in REFUSED]
)
def test_present_refuses_what_could_never_verify(
    make: Callable[[], dict[str, Any]], code: ErrorCode
) -> None:
    with pytest.raises(RunIdError) as raised:
        make()
    assert raised.value.code is code


def test_present_does_not_share_the_callers_credentials() -> None:
    declaration = copy.deepcopy(bound_run(ProofFormat.DI).declaration)
    vp = present([declaration], HOLDER, challenge=CHALLENGE, domain=DOMAIN, created=CREATED)

    change_digest(vp["verifiableCredential"][0])

    assert declaration == bound_run(ProofFormat.DI).declaration


# --- present_runs: runs from the store -----------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore.in_home(tmp_path)


def test_present_runs_presents_each_runs_declaration_and_binding(store: RunStore) -> None:
    with run(composition("bound"), issuer=ISSUER, store=store, clock=ticking(T0)) as bound:
        bound.record_output("42")
    with (
        pytest.raises(RuntimeError),
        run(composition("failed"), issuer=ISSUER, store=store, clock=ticking(T0)) as unbound,
    ):
        raise RuntimeError("the run failed")

    vp = present_runs(
        store,
        [bound.run_id, unbound.declaration_id, bound.run_id],
        HOLDER,
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )

    assert vp["verifiableCredential"] == [bound.declaration, bound.binding, unbound.declaration]
    report = verify(vp)
    assert report.valid
    assert [(r.run_id, r.status) for r in report.runs] == [
        (bound.run_id, BOUND),
        (unbound.run_id, DECLARED),
    ]


def test_present_runs_refuses_an_unknown_run(store: RunStore) -> None:
    with pytest.raises(RunIdError) as raised:
        present_runs(store, ["urn:uuid:unknown"], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    assert raised.value.code is ErrorCode.RUN_NOT_FOUND


def test_present_runs_needs_at_least_one_run(store: RunStore) -> None:
    with pytest.raises(RunIdError) as raised:
        present_runs(store, [], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    assert raised.value.code is ErrorCode.USAGE


def test_present_runs_in_the_vc_1_1_profile(store: RunStore) -> None:
    with run(
        composition(),
        issuer=ISSUER,
        store=store,
        proof_format=ProofFormat.DI_2020,
        clock=ticking(T0),
    ) as current:
        current.record_output("Paris")

    vp = present_runs(
        store,
        [current.run_id],
        HOLDER,
        challenge=CHALLENGE,
        domain=DOMAIN,
        proof_format=ProofFormat.DI_2020,
        created=CREATED,
    )

    report = verify(vp)
    assert report.valid
    assert report.format == "Ed25519Signature2020"
    assert [r.status for r in report.runs] == [BOUND]
