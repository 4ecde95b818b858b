"""The shared algorithm of the JCS-based Data Integrity cryptosuites.

eddsa-jcs-2022 (vc-di-eddsa §3.3) and ecdsa-jcs-2019 with P-256 (vc-di-ecdsa §3.4) sign JSON, not
RDF: the unsecured document and the proof configuration are each canonicalized with the JSON
Canonicalization Scheme (RFC 8785), hashed with SHA-256, and ``proofConfigHash || documentHash``
is signed. Everything else — proof options, the ``@context`` prefix rule, proof chains — is the
RDFC suites' (``RdfcSuite``); only the transformation and the serialized proof differ.

Signing JSON does not make JSON-LD optional here: the verifier and the issuer still require the
document to expand in safe mode (no undefined terms) and to be in the compacted form its contexts
define, so what a verdict reads from the JSON is what the JSON-LD says.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import rfc8785

from ..._internal.canonical import Expansion
from ..._internal.contexts import DocumentLoader
from ...errors import ErrorCode, InputError, ProofError
from ._rdfc_suite import RdfcSuite, input_document


def _jcs(value: dict[str, Any], what: str) -> bytes:
    try:
        return rfc8785.dumps(value)
    # rfc8785 0.1.4 lets a UnicodeEncodeError escape for a lone surrogate in an object key.
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        reason = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
        if what == "proof configuration":
            raise ProofError(f"the proof configuration cannot be canonicalized with JCS: {reason}", code=ErrorCode.PROOF_MALFORMED) from exc
        raise InputError(
            f"the {what} holds a value JCS (RFC 8785) cannot represent, e.g. an integer beyond "
            f"±(2**53 - 1): {reason}",
            code=ErrorCode.INPUT_NOT_JSON,
        ) from exc


@dataclass(frozen=True)
class JcsSuite(RdfcSuite):
    """A Data Integrity cryptosuite that hashes JCS (RFC 8785) instead of RDFC-1.0."""

    # vc-di-eddsa §3.3.2 / vc-di-ecdsa §3.4.2: the proof options are the proof without proofValue;
    # only a @context the proof carries takes part (the Digital Bazaar suite does the same).
    options_take_document_context: bool = False

    def hash_data(
        self,
        document: dict[str, Any],
        config: dict[str, Any],
        loader: DocumentLoader,
        expansion: Expansion | None = None,
        previous_proofs: list[dict[str, Any]] | None = None,
    ) -> bytes:
        """SHA-256 of the JCS proof configuration, then of the JCS unsecured document
        (vc-di-eddsa §3.3.3–3.3.5, vc-di-ecdsa §3.4.3–3.4.5). ``loader`` and ``expansion`` are
        not needed: nothing is expanded to sign JSON."""
        unsecured = input_document(document, previous_proofs)
        return (
            hashlib.sha256(_jcs(config, "proof configuration")).digest()
            + hashlib.sha256(_jcs(unsecured, "document")).digest()
        )

    def proof_from_config(self, config: dict[str, Any]) -> dict[str, Any]:
        # vc-di-eddsa §3.3.1 step 2 / vc-di-ecdsa §3.4.1 step 2: the proof carries the document's
        # @context, so a later proof in a set or chain may add contexts without changing this one.
        return dict(config)
