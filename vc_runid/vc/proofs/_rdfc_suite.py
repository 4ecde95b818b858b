"""The shared algorithm of the RDFC-based Data Integrity cryptosuites.

eddsa-rdfc-2022, ecdsa-rdfc-2019 (P-256) and Ed25519Signature2020 differ only in names, key type
and signature scheme. Each canonicalizes the unsecured document and the proof configuration with
RDFC-1.0, hashes both with SHA-256, and signs ``proofHash || documentHash``
(vc-di-eddsa §3.2.4–3.2.6, vc-di-ecdsa §3.3.4–3.3.6).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..._internal.canonical import Expansion, canonicalize, canonicalize_expanded, without_entry
from ..._internal.contexts import DocumentLoader
from ..._internal.multiformats import multibase_decode, multibase_encode
from ..._internal.timeutil import format_datetime
from ...errors import ContextError, ErrorCode, KeyMaterialError, ProofError, RunIdError
from ..keys import KeyPair, KeyType, PublicKey

# The ``vc-runid init --key-type`` value that makes a key of each type, for the error that says how.
_KEY_TYPE_OPTION = {"Ed25519": "ed25519", "P-256": "p256"}


@dataclass(frozen=True)
class ProofOptions:
    """What the signer chooses about a proof (Data Integrity §2.1)."""

    verification_method: str
    proof_purpose: str = "assertionMethod"
    created: datetime | None = None
    expires: datetime | None = None
    challenge: str | None = None
    domain: str | None = None
    nonce: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def context_list(document: dict[str, Any]) -> list[Any]:
    ctx = document.get("@context")
    if ctx is None:
        return []
    return list(ctx) if isinstance(ctx, list) else [ctx]


def input_document(document: dict[str, Any], previous_proofs: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What a proof signs: the document without its proofs, plus, for a proof in a chain, the
    proofs its ``previousProof`` names (Data Integrity §4.3 step 4, §4.5 step 3.3)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if previous_proofs:
        unsecured["proof"] = list(previous_proofs)
    return unsecured


@dataclass(frozen=True)
class RdfcSuite:
    """A Data Integrity cryptosuite over RDFC-1.0: how it creates and checks proofs."""

    proof_type: str
    cryptosuite: str | None
    key_type: KeyType
    # Contexts, any one of which makes the proof's terms defined in the document.
    defining_contexts: tuple[str, ...]
    # Data Integrity 1.0 requires a proof's @context to be a prefix of the document's. The older
    # Linked Data Proofs suites instead canonicalize the proof with its own @context and leave the
    # document alone (didkit signs Ed25519Signature2020 that way).
    proof_context_is_prefix: bool = True
    # A proof without @context is verified with the document's @context in its options (the RDFC
    # suites: the options are canonicalized as JSON-LD); the JCS suites hash the options as written.
    options_take_document_context: bool = True

    @property
    def name(self) -> str:
        return self.cryptosuite or self.proof_type

    def matches(self, proof: dict[str, Any]) -> bool:
        return proof.get("type") == self.proof_type and proof.get("cryptosuite") == self.cryptosuite

    def prepare_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """Add the suite's context when the document does not define the proof's terms yet."""
        contexts = context_list(document)
        if any(c in contexts for c in self.defining_contexts):
            return document
        return {**document, "@context": [*contexts, self.defining_contexts[-1]]}

    def proof_config(self, options: ProofOptions, ctx: list[Any]) -> dict[str, Any]:
        config: dict[str, Any] = {"type": self.proof_type}
        if self.cryptosuite:
            config["cryptosuite"] = self.cryptosuite
        if options.created is not None:
            config["created"] = format_datetime(options.created)
        if options.expires is not None:
            config["expires"] = format_datetime(options.expires)
        config["verificationMethod"] = options.verification_method
        config["proofPurpose"] = options.proof_purpose
        if options.challenge is not None:
            config["challenge"] = options.challenge
        if options.domain is not None:
            config["domain"] = options.domain
        if options.nonce is not None:
            config["nonce"] = options.nonce
        config.update(options.extra)
        config["@context"] = ctx
        return config

    def hash_data(
        self,
        document: dict[str, Any],
        config: dict[str, Any],
        loader: DocumentLoader,
        expansion: Expansion | None = None,
        previous_proofs: list[dict[str, Any]] | None = None,
    ) -> bytes:
        """SHA-256 of the canonical proof configuration, then of the canonical unsecured document.

        ``expansion``, when given, is ``expand_document(document, loader)`` from an earlier check
        of the same document; the unsecured document's expansion is taken from it where
        :func:`~vc_runid._internal.canonical.without_entry` can, instead of expanding it again.
        ``previous_proofs``: for a proof in a chain, the proofs its ``previousProof`` names.
        """
        unsecured = input_document(document, previous_proofs)
        if previous_proofs:
            expansion = None  # that expansion is of the document with every proof, or none
        try:
            canonical_config = canonicalize(config, loader)
        except ContextError as exc:
            raise ProofError(
                f"proof options contain undefined or invalid terms: {exc.message}",
                code=ErrorCode.PROOF_MALFORMED,
            ) from exc
        expanded = None
        if expansion is not None:
            expanded = expansion.expanded
            if "proof" in document:
                expanded = without_entry(expansion, "proof")
        if expanded is not None:
            canonical_document = canonicalize_expanded(expanded)
        else:
            canonical_document = canonicalize(unsecured, loader)
        return (
            hashlib.sha256(canonical_config.encode()).digest()
            + hashlib.sha256(canonical_document.encode()).digest()
        )

    def create_proof(
        self,
        document: dict[str, Any],
        key: KeyPair,
        options: ProofOptions,
        loader: DocumentLoader,
        expansion: Expansion | None = None,
        previous_proofs: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Return the proof for ``document`` (which must already carry the suite's context).

        ``expansion``: ``expand_document(document, loader)``, if the caller already has it.
        ``previous_proofs``: the proofs this one chains to (its ``previousProof``, Data Integrity
        §4.3); they are signed with the document.
        """
        if key.key_type is not self.key_type:
            raise KeyMaterialError(
                f"{self.name} signs with a {self.key_type} key, not {key.key_type}: use a {self.key_type} key "
                f"(`vc-runid init --home NEW_HOME --key-type {_KEY_TYPE_OPTION.get(self.key_type.value, self.key_type.value)}` makes a home with one)",
                code=ErrorCode.KEY_INVALID,
            )
        config = self.proof_config(options, context_list(document))
        signature = key.sign(self.hash_data(document, config, loader, expansion, previous_proofs))
        proof = self.proof_from_config(config)
        proof["proofValue"] = multibase_encode(signature, "z")
        return proof

    def proof_from_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The proof as serialized, before its ``proofValue``: the RDFC suites leave ``@context``
        to the document (it is a prefix of the document's by construction)."""
        return {k: v for k, v in config.items() if k != "@context"}

    def verify_proof(
        self,
        document: dict[str, Any],
        proof: dict[str, Any],
        public_key: PublicKey,
        loader: DocumentLoader,
        expansion: Expansion | None = None,
        previous_proofs: list[dict[str, Any]] | None = None,
    ) -> None:
        """Raise ``ProofError`` unless ``proof`` is a valid signature over ``document``.

        ``document`` may still carry its ``proof`` entry (it is left out of what is hashed).
        ``expansion``: ``expand_document(document, loader)``, if the caller already has it.
        ``previous_proofs``: for a proof in a chain, the proofs its ``previousProof`` names, which
        it signed with the document (Data Integrity §4.5 step 3.3).
        """
        proof_value = proof.get("proofValue")
        if not isinstance(proof_value, str) or not proof_value.startswith("z"):
            raise ProofError(
                "proofValue must be a base58btc multibase string ('z…')",
                code=ErrorCode.PROOF_MALFORMED,
            )
        if public_key.key_type is not self.key_type:
            raise ProofError(
                f"{self.name} needs a {self.key_type} verification method, not {public_key.key_type}",
                code=ErrorCode.PROOF_INVALID,
            )
        config = {k: v for k, v in proof.items() if k != "proofValue"}
        doc_context = context_list(document)
        if "@context" in config and not self.proof_context_is_prefix:
            config["@context"] = context_list(config)
        elif "@context" in config:
            # vc-di-eddsa §3.2.2 step 3: the document's @context must start with the proof's.
            proof_context = context_list(config)
            if doc_context[: len(proof_context)] != proof_context:
                raise ProofError(
                    "the proof's @context is not a prefix of the document's @context",
                    code=ErrorCode.PROOF_INVALID,
                )
            if proof_context != doc_context:
                document = {**document, "@context": proof_context}
                expansion = None  # that was the expansion under the document's own @context
            config["@context"] = proof_context
        elif self.options_take_document_context:
            config["@context"] = doc_context
        try:
            signature = multibase_decode(proof_value)
        except RunIdError as exc:
            raise ProofError(f"proofValue is not valid base58btc: {exc.message}", code=ErrorCode.PROOF_MALFORMED) from exc
        if not public_key.verify(signature, self.hash_data(document, config, loader, expansion, previous_proofs)):
            raise ProofError(
                f"{self.name} signature does not verify: the document or proof was changed, or "
                "it was signed by another key",
                code=ErrorCode.PROOF_INVALID,
            )
