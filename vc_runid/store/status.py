"""The issuer's status registry: which credential owns which index of its Bitstring Status List,
and which are revoked, in ``<home>/status.sqlite3``. The list itself is ``vc_runid.vc.status``."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from .._internal.timeutil import format_datetime, parse_datetime
from ..errors import ErrorCode, RunError, UsageError
from ..vc.credentials import Issuer
from ..vc.status.bitstring import (
    MAX_BYTES,
    REVOCATION,
    check_list_url,
    issue_status_list,
    status_entry,
)
from .home import STATUS_DB
from .sqlite import transaction

_SCHEMA = (
    # AUTOINCREMENT: SQLite never hands out the same seq twice, even after a row is deleted, so an
    # index once given to a credential is never given to another. The list index is seq - 1.
    """
    CREATE TABLE IF NOT EXISTS status_entries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        credential_id TEXT NOT NULL UNIQUE,
        revoked_at TEXT,
        reason TEXT
    )
    """,
    "CREATE TABLE IF NOT EXISTS status_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class StatusRecord(BaseModel):
    """One credential's entry in the registry: its list index, and when and why it was revoked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    credential_id: str
    index: int
    revoked_at: str | None = None
    reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class StatusRegistry:
    """The issuer's status list: which credential owns which index, and which are revoked.

    Stored in ``<home>/status.sqlite3``. One registry publishes one revocation list; the URL it is
    published at is fixed by the first ``assign`` or ``status_list_credential`` (a list published
    at another URL would not be the one the credentials point to).
    """

    def __init__(self, home: Path) -> None:
        self.path = home / STATUS_DB
        try:
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                self.path.touch(mode=0o600)  # revocation reasons: the issuer's own records
            with transaction(self.path) as db:
                db.execute("PRAGMA journal_mode=WAL")
                for statement in _SCHEMA:
                    db.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot open the status registry {self.path}: {exc}") from exc

    def allocate(self, credential_id: str) -> int:
        """The status list index of ``credential_id``: the next unused one, or the one it already
        has (so a retried issuance does not burn indexes). An index is never given out twice."""
        if not credential_id:
            raise UsageError("a credential id is required to allocate a status list index")
        query = "SELECT seq FROM status_entries WHERE credential_id = ?"
        with transaction(self.path) as db:
            row = db.execute(query, (credential_id,)).fetchone()
            if row is None:
                # Not INSERT OR IGNORE: an ignored insert still consumes an AUTOINCREMENT value.
                try:
                    db.execute("INSERT INTO status_entries (credential_id) VALUES (?)", (credential_id,))
                except sqlite3.IntegrityError:
                    pass  # a concurrent allocate for the same credential won; use its index
                row = db.execute(query, (credential_id,)).fetchone()
        index = int(row[0]) - 1
        if index >= MAX_BYTES * 8:
            raise UsageError(f"the status list is full ({MAX_BYTES * 8} entries)")
        return index

    def assign(self, list_url: str, purpose: str = REVOCATION) -> tuple[str, dict[str, Any]]:
        """A fresh credential id and its ``credentialStatus`` entry, for the issuer to put in the
        credential before signing it."""
        self._bind_url(list_url)
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        return credential_id, status_entry(list_url, self.allocate(credential_id), purpose)

    def record(self, credential_id: str) -> StatusRecord:
        with transaction(self.path) as db:
            row = db.execute(
                "SELECT credential_id, seq, revoked_at, reason FROM status_entries WHERE credential_id = ?",
                (credential_id,),
            ).fetchone()
        if row is None:
            raise RunError(
                f"credential {credential_id} has no status list entry in {self.path}",
                code=ErrorCode.RUN_NOT_FOUND,
            )
        return StatusRecord(credential_id=row[0], index=row[1] - 1, revoked_at=row[2], reason=row[3])

    def revoke(self, credential_id: str, reason: str, at: datetime) -> StatusRecord:
        """Revoke ``credential_id`` from ``at`` on. Revocation is final: revoking again changes
        nothing and returns the first revocation's record."""
        if not reason.strip():
            raise UsageError("a revocation needs a reason")
        moment = format_datetime(at)  # refuses a naive datetime
        with transaction(self.path) as db:
            db.execute(
                "UPDATE status_entries SET revoked_at = ?, reason = ? "
                "WHERE credential_id = ? AND revoked_at IS NULL",
                (moment, reason, credential_id),
            )
        return self.record(credential_id)

    def is_revoked(self, credential_id: str) -> bool:
        return self.record(credential_id).revoked

    def status_list_credential(
        self,
        issuer: Issuer,
        list_url: str,
        now: datetime,
        valid_for: timedelta = timedelta(days=1),
    ) -> dict[str, Any]:
        """The signed status list as of ``now``: a revocation made after ``now`` is not in it."""
        self._bind_url(list_url)
        with transaction(self.path) as db:
            (last,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM status_entries").fetchone()
            revoked = db.execute(
                "SELECT seq, revoked_at FROM status_entries WHERE revoked_at IS NOT NULL"
            ).fetchall()
        indexes = [seq - 1 for seq, revoked_at in revoked if parse_datetime(revoked_at, "revoked_at") <= now]
        return issue_status_list(issuer, list_url, indexes, int(last), now, valid_for)

    def _bind_url(self, list_url: str) -> None:
        check_list_url(list_url)
        with transaction(self.path) as db:
            db.execute("INSERT OR IGNORE INTO status_meta (key, value) VALUES ('list_url', ?)", (list_url,))
            (bound,) = db.execute("SELECT value FROM status_meta WHERE key = 'list_url'").fetchone()
        if bound != list_url:
            raise UsageError(
                f"this registry's credentials point to the status list at {bound}, not {list_url}"
            )


__all__ = ["StatusRecord", "StatusRegistry"]
