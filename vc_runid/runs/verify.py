"""Verification of a run: a declaration, its output binding, and optional evidence.

The rules (docs/verification.md), each a named check in the report:
1. both credentials verify (proofs, issuer DIDs, contexts — offline);
2. ``link``: the binding names the declaration's id and the digest of the declaration presented;
3. ``run-id``: the same run;
4. ``time-order``: declaration issued ≤ startedAt ≤ completedAt ≤ binding issued;
5. ``composition``: nothing observed contradicts the declaration;
6. evidence: an output file or disclosed components match their digests.
A declaration alone is "declared, not yet bound"; a binding without its declaration is invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .._internal.timeutil import parse_instant
from ..errors import ErrorCode, RunError, RunIdError, TrustError
from ..transparency.checkpoint import parse_signed_checkpoint, parse_vkey
from ..transparency.cosignature import parse_witness_vkey, verify_cosignatures
from ..transparency.receipt import Receipt, verify_receipt
from ..vc.documents import SecuredWire, VcVersion, vc_version
from ..vc.policy import TrustPolicy
from ..vc.verification import CheckResult, Failed, Recorder, VerificationReport, Verifier
from .binding import BindingSubject, OutputDigest, binding_subject
from .composition import Disclosure, RunComposition, check_disclosure
from .declaration import declaration_subject, issued_at, log_leaf_data, secured_digest
from .digests import digest_multibase, digests_equal

BOUND = "bound"
DECLARED = "declared, not yet bound"


class Verdict(StrEnum):
    """One word for a run, the same in every report (``audit``, ``verify-bundle``)."""

    VALID = "valid"
    UNBOUND = "unbound"
    INVALID = "invalid"
    REVOKED = "revoked"
    DRIFT = "drift"


#: Verdicts an audit passes with.
PASSING = frozenset({Verdict.VALID, Verdict.UNBOUND})

_DRIFT = frozenset({ErrorCode.COMPOSITION_DRIFT.value})
_REVOKED = frozenset({ErrorCode.CREDENTIAL_REVOKED.value, ErrorCode.CREDENTIAL_SUSPENDED.value})


def verdict_of(report: VerificationReport) -> Verdict:
    """A run report's verdict. Revoked and drift are named only when they are the *only*
    failures: anything else wrong (a bad signature, say) makes the run plainly invalid."""
    codes = {c.code for c in report.failures}
    if not report.checks or report.proofs_checked == 0 or None in codes:
        return Verdict.INVALID
    if codes - _DRIFT - _REVOKED:
        return Verdict.INVALID
    if codes & _REVOKED:
        return Verdict.REVOKED
    if codes & _DRIFT:
        return Verdict.DRIFT
    return Verdict.UNBOUND if report.status == DECLARED else Verdict.VALID


def _merge(report: VerificationReport, child: VerificationReport, prefix: str) -> None:
    for check in child.checks:
        report.checks.append(check.model_copy(update={"name": f"{prefix}.{check.name}"}))
    report.warnings.extend(f"{prefix}: {w}" for w in child.warnings)
    report.proofs_checked += child.proofs_checked
    if not child.valid and not child.failures:
        report.checks.append(
            CheckResult(name=prefix, passed=False, code=ErrorCode.PROOF_MISSING.value, message="no proof was checked")
        )


def _link(declaration: SecuredWire, decl_doc: dict[str, Any], related: dict[str, Any]) -> str:
    if related.get("id") != decl_doc.get("id"):
        raise RunError(
            f"the binding is for declaration {related.get('id')}, not {decl_doc.get('id')}",
            code=ErrorCode.DECLARATION_MISMATCH,
        )
    claimed = related.get("digestMultibase")
    if not isinstance(claimed, str) or not digests_equal(claimed, secured_digest(declaration)):
        raise RunError(
            "the declaration presented is not the one the binding was issued for (digest differs)",
            code=ErrorCode.DECLARATION_MISMATCH,
        )
    return "binding names this declaration by id and digest"


def _time_order(decl_doc: dict[str, Any], binding_doc: dict[str, Any], subject: BindingSubject) -> str:
    # Compared with every fractional digit (parse_instant): microsecond datetimes would let a
    # completedAt 100 ns before startedAt pass.
    declared_at = issued_at(decl_doc)
    declared = _issued_instant(decl_doc)
    started = parse_instant(subject.startedAt, "startedAt")
    completed = parse_instant(subject.completedAt, "completedAt")
    bound = _issued_instant(binding_doc)
    if started < declared:
        raise RunError(
            f"the run started at {subject.startedAt}, before it was declared ({declared_at.isoformat()}): "
            "a declaration issued after the start is not a declaration",
            code=ErrorCode.DECLARED_AFTER_START,
        )
    if completed < started:
        raise RunError("completedAt is before startedAt", code=ErrorCode.TIME_ORDER)
    if bound < completed:
        raise RunError("the binding was issued before the run completed", code=ErrorCode.TIME_ORDER)
    return "declared ≤ started ≤ completed ≤ bound"


def _issued_instant(credential: dict[str, Any]) -> tuple[datetime, Decimal]:
    field = "validFrom" if vc_version(credential) is VcVersion.V2 else "issuanceDate"  # as issued_at
    return parse_instant(credential.get(field), field)


def _composition(composition: RunComposition, subject: BindingSubject) -> str:
    observed = subject.observed
    if observed is None:
        return "nothing observed to compare"
    model = composition.model
    drift = []
    if observed.modelId is not None and observed.modelId not in {model.modelId, model.revision}:
        drift.append(f"model {observed.modelId!r} was reported, {model.modelId!r} was declared")
    if observed.provider is not None and model.provider is not None and observed.provider != model.provider:
        drift.append(f"provider {observed.provider!r} was reported, {model.provider!r} was declared")
    if observed.revision is not None and model.revision is not None and observed.revision != model.revision:
        drift.append(f"revision {observed.revision!r} was reported, {model.revision!r} was declared")
    if drift:
        raise RunError("; ".join(drift), code=ErrorCode.COMPOSITION_DRIFT)
    return "observations agree with the declaration"


def _output(subject: BindingSubject, output: bytes | OutputDigest) -> str:
    presented = output.digestMultibase if isinstance(output, OutputDigest) else digest_multibase(output)
    try:
        equal = digests_equal(presented, subject.output.digestMultibase)
    except RunIdError as exc:
        # The digest checked here is the binding's (ours is well formed): say so, not "manifest".
        raise RunError(
            f"the binding's output digest is malformed ({exc.message})", code=ErrorCode.OUTPUT_MISMATCH
        ) from exc
    if not equal:
        raise RunError("the output presented does not match the bound output digest", code=ErrorCode.OUTPUT_MISMATCH)
    return "output matches the bound digest"


def verify_run(
    declaration: SecuredWire | bytes | None,
    binding: SecuredWire | bytes | None = None,
    *,
    policy: TrustPolicy | None = None,
    verifier: Verifier | None = None,
    output: bytes | OutputDigest | None = None,
    disclosures: Sequence[tuple[Disclosure, bytes]] = (),
    receipts: Sequence[Receipt] = (),
) -> VerificationReport:
    """Verify a run's declaration and (optionally) its binding, offline, under ``policy`` (or
    the verifier's): whom the caller trusts. Without a policy the run is never valid
    (``RUNID_TRUST_POLICY_MISSING``). ``receipts`` are log receipts for the declaration, checked
    when the policy requires log inclusion."""
    verifier = verifier or Verifier()
    policy = policy if policy is not None else verifier.policy
    # The two credentials are checked on their own; whom to trust is decided once, for the run.
    verifier = replace(verifier, policy=None)
    report = VerificationReport(kind="run", policy=policy.describe() if policy else None)
    record = Recorder(report)
    try:
        if declaration is None:
            record.fail(
                "declaration",
                RunError("a binding without its declaration proves nothing", code=ErrorCode.BINDING_WITHOUT_DECLARATION),
            )
        decl_report = verifier.verify_credential(declaration)
        _merge(report, decl_report, "declaration")
        decl_doc = decl_report.document
        if decl_doc is None:
            return report
        report.id, report.issuer, report.format = decl_report.id, decl_report.issuer, decl_report.format
        report.document = decl_doc  # the declaration as verified (decoded from a JWT where needed)
        record.soft("trust.issuer", lambda: _trusted(policy).check_issuer(decl_report.issuer))
        run_id, composition = record.run("declaration.run", lambda: declaration_subject(decl_doc), "a run declaration")
        report.run_id = run_id
        if policy is not None:
            executor = composition.executor.id if composition.executor else None
            keys = _assertion_keys(verifier, decl_report.issuer)
            record.soft("trust.independence", lambda: policy.check_independence(decl_report.issuer, executor, keys))
            if policy.require_log_inclusion:
                secured = decl_report.secured if decl_report.secured is not None else decl_doc
                record.soft("trust.log", lambda: _logged(policy, secured, receipts))
        record.soft("declaration.digests", composition.check_derived_digests)
        for disclosure, content in disclosures:
            record.soft(f"disclosure.{disclosure.path}", lambda d=disclosure, c=content: check_disclosure(decl_doc["credentialSubject"], d, c))
        if binding is None:
            report.status = DECLARED
            if output is not None:
                record.fail("output", RunError("an output was given but the run has no binding", code=ErrorCode.OUTPUT_MISMATCH))
            return report
        report.status = BOUND
        binding_report = verifier.verify_credential(binding)
        _merge(report, binding_report, "binding")
        binding_doc = binding_report.document
        if binding_doc is None:
            return report
        bound_run, subject, related = record.run("binding.run", lambda: binding_subject(binding_doc), "a run output binding")
        secured_declaration = decl_report.secured if decl_report.secured is not None else decl_doc
        record.soft("link", lambda: _link(secured_declaration, decl_doc, related))
        record.soft("run-id", lambda: _same_run(run_id, bound_run))
        record.soft("time-order", lambda: _time_order(decl_doc, binding_doc, subject))
        record.soft("composition", lambda: _composition(composition, subject))
        if output is not None:
            record.soft("output", lambda: _output(subject, output))
        record.soft("issuer", lambda: _same_issuer(decl_report.issuer, binding_report.issuer))
    except Failed:
        pass
    return report


def _assertion_keys(verifier: Verifier, issuer: str | None) -> list[str]:
    """The multikeys the issuer's DID lists for assertions (none when it cannot be resolved: the
    declaration's own checks already say why)."""
    from ..vc.dids import ASSERTION

    if issuer is None:
        return []
    try:
        return [method.public_key.multikey for method in verifier.resolver.methods_for(issuer, ASSERTION)]
    except RunIdError:
        return []


def _trusted(policy: TrustPolicy | None) -> TrustPolicy:
    if policy is None:
        raise TrustError(
            "no trust policy: a run is valid only for issuers the caller trusts "
            "(pass a TrustPolicy; on the command line --trusted-issuer DID or --trust FILE)",
            code=ErrorCode.TRUST_POLICY_MISSING,
        )
    return policy


def _logged(policy: TrustPolicy, declaration: SecuredWire, receipts: Sequence[Receipt]) -> str:
    """The declaration is proven in a log the policy pins (origin and key)."""
    failures = []
    for receipt in receipts:
        try:
            checkpoint, _ = parse_signed_checkpoint(receipt.checkpoint)
        except RunIdError as exc:
            failures.append(exc.message)
            continue
        for log in policy.logs:
            if log.origin != checkpoint.origin:
                continue
            name, key = parse_vkey(log.key)
            try:
                verify_receipt(log_leaf_data(declaration), receipt, name, key)
                witnessed = _witnessed(policy, receipt.checkpoint)
            except RunIdError as exc:
                failures.append(f"{log.origin}: {exc.message}")
                continue
            return f"leaf {receipt.leafIndex} of {receipt.treeSize} in the trusted log {log.origin}{witnessed}"
    why = "; ".join(failures) if failures else (
        "no log receipt for the declaration" if not receipts else "no receipt is from a log the policy trusts"
    )
    raise TrustError(
        f"the policy requires the declaration in a trusted log: {why}", code=ErrorCode.LOG_INCLUSION_REQUIRED
    )


def _witnessed(policy: TrustPolicy, checkpoint: str) -> str:
    """The policy's witness quorum on the checkpoint that proves the declaration: without it a
    log could show this verifier a history it showed no witness (a split view)."""
    if not policy.witness_quorum:
        return ""
    witnesses = [parse_witness_vkey(w.key) for w in policy.witnesses]
    cosigned = verify_cosignatures(checkpoint, witnesses, policy.witness_quorum)
    return ", cosigned by " + ", ".join(c.witness.name for c in cosigned)


def _same_issuer(declared_by: str | None, bound_by: str | None) -> str:
    # Anyone can sign "I bound this output to that declaration"; only the declaration's issuer
    # vouches for both ends of the pair.
    if declared_by != bound_by:
        raise RunError(
            f"the binding was issued by {bound_by}, the declaration by {declared_by}",
            code=ErrorCode.BINDING_ISSUER_MISMATCH,
        )
    return f"both issued by {declared_by}"


def _same_run(declared: str, bound: str) -> str:
    if declared != bound:
        raise RunError(f"the binding is for run {bound}, the declaration for {declared}", code=ErrorCode.RUN_ID_MISMATCH)
    return f"run {declared}"


__all__ = ["BOUND", "DECLARED", "PASSING", "Verdict", "verdict_of", "verify_run"]
