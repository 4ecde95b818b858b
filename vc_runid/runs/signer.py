"""Who signs a run: one interface for a key held here and for the issuer service.

    signer = LocalSigner(Issuer.generate())                # or IssuerClient(url, token)
    declared = signer.declare_run(composition)             # before the run starts
    bound = signer.bind_run(declared, output=output_digest(answer), started_at=t0, completed_at=t1)

``RunSigner`` is what ``runid.run``, the CLI, the gateway and the SDK integrations sign through;
``vc_runid.client.issuer.IssuerClient`` implements it over HTTP. What each call returns says what
was issued (``Declared``, ``Bound``), with the log receipt when the signer keeps a log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from .._internal.timeutil import utc_now
from ..errors import DataModelError, ErrorCode, RunError
from ..vc.credentials import Issuer
from ..vc.documents import SecuredWire
from ..vc.formats import ProofFormat, RunProfile, profile_format
from ..vc.secured import SecuredCredential
from .binding import Observed, OutputDigest, Usage, bind, binding_subject
from .composition import RunComposition
from .declaration import declaration_subject, declare, issued_at, new_run_id

Clock = Callable[[], datetime]
#: A log receipt as the issuer service returns it (``{"leafIndex", "treeSize", "checkpoint", …}``).
Receipt = dict[str, Any]
#: Gives each credential its id and ``credentialStatus`` entry, e.g.
#: ``functools.partial(StatusRegistry(home).assign, "https://issuer.example/status/1")``.
StatusAssigner = Callable[[], tuple[str, dict[str, Any]]]


def credential_id(secured: SecuredWire) -> str:
    """The ``id`` of a secured credential (not verified); ``RUNID_NOT_A_CREDENTIAL`` without one."""
    value = SecuredCredential.parse(secured).id
    if value is None:
        raise DataModelError("the credential has no id", code=ErrorCode.NOT_A_CREDENTIAL)
    return value


@dataclass(frozen=True)
class Declared:
    """A run, declared: its declaration and what a binding needs of it."""

    run_id: str
    declaration_id: str
    declaration: SecuredWire
    #: The declaration's ``validFrom`` (``issuanceDate`` in VC 1.1): the issuer's clock.
    declared_at: datetime
    issuer: str | None = None
    #: The log receipt of the declaration, when the signer keeps a log (the issuer service).
    receipt: Receipt | None = None

    @classmethod
    def of(cls, declaration: SecuredWire, receipt: Receipt | None = None) -> Declared:
        """Read from a declaration (not verified here: see ``RunSigner.accept_declaration``).
        ``RUNID_NOT_A_DECLARATION`` if it is not one."""
        parsed = SecuredCredential.parse(declaration)
        document = parsed.unverified_document
        run_id, _ = declaration_subject(document)
        if parsed.id is None:
            raise RunError("the declaration has no id", code=ErrorCode.NOT_A_DECLARATION)
        return cls(run_id, parsed.id, declaration, issued_at(document), parsed.issuer, receipt)


@dataclass(frozen=True)
class Bound:
    """A run, bound: its output binding."""

    run_id: str
    binding_id: str
    binding: SecuredWire
    #: The binding's ``validFrom``: when the issuer signed it, by its clock.
    bound_at: datetime
    #: The log receipt of the binding, when the signer keeps a log (the issuer service).
    receipt: Receipt | None = None

    @classmethod
    def of(cls, declared: Declared, binding: SecuredWire, receipt: Receipt | None = None) -> Bound:
        """Read from a binding of ``declared`` (not verified here); one that binds another run or
        another declaration is refused (``RUNID_DECLARATION_MISMATCH``)."""
        parsed = SecuredCredential.parse(binding)
        document = parsed.unverified_document
        run_id, _, related = binding_subject(document)
        if run_id != declared.run_id or related.get("id") != declared.declaration_id:
            raise RunError(
                f"the binding is for run {run_id} (declaration {related.get('id')}), not for run "
                f"{declared.run_id} (declaration {declared.declaration_id})",
                code=ErrorCode.DECLARATION_MISMATCH,
            )
        if parsed.id is None:
            raise RunError("the binding has no id", code=ErrorCode.NOT_A_BINDING)
        return cls(run_id, parsed.id, binding, issued_at(document), receipt)


@runtime_checkable
class RunSigner(Protocol):
    """Issues a run's two credentials: the declaration before the run, the binding after.

    Implemented by ``LocalSigner`` (a key held here) and ``IssuerClient`` (the issuer service,
    which signs with its own key and clock and logs every credential)."""

    def declare_run(self, composition: RunComposition, *, proof_format: ProofFormat | None = None) -> Declared:
        """Declare a run of ``composition`` now; ``proof_format`` None: the signer's default."""
        ...

    def bind_run(
        self,
        declared: Declared,
        *,
        output: OutputDigest,
        raw_output: OutputDigest | None = None,
        started_at: datetime,
        completed_at: datetime,
        usage: Usage | None = None,
        observed: Observed | None = None,
    ) -> Bound:
        """Bind the run's output; the binding is dated by the signer's clock, and refused if the
        times contradict the declaration or that clock (``check_time_order``, ``check_completed_by``)."""
        ...

    def accept_declaration(self, declaration: SecuredWire) -> Declared:
        """A declaration given back to be bound (read from a file, say), as this signer will bind
        it. A local key verifies it and refuses one it did not issue; the issuer service does
        those checks itself when it binds."""
        ...


# pyld's JSON-LD processing is not thread-safe (see server/app.py): one signature at a time per
# process, whichever signer and thread asks (the gateway and the SDK integrations sign in threads).
_SIGNING = threading.Lock()


class LocalSigner:
    """Signs with a key held in this process (``Issuer``), dated by ``clock``.

    ``proof_format`` (or ``profile``) is the format of what it issues; when not given, a
    declaration is ``di`` and a binding takes its declaration's format. ``status`` gives each
    credential its id and status entry (revocation)."""

    def __init__(
        self,
        issuer: Issuer,
        *,
        proof_format: ProofFormat | None = None,
        profile: RunProfile | None = None,
        clock: Clock = utc_now,
        status: StatusAssigner | None = None,
    ) -> None:
        self.issuer = issuer
        self.proof_format = profile_format(profile, proof_format) if profile is not None else proof_format
        self.clock = clock
        self.status = status

    def declare_run(self, composition: RunComposition, *, proof_format: ProofFormat | None = None) -> Declared:
        fmt = proof_format or self.proof_format or ProofFormat.DI
        run_id = new_run_id()
        credential, status = self.status() if self.status is not None else (None, None)
        declared_at = self.clock()
        with _SIGNING:
            declaration = declare(
                composition, self.issuer, declared_at=declared_at, proof_format=fmt, run_id=run_id,
                credential_id=credential, credential_status=status,
            )
        return Declared(run_id, credential_id(declaration), declaration, declared_at, self.issuer.did)

    def bind_run(
        self,
        declared: Declared,
        *,
        output: OutputDigest,
        raw_output: OutputDigest | None = None,
        started_at: datetime,
        completed_at: datetime,
        usage: Usage | None = None,
        observed: Observed | None = None,
    ) -> Bound:
        fmt = self.proof_format or SecuredCredential.parse(declared.declaration).proof_format
        credential, status = self.status() if self.status is not None else (None, None)
        # Dated now, by this clock: a completion in the future is refused (as the service does),
        # not dated ahead, where no binding could ever replace it (a run has one).
        bound_at = self.clock()
        with _SIGNING:
            binding = bind(
                declared.declaration, self.issuer, declaration_id=declared.declaration_id, run_id=declared.run_id,
                output=output, raw_output=raw_output, started_at=started_at, completed_at=completed_at,
                bound_at=bound_at, usage=usage, observed=observed, proof_format=fmt,
                credential_id=credential, credential_status=status,
            )
        return Bound(declared.run_id, credential_id(binding), binding, bound_at)

    def accept_declaration(self, declaration: SecuredWire) -> Declared:
        """Verify ``declaration`` (offline, this key's DID only) and refuse it unless this key
        issued it: ``RUNID_DECLARATION_INVALID``, ``RUNID_BINDING_ISSUER_MISMATCH``."""
        from ..vc.dids import DidResolver
        from ..vc.policy import TrustPolicy
        from ..vc.verification import Verifier
        from .verify import verify_run

        did = self.issuer.did
        verifier = Verifier(resolver=DidResolver({did: self.issuer.did_document()}), now=self.clock())
        with _SIGNING:
            # Ownership is checked below, with a clearer message than the policy's.
            report = verify_run(declaration, verifier=verifier, policy=TrustPolicy.trusting(did, requireIndependence=False))
        failures = [check for check in report.failures if check.name != "trust.issuer"]
        if failures or (not report.valid and report.issuer is None):
            first = failures[0] if failures else None
            detail = f" ({first.name}: {first.code}: {first.message})" if first else ""
            raise RunError(f"the declaration does not verify; refusing to bind it{detail}", code=ErrorCode.DECLARATION_INVALID)
        if report.issuer != did:
            raise RunError(
                f"the declaration was issued by {report.issuer}, not by this home's issuer {did}; "
                "only its issuer can bind it",
                code=ErrorCode.BINDING_ISSUER_MISMATCH,
            )
        document = report.document if report.document is not None else SecuredCredential.parse(declaration).unverified_document
        return Declared(str(report.run_id), credential_id(declaration), declaration, issued_at(document), did)


__all__ = [
    "Bound",
    "Declared",
    "LocalSigner",
    "Receipt",
    "RunSigner",
    "StatusAssigner",
    "credential_id",
]
