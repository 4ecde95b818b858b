"""The issuer's persistent run log: an RFC 9162 Merkle tree over every credential issued, kept in
the service database, with C2SP signed-note checkpoints signed by the issuer key.

A leaf is ``log_leaf_data(secured)``: the RFC 8785 JSON of the secured credential exactly as the
service returned it (a JSON object for Data Integrity, a JSON string for a compact JWS). An
auditor who holds a credential recomputes its leaf hash without asking the service. A revocation
is logged the same way, its leaf being the RFC 8785 JSON of the revocation record (see
``server/status.py``); the signed checkpoint is what vouches for it.

Writes are group-committed on the event loop (:meth:`RunLog.append_async`): each request queues
its entry and waits; once the loop has run everything that was ready, it commits every queued
entry in one transaction (one fsync, one checkpoint signature) and only then answers each request
with its receipt. :meth:`RunLog.append` commits one entry at once, in the calling thread. Several
processes or instances may write to the same database — the database lock orders them and each
writer catches up on the others' leaves inside its transaction before it appends.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ErrorCode, KeyMaterialError, RunIdError
from ..runs.declaration import log_leaf_data
from ..transparency import (
    Checkpoint,
    MerkleTree,
    leaf_hash,
    sign_checkpoint,
    verify_consistency,
    verify_signed_checkpoint,
    vkey,
)
from ..transparency.receipt import Receipt
from ..vc.credentials import Issuer
from ..vc.documents import SecuredWire
from .storage import LogRow, Outcome, PendingEntry, Storage

if TYPE_CHECKING:
    from .witnesses import Cosigner

#: Most entries one transaction takes (bounds a transaction's size, not latency).
MAX_BATCH = 512
#: When another process holds the log lock, the loop goes on serving requests and tries again
#: after this many seconds (entries arriving meanwhile join the commit) ...
RETRY_DELAY = 0.0005
#: ... until it has deferred this long; then it waits for the lock.
MAX_DEFER = 0.02


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class _Job:
    entry: PendingEntry
    future: asyncio.Future[tuple[int, Receipt]]


class RunLog:
    """The tree in memory (rebuilt from the database at start), the group committer, the signer."""

    def __init__(self, storage: Storage, issuer: Issuer) -> None:
        private = issuer.key.private_key
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyMaterialError(
                "the log signs checkpoints with Ed25519 (signed-note); the issuer key is not Ed25519",
                code=ErrorCode.KEY_INVALID,
            )
        self.storage = storage
        self.origin = issuer.did  # tlog-checkpoint: the key name SHOULD be the origin
        self.key_name = issuer.did
        self._private = private
        self.public_key = private.public_key()
        self._tree = MerkleTree(h for _, h in storage.leaf_hashes())
        self._tree_lock = threading.Lock()
        self._signed: tuple[int, str] | None = None
        # Group commit on the event loop: entries waiting for the next commit, and that commit.
        self._pending: list[_Job] = []
        self._flush: asyncio.Handle | None = None
        self._deferred_since: float | None = None
        #: Set by the service with ``--witness``: receipts then carry a checkpoint cosigned by a
        #: quorum of witnesses (server/witnesses.py).
        self.cosigner: Cosigner | None = None

    # -- writing --

    def append(self, entry: PendingEntry) -> tuple[int, Receipt]:
        """Commit ``entry`` now, in this thread, and return (index, receipt). Raises the
        ``RunIdError`` that refused it (nothing written), or whatever failed the transaction."""
        result = self._commit([entry], wait=True)
        assert result is not None  # waited for the lock
        outcome = result[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def append_async(self, entry: PendingEntry) -> tuple[int, Receipt]:
        """:meth:`append` for the event loop, with group commit: the entries of every request the
        loop ran since the last commit are committed together, in one transaction (one fsync,
        one checkpoint signature), as soon as the loop has nothing else ready to run."""
        loop = asyncio.get_running_loop()
        job = _Job(entry, loop.create_future())
        self._pending.append(job)
        if self._flush is None:
            self._flush = loop.call_soon(self._commit_pending, loop)
        index, receipt = await job.future
        if self.cosigner is None:
            return index, receipt
        size, note = await self.cosigner.cosigned(receipt.treeSize)
        return index, self.receipt_at(index, size, note)

    def consistency_proof_at(self, old_size: int, new_size: int) -> list[bytes]:
        """A consistency proof between two sizes this process's tree already has (no database
        read: the witness client asks for one right after :meth:`checkpoint` caught up)."""
        with self._tree_lock:
            return self._tree.consistency_proof(old_size, new_size)

    def receipt_at(self, index: int, size: int, note: str) -> Receipt:
        """A receipt for entry ``index`` against ``note``, a signed checkpoint of ``size`` entries
        (e.g. one cosigned by witnesses) that this process's tree already covers."""
        with self._tree_lock:
            proof = self._tree.inclusion_proof(index, size)
        return Receipt(leafIndex=index, treeSize=size, checkpoint=note, inclusionProof=[b64(h) for h in proof])

    def close(self) -> None:
        """Nothing to stop: commits run in the threads and on the loop that ask for them."""

    def _commit_pending(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit what is pending, on the loop, synchronously. The loop does nothing else
        meanwhile, and that is the point: the log lock is held only as long as the statements
        and the fsync take. (A writer thread that has to win the GIL back from a loop busy
        signing after every statement held it several times longer, and the other workers
        waited that long.) When another process holds the lock, the loop goes on serving and
        tries again shortly, with whatever arrived in between."""
        self._flush = None
        jobs = [job for job in self._pending if not job.future.done()]  # done: the request gave up
        batch, self._pending = jobs[:MAX_BATCH], jobs[MAX_BATCH:]
        if not batch:
            return
        now = loop.time()
        wait = self._deferred_since is not None and now - self._deferred_since >= MAX_DEFER
        try:
            results = self._commit([job.entry for job in batch], wait=wait)
        except Exception as exc:  # noqa: BLE001 - the transaction failed: nothing was written
            results = [exc] * len(batch)
        if results is None:  # another writer holds the lock
            if self._deferred_since is None:
                self._deferred_since = now
            self._pending = batch + self._pending
            self._flush = loop.call_later(RETRY_DELAY, self._commit_pending, loop)
            return
        self._deferred_since = None
        for job, result in zip(batch, results, strict=True):
            if job.future.done():
                continue
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)
        if self._pending:
            self._flush = loop.call_soon(self._commit_pending, loop)

    def _commit(
        self, entries: list[PendingEntry], *, wait: bool
    ) -> list[tuple[int, Receipt] | BaseException] | None:
        """Commit ``entries`` in one transaction; per entry, its (index, receipt) or the error
        that refused it. ``None`` when ``wait`` is false and another writer holds the log lock
        (nothing was done). Raises if the transaction failed (nothing was written)."""
        with self._tree_lock:
            known = self._tree.size
        committed = self.storage.commit_batch(known, entries, wait=wait)
        if committed is None:
            return None
        others, outcomes = committed
        try:
            ours = [(o, e.leaf_hash) for o, e in zip(outcomes, entries, strict=True) if isinstance(o, int)]
            with self._tree_lock:
                self._apply(others)
                self._apply(ours)
                size = self._tree.size
                checkpoint = self._checkpoint_locked(size)
                receipts = {
                    index: Receipt(
                        leafIndex=index,
                        treeSize=size,
                        checkpoint=checkpoint,
                        inclusionProof=[b64(h) for h in self._tree.inclusion_proof(index, size)],
                    )
                    for index, _ in ours
                }
        except Exception as exc:  # noqa: BLE001 - committed, but we cannot prove it here
            return [exc] * len(entries)
        return [o if isinstance(o, RunIdError) else (o, receipts[o]) for o in outcomes]

    def _apply(self, leaves: Iterable[tuple[int, bytes]]) -> None:
        """Add committed leaves to the tree; leaves it already has (a reader caught up first)
        must be identical, else the database and the tree disagree."""
        for index, h in sorted(leaves):
            if index == self._tree.size:
                self._tree.append(h)
            elif index < self._tree.size:
                if self._tree.leaf(index) != h:
                    raise RuntimeError(f"log leaf {index} differs between the database and the tree")
            else:
                raise RuntimeError(f"log leaf {index} arrived before leaf {self._tree.size}")

    # -- reading --

    def refresh(self) -> int:
        """Catch up on leaves other instances committed; returns the size."""
        with self._tree_lock:
            known = self._tree.size
        new = self.storage.leaf_hashes(known)
        with self._tree_lock:
            self._apply(new)
            return self._tree.size

    def _checkpoint_locked(self, size: int) -> str:
        if self._signed is None or self._signed[0] != size:
            checkpoint = Checkpoint(origin=self.origin, tree_size=size, root_hash=self._tree.root(size))
            self._signed = (size, sign_checkpoint(checkpoint, self.key_name, self._private))
        return self._signed[1]

    def checkpoint(self) -> str:
        """The signed checkpoint at the current size."""
        self.refresh()
        with self._tree_lock:
            return self._checkpoint_locked(self._tree.size)

    def vkey(self) -> str:
        return vkey(self.key_name, self.public_key)

    def inclusion_proof(self, index: int, size: int | None = None) -> tuple[int, list[bytes]]:
        current = self.refresh()
        with self._tree_lock:
            size = current if size is None else size
            return size, self._tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> tuple[int, list[bytes]]:
        current = self.refresh()
        with self._tree_lock:
            new_size = current if new_size is None else new_size
            return new_size, self._tree.consistency_proof(old_size, new_size)

    def size(self) -> int:
        return self.refresh()

    def receipt(self, index: int) -> Receipt:
        """A receipt for an entry committed earlier, against the current signed checkpoint."""
        self.refresh()
        with self._tree_lock:
            size = self._tree.size
            return Receipt(
                leafIndex=index,
                treeSize=size,
                checkpoint=self._checkpoint_locked(size),
                inclusionProof=[b64(h) for h in self._tree.inclusion_proof(index, size)],
            )

    def entries(self, start: int, end: int) -> list[LogRow]:
        return self.storage.entries(start, end)


def new_entry(
    kind: str,
    secured: SecuredWire,
    *,
    credential_id: str | None,
    run_id: str | None,
    client: str,
    logged_at: datetime,
    leaf: bytes | None = None,
    **run_fields: Any,
) -> PendingEntry:
    """The entry for ``secured``; ``leaf`` is its :func:`log_leaf_data` when the caller has it
    already (it is the credential's RFC 8785 JSON, which the service also answers with)."""
    from .._internal.timeutil import format_datetime

    data = log_leaf_data(secured) if leaf is None else leaf
    return PendingEntry(
        kind=kind,  # type: ignore[arg-type]
        leaf_hash=leaf_hash(data),
        entry=data.decode("utf-8"),
        credential_id=credential_id,
        run_id=run_id,
        client=client,
        logged_at=format_datetime(logged_at),
        **run_fields,
    )


def verify_checkpoints(
    old_note: str, new_note: str, proof: Sequence[bytes], key_name: str, public_key: Ed25519PublicKey
) -> tuple[Checkpoint, Checkpoint, bool]:
    """Both checkpoints signed by the key, and ``proof`` shows the new one extends the old."""
    old = verify_signed_checkpoint(old_note, key_name, public_key)
    new = verify_signed_checkpoint(new_note, key_name, public_key)
    if old.origin != new.origin:
        return old, new, False
    return old, new, verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, list(proof))


__all__ = [
    "MAX_BATCH",
    "Outcome",
    "Receipt",
    "RunLog",
    "new_entry",
    "verify_checkpoints",
]
