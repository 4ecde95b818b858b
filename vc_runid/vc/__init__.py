"""The Verifiable Credentials engine: issue and verify credentials and presentations, with keys,
DIDs, Data Integrity and JOSE proofs, status lists and a trust policy.

It knows nothing of runs, stores or shells. ``vc_runid.vc.status`` holds the Bitstring Status List
and ``vc_runid.vc.proofs`` the cryptosuites.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .._internal.contexts import DocumentLoader, default_loader
    from .credentials import Issuer, issue_credential
    from .dids import DidResolver, VerificationMethod, did_web_document, load_did_store
    from .documents import (
        MAX_DOCUMENT_BYTES,
        SecuredWire,
        parse_json,
        read_document,
        read_document_file,
    )
    from .formats import ProofFormat, RunProfile
    from .jose import Jwt, parse_jwt
    from .keys import KeyPair, KeyType, PublicKey
    from .policy import LogKey, TrustPolicy, WitnessKey
    from .presentations import PresentationReport, is_presentation, present, verify_presentation
    from .secured import SecuredCredential, SecuredFormat
    from .verification import CheckResult, VerificationReport, Verifier, verify_credential

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".credentials": ("Issuer", "issue_credential"),
    ".formats": ("ProofFormat", "RunProfile"),
    ".keys": ("KeyPair", "KeyType", "PublicKey"),
    ".dids": ("DidResolver", "VerificationMethod", "did_web_document", "load_did_store"),
    ".documents": ("MAX_DOCUMENT_BYTES", "SecuredWire", "parse_json", "read_document", "read_document_file"),
    ".secured": ("SecuredCredential", "SecuredFormat"),
    ".verification": ("CheckResult", "VerificationReport", "Verifier", "verify_credential"),
    ".policy": ("LogKey", "TrustPolicy", "WitnessKey"),
    ".presentations": ("PresentationReport", "is_presentation", "present", "verify_presentation"),
    ".jose": ("Jwt", "parse_jwt"),
    ".._internal.contexts": ("DocumentLoader", "default_loader"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "CheckResult",
    "DidResolver",
    "DocumentLoader",
    "Issuer",
    "Jwt",
    "KeyPair",
    "KeyType",
    "LogKey",
    "PresentationReport",
    "ProofFormat",
    "PublicKey",
    "RunProfile",
    "SecuredCredential",
    "SecuredFormat",
    "SecuredWire",
    "TrustPolicy",
    "VerificationMethod",
    "VerificationReport",
    "Verifier",
    "WitnessKey",
    "default_loader",
    "did_web_document",
    "is_presentation",
    "issue_credential",
    "load_did_store",
    "parse_json",
    "parse_jwt",
    "present",
    "read_document",
    "read_document_file",
    "verify_credential",
    "verify_presentation",
]
