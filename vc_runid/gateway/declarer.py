"""Who signs for the gateway: its own key (``--home``), or the issuer service (``--issuer``),
through the library's run workflow (``vc_runid.runs.workflow``) and a ``RunSigner``. Either way
the declaration, its salts, the binding and any log receipts are kept in the gateway's run
store, and ``GET /runs/{id}`` reads it.

These calls block (signing, SQLite, HTTP to the service): the gateway runs them in threads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..client.issuer import IssuerClient
from ..runs.binding import Observed, OutputDigest, Usage
from ..runs.composition import Disclosures, RunComposition
from ..runs.signer import Declared, LocalSigner, RunSigner
from ..runs.workflow import bind_declared, record_declared
from ..store.home import init_home
from ..store.runs import RunRecord, RunStore
from ..vc.documents import SecuredWire

if TYPE_CHECKING:
    from ..vc.policy import TrustPolicy

__all__ = ["Declared", "Declarer", "LocalDeclarer", "ServiceDeclarer", "run_record"]


class Declarer:
    """Declares and binds the gateway's calls with ``signer``, keeping them in ``store``.

    With a ``policy`` (the one the runs' verifiers use), a declaration by an issuer it does not
    trust is no declaration: refused before it is kept, and the call is not forwarded."""

    def __init__(self, signer: RunSigner, store: RunStore, *, policy: TrustPolicy | None = None) -> None:
        self.signer = signer
        self.store = store
        self.policy = policy
        self._keeper = store.keep_open()

    def declare(self, composition: RunComposition, disclosures: Disclosures) -> Declared:
        declared = self.signer.declare_run(composition)
        if self.policy is not None:
            self.policy.check_issuer(declared.issuer)
        record_declared(self.store, declared, disclosures)
        return declared

    def bind(
        self,
        run: Declared,
        *,
        output: OutputDigest,
        raw_output: OutputDigest | None,
        started_at: datetime,
        completed_at: datetime,
        usage: Usage | None,
        observed: Observed | None,
    ) -> SecuredWire:
        return bind_declared(
            self.signer, run, self.store, output=output, raw_output=raw_output, started_at=started_at,
            completed_at=completed_at, usage=usage, observed=observed,
        ).binding

    def receipts(self, run_id: str) -> dict[str, Any] | None:
        """The run's log receipts when the issuer service signed it, else None."""
        return self.store.receipts(run_id)

    def close(self) -> None:
        close = getattr(self.signer, "close", None)
        if callable(close):
            close()
        self._keeper.close()


class LocalDeclarer(Declarer):
    """The gateway's own issuer key in ``home`` (created if missing, like ``serve``)."""

    def __init__(self, home: Path) -> None:
        self.issuer = init_home(home)[0]
        super().__init__(LocalSigner(self.issuer), RunStore.in_home(home))


class ServiceDeclarer(Declarer):
    """The issuer service declares (and logs) every call; the gateway keeps the salts and the
    receipts in ``home``."""

    def __init__(self, url: str, token: str, home: Path, *, timeout: float = 10.0, policy: TrustPolicy | None = None) -> None:
        self.client = IssuerClient(url, token, timeout=timeout)
        self.home = home
        super().__init__(self.client, RunStore.in_home(home), policy=policy)


def run_record(store: RunStore, run_id: str) -> RunRecord:
    return store.get(run_id)
