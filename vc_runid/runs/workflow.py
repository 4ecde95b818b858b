"""Declare a run into a store, bind it there: the one workflow behind ``runid.run``, the CLI's
``declare``/``bind``/``run``, the gateway and the SDK integrations, whoever signs (``RunSigner``).

The store is anything that records runs (``RunRecorder``; ``vc_runid.store.runs.RunStore`` is
the one on disk): the declaration with the owner's salts, the binding, and the log receipts the
issuer service returned. A credential is recorded only once it is issued, and a receipt only
once its credential is recorded, so a receipt that cannot be written never loses a run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from .._internal.timeutil import format_datetime, utc_now
from ..vc.documents import SecuredWire
from ..vc.formats import ProofFormat
from .binding import Observed, OutputDigest, Usage, check_unbound
from .composition import Disclosures, RunComposition
from .signer import Bound, Declared, Receipt, RunSigner


class RecordedRun(Protocol):
    @property
    def binding(self) -> SecuredWire | None: ...


class RunRecorder(Protocol):
    """Where runs are kept (``RunStore``). ``add_binding`` refuses a second binding of a run."""

    def add_declaration(
        self, run_id: str, declaration_id: str, declaration: SecuredWire, declared_at: str, disclosures: Disclosures
    ) -> None: ...

    def add_binding(self, run_id: str, binding: SecuredWire, bound_at: str) -> None: ...

    def find_by_declaration(self, declaration_id: str) -> RecordedRun | None: ...

    def save_receipt(self, run_id: str, kind: str, receipt: Receipt) -> None: ...


def record_declared(recorder: RunRecorder, declared: Declared, disclosures: Disclosures) -> None:
    """Keep a declared run, its salts (``disclosures``) and its declaration's log receipt."""
    recorder.add_declaration(
        declared.run_id, declared.declaration_id, declared.declaration, format_datetime(declared.declared_at),
        disclosures.model_copy(update={"runId": declared.run_id}),
    )
    if declared.receipt is not None:
        recorder.save_receipt(declared.run_id, "declaration", declared.receipt)


def record_bound(recorder: RunRecorder, bound: Bound) -> None:
    recorder.add_binding(bound.run_id, bound.binding, format_datetime(bound.bound_at))
    if bound.receipt is not None:
        recorder.save_receipt(bound.run_id, "binding", bound.receipt)


def declare_into(
    signer: RunSigner,
    composition: RunComposition,
    disclosures: Disclosures,
    recorder: RunRecorder | None,
    *,
    proof_format: ProofFormat | None = None,
) -> Declared:
    """Declare a run of ``composition`` and keep it, with its salts, in ``recorder``."""
    declared = signer.declare_run(composition, proof_format=proof_format)
    if recorder is not None:
        record_declared(recorder, declared, disclosures)
    return declared


def bind_declared(
    signer: RunSigner,
    declared: Declared,
    recorder: RunRecorder | None,
    *,
    output: OutputDigest,
    raw_output: OutputDigest | None = None,
    started_at: datetime,
    completed_at: datetime,
    usage: Usage | None = None,
    observed: Observed | None = None,
) -> Bound:
    """Bind a run declared through ``declare_into`` and keep the binding in ``recorder``."""
    bound = signer.bind_run(
        declared, output=output, raw_output=raw_output, started_at=started_at, completed_at=completed_at,
        usage=usage, observed=observed,
    )
    if recorder is not None:
        record_bound(recorder, bound)
    return bound


def bind_declaration(
    signer: RunSigner,
    declaration: SecuredWire,
    recorder: RunRecorder,
    *,
    output: OutputDigest,
    started_at: datetime | None = None,
    completed_at: datetime | None = None,
    observed: Observed | None = None,
    usage: Usage | None = None,
    raw_output: OutputDigest | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Bound:
    """Bind a declaration given back (``vc-runid bind``): the signer accepts it first (a local key
    verifies it and binds only its own), a run bound in ``recorder`` is not bound again, and a
    declaration the recorder does not know is recorded with the binding (without salts).

    ``completed_at`` defaults to now, ``started_at`` to ``completed_at``."""
    declared = signer.accept_declaration(declaration)
    record = recorder.find_by_declaration(declared.declaration_id)
    check_unbound(declared.run_id, record.binding if record is not None else None)
    completed = completed_at or clock()
    bound = signer.bind_run(
        declared, output=output, raw_output=raw_output, started_at=started_at or completed, completed_at=completed,
        usage=usage, observed=observed,
    )
    if record is None:
        recorder.add_declaration(
            declared.run_id, declared.declaration_id, declaration, format_datetime(declared.declared_at),
            Disclosures(runId=declared.run_id),
        )
    record_bound(recorder, bound)
    return bound


__all__ = [
    "RunRecorder",
    "bind_declaration",
    "bind_declared",
    "declare_into",
    "record_bound",
    "record_declared",
]
