"""The local run store: declarations, bindings and the owner's disclosure salts, in SQLite, and
the issuer service's log receipts beside it (``receipts/``). It is the ``RunRecorder`` the run
workflow (``vc_runid.runs.workflow``) records into.

Writes are single statements in their own transactions, and a binding is attached with a
conditional UPDATE, so two concurrent binds of one run cannot both succeed and nothing already
stored is ever overwritten.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..errors import ErrorCode, RunError, UsageError
from ..runs.composition import Disclosures
from ..vc.documents import SecuredWire
from .files import receipt_path
from .home import RUNS_DB
from .sqlite import transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    declaration_id TEXT NOT NULL UNIQUE,
    declaration TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    disclosures TEXT NOT NULL,
    binding TEXT,
    bound_at TEXT
)
"""


class RunRecord(BaseModel):
    """One run in the store: its declaration, disclosures and, once bound, its binding."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    declaration_id: str
    declaration: SecuredWire
    declared_at: str
    disclosures: Disclosures
    binding: SecuredWire | None = None
    bound_at: str | None = None

    @property
    def status(self) -> str:
        return "bound" if self.binding is not None else "declared"


def _dump(secured: SecuredWire) -> str:
    return secured if isinstance(secured, str) else json.dumps(secured, separators=(",", ":"))


def _load(text: str) -> SecuredWire:
    return json.loads(text) if text.startswith("{") else text


class RunStore:
    """The run store (SQLite) of a home: declarations, disclosures and bindings by run id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # The store holds every salt (and kept prompt text): readable by its owner only.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)
        with transaction(self.path) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @classmethod
    def in_home(cls, home: Path) -> RunStore:
        return cls(home / RUNS_DB)

    def add_declaration(
        self,
        run_id: str,
        declaration_id: str,
        declaration: SecuredWire,
        declared_at: str,
        disclosures: Disclosures,
    ) -> None:
        try:
            with transaction(self.path) as db:
                db.execute(
                    "INSERT INTO runs (run_id, declaration_id, declaration, declared_at, disclosures) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (run_id, declaration_id, _dump(declaration), declared_at, disclosures.model_dump_json()),
                )
        except sqlite3.IntegrityError as exc:
            raise RunError(f"run {run_id} is already declared in the store", code=ErrorCode.RUN_EXISTS) from exc

    def add_binding(self, run_id: str, binding: SecuredWire, bound_at: str) -> None:
        with transaction(self.path) as db:
            cursor = db.execute(
                "UPDATE runs SET binding = ?, bound_at = ? WHERE run_id = ? AND binding IS NULL",
                (_dump(binding), bound_at, run_id),
            )
            if cursor.rowcount == 1:
                return
        self.get(run_id)  # raises RUN_NOT_FOUND when the run is unknown
        raise RunError(f"run {run_id} is already bound; a run has one output binding", code=ErrorCode.ALREADY_BOUND)

    # -- the issuer service's log receipts, one file per credential (docs/bundles.md) --

    @property
    def home(self) -> Path:
        return self.path.parent

    def save_receipt(self, run_id: str, kind: str, receipt: Any) -> None:
        """Keep the log receipt of a run's ``declaration`` or ``binding`` (after the credential
        itself is in the store: a receipt that cannot be written loses no run)."""
        path = receipt_path(self.home, run_id, kind)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(json.dumps(receipt, indent=2))
        except OSError as exc:
            # The service has logged the credential by now, and the run store holds it: say so.
            raise UsageError(
                f"run {run_id}: the {kind} was issued and is in the run store (`vc-runid runs show {run_id}`), "
                f"but its log receipt could not be written to {path}: {exc.strerror or exc}",
                code=ErrorCode.OUTPUT_WRITE_FAILED,
            ) from exc

    def receipt(self, run_id: str, kind: str) -> Any:
        """The log receipt of a run's ``declaration`` or ``binding``, or None."""
        path = receipt_path(self.home, run_id, kind)
        return json.loads(path.read_text()) if path.exists() else None

    def receipts(self, run_id: str) -> dict[str, Any] | None:
        """``{"declaration": …, "binding": …}`` for a run the issuer service logged, else None."""
        declaration = self.receipt(run_id, "declaration")
        if declaration is None:
            return None
        return {"declaration": declaration, "binding": self.receipt(run_id, "binding")}

    def keep_open(self) -> sqlite3.Connection:
        """An idle connection for a long-lived writer (the gateway) to hold. The store connects
        per write, and the last connection to close checkpoints the WAL into the database (another
        fsync): with this one open, a write pays for its commit only. Close it when done."""
        return sqlite3.connect(self.path, check_same_thread=False)

    def get(self, run_id: str) -> RunRecord:
        with transaction(self.path) as db:
            row = db.execute(
                "SELECT run_id, declaration_id, declaration, declared_at, disclosures, binding, bound_at "
                "FROM runs WHERE run_id = ? OR declaration_id = ?",
                (run_id, run_id),
            ).fetchone()
        if row is None:
            raise RunError(f"no run {run_id} in {self.path}", code=ErrorCode.RUN_NOT_FOUND)
        return _record(row)

    def find_by_declaration(self, declaration_id: str) -> RunRecord | None:
        try:
            return self.get(declaration_id)
        except RunError:
            return None

    def list(self) -> list[RunRecord]:
        with transaction(self.path) as db:
            rows = db.execute(
                "SELECT run_id, declaration_id, declaration, declared_at, disclosures, binding, bound_at "
                "FROM runs ORDER BY declared_at"
            ).fetchall()
        return [_record(r) for r in rows]


def _record(row: tuple[str, str, str, str, str, str | None, str | None]) -> RunRecord:
    return RunRecord(
        run_id=row[0],
        declaration_id=row[1],
        declaration=_load(row[2]),
        declared_at=row[3],
        disclosures=Disclosures.model_validate_json(row[4]),
        binding=_load(row[5]) if row[5] is not None else None,
        bound_at=row[6],
    )
