"""One error hierarchy with stable codes, shared by the library, the CLI and the HTTP API.

A code is a contract: it never changes meaning once released. The message is for people and may
be reworded. Every failure a user can cause maps to exactly one code; see ``docs/errors.md``.

Every code belongs to one *family* (:data:`FAMILY`, the one table), and a family is one class: a
``PROOF_*`` code is raised as a :class:`ProofError`, a ``LOG_*`` code as a :class:`LogError`, so
``except ProofError`` catches exactly the proof failures. ``tests/test_errors.py`` reads every raise
site and fails on a class that is not its code's family. At run time a mismatch is only reported
when ``RUNID_STRICT_ERRORS=1`` (the test suite sets it): in production the code is the contract
the CLI's exit code and the HTTP status follow, and a user's bad input must get its error, never a
crash in the error path.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """The stable codes, ``RUNID_…``: one per failure a user can cause (docs/errors.md)."""

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
    CANNOT_LISTEN = "RUNID_CANNOT_LISTEN"
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
    OUTPUT_WRITE_FAILED = "RUNID_OUTPUT_WRITE_FAILED"
    USAGE = "RUNID_USAGE"
    EXTRA_NOT_INSTALLED = "RUNID_EXTRA_NOT_INSTALLED"
    INTERNAL = "RUNID_INTERNAL"
    NO_CHECKS = "RUNID_NO_CHECKS"


class RunIdError(Exception):
    """Base of every error vc-runid raises on purpose. ``code`` is stable; ``message`` is for people.

    Raise the class of the code's family (:data:`FAMILY`), or :func:`error_for` when the code is
    only known at run time; ``except RunIdError`` catches them all.
    """

    default_code: ErrorCode = ErrorCode.USAGE
    #: False for a class that relays a code decided elsewhere (a service's answer, a bundle member's
    #: finding): its code may be of any family.
    checks_family: bool = True

    def __init__(
        self, message: str, *, code: ErrorCode | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code or self.default_code
        self.message = message
        self.detail: dict[str, Any] = detail or {}
        # The base class itself is any family: code outside vc-runid may raise it. Inside, the
        # raise sites use the family's class (tests/test_errors.py reads them all).
        if _STRICT and self.checks_family and type(self) is not RunIdError:
            family = FAMILY[self.code]
            if not isinstance(self, family):
                raise TypeError(f"{self.code.value} is raised as {family.__name__}, not {type(self).__name__}")

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON: ``{"code", "message"}``, and ``detail`` when there is one."""
        data: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.detail:
            data["detail"] = self.detail
        return data


class InputError(RunIdError):
    """The bytes handed in are not something vc-runid can read: not JSON, a repeated key, too large."""

    default_code = ErrorCode.INPUT_NOT_JSON


class DataModelError(RunIdError):
    """A document is JSON but not a well-formed credential or presentation."""

    default_code = ErrorCode.NOT_A_CREDENTIAL


class ContextError(RunIdError):
    """JSON-LD processing failed: an unpinned context, an undefined term, invalid JSON-LD."""

    default_code = ErrorCode.CONTEXT_NOT_ALLOWED


class KeyMaterialError(RunIdError):
    """A key is malformed, of the wrong type, missing, or would be overwritten."""

    default_code = ErrorCode.KEY_INVALID


class DidError(RunIdError):
    """A DID or DID document is malformed or unresolvable, or its verification method is not usable."""

    default_code = ErrorCode.DID_UNRESOLVED


class ProofError(RunIdError):
    """A proof (Data Integrity or JOSE) is missing, malformed, unsupported or does not verify."""

    default_code = ErrorCode.PROOF_INVALID


class ValidityError(RunIdError):
    """The verification time is outside the credential's validity period."""

    default_code = ErrorCode.CREDENTIAL_EXPIRED


class StatusError(RunIdError):
    """A status list is missing or unusable, or it marks the credential revoked or suspended."""

    default_code = ErrorCode.STATUS_LIST_INVALID


class RunError(RunIdError):
    """A run declaration, output binding or run manifest is wrong or inconsistent."""

    default_code = ErrorCode.DECLARATION_MISMATCH


class BundleError(RunIdError):
    """An audit bundle is malformed, incomplete, unsafe or too large."""

    default_code = ErrorCode.BUNDLE_INVALID


class LogError(RunIdError):
    """A transparency log checkpoint, proof or cosignature is malformed or does not verify."""

    default_code = ErrorCode.LOG_CHECKPOINT_INVALID


class TrustError(RunIdError):
    """The run is well signed, but not by, or not in, what the caller trusts."""

    default_code = ErrorCode.ISSUER_NOT_TRUSTED


class HttpServiceError(RunIdError):
    """The issuer service or the gateway refused a request, or could not be reached or started."""

    default_code = ErrorCode.REQUEST_INVALID


class UsageError(RunIdError):
    """The command or call was used wrongly: a bad option, a file that cannot be read or written, an
    optional dependency not installed."""

    default_code = ErrorCode.USAGE


class InternalError(RunIdError):
    """An unexpected failure: a bug in vc-runid, reported with a code rather than a traceback."""

    default_code = ErrorCode.INTERNAL


def _family(cls: type[RunIdError], *codes: ErrorCode) -> dict[ErrorCode, type[RunIdError]]:
    return dict.fromkeys(codes, cls)


C = ErrorCode
#: The family of every code: the class a code is raised as (or a subclass of it). docs/errors.md
#: describes the families; tests/test_errors.py checks that every code has one.
FAMILY: dict[ErrorCode, type[RunIdError]] = {
    **_family(InputError, C.INPUT_NOT_JSON, C.INPUT_DUPLICATE_KEY, C.INPUT_TOO_LARGE),
    **_family(DataModelError, C.NOT_A_CREDENTIAL, C.NOT_A_PRESENTATION, C.RELATED_RESOURCE_MISMATCH),
    **_family(
        ContextError, C.CONTEXT_NOT_ALLOWED, C.CONTEXT_INVALID, C.UNDEFINED_TERM, C.JSONLD_INVALID,
        C.CANONICALIZATION_LIMIT, C.NOT_COMPACTED,
    ),
    **_family(KeyMaterialError, C.KEY_INVALID, C.KEY_NOT_FOUND, C.KEY_EXISTS),
    **_family(
        DidError, C.DID_INVALID, C.DID_UNRESOLVED, C.VERIFICATION_METHOD_NOT_FOUND,
        C.VERIFICATION_METHOD_NOT_AUTHORIZED,
    ),
    **_family(
        ProofError, C.PROOF_MISSING, C.PROOF_DUPLICATED, C.PROOF_CHAIN_BROKEN, C.PROOF_MALFORMED,
        C.PROOF_TYPE_UNSUPPORTED, C.CRYPTOSUITE_UNSUPPORTED, C.PROOF_PURPOSE_MISMATCH, C.PROOF_INVALID,
        C.PROOF_EXPIRED, C.PROOF_CREATED_IN_FUTURE, C.PROOF_CHALLENGE_MISMATCH, C.PROOF_DOMAIN_MISMATCH,
        C.JWS_INVALID, C.JWS_ALG_NOT_ALLOWED,
    ),
    **_family(ValidityError, C.CREDENTIAL_NOT_YET_VALID, C.CREDENTIAL_EXPIRED),
    **_family(
        StatusError, C.STATUS_LIST_MISSING, C.STATUS_LIST_INVALID, C.STATUS_LIST_ISSUER_MISMATCH,
        C.CREDENTIAL_REVOKED, C.CREDENTIAL_SUSPENDED,
    ),
    **_family(
        RunError, C.MANIFEST_INVALID, C.NOT_A_DECLARATION, C.NOT_A_BINDING, C.BINDING_WITHOUT_DECLARATION,
        C.DECLARATION_MISMATCH, C.BINDING_ISSUER_MISMATCH, C.RUN_ID_MISMATCH, C.DECLARED_AFTER_START,
        C.TIME_ORDER, C.TIME_IN_FUTURE, C.COMPOSITION_DRIFT, C.OUTPUT_MISMATCH, C.DISCLOSURE_MISMATCH,
        C.ALREADY_BOUND, C.RUN_NOT_FOUND, C.RUN_EXISTS, C.DECLARATION_INVALID,
    ),
    **_family(
        BundleError, C.BUNDLE_INVALID, C.BUNDLE_TRUNCATED, C.BUNDLE_MEMBER_MISMATCH, C.BUNDLE_UNSAFE_PATH,
        C.BUNDLE_TOO_LARGE,
    ),
    **_family(
        LogError, C.LOG_CHECKPOINT_INVALID, C.LOG_INCLUSION_INVALID, C.LOG_CONSISTENCY_INVALID,
        C.LOG_COSIGNATURE_INVALID, C.LOG_WITNESS_QUORUM, C.LOG_SPLIT_VIEW, C.WITNESS_UNAVAILABLE,
    ),
    **_family(
        TrustError, C.TRUST_POLICY_MISSING, C.TRUST_POLICY_INVALID, C.ISSUER_NOT_TRUSTED, C.NOT_INDEPENDENT,
        C.LOG_INCLUSION_REQUIRED, C.LOG_KEY_NOT_TRUSTED,
    ),
    **_family(
        HttpServiceError, C.UNAUTHORIZED, C.RUN_FORBIDDEN, C.REQUEST_INVALID, C.ISSUANCE_REFUSED, C.LOG_RANGE,
        C.SERVICE_UNREACHABLE, C.CANNOT_LISTEN, C.NOT_DECLARED, C.UPSTREAM_UNREACHABLE, C.UPSTREAM_TIMEOUT,
    ),
    **_family(
        UsageError, C.USAGE, C.FILE_UNREADABLE, C.OUTPUT_WRITE_FAILED, C.EXTRA_NOT_INSTALLED, C.NO_CHECKS
    ),
    **_family(InternalError, C.INTERNAL),
}
del C

# Read once: the check costs a dict lookup per error, and only when it is on.
_STRICT = os.environ.get("RUNID_STRICT_ERRORS") == "1"


def error_for(message: str, *, code: ErrorCode, detail: dict[str, Any] | None = None) -> RunIdError:
    """An error of ``code``'s family, for a code known only at run time (e.g. a failed check's).

    Called like the classes themselves, so a raise site swaps one name for the other.
    """
    return FAMILY[code](message, code=code, detail=detail)


#: The optional dependencies vc-runid imports, and the extra that installs each.
EXTRA_OF: dict[str, str] = {
    "fastapi": "server",
    "starlette": "server",
    "uvicorn": "server",
    "openai": "openai",
    "opentelemetry": "otel",
    "model_signing": "oms",
    "psycopg": "postgres",
}


def missing_extra(what: str, *modules: str) -> UsageError | None:
    """``RUNID_EXTRA_NOT_INSTALLED`` naming the extra to install, when one of ``modules`` cannot
    be imported; else None. A clear error instead of an ``ImportError`` traceback."""
    import importlib.util

    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # blocked (sys.modules[m] = None), or a broken install
            found = False
        if not found:
            missing.append(module)
    if not missing:
        return None
    extras = sorted({EXTRA_OF.get(m.partition(".")[0], m) for m in missing})
    return UsageError(
        f"{what} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed: "
        f"pip install 'vc-runid[{','.join(extras)}]'",
        code=ErrorCode.EXTRA_NOT_INSTALLED,
        detail={"extra": extras, "missing": missing},
    )


__all__ = [
    "EXTRA_OF",
    "FAMILY",
    "BundleError",
    "ContextError",
    "DataModelError",
    "DidError",
    "ErrorCode",
    "HttpServiceError",
    "InputError",
    "InternalError",
    "KeyMaterialError",
    "LogError",
    "ProofError",
    "RunError",
    "RunIdError",
    "StatusError",
    "TrustError",
    "UsageError",
    "ValidityError",
    "error_for",
    "missing_extra",
]
