"""Running code under a declaration: declare before the body runs, bind its output afterwards.

    with runid.run(composition, issuer=issuer) as run:   # the declaration is issued here
        output = my_model(prompt)
        run.record_output(output, observed={"modelId": "..."})
    # run.declaration, run.binding: the two credentials, also in the run store
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from .._internal.timeutil import format_datetime, utc_now
from ..errors import ErrorCode, RunError, UsageError
from ..store.runs import RunStore
from ..vc import jose
from ..vc.credentials import Issuer, ProofFormat, RunProfile, profile_format
from .binding import Observed, OutputDigest, Usage, bind, output_digest
from .composition import Disclosures, RunComposition
from .declaration import SecuredCredential, declare, new_run_id

Clock = Callable[[], datetime]
#: Gives each credential its id and ``credentialStatus`` entry, e.g.
#: ``functools.partial(StatusRegistry(home).assign, "https://issuer.example/status/1")``.
StatusAssigner = Callable[[], tuple[str, dict[str, Any]]]
R = TypeVar("R")


@dataclass
class Run:
    """A run in progress under :func:`run`: its declaration now, its binding once
    ``record_output`` is called."""

    run_id: str
    declaration_id: str
    declaration: SecuredCredential
    disclosures: Disclosures
    started_at: datetime
    binding: SecuredCredential | None = None
    output: bytes | None = None
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


def credential_id(secured: SecuredCredential) -> str:
    """The ``id`` of a secured credential, decoding a JWS where needed (no verification)."""
    if isinstance(secured, dict):
        return str(secured["id"])
    credential, _ = jose.credential_from_jwt(jose.parse_jwt(secured))
    return str(credential["id"])


@contextmanager
def run(
    composition: RunComposition | tuple[RunComposition, Disclosures],
    *,
    issuer: Issuer,
    store: RunStore | None = None,
    proof_format: ProofFormat = ProofFormat.DI,
    clock: Clock = utc_now,
    status: StatusAssigner | None = None,
    profile: RunProfile | None = None,
) -> Iterator[Run]:
    """Declare the run, execute the body, then bind what it recorded with ``record_output``.

    ``profile`` (``standard`` or ``compatible``) picks the format of both credentials by purpose.
    If the body raises, the run stays declared and unbound (an auditor sees it as such) and the
    exception propagates.
    """
    proof_format = profile_format(profile, proof_format)
    composition, disclosures = composition if isinstance(composition, tuple) else (composition, Disclosures())
    run_id = new_run_id()
    declared_at = clock()
    declaration_id, declaration_status = status() if status is not None else (None, None)
    declaration = declare(
        composition,
        issuer,
        declared_at=declared_at,
        proof_format=proof_format,
        run_id=run_id,
        credential_id=declaration_id,
        credential_status=declaration_status,
    )
    declaration_id = credential_id(declaration)
    disclosures = disclosures.model_copy(update={"runId": run_id})
    if store is not None:
        store.add_declaration(run_id, declaration_id, declaration, format_datetime(declared_at), disclosures)
    current = Run(run_id, declaration_id, declaration, disclosures, started_at=max(clock(), declared_at))
    yield current
    if current._digest is None:
        raise UsageError("the run body finished without run.record_output(...); the run stays unbound")
    completed_at = current._completed_at or max(clock(), current.started_at)
    bound_at = max(clock(), completed_at)
    binding_id, binding_status = status() if status is not None else (None, None)
    current.binding = bind(
        declaration,
        issuer,
        declaration_id=declaration_id,
        run_id=run_id,
        output=current._digest,
        started_at=current.started_at,
        completed_at=completed_at,
        bound_at=bound_at,
        usage=current._usage,
        observed=current._observed,
        proof_format=proof_format,
        credential_id=binding_id,
        credential_status=binding_status,
    )
    if store is not None:
        store.add_binding(run_id, current.binding, format_datetime(bound_at))


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


__all__ = ["Run", "run", "run_callable"]
