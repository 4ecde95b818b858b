"""Verification is a report of named checks, and ``valid`` only when every check passed and at least
one proof was checked (VC 2.0 §7.1, Data Integrity §4.3, VC-JOSE-COSE §3.1.1).

Every adversarial input must give an invalid report naming exactly why, as a stable error code —
never an exception, never ``valid``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from vc_runid._internal.contexts import DATA_INTEGRITY_V2, VC_V2
from vc_runid._internal.multiformats import b64url_decode, b64url_encode
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.vc import jose
from vc_runid.vc.credentials import Issuer, key_type_for
from vc_runid.vc.documents import MAX_DOCUMENT_BYTES
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.keys import KeyPair, KeyType
from vc_runid.vc.proofs import EDDSA_RDFC_2022, ProofOptions
from vc_runid.vc.verification import CheckResult, VerificationReport, Verifier, verify_credential

DI_FORMATS = [ProofFormat.DI, ProofFormat.DI_2020, ProofFormat.ECDSA]
JWT_FORMATS = [ProofFormat.JOSE, ProofFormat.JWT_V1]
REPORT_FORMAT = {
    ProofFormat.DI: "eddsa-rdfc-2022",
    ProofFormat.DI_2020: "Ed25519Signature2020",
    ProofFormat.ECDSA: "ecdsa-rdfc-2019",
    ProofFormat.EDDSA_JCS: "eddsa-jcs-2022",
    ProofFormat.ECDSA_JCS: "ecdsa-jcs-2019",
    ProofFormat.JOSE: "vc-jose",
    ProofFormat.JWT_V1: "vc-jwt-1.1",
}
DI_CHECKS = [
    "data-model", "contexts", "proofs", "proof.type", "json-ld", "signed-form", "proof.purpose", "proof.time",
    "proof.issuer-key", "proof.signature", "validity-period",
]
JWT_CHECKS = [
    "jws", "jwt-claims", "data-model", "contexts", "json-ld", "signed-form", "proof.kid", "proof.issuer-key",
    "proof.signature", "validity-period",
]


# --- valid round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("proof_format", list(ProofFormat))
def test_every_format_round_trips_to_a_valid_report(
    proof_format: ProofFormat, issue: Any, verifier: Verifier
) -> None:
    secured = issue(proof_format)

    report = verifier.verify_credential(secured)

    assert report.valid, report.failures
    assert report.error_codes == []
    assert report.format == REPORT_FORMAT[proof_format]
    assert report.proofs_checked == 1


@pytest.mark.parametrize("proof_format", list(ProofFormat))
def test_a_valid_report_lists_named_checks_that_all_passed(
    proof_format: ProofFormat, issue: Any, verifier: Verifier, issuers: dict[KeyType, Issuer]
) -> None:
    secured = issue(proof_format)
    data = secured.encode() if isinstance(secured, str) else json.dumps(secured).encode()

    report = verifier.verify_credential(data)

    expected = JWT_CHECKS if proof_format in JWT_FORMATS else DI_CHECKS
    if proof_format is ProofFormat.JOSE:
        expected = [*expected, "jwt-validity"]
    assert [c.name for c in report.checks] == ["parse", *expected]
    assert all(c.passed and c.code is None and c.message for c in report.checks)
    issuer = issuers[key_type_for(proof_format)]
    assert report.issuer == issuer.did
    assert report.document is not None and report.document["credentialSubject"]["name"] == "Alice"
    dumped = report.model_dump(mode="json")
    assert dumped["valid"] is True and "document" not in dumped


@pytest.mark.parametrize("proof_format", [*DI_FORMATS, ProofFormat.JWT_V1])
def test_vc_1_1_credential_verifies_under_data_model_1_1(
    proof_format: ProofFormat, issue: Any, credential_v1: dict[str, Any], verifier: Verifier
) -> None:
    secured = issue(proof_format, credential_v1)

    report = verifier.verify_credential(secured)

    assert report.valid, report.failures
    assert report.document is not None
    assert report.document["@context"][0] == "https://www.w3.org/2018/credentials/v1"


def test_enveloped_jose_credential_verifies(issue: Any, verifier: Verifier) -> None:
    report = verifier.verify_credential(jose.envelop(issue(ProofFormat.JOSE)))

    assert report.valid, report.failures
    assert report.checks[0].name == "envelope"


def test_verify_credential_function_is_the_verifier(issue: Any, now: datetime) -> None:
    assert verify_credential(issue(ProofFormat.DI), now=now).valid


def test_the_verification_time_must_be_timezone_aware() -> None:
    with pytest.raises(RunIdError) as caught:
        Verifier(now=datetime(2025, 6, 1, 12, 0))
    assert caught.value.code is ErrorCode.USAGE


# --- the report itself ---------------------------------------------------------------------------


def test_an_empty_report_is_never_valid() -> None:
    assert VerificationReport().valid is False


def test_a_report_with_passing_checks_but_no_proof_checked_is_not_valid() -> None:
    report = VerificationReport(checks=[CheckResult(name="data-model", passed=True)])

    assert report.valid is False


def test_one_failed_check_makes_the_report_invalid() -> None:
    report = VerificationReport(
        checks=[
            CheckResult(name="proof.signature", passed=True),
            CheckResult(name="validity-period", passed=False, code="RUNID_CREDENTIAL_EXPIRED"),
        ],
        proofs_checked=1,
    )

    assert report.valid is False
    assert report.error_codes == ["RUNID_CREDENTIAL_EXPIRED"]
    assert [c.name for c in report.failures] == ["validity-period"]


def test_report_json_carries_valid_and_the_checks(issue: Any, verifier: Verifier) -> None:
    dumped = json.loads(verifier.verify_credential(issue(ProofFormat.DI)).model_dump_json())

    assert dumped["valid"] is True
    assert {"name", "passed", "code", "message"} <= set(dumped["checks"][0])


# --- adversarial inputs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Kit:
    """What an adversarial case builds its input from."""

    issue: Callable[..., Any]
    issuer: Issuer  # Ed25519, did:key
    now: datetime

    def signed(self, proof_format: ProofFormat = ProofFormat.DI, **changes: Any) -> Any:
        """A validly secured sample credential, with ``changes`` made before signing."""
        if not changes:
            return self.issue(proof_format)
        credential = self.unsigned(proof_format)
        credential.update(changes)
        return self.issue(proof_format, credential)

    def unsigned(self, proof_format: ProofFormat = ProofFormat.DI) -> dict[str, Any]:
        signed = self.issue(proof_format)
        credential = signed if isinstance(signed, dict) else jose.credential_from_jwt(jose.parse_jwt(signed))[0]
        credential = {k: v for k, v in credential.items() if k not in ("proof", "issuer")}
        return copy.deepcopy(credential)

    def mutated(self, mutate: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        signed: dict[str, Any] = self.signed()
        mutate(signed)
        return signed

    def raw(self, **replace: str) -> bytes:
        """The signed credential as JSON text, with ``replace`` substitutions made in the text."""
        text = json.dumps(self.signed())
        for old, new in replace.items():
            assert old in text
            text = text.replace(old, new, 1)
        return text.encode()

    def proof(
        self,
        key: KeyPair | None = None,
        verification_method: str | None = None,
        credential: dict[str, Any] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Sign with the eddsa-rdfc-2022 suite directly, bypassing issue_credential's own checks."""
        document = EDDSA_RDFC_2022.prepare_document(
            credential or {**self.unsigned(), "issuer": self.issuer.did}
        )
        options.setdefault("created", self.now - timedelta(hours=1))
        proof = EDDSA_RDFC_2022.create_proof(
            document,
            key or self.issuer.key,
            ProofOptions(verification_method or self.issuer.verification_method, **options),
            Verifier().loader,
        )
        secured: dict[str, Any] = {**document, "proof": proof}
        return secured

    def token(self, header: dict[str, Any], signature: bytes = b"\0" * 64) -> str:
        payload = {**self.unsigned(ProofFormat.JOSE), "issuer": self.issuer.did}
        head = b64url_encode(json.dumps(header).encode())
        body = b64url_encode(json.dumps(payload).encode())
        return f"{head}.{body}.{b64url_encode(signature)}"

    def hs256_token(self) -> str:
        """The algorithm-confusion attack: an HMAC keyed with the issuer's *public* key."""
        header = {"alg": "HS256", "kid": self.issuer.verification_method, "typ": "vc+jwt"}
        unsigned = self.token(header).rsplit(".", 1)[0]
        mac = hmac.new(self.issuer.key.public.raw, unsigned.encode(), hashlib.sha256).digest()
        return f"{unsigned}.{b64url_encode(mac)}"


def _without(*keys: str) -> Callable[[dict[str, Any]], None]:
    def mutate(credential: dict[str, Any]) -> None:
        for key in keys:
            credential.pop(key)

    return mutate


def _flip_last_signature_char(credential: dict[str, Any]) -> None:
    value = credential["proof"]["proofValue"]
    credential["proof"]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")


def _other_issuer(kit: Kit) -> Issuer:
    return Issuer.generate()


def _proof_of_another_document(kit: Kit) -> dict[str, Any]:
    a = kit.signed()
    b = kit.signed(id="urn:uuid:6a0b1f0e-3c55-4d7e-9c1a-0d6a2b1f7eff")
    return {**b, "proof": a["proof"]}


def _tampered_jwt(kit: Kit) -> str:
    header, payload, signature = kit.signed(ProofFormat.JOSE).split(".")
    credential = json.loads(b64url_decode(payload))
    credential["credentialSubject"]["name"] = "Mallory"
    return ".".join([header, b64url_encode(json.dumps(credential).encode()), signature])


def _oversize(kit: Kit) -> bytes:
    return kit.raw(**{'"name": "Alice"': '"name": "' + "A" * MAX_DOCUMENT_BYTES + '"'})


PAST = "2025-03-01T00:00:00Z"
FUTURE = "2026-01-01T00:00:00Z"

# (id, build the input from the kit, the error code the report must give)
ADVERSARIAL: list[tuple[str, Callable[[Kit], Any], ErrorCode]] = [
    # -- not a credential at all
    ("not JSON", lambda k: b'{"@context": [', ErrorCode.INPUT_NOT_JSON),
    ("not UTF-8", lambda k: b'{"a": "\xff\xfe"}', ErrorCode.INPUT_NOT_JSON),
    ("NaN is not JSON", lambda k: b'{"a": NaN}', ErrorCode.INPUT_NOT_JSON),
    ("JSON array", lambda k: b"[]", ErrorCode.NOT_A_CREDENTIAL),
    ("JSON array holding the credential", lambda k: b"[" + k.raw() + b"]", ErrorCode.NOT_A_CREDENTIAL),
    ("JSON number", lambda k: b"42", ErrorCode.NOT_A_CREDENTIAL),
    ("no type", lambda k: k.mutated(_without("type")), ErrorCode.NOT_A_CREDENTIAL),
    ("type without VerifiableCredential", lambda k: k.mutated(lambda c: c.update(type=["Credential"])), ErrorCode.NOT_A_CREDENTIAL),
    ("no @context", lambda k: k.mutated(_without("@context")), ErrorCode.NOT_A_CREDENTIAL),
    ("wrong first context", lambda k: k.mutated(lambda c: c.update({"@context": [DATA_INTEGRITY_V2, VC_V2]})), ErrorCode.NOT_A_CREDENTIAL),
    ("no issuer", lambda k: k.mutated(_without("issuer")), ErrorCode.NOT_A_CREDENTIAL),
    ("issuer not a URL", lambda k: k.mutated(lambda c: c.update(issuer="issuer one")), ErrorCode.NOT_A_CREDENTIAL),
    ("no credentialSubject", lambda k: k.mutated(_without("credentialSubject")), ErrorCode.NOT_A_CREDENTIAL),
    ("empty credentialSubject", lambda k: k.mutated(lambda c: c.update(credentialSubject={})), ErrorCode.NOT_A_CREDENTIAL),
    ("validFrom not a dateTime", lambda k: k.mutated(lambda c: c.update(validFrom="2025-01-01")), ErrorCode.NOT_A_CREDENTIAL),
    ("proof not an object", lambda k: k.mutated(lambda c: c.update(proof="signed")), ErrorCode.NOT_A_CREDENTIAL),
    # -- ambiguous JSON
    ("duplicate key", lambda k: k.raw(**{'"type"': '"type": ["VerifiableCredential"], "type"'}), ErrorCode.INPUT_DUPLICATE_KEY),
    ("duplicated proof key in the raw text", lambda k: k.raw(**{'"proof"': '"proof": {}, "proof"'}), ErrorCode.INPUT_DUPLICATE_KEY),
    ("duplicate key inside the proof", lambda k: k.raw(**{'"proofValue"': '"proofValue": "z1", "proofValue"'}), ErrorCode.INPUT_DUPLICATE_KEY),
    ("oversize input", _oversize, ErrorCode.INPUT_TOO_LARGE),
    ("oversize JWT", lambda k: ("e" * (MAX_DOCUMENT_BYTES + 1) + ".e.e").encode(), ErrorCode.INPUT_TOO_LARGE),
    # -- proofs
    ("missing proof", lambda k: k.mutated(_without("proof")), ErrorCode.PROOF_MISSING),
    ("empty proof list", lambda k: k.mutated(lambda c: c.update(proof=[])), ErrorCode.PROOF_MISSING),
    ("wrong proof type", lambda k: k.mutated(lambda c: c["proof"].update(type="JsonWebSignature2020")), ErrorCode.PROOF_TYPE_UNSUPPORTED),
    ("no proof type", lambda k: k.mutated(lambda c: c["proof"].pop("type")), ErrorCode.PROOF_TYPE_UNSUPPORTED),
    ("unknown cryptosuite", lambda k: k.mutated(lambda c: c["proof"].update(cryptosuite="bbs-2023")), ErrorCode.CRYPTOSUITE_UNSUPPORTED),
    ("no cryptosuite", lambda k: k.mutated(lambda c: c["proof"].pop("cryptosuite")), ErrorCode.CRYPTOSUITE_UNSUPPORTED),
    ("proofValue changed", lambda k: k.mutated(_flip_last_signature_char), ErrorCode.PROOF_INVALID),
    ("proofValue not base58btc multibase", lambda k: k.mutated(lambda c: c["proof"].update(proofValue="u" + c["proof"]["proofValue"][1:])), ErrorCode.PROOF_MALFORMED),
    ("proofValue missing", lambda k: k.mutated(lambda c: c["proof"].pop("proofValue")), ErrorCode.PROOF_MALFORMED),
    ("no verificationMethod", lambda k: k.mutated(lambda c: c["proof"].pop("verificationMethod")), ErrorCode.PROOF_MALFORMED),
    # A proof set of identical proofs is a set (tests/test_proof_chains.py); a broken chain is not.
    ("previousProof naming no proof of the credential", lambda k: k.mutated(lambda c: c["proof"].update(previousProof="urn:uuid:1")), ErrorCode.PROOF_CHAIN_BROKEN),
    ("created not a dateTime", lambda k: k.proof(extra={"created": "yesterday"}), ErrorCode.PROOF_MALFORMED),
    ("undefined term in the proof", lambda k: k.mutated(lambda c: c["proof"].update(undefinedProofTerm="x")), ErrorCode.UNDEFINED_TERM),
    ("wrong key: another did:key signs, verificationMethod claims the issuer's", lambda k: k.proof(key=KeyPair.generate()), ErrorCode.PROOF_INVALID),
    ("verificationMethod of another DID than the issuer", lambda k: k.proof(key=(o := _other_issuer(k)).key, verification_method=o.verification_method), ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED),
    ("verificationMethod not in the issuer's DID document", lambda k: k.proof(verification_method=k.issuer.did + "#other"), ErrorCode.VERIFICATION_METHOD_NOT_FOUND),
    ("issuer switched after signing", lambda k: k.mutated(lambda c: c.update(issuer=_other_issuer(k).did)), ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED),
    ("verificationMethod is a did:web not in the store", lambda k: k.mutated(lambda c: (c.update(issuer="did:web:example.com"), c["proof"].update(verificationMethod="did:web:example.com#key-1"))), ErrorCode.DID_UNRESOLVED),
    ("a proof that covers a different document", _proof_of_another_document, ErrorCode.PROOF_INVALID),
    ("a claim changed after signing", lambda k: k.mutated(lambda c: c["credentialSubject"].update(name="Mallory")), ErrorCode.PROOF_INVALID),
    ("proofPurpose authentication", lambda k: k.proof(proof_purpose="authentication"), ErrorCode.PROOF_PURPOSE_MISMATCH),
    ("proofPurpose changed after signing", lambda k: k.mutated(lambda c: c["proof"].update(proofPurpose="capabilityInvocation")), ErrorCode.PROOF_PURPOSE_MISMATCH),
    # -- JSON-LD
    ("unknown context URL", lambda k: k.mutated(lambda c: c["@context"].append("https://example.org/unknown/v1")), ErrorCode.CONTEXT_NOT_ALLOWED),
    ("undefined term added after signing", lambda k: k.mutated(lambda c: c["credentialSubject"].update(undefinedTerm=1)), ErrorCode.UNDEFINED_TERM),
    ("invalid JSON-LD", lambda k: k.mutated(lambda c: c["@context"].append(5)), ErrorCode.JSONLD_INVALID),
    # -- time
    ("credential expired (validUntil < now)", lambda k: k.signed(validUntil=PAST), ErrorCode.CREDENTIAL_EXPIRED),
    ("credential not yet valid (validFrom > now)", lambda k: k.signed(validFrom=FUTURE), ErrorCode.CREDENTIAL_NOT_YET_VALID),
    ("proof created in the future", lambda k: k.proof(created=k.now + timedelta(hours=1)), ErrorCode.PROOF_CREATED_IN_FUTURE),
    ("proof expired", lambda k: k.proof(expires=k.now - timedelta(minutes=1)), ErrorCode.PROOF_EXPIRED),
    ("VC 1.1 expirationDate in the past", lambda k: k.issue(ProofFormat.DI, {**k.unsigned(ProofFormat.JWT_V1), "expirationDate": PAST}), ErrorCode.CREDENTIAL_EXPIRED),
    ("VC 1.1 issuanceDate in the future", lambda k: k.issue(ProofFormat.DI_2020, {**k.unsigned(ProofFormat.JWT_V1), "issuanceDate": FUTURE}), ErrorCode.CREDENTIAL_NOT_YET_VALID),
    ("VC-JWT 1.1 expirationDate in the past", lambda k: k.issue(ProofFormat.JWT_V1, {**k.unsigned(ProofFormat.JWT_V1), "expirationDate": PAST}), ErrorCode.CREDENTIAL_EXPIRED),
    ("VC-JOSE validUntil in the past", lambda k: k.signed(ProofFormat.JOSE, validUntil=PAST), ErrorCode.CREDENTIAL_EXPIRED),
    # -- JOSE
    ("JWT alg none", lambda k: k.token({"alg": "none", "kid": k.issuer.verification_method, "typ": "vc+jwt"}, b""), ErrorCode.JWS_ALG_NOT_ALLOWED),
    ("JWT alg HS256 keyed with the public key", lambda k: k.hs256_token(), ErrorCode.JWS_ALG_NOT_ALLOWED),
    ("JWT alg RS256", lambda k: k.token({"alg": "RS256", "kid": k.issuer.verification_method, "typ": "vc+jwt"}, b"\1" * 256), ErrorCode.JWS_ALG_NOT_ALLOWED),
    ("JWT alg ES256 with an Ed25519 key", lambda k: k.token({"alg": "ES256", "kid": k.issuer.verification_method, "typ": "vc+jwt"}), ErrorCode.PROOF_INVALID),
    ("JWT payload changed", _tampered_jwt, ErrorCode.PROOF_INVALID),
    ("JWT signature zeroed", lambda k: k.signed(ProofFormat.JOSE).rsplit(".", 1)[0] + "." + b64url_encode(b"\0" * 64), ErrorCode.PROOF_INVALID),
    # A JWT without kid is checked against the issuer's keys (kid is optional): tests/test_wallet_compat.py.
    ("JWT kid not a DID URL", lambda k: k.token({"alg": "EdDSA", "kid": "key-1", "typ": "vc+jwt"}), ErrorCode.JWS_INVALID),
    ("JWT kid of another DID", lambda k: k.token({"alg": "EdDSA", "kid": _other_issuer(k).verification_method, "typ": "vc+jwt"}), ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED),
    ("JWE-shaped token", lambda k: b"a.b.c.d.e", ErrorCode.INPUT_NOT_JSON),
    ("enveloped credential of another media type", lambda k: {**jose.envelop(k.signed(ProofFormat.JOSE)), "id": "data:application/vc+sd-jwt,abc"}, ErrorCode.NOT_A_CREDENTIAL),
]


@pytest.fixture
def kit(issue: Any, ed25519_issuer: Issuer, now: datetime) -> Kit:
    return Kit(issue=issue, issuer=ed25519_issuer, now=now)


@pytest.mark.parametrize(
    ("build", "code"), [(b, c) for _, b, c in ADVERSARIAL], ids=[i for i, _, _ in ADVERSARIAL]
)
def test_adversarial_input_gives_an_invalid_report_with_its_code(
    build: Callable[[Kit], Any], code: ErrorCode, kit: Kit, verifier: Verifier
) -> None:
    data = build(kit)

    report = verifier.verify_credential(data)

    assert report.valid is False
    assert report.failures, "an invalid report must name the check that failed"
    assert report.failures[0].code == code.value, report.failures
    assert code.value in report.error_codes


def test_adversarial_table_covers_distinct_cases() -> None:
    assert len({i for i, _, _ in ADVERSARIAL}) == len(ADVERSARIAL)


@pytest.mark.parametrize("proof_format", DI_FORMATS)
def test_every_data_integrity_format_refuses_a_changed_claim(
    proof_format: ProofFormat, issue: Any, verifier: Verifier
) -> None:
    secured = issue(proof_format)
    secured["credentialSubject"]["name"] = "Mallory"

    assert verifier.verify_credential(secured).error_codes == ["RUNID_PROOF_INVALID"]


@pytest.mark.parametrize("proof_format", list(ProofFormat))
def test_every_format_is_refused_once_expired_and_before_it_is_valid(
    proof_format: ProofFormat, issue: Any, credential_v1: dict[str, Any], credential_v2: dict[str, Any], now: datetime
) -> None:
    credential = credential_v1 if proof_format is ProofFormat.JWT_V1 else credential_v2
    end = "expirationDate" if proof_format is ProofFormat.JWT_V1 else "validUntil"
    credential[end] = "2025-12-31T00:00:00Z"
    secured = issue(proof_format, credential)

    assert Verifier(now=now).verify_credential(secured).valid
    later = Verifier(now=datetime.fromisoformat("2026-01-01T00:00:00+00:00")).verify_credential(secured)
    earlier = Verifier(now=datetime.fromisoformat("2024-06-01T00:00:00+00:00")).verify_credential(secured)
    assert "RUNID_CREDENTIAL_EXPIRED" in later.error_codes and later.valid is False
    assert "RUNID_CREDENTIAL_NOT_YET_VALID" in earlier.error_codes and earlier.valid is False


def test_proof_created_within_the_clock_skew_is_accepted(kit: Kit, verifier: Verifier) -> None:
    secured = kit.proof(created=kit.now + verifier.clock_skew - timedelta(seconds=1))

    assert verifier.verify_credential(secured).valid


def test_a_proof_set_is_valid_only_if_every_proof_is(kit: Kit, verifier: Verifier) -> None:
    first = kit.proof()
    second = kit.proof(created=kit.now - timedelta(hours=2))
    both = {**first, "proof": [first["proof"], second["proof"]]}
    assert verifier.verify_credential(both).valid
    assert verifier.verify_credential(both).proofs_checked == 2

    broken = copy.deepcopy(both)
    _flip_last_signature_char({"proof": broken["proof"][1]})
    report = verifier.verify_credential(broken)
    assert report.valid is False
    assert report.error_codes == ["RUNID_PROOF_INVALID"]
    assert report.failures[0].name == "proof[1].signature"
