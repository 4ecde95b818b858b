"""Verification as a report: every check is named, and says why it passed or failed.

``valid`` is the AND of all checks performed, and is never true when no proof was checked — an
empty report is invalid on purpose. Nothing here touches the network or the wall clock: DIDs come
from a ``DidResolver``, contexts from a ``DocumentLoader`` and time from ``now``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from .._internal.canonical import Expansion, expand_document
from .._internal.contexts import DocumentLoader, default_loader
from .._internal.timeutil import parse_datetime, utc_now
from ..errors import (
    ContextError,
    DataModelError,
    DidError,
    ErrorCode,
    ProofError,
    RunIdError,
    UsageError,
    ValidityError,
)
from . import jose
from .dids import ASSERTION, AUTHENTICATION, DidResolver, VerificationMethod, did_of
from .documents import (
    VcVersion,
    check_credential,
    contexts_of,
    issuer_id,
    proofs_of,
    read_document,
)
from .policy import TrustPolicy
from .proofs import suite_for
from .secured import SecuredCredential, SecuredFormat
from .signed_form import check_compacted
from .status.bitstring import check_status

T = TypeVar("T")

#: How far a proof's ``created`` may lie in the verifier's future before it is refused.
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


class CheckResult(BaseModel):
    """One named check of a verification report: passed or not, with its code and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    passed: bool
    code: str | None = None
    message: str = ""


class Report(BaseModel):
    """The family every verification in vc-runid returns: named checks, each passed or failed
    with a code and a reason, and a ``valid`` verdict that is never true for an empty report.

    A credential, a run, a presentation, a bundle and a log audit each extend it with what they
    verified; code that only needs the verdict and the reasons can take any ``Report``.
    """

    if TYPE_CHECKING:  # each report declares it where its JSON wants it
        checks: list[CheckResult]

        @property
        def valid(self) -> bool: ...

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def error_codes(self) -> list[str]:
        return [c.code for c in self.failures if c.code]

    def passed(self, name: str) -> bool:
        return any(c.name == name and c.passed for c in self.checks)


class VerificationReport(Report):
    """The report of one credential or one run (``kind``)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "credential"
    status: str | None = None  # for a run: "bound" or "declared, not yet bound"
    run_id: str | None = None
    format: str | None = None
    id: str | None = None
    issuer: str | None = None
    checks: list[CheckResult] = []
    warnings: list[str] = []
    proofs_checked: int = 0
    #: The trust policy the verdict was taken under (TrustPolicy.describe()), when one was.
    policy: str | None = None
    # The credential as verified (decoded from a JWT where needed), and in its secured form (the
    # compact JWS, or the JSON with its proof); neither is part of the report's JSON.
    document: dict[str, Any] | None = Field(default=None, exclude=True)
    secured: dict[str, Any] | str | None = Field(default=None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        return bool(self.checks) and self.proofs_checked > 0 and all(c.passed for c in self.checks)


@dataclass(frozen=True)
class Verifier:
    """Everything verification depends on, passed in explicitly (no hidden I/O)."""

    resolver: DidResolver = field(default_factory=DidResolver)
    loader: DocumentLoader = field(default_factory=default_loader)
    now: datetime = field(default_factory=utc_now)
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    #: Status list credentials by URL: a bundle's snapshot, or lists the caller fetched on purpose.
    #: ``None``: status is not checked, and a credential with ``credentialStatus`` gets a warning.
    status_lists: Mapping[str, dict[str, Any] | str] | None = None
    #: Whom the caller trusts (vc_runid.vc.policy). A run verdict needs one; a plain credential is
    #: checked against it when given (the VC API's generic verifier passes none).
    policy: TrustPolicy | None = None

    def __post_init__(self) -> None:
        # Every date in a credential carries a time zone; a naive clock cannot be compared with it.
        if self.now.tzinfo is None:
            raise UsageError("the verification time must be timezone-aware (e.g. UTC)")

    def verify_credential(self, credential: dict[str, Any] | str | bytes) -> VerificationReport:
        return _CredentialRun(self).verify(credential)


class Failed(Exception):
    """A check failed; later checks that depend on it are not run."""


class Recorder:
    def __init__(self, report: VerificationReport) -> None:
        self.report = report

    def run(self, name: str, action: Callable[[], T], passed: str = "ok") -> T:
        try:
            value = action()
        except RunIdError as exc:
            self.report.checks.append(CheckResult(name=name, passed=False, code=exc.code.value, message=exc.message))
            raise Failed(name) from exc
        except Exception as exc:  # a bug of ours on hostile input: the check fails, never passes
            self.report.checks.append(
                CheckResult(
                    name=name,
                    passed=False,
                    code=ErrorCode.INTERNAL.value,
                    message=f"unexpected {type(exc).__name__} while checking: {exc}",
                )
            )
            raise Failed(name) from exc
        message = value if isinstance(value, str) and passed == "ok" else passed
        self.report.checks.append(CheckResult(name=name, passed=True, message=message))
        return value

    def fail(self, name: str, error: RunIdError) -> NoReturn:
        self.report.checks.append(CheckResult(name=name, passed=False, code=error.code.value, message=error.message))
        raise Failed(name)

    def soft(self, name: str, action: Callable[[], T], passed: str = "ok") -> T | None:
        """Like ``run`` but later checks still run after a failure (they are independent)."""
        try:
            return self.run(name, action, passed)
        except Failed:
            return None


def _validity(credential: dict[str, Any], version: VcVersion, now: datetime) -> str:
    start_field, end_field = (
        ("validFrom", "validUntil") if version is VcVersion.V2 else ("issuanceDate", "expirationDate")
    )
    if start_field in credential:
        start = parse_datetime(credential[start_field], start_field)
        if now < start:
            raise ValidityError(
                f"not valid before {credential[start_field]} ({start_field}); checked at {now.isoformat()}",
                code=ErrorCode.CREDENTIAL_NOT_YET_VALID,
            )
    if end_field in credential:
        end = parse_datetime(credential[end_field], end_field)
        if now > end:
            raise ValidityError(
                f"expired at {credential[end_field]} ({end_field}); checked at {now.isoformat()}",
                code=ErrorCode.CREDENTIAL_EXPIRED,
            )
    return f"valid at {now.isoformat()}"


def _token_validity(jwt: jose.Jwt, now: datetime) -> None:
    """VC-JOSE-COSE §3.1.1: ``nbf``/``exp`` claims, when present, bound the token's validity too."""
    not_before, expires = jose.token_validity(jwt)
    if not_before is not None and now < not_before:
        raise ValidityError(f"token not valid before {not_before.isoformat()} (nbf)", code=ErrorCode.CREDENTIAL_NOT_YET_VALID)
    if expires is not None and now > expires:
        raise ValidityError(f"token expired at {expires.isoformat()} (exp)", code=ErrorCode.CREDENTIAL_EXPIRED)


def contexts_allowed(document: dict[str, Any], loader: DocumentLoader) -> str:
    for ctx in contexts_of(document):
        if isinstance(ctx, str) and ctx not in loader.allowed_urls:
            raise ContextError(
                f"context {ctx} is not pinned or supplied (refused, not fetched)",
                code=ErrorCode.CONTEXT_NOT_ALLOWED,
                detail={"url": ctx},
            )
    return "every @context is pinned or supplied"


def authorize_method(
    resolver: DidResolver, vm_url: Any, relationship: str, controller: str | None
) -> VerificationMethod:
    """Dereference the verification method and bind it to the issuer (or holder)."""
    if not isinstance(vm_url, str) or not vm_url:
        raise ProofError("proof has no verificationMethod", code=ErrorCode.PROOF_MALFORMED)
    method = resolver.verification_method(vm_url, relationship)
    if controller is not None and (did_of(vm_url) != controller or method.controller != controller):
        raise DidError(
            f"verification method {vm_url} is controlled by {method.controller}, not by {controller}",
            code=ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED,
        )
    return method


def check_proof_times(proof: dict[str, Any], now: datetime, skew: timedelta) -> None:
    try:
        if "created" in proof:
            created = parse_datetime(proof["created"], "proof.created")
            if created > now + skew:
                raise ProofError(
                    f"proof created {proof['created']}, after the verification time {now.isoformat()}",
                    code=ErrorCode.PROOF_CREATED_IN_FUTURE,
                )
        if "expires" in proof:
            expires = parse_datetime(proof["expires"], "proof.expires")
            if now > expires:
                raise ProofError(f"proof expired at {proof['expires']}", code=ErrorCode.PROOF_EXPIRED)
    except DataModelError as exc:
        raise ProofError(exc.message, code=ErrorCode.PROOF_MALFORMED) from exc


def check_proof_purpose(proof: dict[str, Any], expected: str) -> None:
    if proof.get("proofPurpose") != expected:
        raise ProofError(
            f"proofPurpose is {proof.get('proofPurpose')!r}, expected {expected!r}",
            code=ErrorCode.PROOF_PURPOSE_MISMATCH,
        )


def unique_proofs(document: dict[str, Any], what: str) -> list[dict[str, Any]]:
    proofs = proofs_of(document)
    if not proofs:
        raise ProofError(f"the {what} has no proof", code=ErrorCode.PROOF_MISSING)
    if not all(isinstance(p, dict) for p in proofs):
        raise ProofError(f"the {what}'s proof must be an object or a list of objects", code=ErrorCode.PROOF_MALFORMED)
    serialized = [json.dumps(p, sort_keys=True) for p in proofs]
    if len(set(serialized)) != len(serialized):
        raise ProofError(f"the {what} carries the same proof twice", code=ErrorCode.PROOF_DUPLICATED)
    for proof in proofs:
        if "previousProof" in proof:
            raise ProofError("proof chains (previousProof) are not supported", code=ErrorCode.PROOF_MALFORMED)
    return proofs


def _signer_of(proof: dict[str, Any]) -> str | None:
    method = proof.get("verificationMethod")
    return did_of(method) if isinstance(method, str) and method else None


@dataclass(frozen=True)
class SetMember:
    """One proof of a proof set or chain, with the proofs its ``previousProof`` names (in that
    order), which it signed together with the document (Data Integrity §4.3, §4.5)."""

    proof: dict[str, Any]
    previous: tuple[dict[str, Any], ...] = ()
    #: Where the proof stands in the document's ``proof`` list (after identical copies are merged).
    index: int = 0


def _previous_ids(proof: dict[str, Any]) -> list[str]:
    names = proof.get("previousProof")
    if names is None:
        return []
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ProofError("previousProof must be a proof id or a non-empty list of proof ids", code=ErrorCode.PROOF_MALFORMED)
    if len(set(names)) != len(names):
        raise ProofError("previousProof names the same proof twice", code=ErrorCode.PROOF_MALFORMED)
    return names


def proof_set(document: dict[str, Any], what: str) -> list[SetMember]:
    """The proofs of ``document`` as a set or chain, in an order in which every proof comes after
    the proofs it chains to, so those are verified first (Data Integrity §4.5).

    A proof set is a set: identical copies of one proof are one proof (verified, and counted,
    once). A ``previousProof`` that names no proof of the document, two different proofs with one
    ``id``, or chains that loop are ``RUNID_PROOF_CHAIN_BROKEN``: such a proof cannot be verified
    (§4.5 step 3.2 raises PROOF_VERIFICATION_ERROR).
    """
    listed = proofs_of(document)
    if not listed:
        raise ProofError(f"the {what} has no proof", code=ErrorCode.PROOF_MISSING)
    if len(listed) == 1:
        proofs = list(listed)
    else:  # identical copies are one proof
        proofs, seen = [], set()
        for proof in listed:
            key = json.dumps(proof, sort_keys=True)
            if key not in seen:
                seen.add(key)
                proofs.append(proof)
    by_id: dict[str, int] = {}
    for index, proof in enumerate(proofs):
        if "id" not in proof:
            continue
        proof_id = proof["id"]
        if not isinstance(proof_id, str) or ":" not in proof_id:
            raise ProofError("a proof id must be a URL", code=ErrorCode.PROOF_MALFORMED)
        if proof_id in by_id:
            raise ProofError(
                f"two different proofs of the {what} have the id {proof_id}: a previousProof naming it "
                "would be ambiguous",
                code=ErrorCode.PROOF_CHAIN_BROKEN,
            )
        by_id[proof_id] = index
    edges: list[list[int]] = []
    for proof in proofs:
        targets = []
        for name in _previous_ids(proof):
            if name not in by_id:
                raise ProofError(
                    f"previousProof names {name}, which is not a proof of this {what}",
                    code=ErrorCode.PROOF_CHAIN_BROKEN,
                    detail={"previousProof": name},
                )
            targets.append(by_id[name])
        edges.append(targets)
    # Depth-first, referenced proofs first; a proof met again while its own chain is still open
    # closes a loop, which no signer could have produced and no order can verify.
    order: list[int] = []
    state = [0] * len(proofs)  # 0 unvisited, 1 on the current path, 2 placed
    for start in range(len(proofs)):
        stack = [(start, 0)]
        while stack:
            node, next_edge = stack.pop()
            if next_edge == 0:
                if state[node] == 2:
                    continue
                state[node] = 1
            if next_edge < len(edges[node]):
                stack.append((node, next_edge + 1))
                target = edges[node][next_edge]
                if state[target] == 1:
                    raise ProofError(f"the previousProof references of the {what} form a loop", code=ErrorCode.PROOF_CHAIN_BROKEN)
                if state[target] == 0:
                    stack.append((target, 0))
            else:
                state[node] = 2
                order.append(node)
    return [SetMember(proofs[i], tuple(proofs[t] for t in edges[i]), i) for i in order]


class _CredentialRun:
    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.report = VerificationReport(kind="credential")
        self.record = Recorder(self.report)

    def verify(self, data: dict[str, Any] | str | bytes) -> VerificationReport:
        try:
            self._verify(data)
        except Failed:
            pass
        return self.report

    def _verify(self, data: dict[str, Any] | str | bytes) -> None:
        document: dict[str, Any] | str = (
            data if isinstance(data, dict) else self.record.run("parse", lambda: read_document(data), "strict JSON or a compact JWS")
        )
        if isinstance(document, dict) and jose.is_envelope(document):
            envelope = document
            document = self.record.run("envelope", lambda: jose.unwrap_envelope(envelope))
        # What was signed, as signed: the compact JWS, or the JSON document with its proof.
        self.report.secured = document
        if isinstance(document, str):
            self._verify_jwt(document)
        else:
            self._verify_data_integrity(document)
        policy = self.verifier.policy
        if policy is not None:
            self.report.policy = policy.describe()
            self.record.soft("trust.issuer", lambda: policy.check_issuer(self.report.issuer))

    def _common(self, credential: dict[str, Any]) -> VcVersion:
        self.report.document = credential
        version = self.record.run("data-model", lambda: check_credential(credential), "well-formed credential")
        self.report.id = credential.get("id") if isinstance(credential.get("id"), str) else None
        self.report.issuer = issuer_id(credential)
        self.record.run("contexts", lambda: contexts_allowed(credential, self.verifier.loader))
        return version

    def _json_ld(self, credential: dict[str, Any]) -> Expansion:
        loader = self.verifier.loader
        expansion = self.record.run("json-ld", lambda: expand_document(credential, loader), "every term is defined")
        # Every later decision reads JSON keys: they must be the statements the proof covers.
        self.record.run("signed-form", lambda: check_compacted(credential, expansion, loader))
        return expansion

    def _verify_data_integrity(self, credential: dict[str, Any]) -> None:
        version = self._common(credential)
        members = self.record.run(
            "proofs", lambda: proof_set(credential, "credential"), "present; a set or chain whose references resolve"
        )
        if len(members) < len(proofs_of(credential)):
            self.report.warnings.append("the proof list repeats an identical proof; it was verified and counted once")
        labels = ["proof" if len(members) == 1 else f"proof[{m.index}]" for m in members]
        # Proof types first: an unsupported proof type is RUNID_PROOF_TYPE_UNSUPPORTED, not an
        # "undefined term" from the safe-mode expansion of a proof no context describes.
        suites = [
            self.record.run(f"{label}.type", lambda: suite_for(member.proof), "supported")
            for label, member in zip(labels, members, strict=True)
        ]
        # The signature check reuses this expansion of the whole credential for the unsecured
        # document (the credential minus "proof"), which the suite would otherwise expand again.
        expansion = self._json_ld(credential)
        issuer = self.report.issuer
        # Data Integrity §2.1.2: a set or chain may carry other signers' proofs (a notary, a
        # witness). Each must verify under its own DID's key; the credential is the issuer's word
        # only through a proof of the issuer's, so without one every proof is held to the issuer.
        by_issuer = [m for m in members if _signer_of(m.proof) == issuer]
        formats = []
        # In chain order: a proof is checked only after every proof it chains to has passed.
        for label, member, suite in zip(labels, members, suites, strict=True):
            proof = member.proof
            formats.append(suite.name)
            self.record.run(f"{label}.purpose", lambda: check_proof_purpose(proof, "assertionMethod"), "assertionMethod")
            self.record.soft(
                f"{label}.time",
                lambda: check_proof_times(proof, self.verifier.now, self.verifier.clock_skew),
                "created/expires consistent with the verification time",
            )
            signer = _signer_of(proof)
            if by_issuer and signer != issuer:
                method = self.record.run(
                    f"{label}.signer-key",
                    lambda: authorize_method(self.verifier.resolver, proof.get("verificationMethod"), ASSERTION, signer),
                    "verification method is its own DID's, authorized for assertionMethod (a co-signer)",
                )
                self.report.warnings.append(
                    f"{label} is signed by {signer}, not by the issuer: a co-signature, verified, not the issuer's word"
                )
            else:
                method = self.record.run(
                    f"{label}.issuer-key",
                    lambda: authorize_method(self.verifier.resolver, proof.get("verificationMethod"), ASSERTION, issuer),
                    "verification method is the issuer's, authorized for assertionMethod",
                )
            self.record.run(
                f"{label}.signature",
                lambda: suite.verify_proof(
                    credential, proof, method.public_key, self.verifier.loader, expansion, list(member.previous)
                ),
                f"{suite.name} signature verifies",
            )
            self.report.proofs_checked += 1
        self.report.format = ",".join(formats)
        self.record.soft("validity-period", lambda: _validity(credential, version, self.verifier.now))
        self._status(credential)

    def _verify_jwt(self, token: str) -> None:
        jwt = self.record.run("jws", lambda: jose.parse_jwt(token), "well-formed compact JWS, allowed alg")
        # The token itself, also for an enveloped credential: its format is the token's.
        secured = self.record.run("jwt-claims", lambda: SecuredCredential.from_jwt(token, jwt), "credential claims consistent")
        credential, profile = secured.unverified_document, secured.format
        self.report.format = profile.value
        version = self._common(credential)
        self._json_ld(credential)
        issuer = self.report.issuer
        if jose.has_kid(jwt):
            kid = self.record.run("proof.kid", lambda: jose.kid_of(jwt), "kid names a verification method")
            method = self.record.run(
                "proof.issuer-key",
                lambda: authorize_method(self.verifier.resolver, kid, ASSERTION, issuer),
                "kid is the issuer's key, authorized for assertionMethod",
            )
            self.record.run(
                "proof.signature",
                lambda: jose.verify_jwt_signature(jwt, method.public_key),
                f"{jwt.header.get('alg')} signature verifies",
            )
        else:
            # kid is optional (RFC 7515 §4.1.4): the candidates are the issuer's own assertion keys.
            candidates = self.record.run(
                "proof.issuer-key",
                lambda: [
                    authorize_method(self.verifier.resolver, m.id, ASSERTION, issuer)
                    for m in self.verifier.resolver.methods_for(did_of(issuer or ""), ASSERTION)
                ],
                "no kid: the issuer's assertionMethod keys are the candidates",
            )
            method = self.record.run(
                "proof.signature", lambda: jose.verify_with_issuer_keys(jwt, candidates)
            )
            # The check names the key that verified, as a kid would have.
            self.report.checks[-1] = self.report.checks[-1].model_copy(
                update={"message": f"{jwt.header.get('alg')} signature verifies with {method.id}"}
            )
        self.report.proofs_checked += 1
        self.record.soft("validity-period", lambda: _validity(credential, version, self.verifier.now))
        if profile is SecuredFormat.VC_JOSE:
            self.record.soft("jwt-validity", lambda: _token_validity(jwt, self.verifier.now), "nbf/exp consistent with the verification time")
        self._status(credential)

    def _status(self, credential: dict[str, Any]) -> None:
        if "credentialStatus" not in credential:
            return
        lists = self.verifier.status_lists
        if lists is None:
            self.report.warnings.append(
                "credentialStatus is present but no status list snapshot was supplied; "
                "revocation status is unknown"
            )
            return
        # Status lists carry no credentialStatus of their own (check_status refuses one that does).
        plain = replace(self.verifier, status_lists=None)
        self.record.soft("status", lambda: check_status(credential, lists, verifier=plain).describe())


def verify_credential(
    credential: dict[str, Any] | str | bytes,
    *,
    resolver: DidResolver | None = None,
    loader: DocumentLoader | None = None,
    now: datetime | None = None,
    status_lists: Mapping[str, dict[str, Any] | str] | None = None,
) -> VerificationReport:
    """Verify one credential (Data Integrity JSON, a compact JWS, or an enveloped VC)."""
    verifier = Verifier(
        resolver=resolver or DidResolver(),
        loader=loader or default_loader(),
        now=now or utc_now(),
        status_lists=status_lists,
    )
    return verifier.verify_credential(credential)


__all__ = [
    "AUTHENTICATION",
    "CheckResult",
    "Report",
    "VerificationReport",
    "Verifier",
    "verify_credential",
]
