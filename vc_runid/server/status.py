"""The service's revocation list: W3C Bitstring Status List v1.0, kept in the service database.

Every declaration and binding issued in a VC 2.0 format carries a ``BitstringStatusListEntry``
pointing at bit ``i`` of the list published at ``<public base>/status/1``; revoking the credential
sets that bit. VC 1.1 formats (``di-2020``, ``jwt-1.1``) carry no status: the VC 1.1 context does
not define the status list terms (see :func:`vc_runid.runs.declaration.with_status`).

    service = StatusService(storage, issuer, storage.status_list_url(list_url_for(base)), lock)
    credential_id, entry, index = service.assign(ProofFormat.DI)    # before signing
    signed_list = service.status_list()                             # GET /status/1

Indices come from the storage in blocks (:meth:`Storage.reserve_status_indices`): reserving
costs one committed write per :data:`RESERVE_BLOCK` credentials, not one per credential (and on the
event loop the next block is reserved ahead, in a worker thread), and the indices of a block that
a crash leaves unused are simply never pointed to.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio.to_thread

from .._internal.timeutil import format_datetime, utc_now
from ..errors import UsageError
from ..runs.declaration import version_for
from ..vc.credentials import Issuer, issue_credential
from ..vc.documents import VcVersion
from ..vc.formats import ProofFormat
from ..vc.status.bitstring import (
    MIN_BITS,
    MIN_BYTES,
    REVOCATION,
    build_status_list_credential,
    status_entry,
)
from .storage import StatusRow, Storage

_logger = logging.getLogger(__name__)

#: The one list this service publishes (a list holds 131,072 entries per 16 KB and grows by that).
LIST_PATH = "/status/1"
#: Status list indices reserved per database write.
RESERVE_BLOCK = 1024
#: How long a signed list is served before it is signed afresh — unless it changed first.
CACHE_SECONDS = 60.0
#: validUntil - validFrom of a published list: a verifier must not rely on an older one.
LIST_VALIDITY = timedelta(days=1)
#: The ``type`` of a revocation record in the run log.
REVOCATION_RECORD_TYPE = "StatusListRevocation"


def public_base_url(*, public_url: str | None, domain: str | None, host: str, port: int) -> str:
    """Where verifiers reach this service: ``public_url`` if given, else ``https://<domain>`` for a
    did:web issuer, else the address it listens on."""
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise UsageError(f"--public-url must be an http(s) URL without query or fragment, got {public_url!r}")
        return public_url.rstrip("/")
    if domain:
        # did:web: "example.com%3A8443:path" names https://example.com:8443 (did:web §3.2).
        return "https://" + unquote(domain.split(":", 1)[0])
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def list_url_for(base_url: str) -> str:
    return base_url.rstrip("/") + LIST_PATH


class StatusService:
    """Assigns status entries, signs the list (cached), writes revocation records."""

    def __init__(
        self,
        storage: Storage,
        issuer: Issuer,
        list_url: str,
        signing_lock: AbstractContextManager[Any],
        *,
        cache_seconds: float = CACHE_SECONDS,
        record: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.storage = storage
        self.issuer = issuer
        self.list_url = list_url
        self._signing = signing_lock
        self._cache_seconds = cache_seconds
        # Logs each list signed before it is served (kind ``status-list``): an auditor sees every
        # list the service ever published and can check it against the revocations logged before it.
        self._record = record
        self._lock = threading.Lock()
        self._block: range = range(0)
        self._next = 0
        self._spare: range | None = None  # the next block, reserved ahead
        self._reserving: asyncio.Future[None] | None = None
        # (state it was signed for, monotonic time signed, the signed list)
        self._cached: tuple[tuple[int, int], float, dict[str, Any]] | None = None

    # -- issuing --

    def _index(self) -> int:
        with self._lock:
            if self._next >= len(self._block):
                if self._spare is not None:
                    self._block, self._spare = self._spare, None
                else:
                    self._block = self.storage.reserve_status_indices(RESERVE_BLOCK)
                self._next = 0
            index = self._block[self._next]
            self._next += 1
            return index

    def assign(self, proof_format: ProofFormat) -> tuple[str | None, dict[str, Any] | None, int | None]:
        """(credential id, ``credentialStatus`` entry, index) for a credential about to be issued
        in ``proof_format``; all None for a VC 1.1 format, which cannot carry the entry."""
        if version_for(proof_format) is not VcVersion.V2:
            return None, None, None
        index = self._index()
        return f"urn:uuid:{uuid.uuid4()}", status_entry(self.list_url, index, REVOCATION), index

    async def assign_async(self, proof_format: ProofFormat) -> tuple[str | None, dict[str, Any] | None, int | None]:
        """:meth:`assign` for the event loop. The next block of indices is reserved ahead, in a
        worker thread, when half of the current one is used: the database write (and its fsync)
        never holds up the loop, and requests only wait for it if they use up a block before
        the next one is in."""
        if version_for(proof_format) is VcVersion.V2:
            remaining = len(self._block) - self._next
            if self._spare is None and remaining <= RESERVE_BLOCK // 2 and self._reserving is None:
                self._reserving = asyncio.ensure_future(self._reserve_spare())
            if remaining <= 0 and self._spare is None and self._reserving is not None:
                await asyncio.shield(self._reserving)
        return self.assign(proof_format)

    async def _reserve_spare(self) -> None:
        try:
            block = await anyio.to_thread.run_sync(self.storage.reserve_status_indices, RESERVE_BLOCK)
        except Exception:  # the request that needs the block reserves it itself, and reports why not
            _logger.warning("could not reserve status list indices ahead", exc_info=True)
        else:
            with self._lock:
                if self._spare is None:
                    self._spare = block
        finally:
            self._reserving = None

    # -- publishing --

    def status_list(self) -> dict[str, Any]:
        """The signed ``BitstringStatusListCredential`` (validFrom now, validUntil a day later),
        re-signed when a credential was revoked or the list grew, and at least every
        ``cache_seconds``. The state is read from the database, so a revocation made through
        another instance shows up at once too."""
        state = self.storage.status_state()
        with self._lock:
            cached = self._cached
        if cached is not None and cached[0] == state and time.monotonic() - cached[1] < self._cache_seconds:
            return cached[2]
        reserved, revoked = self.storage.revoked_indices()
        now = utc_now()
        signed = self._sign(reserved, [index for index, _ in revoked], now)
        if self._record is not None:
            self._record(signed)
        with self._lock:
            # State read again by the next caller; storing the state read *before* signing can only
            # make the cache look older than it is, never newer.
            self._cached = (state, time.monotonic(), signed)
        return signed

    def _sign(self, reserved: int, revoked: list[int], now: datetime) -> dict[str, Any]:
        # Whole 16 KB blocks (§2.1: at least 131,072 entries), enough for every index handed out.
        blocks = max(1, -(-max(reserved, max(revoked, default=-1) + 1) // MIN_BITS))
        bitstring = bytearray(blocks * MIN_BYTES)
        for index in revoked:
            bitstring[index // 8] |= 0x80 >> (index % 8)  # §3.1: index 0 is the leftmost bit
        unsigned = build_status_list_credential(
            issuer_did=self.issuer.did,
            list_url=self.list_url,
            bitstring=bitstring,
            valid_from=now,
            valid_until=now + LIST_VALIDITY,
        )
        with self._signing:
            signed = issue_credential(unsigned, self.issuer, proof_format=ProofFormat.DI, created=now)
        assert isinstance(signed, dict)  # Data Integrity returns the document
        return signed

    # -- revoking --

    def revocation_record(self, row: StatusRow, reason: str, at: datetime) -> dict[str, Any]:
        """The log entry of a revocation. The checkpoint signs it with the rest of the log; it
        names the credential and its bit, so an auditor can rebuild the list from the log."""
        return {
            "type": REVOCATION_RECORD_TYPE,
            "issuer": self.issuer.did,
            "credentialId": row.credential_id,
            "statusPurpose": REVOCATION,
            "statusListCredential": self.list_url,
            "statusListIndex": str(row.index),
            "revokedAt": format_datetime(at),
            "reason": reason,
        }


__all__ = [
    "CACHE_SECONDS",
    "LIST_PATH",
    "LIST_VALIDITY",
    "REVOCATION_RECORD_TYPE",
    "StatusService",
    "list_url_for",
    "public_base_url",
]
