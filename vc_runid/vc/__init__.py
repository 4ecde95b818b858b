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
    from .credentials import (
        Issuer,
        ProofFormat,
        RunProfile,
        init_home,
        issue_credential,
        load_issuer,
    )
    from .dids import DidResolver, VerificationMethod, did_web_document, load_did_store
    from .documents import MAX_DOCUMENT_BYTES, parse_json, read_document, read_document_file
    from .jose import Jwt, parse_jwt
    from .keys import KeyPair, KeyStore, KeyType, PublicKey
    from .policy import LogKey, TrustPolicy, WitnessKey
    from .presentations import PresentationReport, present, present_runs, verify_presentation
    from .verification import CheckResult, VerificationReport, Verifier, verify_credential

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".credentials": (
        "Issuer", "ProofFormat", "RunProfile", "init_home", "issue_credential", "load_issuer",
    ),
    ".keys": ("KeyPair", "KeyType", "PublicKey", "KeyStore"),
    ".dids": ("DidResolver", "VerificationMethod", "did_web_document", "load_did_store"),
    ".documents": ("MAX_DOCUMENT_BYTES", "parse_json", "read_document", "read_document_file"),
    ".verification": ("CheckResult", "VerificationReport", "Verifier", "verify_credential"),
    ".policy": ("LogKey", "TrustPolicy", "WitnessKey"),
    ".presentations": ("PresentationReport", "present", "present_runs", "verify_presentation"),
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
    "KeyStore",
    "KeyType",
    "LogKey",
    "PresentationReport",
    "ProofFormat",
    "PublicKey",
    "RunProfile",
    "TrustPolicy",
    "VerificationMethod",
    "VerificationReport",
    "Verifier",
    "WitnessKey",
    "default_loader",
    "did_web_document",
    "init_home",
    "issue_credential",
    "load_did_store",
    "load_issuer",
    "parse_json",
    "parse_jwt",
    "present",
    "present_runs",
    "read_document",
    "read_document_file",
    "verify_credential",
    "verify_presentation",
]
