"""Runs in a presentation: a holder presents the declaration and binding of runs, and an auditor
gets one report per run besides the presentation's own checks.

    vp = present_runs(store, [run_id], holder, challenge="c0ffee", domain="audit.example")
    report = verify_presentation(vp, challenge="c0ffee", domain="audit.example", verifier=verifier)
    report.runs  # one run report per declaration, paired with the binding that names it

The presentation itself (proofs, challenge, domain, enclosed credentials) is the generic
``vc_runid.vc.presentations``; this module only pairs what it encloses into runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import ConfigDict, Field, computed_field

from .._internal.contexts import DocumentLoader
from ..errors import ErrorCode, UsageError
from ..vc import presentations as vp
from ..vc.credentials import Issuer
from ..vc.documents import SecuredWire, declared_types
from ..vc.formats import ProofFormat
from ..vc.verification import CheckResult, VerificationReport, Verifier
from .declaration import BINDING_TYPE, DECLARATION_TYPE
from .verify import verify_run


class RunRecord(Protocol):
    run_id: str
    declaration: SecuredWire
    binding: SecuredWire | None


class RunRecords(Protocol):
    """Where runs are looked up by run id (or declaration id): the run store is one."""

    def get(self, run_id: str) -> RunRecord: ...


def present_runs(
    store: RunRecords,
    run_ids: Sequence[str],
    holder: Issuer,
    *,
    challenge: str,
    domain: str,
    proof_format: ProofFormat = ProofFormat.DI,
    created: datetime | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """Present the declaration and (if bound) the binding of each run in ``store``.

    A run id may also be a declaration id; an unknown one is ``RUNID_RUN_NOT_FOUND``. A run
    named twice is presented once.
    """
    if not run_ids:
        raise UsageError("name at least one run to present")
    credentials: list[SecuredWire] = []
    seen: set[str] = set()
    for run_id in run_ids:
        record = store.get(run_id)
        if record.run_id in seen:
            continue
        seen.add(record.run_id)
        credentials.append(record.declaration)
        if record.binding is not None:
            credentials.append(record.binding)
    return vp.present(
        credentials,
        holder,
        challenge=challenge,
        domain=domain,
        proof_format=proof_format,
        created=created,
        loader=loader,
    )


class RunPresentationReport(vp.PresentationReport):
    """A presentation's report with one report per run it encloses; ``valid`` also needs every
    run to be valid."""

    model_config = ConfigDict(extra="forbid")

    runs: list[VerificationReport] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        return (
            self.presentation_valid
            and all(c.valid for c in self.credentials)
            and all(r.valid for r in self.runs)
        )


def verify_presentation(
    presentation: dict[str, Any] | str | bytes,
    *,
    challenge: str | None,
    domain: str | None,
    verifier: Verifier,
) -> RunPresentationReport:
    """Verify a presentation of runs, offline: the presentation and each enclosed credential
    (``vc_runid.vc.presentations.verify_presentation``), then each run they make up.

    ``challenge``/``domain`` are required arguments on purpose: passing ``None`` is allowed but
    makes the presentation invalid (``RUNID_PROOF_CHALLENGE_MISMATCH`` /
    ``RUNID_PROOF_DOMAIN_MISMATCH``), because a presentation accepted without them can be replayed.
    """
    report = RunPresentationReport(challenge=challenge, domain=domain)
    vp.verify_presentation(
        presentation, challenge=challenge, domain=domain, verifier=verifier, report=report, related=_pair_runs
    )
    return report


def _pair_runs(report: vp.PresentationReport, entries: list[Any], verifier: Verifier) -> None:
    assert isinstance(report, RunPresentationReport)
    report.runs = _run_reports(entries, report.credentials, verifier)


def _related_declaration(binding: dict[str, Any]) -> str | None:
    related = binding.get("relatedResource")
    first = related[0] if isinstance(related, list) and related else related
    target = first.get("id") if isinstance(first, dict) else None
    return target if isinstance(target, str) else None


def _run_reports(
    entries: list[Any], reports: list[VerificationReport], verifier: Verifier
) -> list[VerificationReport]:
    """Pair each binding with the declaration its ``relatedResource`` names; verify each run."""
    declarations: list[tuple[str | None, Any]] = []
    bindings: list[tuple[str | None, Any]] = []
    for entry, report in zip(entries, reports, strict=True):
        document = report.document
        if document is None:
            continue  # unreadable: its own report says so
        types = declared_types(document)  # signed-form checked: the signed types
        if DECLARATION_TYPE in types:
            declaration_id = document.get("id")
            declarations.append(
                (declaration_id if isinstance(declaration_id, str) else None, entry)
            )
        elif BINDING_TYPE in types:
            bindings.append((_related_declaration(document), entry))
    runs: list[VerificationReport] = []
    used: set[int] = set()
    for declaration_id, declaration in declarations:
        matches = [
            i
            for i, (target, _) in enumerate(bindings)
            if i not in used and declaration_id is not None and target == declaration_id
        ]
        used.update(matches)
        if not matches:
            runs.append(verify_run(declaration, None, verifier=verifier))
            continue
        for i in matches:
            run = verify_run(declaration, bindings[i][1], verifier=verifier)
            if len(matches) > 1:
                # A run has one output binding; two signed outputs for one declaration contradict.
                run.checks.append(
                    CheckResult(
                        name="binding.unique",
                        passed=False,
                        code=ErrorCode.ALREADY_BOUND.value,
                        message=f"{len(matches)} bindings in the presentation name declaration {declaration_id}",
                    )
                )
            runs.append(run)
    for i, (_, binding) in enumerate(bindings):
        if i not in used:
            runs.append(verify_run(None, binding, verifier=verifier))
    return runs


__all__ = ["RunPresentationReport", "present_runs", "verify_presentation"]
