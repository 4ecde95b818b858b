"""A secured credential, parsed once: the one place a credential is decoded without being verified.

    secured = SecuredCredential.parse(wire)     # a dict with a proof, a compact JWS, or an envelope
    secured.format                              # SecuredFormat.EDDSA_RDFC_2022, .VC_JOSE, …
    secured.unverified_document["credentialSubject"]

A credential travels in one of three wire forms (:data:`SecuredWire`): a JSON object with an
embedded Data Integrity proof, a compact JWS (VC-JOSE-COSE §3.1.1, or the VC 1.1 JWT encoding of
VC Data Model 1.1 §6.3.1), or an ``EnvelopedVerifiableCredential`` holding such a JWS in a
``data:application/vc+jwt,…`` URL (VC 2.0 §4.13). Every reader that needs a field of a credential
before or without verifying it (its id, issuer, run id, type, status list URLs, the format to
answer in) goes through :meth:`SecuredCredential.parse`, so all of them read the same document from
the same bytes. Nothing here checks a signature: the document is ``unverified_document`` on
purpose, and only :mod:`vc_runid.vc.verification` can say a credential is valid.

Parsing is bounded (a JWS above :data:`~vc_runid.vc.documents.MAX_DOCUMENT_BYTES` is refused before
it is decoded) and fails with a typed error, never a traceback: ``RUNID_JWS_INVALID`` /
``RUNID_JWS_ALG_NOT_ALLOWED`` / ``RUNID_INPUT_TOO_LARGE`` for a token that is no compact JWS we
accept, ``RUNID_NOT_A_CREDENTIAL`` for something that is no credential (not a JSON object, a wrong
envelope, a JWT payload that is no credential or whose claims contradict it).

Parsing decodes; it does not judge the data model or the proof: a missing issuer or a malformed
``id`` leaves ``issuer`` / ``id`` None (``check_credential``, run by verification, says what is
wrong), and a JSON credential whose proof names no mechanism vc-runid implements is still read — only
asking for its :attr:`~SecuredCredential.format` raises (``RUNID_PROOF_MISSING`` /
``RUNID_PROOF_MALFORMED`` / ``RUNID_PROOF_TYPE_UNSUPPORTED`` / ``RUNID_CRYPTOSUITE_UNSUPPORTED``),
so that a reader classifying a document before verification never needs a second decoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .._internal.contexts import DocumentLoader, default_loader
from ..errors import DataModelError, ErrorCode, ProofError
from . import jose
from .documents import SecuredWire, declared_types, issuer_id, proofs_of, read_document
from .formats import ProofFormat
from .proofs import suite_for

__all__ = ["SecuredCredential", "SecuredFormat", "SecuredWire"]


class SecuredFormat(StrEnum):
    """How a credential is secured: one value per securing mechanism. The values are the names a
    :class:`~vc_runid.vc.verification.VerificationReport` gives as its ``format``."""

    EDDSA_RDFC_2022 = "eddsa-rdfc-2022"  # DataIntegrityProof (vc-di-eddsa §3.1)
    ECDSA_RDFC_2019 = "ecdsa-rdfc-2019"  # DataIntegrityProof (vc-di-ecdsa §3.2)
    ED25519_SIGNATURE_2020 = "Ed25519Signature2020"  # the CCG suite VC 1.1 wallets verify
    EDDSA_JCS_2022 = "eddsa-jcs-2022"  # DataIntegrityProof (vc-di-eddsa §3.3)
    ECDSA_JCS_2019 = "ecdsa-jcs-2019"  # DataIntegrityProof (vc-di-ecdsa §3.4)
    VC_JOSE = jose.VC_JOSE  # compact JWS whose payload is a VC 2.0 credential (VC-JOSE-COSE §3.1.1)
    VC_JWT_1_1 = jose.VC_JWT_V1  # VC 1.1 JWT encoding, the credential in the vc claim (VC DM 1.1 §6.3.1)
    ENVELOPED = "enveloped"  # EnvelopedVerifiableCredential around a VC-JOSE token (VC 2.0 §4.13)

    @property
    def embedded_proof(self) -> bool:
        """Whether the proof sits inside the JSON document (Data Integrity), not around it (JOSE)."""
        return self not in (SecuredFormat.VC_JOSE, SecuredFormat.VC_JWT_1_1, SecuredFormat.ENVELOPED)


#: The format to issue in so a new credential is secured like this one: a binding is issued in its
#: declaration's format (the service and `vc-runid bind` both ask). An enveloped credential holds a
#: VC-JOSE token, so its counterpart is a VC-JOSE token.
_PROOF_FORMATS: Final[Mapping[SecuredFormat, ProofFormat]] = {
    SecuredFormat.EDDSA_RDFC_2022: ProofFormat.DI,
    SecuredFormat.ECDSA_RDFC_2019: ProofFormat.ECDSA,
    SecuredFormat.ED25519_SIGNATURE_2020: ProofFormat.DI_2020,
    SecuredFormat.EDDSA_JCS_2022: ProofFormat.EDDSA_JCS,
    SecuredFormat.ECDSA_JCS_2019: ProofFormat.ECDSA_JCS,
    SecuredFormat.VC_JOSE: ProofFormat.JOSE,
    SecuredFormat.VC_JWT_1_1: ProofFormat.JWT_V1,
    SecuredFormat.ENVELOPED: ProofFormat.JOSE,
}


@dataclass(frozen=True)
class SecuredCredential:
    """One credential as it travels, and what it says before anyone has checked that it says so.

    Build it with :meth:`parse` (or :meth:`read` for bytes); the constructor does not check that
    its fields agree. ``unverified_document`` is the dict given for an embedded proof (the same
    object, not a copy) or the credential a JWS carries (a copy, rebuilt from the claims for VC 1.1).
    """

    #: The form the credential was given in: a JSON object with its proof, a compact JWS, or an
    #: ``EnvelopedVerifiableCredential``.
    wire: SecuredWire
    #: The credential, decoded but NOT verified: read it to decide how to verify, never to trust.
    unverified_document: dict[str, Any]
    #: The issuer's id as the document states it; None when it names no issuer URL.
    issuer: str | None
    #: The credential's ``id``, when it has one (a string).
    id: str | None
    #: The ``type`` values as written (strings only). What the signature covers are the expanded
    #: types (:meth:`expanded_types`); the two agree once the document passed ``check_compacted``.
    types: tuple[str, ...]
    #: The parsed JWS of a JOSE or enveloped credential (its signature unchecked), else None.
    jwt: jose.Jwt | None = None
    #: The format of a JOSE or enveloped credential, known once its JWS is decoded; None for an
    #: embedded proof, whose format :attr:`format` reads from the proof when asked.
    jose_format: SecuredFormat | None = None

    @classmethod
    def parse(cls, wire: Any) -> SecuredCredential:
        """The one decoder of a secured credential; see the module docstring for its errors."""
        if isinstance(wire, str):
            return cls._from_jwt(wire, jose.parse_jwt(wire))
        if not isinstance(wire, dict):
            raise DataModelError(
                f"a secured credential is a JSON object or a compact JWS, not {type(wire).__name__}"
            )
        if jose.is_envelope(wire):
            return cls._from_jwt(wire, jose.parse_jwt(jose.unwrap_envelope(wire)))
        return cls._from_document(wire, wire, None, None)

    @property
    def format(self) -> SecuredFormat:
        """How the credential is secured. An embedded proof set or chain is named by its first
        proof, the one its issuer added first. Raises ``RUNID_PROOF_MISSING``,
        ``RUNID_PROOF_MALFORMED``, ``RUNID_PROOF_TYPE_UNSUPPORTED`` or
        ``RUNID_CRYPTOSUITE_UNSUPPORTED`` for a JSON document with no proof vc-runid implements
        (the document itself is still readable: classifying it needs no proof)."""
        if self.jose_format is not None:
            return self.jose_format
        proofs = proofs_of(self.unverified_document)
        if not proofs:
            raise ProofError("the credential has no proof", code=ErrorCode.PROOF_MISSING)
        if not isinstance(proofs[0], dict):
            raise ProofError("the credential's proof must be an object or a list of objects", code=ErrorCode.PROOF_MALFORMED)
        return SecuredFormat(suite_for(proofs[0]).name)

    @classmethod
    def read(cls, data: bytes | str) -> SecuredCredential:
        """:meth:`parse` of untrusted text: strict JSON (or a compact JWS), bounded in size."""
        return cls.parse(read_document(data))

    @classmethod
    def from_jwt(cls, wire: SecuredWire, jwt: jose.Jwt) -> SecuredCredential:
        """The credential a JWS already parsed by :func:`~vc_runid.vc.jose.parse_jwt` carries
        (for the verifier, which records parsing and decoding as separate checks). ``wire`` is the
        token itself, or the envelope it came in."""
        return cls._from_jwt(wire, jwt)

    @classmethod
    def _from_jwt(cls, wire: SecuredWire, jwt: jose.Jwt) -> SecuredCredential:
        document, profile = jose.credential_from_jwt(jwt)
        secured_format = SecuredFormat.ENVELOPED if isinstance(wire, dict) else SecuredFormat(profile)
        return cls._from_document(wire, document, jwt, secured_format)

    @classmethod
    def _from_document(
        cls, wire: SecuredWire, document: dict[str, Any], jwt: jose.Jwt | None, jose_format: SecuredFormat | None
    ) -> SecuredCredential:
        credential_id = document.get("id")
        try:
            issuer: str | None = issuer_id(document)
        except DataModelError:
            issuer = None  # the data model check of verification refuses it, and says why
        return cls(
            wire=wire,
            unverified_document=document,
            issuer=issuer,
            id=credential_id if isinstance(credential_id, str) else None,
            types=tuple(t for t in declared_types(document) if isinstance(t, str)),
            jwt=jwt,
            jose_format=jose_format,
        )

    @property
    def signed(self) -> SecuredWire:
        """What the signature covers, as it was signed: the compact JWS (also of an enveloped
        credential), or the JSON document with its embedded proof."""
        return self.jwt.token if self.jwt is not None else self.wire

    @property
    def proof_format(self) -> ProofFormat:
        """The format to issue a credential in so it is secured like this one (the one lookup the
        service and the CLI use to issue a binding in its declaration's format)."""
        return _PROOF_FORMATS[self.format]

    @property
    def verification_methods(self) -> tuple[str, ...]:
        """The DID URLs the credential says it was signed with: each proof's
        ``verificationMethod``, or the JWS ``kid`` (empty for a JWS without one). Unverified."""
        if self.jwt is not None:
            kid = self.jwt.header.get("kid")
            return (kid,) if isinstance(kid, str) else ()
        methods = (p.get("verificationMethod") for p in proofs_of(self.unverified_document) if isinstance(p, dict))
        return tuple(m for m in methods if isinstance(m, str))

    def expanded_types(self, loader: DocumentLoader | None = None) -> frozenset[str]:
        """The type IRIs of the document's top-level node, by safe-mode JSON-LD expansion."""
        from .._internal.canonical import expand_document
        from .signed_form import expanded_types

        return expanded_types(expand_document(self.unverified_document, loader or default_loader()))
