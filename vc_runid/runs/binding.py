"""The output binding: a ``RunOutputCredential`` issued after the run, tied to one declaration by
its id *and* the digest of the secured declaration, so a pair cannot be re-mixed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._internal.timeutil import format_datetime, parse_instant
from ..errors import ErrorCode, RunError
from ..vc.credentials import Issuer, issue_credential
from ..vc.documents import SecuredWire, VcVersion, declared_types
from ..vc.formats import ProofFormat, RunProfile, profile_format
from ..vc.secured import SecuredCredential
from .declaration import (
    BINDING_TYPE,
    SUBJECT_TYPE,
    issued_at,
    media_type_of,
    run_contexts,
    secured_digest,
    version_for,
    with_status,
)
from .digests import DigestMultibase, digest_multibase, file_digest_multibase


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutputDigest(_Strict):
    """The digest of a run's output (sha2-256 multibase), its media type and size."""

    digestMultibase: DigestMultibase
    mediaType: str | None = None
    size: int | None = Field(default=None, ge=0)


class Usage(_Strict):
    """Token counts the run reported."""

    inputTokens: int | None = Field(default=None, ge=0)
    outputTokens: int | None = Field(default=None, ge=0)
    totalTokens: int | None = Field(default=None, ge=0)


class Observed(_Strict):
    """What the executor saw during the run (e.g. the model id the provider reported)."""

    modelId: str | None = None
    provider: str | None = None
    revision: str | None = None
    exitCode: int | None = None
    # What an HTTP model server answered (the gateway): its status, and why generation stopped.
    httpStatus: int | None = Field(default=None, ge=100, le=599)
    finishReason: str | None = None


class BindingSubject(_Strict):
    output: OutputDigest
    # The exact bytes the client received when they differ from ``output`` (a stream's SSE events,
    # of which ``output`` is the assembled content).
    rawOutput: OutputDigest | None = None
    startedAt: str
    completedAt: str
    usage: Usage | None = None
    observed: Observed | None = None


def output_digest(output: bytes, media_type: str | None = None) -> OutputDigest:
    """The :class:`OutputDigest` of ``output``'s bytes."""
    return OutputDigest(digestMultibase=digest_multibase(output), mediaType=media_type, size=len(output))


def output_digest_of_file(
    path: Path, media_type: str | None = None, *, on_bytes: Callable[[int], None] | None = None
) -> OutputDigest:
    """``output_digest`` of a file, streamed: memory stays flat for an output of any size."""
    digest, size = file_digest_multibase(path, on_bytes=on_bytes)
    return OutputDigest(digestMultibase=digest, mediaType=media_type, size=size)


#: How far past the issuer's clock a run may say it completed: none. A binding is dated by the
#: issuer's clock when it is signed, verification requires completed <= bound, and a binding dated
#: in the future could never be replaced (a run has one binding). The service and a local ``bind``
#: apply this same rule.
COMPLETION_CLOCK_SKEW = timedelta(0)


Moment = datetime | str


def _exact(moment: Moment, field: str) -> tuple[datetime, Decimal]:
    """A total order over instants that keeps every fractional digit of a time given as text
    (``datetime`` keeps microseconds only: an ordering rule must not pass on a truncation)."""
    if isinstance(moment, str):
        return parse_instant(moment, field)
    return moment.replace(microsecond=0), Decimal(moment.microsecond) / 1_000_000


def _shown(moment: Moment) -> str:
    return moment if isinstance(moment, str) else format_datetime(moment)


def check_completed_by(completed_at: Moment, now: datetime, *, clock: str = "the issuer's clock") -> None:
    """Refuse a completion time later than ``now`` (the issuer's clock) with ``RUNID_TIME_IN_FUTURE``."""
    if _exact(completed_at, "completedAt") > _exact(now + COMPLETION_CLOCK_SKEW, "now"):
        raise RunError(
            f"completedAt {_shown(completed_at)} is in the future of {clock} ({format_datetime(now)}): "
            "a run cannot be bound before it completes",
            code=ErrorCode.TIME_IN_FUTURE,
        )


def check_time_order(*, declared_at: datetime, started_at: Moment, completed_at: Moment) -> None:
    """The order of a run's times, the same wherever a binding is issued (``bind``, the service):
    a run starts no earlier than its declaration (``RUNID_DECLARED_AFTER_START``) and completes no
    earlier than it started (``RUNID_TIME_ORDER``). Times given as text (a request's) are compared
    to the last fractional digit. ``check_completed_by`` is the rule against the issuer's clock."""
    started = _exact(started_at, "startedAt")
    if started < _exact(declared_at, "validFrom"):
        raise RunError(
            f"startedAt {_shown(started_at)} is before the declaration ({format_datetime(declared_at)}): "
            "a declaration issued after the start is not a declaration",
            code=ErrorCode.DECLARED_AFTER_START,
        )
    if _exact(completed_at, "completedAt") < started:
        raise RunError(
            f"completedAt {_shown(completed_at)} is before startedAt {_shown(started_at)}",
            code=ErrorCode.TIME_ORDER,
        )


def check_unbound(run_id: str, binding: object | None) -> None:
    """A run has one output binding: a second is refused with ``RUNID_ALREADY_BOUND``."""
    if binding is not None:
        raise RunError(f"run {run_id} is already bound; a run has one output binding", code=ErrorCode.ALREADY_BOUND)


def build_binding(
    declaration: SecuredWire,
    *,
    declaration_id: str,
    run_id: str,
    issuer_did: str,
    output: OutputDigest,
    started_at: datetime,
    completed_at: datetime,
    bound_at: datetime,
    usage: Usage | None = None,
    observed: Observed | None = None,
    version: VcVersion = VcVersion.V2,
    credential_id: str | None = None,
    credential_status: dict[str, Any] | None = None,
    raw_output: OutputDigest | None = None,
) -> dict[str, Any]:
    subject = BindingSubject(
        output=output,
        rawOutput=raw_output,
        startedAt=format_datetime(started_at),
        completedAt=format_datetime(completed_at),
        usage=usage,
        observed=observed,
    ).model_dump(mode="json", exclude_none=True)
    credential: dict[str, Any] = {
        "@context": run_contexts(version),
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", BINDING_TYPE],
        "issuer": issuer_did,
        "validFrom" if version is VcVersion.V2 else "issuanceDate": format_datetime(bound_at),
        "credentialSubject": {"id": run_id, "type": SUBJECT_TYPE, **subject},
        "relatedResource": [
            {
                "id": declaration_id,
                "digestMultibase": secured_digest(declaration),
                "mediaType": media_type_of(declaration),
            }
        ],
    }
    return with_status(credential, credential_status, version)


def bind(
    declaration: SecuredWire,
    issuer: Issuer,
    *,
    declaration_id: str,
    run_id: str,
    output: OutputDigest,
    started_at: datetime,
    completed_at: datetime,
    bound_at: datetime,
    usage: Usage | None = None,
    observed: Observed | None = None,
    proof_format: ProofFormat = ProofFormat.DI,
    credential_id: str | None = None,
    credential_status: dict[str, Any] | None = None,
    raw_output: OutputDigest | None = None,
    profile: RunProfile | None = None,
    ) -> SecuredWire:
    """Issue the output binding of a declared run: the output's digest and what was observed,
    signed by ``issuer`` (the declaration's) once the run completed."""
    proof_format = profile_format(profile, proof_format)
    check_time_order(declared_at=issued_at(SecuredCredential.parse(declaration).unverified_document), started_at=started_at, completed_at=completed_at)
    check_completed_by(completed_at, bound_at)
    unsigned = build_binding(
        declaration,
        declaration_id=declaration_id,
        run_id=run_id,
        issuer_did=issuer.did,
        output=output,
        started_at=started_at,
        completed_at=completed_at,
        bound_at=bound_at,
        usage=usage,
        observed=observed,
        version=version_for(proof_format),
        credential_id=credential_id,
        credential_status=credential_status,
        raw_output=raw_output,
    )
    return issue_credential(unsigned, issuer, proof_format=proof_format, created=bound_at)


def binding_subject(credential: dict[str, Any]) -> tuple[str, BindingSubject, dict[str, Any]]:
    """(run id, subject, relatedResource entry) of a binding, or ``RUNID_NOT_A_BINDING``."""
    if BINDING_TYPE not in declared_types(credential):
        raise RunError(f"the credential is not a {BINDING_TYPE}", code=ErrorCode.NOT_A_BINDING)
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str):
        raise RunError("the binding's subject has no run id", code=ErrorCode.NOT_A_BINDING)
    related = credential.get("relatedResource")
    related_list = related if isinstance(related, list) else [related]
    if len(related_list) != 1 or not isinstance(related_list[0], dict):
        raise RunError("a binding must name exactly one related declaration", code=ErrorCode.NOT_A_BINDING)
    try:
        parsed = BindingSubject.model_validate({k: v for k, v in subject.items() if k not in ("id", "type")})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RunError(f"binding subject field {where!r}: {first['msg']}", code=ErrorCode.NOT_A_BINDING) from exc
    return subject["id"], parsed, related_list[0]
