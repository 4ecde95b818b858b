"""Who signs for the gateway: its own key (``--home``), or the issuer service (``--issuer``),
through the library's declare/bind workflow and the service client. Either way the declaration,
its salts and the binding are kept in the gateway's run store, and ``GET /runs/{id}`` reads it.

These calls block (signing, SQLite, HTTP to the service): the gateway runs them in threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._internal.timeutil import format_datetime, utc_now
from ..client.issuer import IssuerClient
from ..errors import ErrorCode, RunError
from ..runs.binding import Observed, OutputDigest, Usage, bind
from ..runs.composition import Disclosures, RunComposition
from ..runs.declaration import (
    SecuredCredential,
    declaration_subject,
    declare,
    issued_at,
    new_run_id,
)
from ..runs.runner import credential_id
from ..store.files import receipt_path
from ..store.home import init_home
from ..store.runs import RunRecord, RunStore
from ..vc.credentials import Issuer

if TYPE_CHECKING:
    from ..vc.policy import TrustPolicy


@dataclass(frozen=True)
class Declared:
    run_id: str
    declaration_id: str
    declaration: SecuredCredential
    declared_at: datetime


class Declarer(Protocol):
    """What the gateway declares and binds with: a local key or an issuer service."""

    store: RunStore

    def declare(self, composition: RunComposition, disclosures: Disclosures) -> Declared: ...

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
    ) -> SecuredCredential: ...

    def close(self) -> None: ...


# pyld's JSON-LD processing is not thread-safe (see server/app.py): one signature at a time.
_SIGNING = threading.Lock()


class LocalDeclarer:
    """The gateway's own issuer key in ``home`` (created if missing, like ``serve``)."""

    def __init__(self, home: Path) -> None:
        self.issuer: Issuer = init_home(home)[0]
        self.store = RunStore.in_home(home)
        self._keeper = _keep_open(self.store)

    def declare(self, composition: RunComposition, disclosures: Disclosures) -> Declared:
        run_id = new_run_id()
        declared_at = utc_now()
        with _SIGNING:
            declaration = declare(composition, self.issuer, declared_at=declared_at, run_id=run_id)
        declaration_id = credential_id(declaration)
        self.store.add_declaration(
            run_id, declaration_id, declaration, format_datetime(declared_at),
            disclosures.model_copy(update={"runId": run_id}),
        )
        return Declared(run_id, declaration_id, declaration, declared_at)

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
    ) -> SecuredCredential:
        bound_at = max(utc_now(), completed_at)
        with _SIGNING:
            binding = bind(
                run.declaration, self.issuer, declaration_id=run.declaration_id, run_id=run.run_id,
                output=output, raw_output=raw_output, started_at=started_at, completed_at=completed_at,
                bound_at=bound_at, usage=usage, observed=observed,
            )
        self.store.add_binding(run.run_id, binding, format_datetime(bound_at))
        return binding

    def close(self) -> None:
        self._keeper.close()


class ServiceDeclarer:
    """The issuer service declares (and logs) every call; the gateway keeps the salts and the
    receipts in ``home``. The service's answer is input like any other: a declaration of another
    composition than the one sent is refused, and the call is not forwarded."""

    def __init__(self, url: str, token: str, home: Path, *, timeout: float = 10.0, policy: TrustPolicy | None = None) -> None:
        self.client = IssuerClient(url, token, timeout=timeout)
        self.home = home
        self.store = RunStore.in_home(home)
        self._keeper = _keep_open(self.store)
        self.policy = policy

    def declare(self, composition: RunComposition, disclosures: Disclosures) -> Declared:
        declaration, receipt = self.client.declare(composition)
        document = _document(declaration)
        run_id, declared = declaration_subject(document)
        if declared != composition:
            raise RunError(
                "the issuer service declared another composition than the one sent; not forwarding",
                code=ErrorCode.DECLARATION_MISMATCH,
            )
        if self.policy is not None:
            # A declaration the gateway's verifiers would not accept is no declaration: not forwarded.
            self.policy.check_issuer(document.get("issuer") if isinstance(document.get("issuer"), str) else None)
        declared_at = issued_at(document)
        declaration_id = credential_id(declaration)
        self.store.add_declaration(
            run_id, declaration_id, declaration, format_datetime(declared_at),
            disclosures.model_copy(update={"runId": run_id}),
        )
        self._save_receipt(run_id, "declaration", receipt)
        return Declared(run_id, declaration_id, declaration, declared_at)

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
    ) -> SecuredCredential:
        binding, receipt = self.client.bind(
            run.run_id, output, raw_output=raw_output, started_at=started_at, completed_at=completed_at,
            usage=usage, observed=observed,
        )
        self.store.add_binding(run.run_id, binding, format_datetime(utc_now()))
        self._save_receipt(run.run_id, "binding", receipt)
        return binding

    def _save_receipt(self, run_id: str, kind: str, receipt: Any) -> None:
        path = receipt_path(self.home, run_id, kind)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(json.dumps(receipt, indent=2))

    def receipt(self, run_id: str, kind: str) -> Any:
        path = receipt_path(self.home, run_id, kind)
        return json.loads(path.read_text()) if path.exists() else None

    def close(self) -> None:
        self.client.close()
        self._keeper.close()


def _keep_open(store: RunStore) -> sqlite3.Connection:
    """An idle connection held for the gateway's life. The run store connects per write, and the
    last connection to close checkpoints the WAL into the database (another fsync): with this one
    open, a write pays for its commit only."""
    return sqlite3.connect(store.path, check_same_thread=False)


def _document(secured: SecuredCredential) -> dict[str, Any]:
    if isinstance(secured, dict):
        return secured
    from ..vc import jose

    return jose.credential_from_jwt(jose.parse_jwt(secured))[0]


def run_record(store: RunStore, run_id: str) -> RunRecord:
    return store.get(run_id)
