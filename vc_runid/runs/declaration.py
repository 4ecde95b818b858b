"""The run declaration: a ``RunDeclarationCredential`` issued *before* the run starts."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from .._internal.contexts import ED25519_2020_V1, RUNID_V1, VC_V1, VC_V2, pinned_contexts
from .._internal.timeutil import format_datetime, parse_datetime
from ..errors import ErrorCode, RunError, UsageError
from ..vc.credentials import Issuer, issue_credential
from ..vc.documents import SecuredWire, VcVersion, declared_types, vc_version
from ..vc.formats import ProofFormat, RunProfile, profile_format
from .composition import RunComposition
from .digests import digest_multibase, jcs

DECLARATION_TYPE = "RunDeclarationCredential"
BINDING_TYPE = "RunOutputCredential"
SUBJECT_TYPE = "Run"



def version_for(proof_format: ProofFormat) -> VcVersion:
    """The VC 1.1 profile is what didkit and other 1.1-era verifiers understand."""
    return VcVersion.V1 if proof_format in (ProofFormat.DI_2020, ProofFormat.JWT_V1) else VcVersion.V2


def run_contexts(version: VcVersion) -> list[Any]:
    """VC 2.0 names the vocabulary by URL. The VC 1.1 profile carries it inline, because 1.1-era
    verifiers (didkit) resolve only their built-in context URLs."""
    if version is VcVersion.V2:
        return [VC_V2, RUNID_V1]
    return [VC_V1, ED25519_2020_V1, pinned_contexts()[RUNID_V1]["@context"]]


def new_run_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def build_declaration(
    composition: RunComposition,
    *,
    issuer_did: str,
    declared_at: datetime,
    run_id: str | None = None,
    version: VcVersion = VcVersion.V2,
    credential_id: str | None = None,
    credential_status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The unsigned declaration credential for ``composition``. A revocable declaration takes its
    ``credential_id`` and ``credential_status`` from a status registry (``StatusRegistry.assign``)."""
    subject = {
        "id": run_id or new_run_id(),
        "type": SUBJECT_TYPE,
        # A fresh nonce makes two declarations of an identical composition distinct credentials.
        "runNonce": secrets.token_urlsafe(16),
        **composition.subject_fields(),
    }
    credential: dict[str, Any] = {
        "@context": run_contexts(version),
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", DECLARATION_TYPE],
        "issuer": issuer_did,
    }
    moment = format_datetime(declared_at)
    credential["validFrom" if version is VcVersion.V2 else "issuanceDate"] = moment
    credential["credentialSubject"] = subject
    return with_status(credential, credential_status, version)


def with_status(
    credential: dict[str, Any], credential_status: dict[str, Any] | None, version: VcVersion
) -> dict[str, Any]:
    """Add ``credentialStatus``, signed with the rest. VC 2.0 defines the Bitstring Status List
    terms; the VC 1.1 context does not, so there they would be undefined terms (refused)."""
    if credential_status is None:
        return credential
    if version is not VcVersion.V2:
        raise UsageError("credentialStatus (Bitstring Status List) needs a VC 2.0 format: di, ecdsa or jose")
    return {**credential, "credentialStatus": credential_status}


def declare(
    composition: RunComposition,
    issuer: Issuer,
    *,
    declared_at: datetime,
    proof_format: ProofFormat = ProofFormat.DI,
    run_id: str | None = None,
    credential_id: str | None = None,
    credential_status: dict[str, Any] | None = None,
    profile: RunProfile | None = None,
) -> SecuredWire:
    """Issue the declaration credential, signed by ``issuer`` at ``declared_at`` (its clock).

    ``profile`` (``standard`` or ``compatible``) picks the format by purpose instead of by name.
    A composition whose stated digests disagree with its own content is refused: signing it would
    produce a declaration that can never verify."""
    proof_format = profile_format(profile, proof_format)
    composition.check_derived_digests()
    unsigned = build_declaration(
        composition,
        issuer_did=issuer.did,
        declared_at=declared_at,
        run_id=run_id,
        version=version_for(proof_format),
        credential_id=credential_id,
        credential_status=credential_status,
    )
    return issue_credential(unsigned, issuer, proof_format=proof_format, created=declared_at)


def secured_digest(secured: SecuredWire) -> str:
    """The digest that a binding's ``relatedResource`` commits to: over the *secured* credential
    (proof included), as RFC 8785 JSON, or over the compact JWS bytes for a JOSE credential."""
    if isinstance(secured, str):
        return digest_multibase(secured.encode("ascii"))
    return digest_multibase(jcs(secured))


def log_leaf_data(secured: SecuredWire) -> bytes:
    """The bytes a run credential contributes to a run log (RFC 9162 leaf data): its RFC 8785
    JSON exactly as issued; a compact JWS is a JSON string."""
    return jcs(secured)


def media_type_of(secured: SecuredWire) -> str:
    return "application/vc+jwt" if isinstance(secured, str) else "application/vc"


def issued_at(credential: dict[str, Any]) -> datetime:
    field = "validFrom" if vc_version(credential) is VcVersion.V2 else "issuanceDate"
    return parse_datetime(credential.get(field), field)


def declaration_subject(credential: dict[str, Any]) -> tuple[str, RunComposition]:
    """The run id and composition of a declaration; ``RUNID_NOT_A_DECLARATION`` naming the field
    if it is not one."""
    if DECLARATION_TYPE not in declared_types(credential):
        raise RunError(f"the credential is not a {DECLARATION_TYPE}", code=ErrorCode.NOT_A_DECLARATION)
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str):
        raise RunError("the declaration's subject has no run id", code=ErrorCode.NOT_A_DECLARATION)
    fields = {k: v for k, v in subject.items() if k not in ("id", "type", "runNonce")}
    try:
        return subject["id"], RunComposition.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RunError(
            f"declaration subject field {where!r}: {first['msg']}", code=ErrorCode.NOT_A_DECLARATION
        ) from exc
