"""One error hierarchy with stable codes, shared by the library, the CLI and the HTTP API.

A code is a contract: it never changes meaning once released. The message is for people and may
be reworded. Every failure a user can cause maps to exactly one code; see ``docs/errors.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # input
    INPUT_NOT_JSON = "RUNID_INPUT_NOT_JSON"
    INPUT_DUPLICATE_KEY = "RUNID_INPUT_DUPLICATE_KEY"
    INPUT_TOO_LARGE = "RUNID_INPUT_TOO_LARGE"
    NOT_A_CREDENTIAL = "RUNID_NOT_A_CREDENTIAL"
    NOT_A_PRESENTATION = "RUNID_NOT_A_PRESENTATION"
    RELATED_RESOURCE_MISMATCH = "RUNID_RELATED_RESOURCE_MISMATCH"
    # JSON-LD
    CONTEXT_NOT_ALLOWED = "RUNID_CONTEXT_NOT_ALLOWED"
    CONTEXT_INVALID = "RUNID_CONTEXT_INVALID"
    UNDEFINED_TERM = "RUNID_UNDEFINED_TERM"
    JSONLD_INVALID = "RUNID_JSONLD_INVALID"
    CANONICALIZATION_LIMIT = "RUNID_CANONICALIZATION_LIMIT"
    # keys and DIDs
    KEY_INVALID = "RUNID_KEY_INVALID"
    KEY_NOT_FOUND = "RUNID_KEY_NOT_FOUND"
    KEY_EXISTS = "RUNID_KEY_EXISTS"
    DID_INVALID = "RUNID_DID_INVALID"
    DID_UNRESOLVED = "RUNID_DID_UNRESOLVED"
    VERIFICATION_METHOD_NOT_FOUND = "RUNID_VERIFICATION_METHOD_NOT_FOUND"
    VERIFICATION_METHOD_NOT_AUTHORIZED = "RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"
    # proofs
    PROOF_MISSING = "RUNID_PROOF_MISSING"
    PROOF_DUPLICATED = "RUNID_PROOF_DUPLICATED"
    PROOF_CHAIN_BROKEN = "RUNID_PROOF_CHAIN_BROKEN"
    PROOF_MALFORMED = "RUNID_PROOF_MALFORMED"
    PROOF_TYPE_UNSUPPORTED = "RUNID_PROOF_TYPE_UNSUPPORTED"
    CRYPTOSUITE_UNSUPPORTED = "RUNID_CRYPTOSUITE_UNSUPPORTED"
    PROOF_PURPOSE_MISMATCH = "RUNID_PROOF_PURPOSE_MISMATCH"
    PROOF_INVALID = "RUNID_PROOF_INVALID"
    PROOF_EXPIRED = "RUNID_PROOF_EXPIRED"
    PROOF_CREATED_IN_FUTURE = "RUNID_PROOF_CREATED_IN_FUTURE"
    PROOF_CHALLENGE_MISMATCH = "RUNID_PROOF_CHALLENGE_MISMATCH"
    PROOF_DOMAIN_MISMATCH = "RUNID_PROOF_DOMAIN_MISMATCH"
    JWS_INVALID = "RUNID_JWS_INVALID"
    JWS_ALG_NOT_ALLOWED = "RUNID_JWS_ALG_NOT_ALLOWED"
    # credential validity
    CREDENTIAL_NOT_YET_VALID = "RUNID_CREDENTIAL_NOT_YET_VALID"
    CREDENTIAL_EXPIRED = "RUNID_CREDENTIAL_EXPIRED"
    # run identity
    MANIFEST_INVALID = "RUNID_MANIFEST_INVALID"
    FILE_UNREADABLE = "RUNID_FILE_UNREADABLE"
    NOT_A_DECLARATION = "RUNID_NOT_A_DECLARATION"
    NOT_A_BINDING = "RUNID_NOT_A_BINDING"
    BINDING_WITHOUT_DECLARATION = "RUNID_BINDING_WITHOUT_DECLARATION"
    DECLARATION_MISMATCH = "RUNID_DECLARATION_MISMATCH"
    BINDING_ISSUER_MISMATCH = "RUNID_BINDING_ISSUER_MISMATCH"
    RUN_ID_MISMATCH = "RUNID_RUN_ID_MISMATCH"
    DECLARED_AFTER_START = "RUNID_DECLARED_AFTER_START"
    TIME_ORDER = "RUNID_TIME_ORDER"
    COMPOSITION_DRIFT = "RUNID_COMPOSITION_DRIFT"
    OUTPUT_MISMATCH = "RUNID_OUTPUT_MISMATCH"
    DISCLOSURE_MISMATCH = "RUNID_DISCLOSURE_MISMATCH"
    ALREADY_BOUND = "RUNID_ALREADY_BOUND"
    RUN_NOT_FOUND = "RUNID_RUN_NOT_FOUND"
    RUN_EXISTS = "RUNID_RUN_EXISTS"
    DECLARATION_INVALID = "RUNID_DECLARATION_INVALID"
    # status (Bitstring Status List)
    STATUS_LIST_MISSING = "RUNID_STATUS_LIST_MISSING"
    STATUS_LIST_INVALID = "RUNID_STATUS_LIST_INVALID"
    STATUS_LIST_ISSUER_MISMATCH = "RUNID_STATUS_LIST_ISSUER_MISMATCH"
    CREDENTIAL_REVOKED = "RUNID_CREDENTIAL_REVOKED"
    CREDENTIAL_SUSPENDED = "RUNID_CREDENTIAL_SUSPENDED"
    # audit bundles
    BUNDLE_INVALID = "RUNID_BUNDLE_INVALID"
    BUNDLE_TRUNCATED = "RUNID_BUNDLE_TRUNCATED"
    BUNDLE_MEMBER_MISMATCH = "RUNID_BUNDLE_MEMBER_MISMATCH"
    BUNDLE_UNSAFE_PATH = "RUNID_BUNDLE_UNSAFE_PATH"
    BUNDLE_TOO_LARGE = "RUNID_BUNDLE_TOO_LARGE"
    # transparency log
    LOG_CHECKPOINT_INVALID = "RUNID_LOG_CHECKPOINT_INVALID"
    LOG_INCLUSION_INVALID = "RUNID_LOG_INCLUSION_INVALID"
    LOG_CONSISTENCY_INVALID = "RUNID_LOG_CONSISTENCY_INVALID"
    LOG_COSIGNATURE_INVALID = "RUNID_LOG_COSIGNATURE_INVALID"
    LOG_WITNESS_QUORUM = "RUNID_LOG_WITNESS_QUORUM"
    LOG_SPLIT_VIEW = "RUNID_LOG_SPLIT_VIEW"
    WITNESS_UNAVAILABLE = "RUNID_WITNESS_UNAVAILABLE"
    # issuer service
    UNAUTHORIZED = "RUNID_UNAUTHORIZED"
    RUN_FORBIDDEN = "RUNID_RUN_FORBIDDEN"
    TIME_IN_FUTURE = "RUNID_TIME_IN_FUTURE"
    REQUEST_INVALID = "RUNID_REQUEST_INVALID"
    ISSUANCE_REFUSED = "RUNID_ISSUANCE_REFUSED"
    LOG_RANGE = "RUNID_LOG_RANGE"
    SERVICE_UNREACHABLE = "RUNID_SERVICE_UNREACHABLE"
    # gateway (docs/gateway.md)
    NOT_DECLARED = "RUNID_NOT_DECLARED"
    UPSTREAM_UNREACHABLE = "RUNID_UPSTREAM_UNREACHABLE"
    UPSTREAM_TIMEOUT = "RUNID_UPSTREAM_TIMEOUT"
    # trust policy (docs/verification.md)
    NOT_COMPACTED = "RUNID_NOT_COMPACTED"
    TRUST_POLICY_MISSING = "RUNID_TRUST_POLICY_MISSING"
    TRUST_POLICY_INVALID = "RUNID_TRUST_POLICY_INVALID"
    ISSUER_NOT_TRUSTED = "RUNID_ISSUER_NOT_TRUSTED"
    NOT_INDEPENDENT = "RUNID_NOT_INDEPENDENT"
    LOG_INCLUSION_REQUIRED = "RUNID_LOG_INCLUSION_REQUIRED"
    LOG_KEY_NOT_TRUSTED = "RUNID_LOG_KEY_NOT_TRUSTED"
    # generic
    USAGE = "RUNID_USAGE"
    INTERNAL = "RUNID_INTERNAL"
    NO_CHECKS = "RUNID_NO_CHECKS"


class RunIdError(Exception):
    """Base of every error vc-runid raises on purpose. ``code`` is stable; ``message`` is for people."""

    default_code: ErrorCode = ErrorCode.USAGE

    def __init__(
        self, message: str, *, code: ErrorCode | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code or self.default_code
        self.message = message
        self.detail: dict[str, Any] = detail or {}

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.detail:
            data["detail"] = self.detail
        return data


class InputError(RunIdError):
    """The bytes handed in are not something vc-runid can read."""

    default_code = ErrorCode.INPUT_NOT_JSON


class DataModelError(RunIdError):
    """A document is JSON but not a well-formed credential or presentation."""

    default_code = ErrorCode.NOT_A_CREDENTIAL


class ContextError(RunIdError):
    """JSON-LD processing failed: an unpinned context, an undefined term, invalid JSON-LD."""

    default_code = ErrorCode.CONTEXT_NOT_ALLOWED


class KeyMaterialError(RunIdError):
    default_code = ErrorCode.KEY_INVALID


class DidError(RunIdError):
    default_code = ErrorCode.DID_UNRESOLVED


class ProofError(RunIdError):
    default_code = ErrorCode.PROOF_INVALID


class ValidityError(RunIdError):
    default_code = ErrorCode.CREDENTIAL_EXPIRED


class RunError(RunIdError):
    """A run declaration, output binding or run manifest is wrong or inconsistent."""

    default_code = ErrorCode.DECLARATION_MISMATCH


class UsageError(RunIdError):
    default_code = ErrorCode.USAGE
