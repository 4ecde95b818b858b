"""Running code under a declaration: declare before the body runs, bind its output afterwards.

    with runid.run(composition, issuer=issuer) as run:   # the declaration is issued here
        output = my_model(prompt)
        run.record_output(output, observed={"modelId": "..."})
    # run.declaration, run.binding: the two credentials, also in the run store

``issuer`` is a key held here (``Issuer``) or any ``RunSigner``, such as the issuer service's
client: ``runid.run(composition, issuer=IssuerClient(url, token), store=RunStore.in_home(home))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from .._internal.timeutil import utc_now
from ..errors import ErrorCode, RunError, UsageError
from ..vc.credentials import Issuer
from ..vc.documents import SecuredWire
from ..vc.formats import ProofFormat, RunProfile, profile_format
from .binding import Observed, OutputDigest, Usage, output_digest
from .composition import Disclosures, RunComposition
from .signer import Clock, Declared, LocalSigner, Receipt, RunSigner, StatusAssigner, credential_id
from .workflow import RunRecorder, bind_declared, declare_into

R = TypeVar("R")


@dataclass
class Run:
    """A run in progress under :func:`run`: its declaration now, its binding once
    ``record_output`` is called."""

    run_id: str
    declaration_id: str
    declaration: SecuredWire
    disclosures: Disclosures
    started_at: datetime
    binding: SecuredWire | None = None
    output: bytes | None = None
    #: The log receipts, when the signer keeps a log (the issuer service).
    declaration_receipt: Receipt | None = None
    binding_receipt: Receipt | None = None
    _digest: OutputDigest | None = field(default=None, repr=False)
    _completed_at: datetime | None = field(default=None, repr=False)
    _observed: Observed | None = field(default=None, repr=False)
    _usage: Usage | None = field(default=None, repr=False)

    def record_output(
        self,
        output: bytes | str,
        *,
        media_type: str | None = None,
        observed: Observed | dict[str, Any] | None = None,
        usage: Usage | dict[str, Any] | None = None,
        completed_at: datetime | None = None,
    ) -> None:
        if self._digest is not None:
            raise RunError("the output of this run was already recorded", code=ErrorCode.ALREADY_BOUND)
        data = output.encode("utf-8") if isinstance(output, str) else output
        if media_type is None and isinstance(output, str):
            media_type = "text/plain; charset=utf-8"
        self.output = data
        self._digest = output_digest(data, media_type)
        self._completed_at = completed_at
        self._observed = Observed.model_validate(observed) if isinstance(observed, dict) else observed
        self._usage = Usage.model_validate(usage) if isinstance(usage, dict) else usage


def _signer(
    issuer: Issuer | RunSigner,
    proof_format: ProofFormat,
    clock: Clock,
    status: StatusAssigner | None,
    profile: RunProfile | None,
) -> tuple[RunSigner, ProofFormat | None]:
    """The signer, and the format to ask it for (None: its own default)."""
    if isinstance(issuer, Issuer):
        return LocalSigner(issuer, proof_format=profile_format(profile, proof_format), clock=clock, status=status), None
    if not isinstance(issuer, RunSigner):
        raise UsageError(f"issuer must be an Issuer or a RunSigner (e.g. IssuerClient), not {type(issuer).__name__}")
    if status is not None:
        raise UsageError(
            "status= assigns status entries for a key held here; the issuer service assigns its own "
            "(every credential it issues is revocable through it)"
        )
    chosen = profile_format(profile, proof_format)
    return issuer, None if chosen is ProofFormat.DI and profile is None else chosen


@contextmanager
def run(
    composition: RunComposition | tuple[RunComposition, Disclosures],
    *,
    issuer: Issuer | RunSigner,
    store: RunRecorder | None = None,
    proof_format: ProofFormat = ProofFormat.DI,
    clock: Clock = utc_now,
    status: StatusAssigner | None = None,
    profile: RunProfile | None = None,
) -> Iterator[Run]:
    """Declare the run, execute the body, then bind what it recorded with ``record_output``.

    ``issuer``: an ``Issuer`` (a key held here, dated by ``clock``) or a ``RunSigner`` such as
    ``IssuerClient(url, token)`` (the service signs and dates; ``clock`` then only times the run,
    and ``status`` is refused: the service assigns its own). ``store`` keeps the run, its salts
    and its log receipts (``RunStore.in_home(home)``). ``profile`` (``standard`` or
    ``compatible``) picks the format of both credentials by purpose. If the body raises, the run
    stays declared and unbound (an auditor sees it as such) and the exception propagates.
    """
    signer, asked = _signer(issuer, proof_format, clock, status, profile)
    composition, disclosures = composition if isinstance(composition, tuple) else (composition, Disclosures())
    declared: Declared = declare_into(signer, composition, disclosures, store, proof_format=asked)
    current = Run(
        declared.run_id, declared.declaration_id, declared.declaration,
        disclosures.model_copy(update={"runId": declared.run_id}),
        started_at=max(clock(), declared.declared_at), declaration_receipt=declared.receipt,
    )
    yield current
    if current._digest is None:
        raise UsageError("the run body finished without run.record_output(...); the run stays unbound")
    completed_at = current._completed_at or max(clock(), current.started_at)
    bound = bind_declared(
        signer, declared, store, output=current._digest, started_at=current.started_at, completed_at=completed_at,
        usage=current._usage, observed=current._observed,
    )
    current.binding, current.binding_receipt = bound.binding, bound.receipt


def run_callable(
    fn: Callable[..., R],
    composition: RunComposition | tuple[RunComposition, Disclosures],
    *args: Any,
    **kwargs: Any,
) -> tuple[R, Run]:
    """Run any callable under a declaration. Keyword options for ``run`` go in ``runid_options``.

    The callable's return value is the output: ``bytes`` or ``str`` as is, anything else as JSON.
    """
    # Not a ParamSpec: PEP 612 allows no extra keyword (``runid_options``) next to ``P.kwargs``,
    # so a typed caller could not pass the options at all.
    options = kwargs.pop("runid_options", None)
    if not isinstance(options, dict) or "issuer" not in options:
        raise UsageError("run_callable needs runid_options={'issuer': ..., ...} (the options of run)")
    with run(composition, **options) as current:
        result = fn(*args, **kwargs)
        current.record_output(_as_output(result))
    return result, current


def _as_output(value: Any) -> bytes | str:
    if isinstance(value, (bytes, str)):
        return value
    from .digests import jcs

    return jcs(value)


__all__ = ["Run", "credential_id", "run", "run_callable"]
