"""The witness: the checks of C2SP ``tlog-witness`` "add-checkpoint", in order, over a durable
record of the latest checkpoint it cosigned for each log.

:meth:`Witness.add_checkpoint` is the whole protocol minus HTTP: it takes the request body and
the time and returns the status, body and content type to answer with. The check of the old
size against the record and the write of the new record happen under one lock and in one
SQLite transaction, fsynced before the answer (the spec's "MUST persist ... before responding"
and its rollback race).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import RunIdError
from ..transparency.checkpoint import Checkpoint, _split_note, key_id, verify_signed_checkpoint
from ..transparency.cosignature import Witness as WitnessKey
from ..transparency.cosignature import add_cosignatures, cosign
from ..transparency.merkle import EMPTY_ROOT, verify_consistency
from ..transparency.witness_protocol import SIZE_CONTENT_TYPE, parse_add_checkpoint

__all__ = ["Answer", "LogKey", "Witness", "WitnessStore"]

TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class LogKey:
    """A log the witness follows: its origin and a key its checkpoints must be signed with."""

    origin: str
    key_name: str
    public_key: Ed25519PublicKey


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of the witness: status, body and content type."""

    status: int
    body: str
    content_type: str = TEXT


class WitnessStore:
    """Latest cosigned checkpoint per origin, and refused-but-signed requests kept as evidence.

    WAL with ``synchronous=FULL``: a commit returns only once its WAL frame is fsynced, so a
    witness killed (or a machine losing power) right after answering still remembers what it
    cosigned.
    """

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS latest (
                origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL,
                note TEXT NOT NULL, cosigned_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS evidence (
                id INTEGER PRIMARY KEY, origin TEXT NOT NULL, received_at INTEGER NOT NULL,
                reason TEXT NOT NULL, request TEXT NOT NULL);
            """
        )

    def latest(self, origin: str) -> tuple[int, bytes, str, int] | None:
        row = self._db.execute(
            "SELECT size, root, note, cosigned_at FROM latest WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]), str(row[2]), int(row[3]))

    def latest_by_hash(self, origin_hash: str) -> str | None:
        for origin, note in self._db.execute("SELECT origin, note FROM latest"):
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                return str(note)
        return None

    def save(self, checkpoint: Checkpoint, note: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO latest (origin, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, note, at),
        )

    def keep_evidence(self, origin: str, at: int, reason: str, request: str) -> None:
        self._db.execute(
            "INSERT INTO evidence (origin, received_at, reason, request) VALUES (?, ?, ?, ?)",
            (origin, at, reason, request),
        )

    def evidence(self) -> list[dict[str, object]]:
        rows = self._db.execute("SELECT origin, received_at, reason, request FROM evidence ORDER BY id")
        return [{"origin": o, "receivedAt": t, "reason": r, "request": q} for o, t, r, q in rows]

    def close(self) -> None:
        self._db.close()


class Witness:
    """A witness named ``name`` with Ed25519 key ``private_key``, following ``logs``."""

    def __init__(
        self, name: str, private_key: Ed25519PrivateKey, logs: Sequence[LogKey], store: WitnessStore
    ) -> None:
        self.key = WitnessKey(name, private_key.public_key())
        self._private = private_key
        self._logs: dict[str, list[LogKey]] = {}
        for log in logs:
            self._logs.setdefault(log.origin, []).append(log)
        self.store = store
        self._lock = threading.Lock()

    def vkey(self) -> str:
        return self.key.vkey()

    def add_checkpoint(self, body: bytes, now: int) -> Answer:
        """Answer one ``POST /add-checkpoint`` (c2sp.org/tlog-witness), checks in the spec's order."""
        try:
            request = parse_add_checkpoint(body)
            text, _ = _split_note(request.note)
            checkpoint = Checkpoint.from_body(text)
        except RunIdError as exc:
            return Answer(400, exc.message + "\n")
        keys = self._logs.get(checkpoint.origin)
        if not keys:
            return Answer(404, f"unknown log origin {checkpoint.origin!r}\n")
        # "MUST verify the checkpoint signature against the public key(s) it trusts for the
        # origin": one valid signature from a trusted key, and no failing one (signed-note).
        _, lines = _split_note(request.note)
        present = False
        for key in keys:
            expected = key_id(key.key_name, key.public_key)
            if not any(line.key_name == key.key_name and line.key_id == expected for line in lines):
                continue  # lines of other keys are ignored (signed-note)
            try:
                verify_signed_checkpoint(request.note, key.key_name, key.public_key)
            except RunIdError as exc:
                return Answer(403, f"a log signature does not verify: {exc.message}\n")
            present = True
        if not present:
            return Answer(403, "no signature from a key this witness trusts for the origin\n")
        if request.old_size > checkpoint.tree_size:
            return Answer(400, "the old size is larger than the checkpoint size\n")
        with self._lock:
            stored = self.store.latest(checkpoint.origin)
            stored_size, stored_root = (stored[0], stored[1]) if stored else (0, EMPTY_ROOT)
            if stored is not None and checkpoint.tree_size == stored_size and checkpoint.root_hash != stored_root:
                # Same size, other root: whatever old size came with it, this is a fork, signed by
                # the log. Keep it: it is the evidence an auditor needs.
                self.store.keep_evidence(checkpoint.origin, now, "same size, different root", body.decode())
            if request.old_size != stored_size:
                return Answer(409, f"{stored_size}\n", SIZE_CONTENT_TYPE)
            if checkpoint.tree_size == 0 and checkpoint.root_hash != EMPTY_ROOT:
                return Answer(422, "a checkpoint of size 0 must have the empty tree's root\n")
            if request.old_size == 0 and request.proof:
                return Answer(422, "the consistency proof from size 0 must be empty\n")
            if request.old_size == checkpoint.tree_size:
                consistent = checkpoint.root_hash == stored_root
            else:
                consistent = request.old_size == 0 or verify_consistency(
                    request.old_size, checkpoint.tree_size, stored_root, checkpoint.root_hash, list(request.proof)
                )
            if not consistent:
                self.store.keep_evidence(checkpoint.origin, now, "not consistent", body.decode())
                return Answer(422, "the checkpoint is not consistent with the one this witness cosigned\n")
            # Never date a cosignature before the previous one for this log, even if the clock
            # stepped back: a verifier may read the later timestamp as the later view.
            timestamp = max(now, stored[3] if stored else 0)
            line = cosign(checkpoint, self.key.name, self._private, timestamp=timestamp)
            # Served later on the monitoring endpoint: the log's verified signatures and ours.
            kept = add_cosignatures(request.note, [line])
            self.store.save(checkpoint, kept, timestamp)
        return Answer(200, line.line())

    def checkpoint(self, origin_hash: str) -> Answer:
        """``GET <prefix>/<sha256(origin) hex>/checkpoint`` (tlog-witness "Monitor Retrieval")."""
        note = self.store.latest_by_hash(origin_hash.lower()) if len(origin_hash) == 64 else None
        if note is None:
            return Answer(404, "this witness has cosigned no checkpoint of that log\n")
        return Answer(200, note)
