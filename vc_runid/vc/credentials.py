"""Issuing credentials: an issuer identity (key + DID) and one function that secures a credential
in any supported format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._internal.canonical import expand_document
from .._internal.contexts import DocumentLoader, default_loader
from .._internal.timeutil import utc_now
from ..errors import DidError, ErrorCode, ProofError, UsageError, error_for
from . import jose
from .dids import (
    did_key_for,
    did_key_vm,
    did_web_document,
    did_web_method_id,
    resolve_did_key,
)
from .documents import check_credential, issuer_id, proofs_of
from .formats import ProofFormat
from .keys import KeyPair, KeyType
from .proofs import (
    ECDSA_JCS_2019,
    ECDSA_RDFC_2019,
    ED25519_SIGNATURE_2020,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    ProofOptions,
    RdfcSuite,
)

_SUITES: dict[ProofFormat, RdfcSuite] = {
    ProofFormat.DI: EDDSA_RDFC_2022,
    ProofFormat.DI_2020: ED25519_SIGNATURE_2020,
    ProofFormat.ECDSA: ECDSA_RDFC_2019,
    ProofFormat.EDDSA_JCS: EDDSA_JCS_2022,
    ProofFormat.ECDSA_JCS: ECDSA_JCS_2019,
}


def key_type_for(proof_format: ProofFormat) -> KeyType:
    """The key type a format signs with: P-256 for the ECDSA suites, Ed25519 for the others."""
    suite = _SUITES.get(proof_format)
    return suite.key_type if suite is not None else KeyType.ED25519



@dataclass(frozen=True)
class Issuer:
    """A signing key and the DID + verification method it signs as."""

    key: KeyPair
    did: str
    verification_method: str

    @classmethod
    def from_key(cls, key: KeyPair, did_web: str | None = None) -> Issuer:
        if did_web:
            return cls(key, did_web, f"{did_web}#{key.public.multikey}")
        return cls(key, did_key_for(key.public), did_key_vm(key.public))

    @classmethod
    def generate(cls, key_type: KeyType = KeyType.ED25519) -> Issuer:
        return cls.from_key(KeyPair.generate(key_type))

    def method_for(self, proof_format: ProofFormat) -> str:
        """The verification method to sign ``proof_format`` with. A did:web lists its key in several
        forms (docs/formats.md): Ed25519Signature2020 verifiers such as Credo accept only an
        ``Ed25519VerificationKey2020`` method, and a JOSE verifier reads the key of a ``kid`` as
        a JWK, which only the ``JsonWebKey2020`` listing carries."""
        if self.did.startswith("did:web:"):
            if proof_format is ProofFormat.DI_2020:
                return did_web_method_id(self.did, self.key.public, "Ed25519VerificationKey2020")
            if proof_format in (ProofFormat.JOSE, ProofFormat.JWT_V1):
                return did_web_method_id(self.did, self.key.public, "JsonWebKey2020")
        return self.verification_method

    def did_document(self) -> dict[str, Any]:
        if self.did.startswith("did:web:"):
            return did_web_document(self.did, [self.key.public])
        return resolve_did_key(self.did)


def _with_issuer(credential: dict[str, Any], issuer: Issuer) -> dict[str, Any]:
    if "issuer" not in credential:
        return {**credential, "issuer": issuer.did}
    if issuer_id(credential) != issuer.did:
        raise DidError(
            f"the credential names issuer {issuer_id(credential)} but the key belongs to {issuer.did}; "
            "the result could never verify",
            code=ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED,
        )
    return credential


def issue_credential(
    credential: dict[str, Any],
    issuer: Issuer,
    *,
    proof_format: ProofFormat = ProofFormat.DI,
    created: datetime | None = None,
    loader: DocumentLoader | None = None,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
) -> dict[str, Any] | str:
    """Secure ``credential``: a dict with a proof for Data Integrity formats, a compact JWS for
    JOSE formats. The credential is checked against the data model and in JSON-LD safe mode first,
    so nothing unsigned or undefined can ride along.

    A credential that already carries proofs gets one more: a proof set (Data Integrity §4.2),
    or, with ``previous_proof`` naming the ids of proofs it carries, a proof chain (§4.3) whose new
    proof signs those proofs too; they must verify first, as this issuer's. ``proof_id`` gives the
    new proof an ``id`` a later proof can chain to."""
    loader = loader or default_loader()
    credential = _with_issuer(credential, issuer)
    suite = _SUITES.get(proof_format)
    if suite is not None:
        credential = suite.prepare_document(credential)
    check_credential(credential)
    # Before any proof work: otherwise a context or term error in the document surfaces as a
    # malformed proof configuration (which shares the document's @context).
    expansion = expand_document(credential, loader)
    if proof_format in (ProofFormat.JOSE, ProofFormat.JWT_V1):
        if proofs_of(credential):
            raise UsageError("a credential secured with JOSE must not also carry an embedded proof")
        if proof_format is ProofFormat.JOSE:
            return jose.issue_vc_jose(credential, issuer.key, issuer.method_for(proof_format))
        return jose.issue_vc_jwt_v1(credential, issuer.key, issuer.method_for(proof_format))
    assert suite is not None
    # Whole seconds: several verifiers (didkit among them) reject other fractional forms of `created`.
    extra: dict[str, Any] = {}
    if proof_id is not None:
        extra["id"] = proof_id
    previous = _chained_proofs(credential, previous_proof, loader, created or utc_now())
    if previous:
        extra["previousProof"] = previous_proof
    options = ProofOptions(
        issuer.method_for(proof_format), created=(created or utc_now()).replace(microsecond=0), extra=extra
    )
    proof = suite.create_proof(
        credential, issuer.key, options, loader, expansion=None if previous else expansion, previous_proofs=previous
    )
    existing = proofs_of(credential)
    return {**credential, "proof": [*existing, proof] if existing else proof}


def _chained_proofs(
    credential: dict[str, Any], previous_proof: str | list[str] | None, loader: DocumentLoader, now: datetime
) -> list[dict[str, Any]]:
    """The proofs a new chained proof names, after checking that they verify: signing them says
    this issuer saw them valid (never sign what you did not check)."""
    if previous_proof is None:
        return []
    from .verification import Verifier, proof_set  # verification → status → credentials

    names = [previous_proof] if isinstance(previous_proof, str) else list(previous_proof)
    by_id = {m.proof.get("id"): m.proof for m in proof_set(credential, "credential")}
    missing = [name for name in names if name not in by_id]
    if not names or missing:
        raise ProofError(
            f"previousProof names {', '.join(missing) or 'nothing'}, not a proof of this credential",
            code=ErrorCode.PROOF_CHAIN_BROKEN,
        )
    report = Verifier(loader=loader, now=now).verify_credential(credential)
    if not report.valid:
        failure = report.failures[0] if report.failures else None
        raise error_for(
            "the proofs to chain to do not verify"
            + (f" ({failure.name}: {failure.message})" if failure else ""),
            code=ErrorCode(failure.code) if failure and failure.code else ErrorCode.PROOF_INVALID,
        )
    return [by_id[name] for name in names]
