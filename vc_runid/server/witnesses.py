"""The issuer service's side of C2SP tlog-witness: get each new checkpoint cosigned by a quorum.

``vc-runid serve --witness NAME=VKEY=URL --witness-quorum K``. After a commit, a request waits
until a checkpoint at least as large as its entry's has cosignatures from K witnesses, and its
receipt is made against that cosigned checkpoint. One round at a time per process: every request
that arrives meanwhile is answered by the next round's (larger) checkpoint, so the witnesses see
one request per round, not one per entry.

Several workers or instances share the log, and each asks the witnesses on its own. A witness
remembers only the size it last cosigned; when another process moved it on, it answers 409 with
that size, and this process retries from it, or, if the witness is ahead of this process's view
of the log, catches up on the log and starts a round with the newer checkpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from ..errors import ErrorCode, LogError, RunIdError, UsageError
from ..transparency import (
    NoteSignature,
    Witness,
    add_cosignatures,
    parse_signed_checkpoint,
    parse_witness_vkey,
)
from ..transparency.cosignature import verify_cosignatures
from ..transparency.witness_protocol import (
    SIZE_CONTENT_TYPE,
    format_add_checkpoint,
    parse_cosignature_lines,
    parse_size_body,
)

if TYPE_CHECKING:
    from .log import RunLog

__all__ = ["Cosigner", "WitnessEndpoint", "cosigner_from_env", "parse_witness_option"]

#: Seconds one witness gets to answer one request.
TIMEOUT = 5.0
#: Rounds (a new checkpoint each) before a request gives up with RUNID_WITNESS_UNAVAILABLE.
MAX_ROUNDS = 8


@dataclass(frozen=True)
class WitnessEndpoint:
    witness: Witness
    url: str  # the submission prefix; POST <url>/add-checkpoint


def parse_witness_option(value: str) -> WitnessEndpoint:
    """``NAME=VKEY=URL`` (the ``--witness`` option). NAME must be the vkey's key name."""
    parts = value.split("=", 2)
    if len(parts) != 3:
        raise UsageError(f"--witness expects NAME=VKEY=URL, got {value!r}")
    name, vkey_text, url = parts
    # A vkey may end in "=" (base64 padding) and a URL has none before "://": split the URL off
    # at the last "=" that precedes "http".
    if not url.startswith(("http://", "https://")):
        cut = value.rfind("=http")
        if cut < 0:
            raise UsageError(f"--witness expects NAME=VKEY=URL with an http(s) URL, got {value!r}")
        name, vkey_text = value[:cut].split("=", 1)
        url = value[cut + 1 :]
    try:
        witness = parse_witness_vkey(vkey_text)
    except RunIdError as exc:
        raise UsageError(f"--witness {name}: {exc.message}") from exc
    if witness.name != name:
        raise UsageError(f"--witness {name}: the verifier key is named {witness.name!r}")
    return WitnessEndpoint(witness, url.rstrip("/"))


class _Retry(Exception):
    """The witness is ahead of this process's view of the log: start a round with a newer one."""


class Cosigner:
    """Gets the log's checkpoints cosigned; one instance per worker process."""

    def __init__(self, log: RunLog, endpoints: Sequence[WitnessEndpoint], quorum: int) -> None:
        if not 1 <= quorum <= len(endpoints):
            raise UsageError(f"--witness-quorum must be between 1 and the {len(endpoints)} witnesses, got {quorum}")
        self.log = log
        self.endpoints = list(endpoints)
        self.quorum = quorum
        self._known: dict[str, int] = {e.witness.name: 0 for e in endpoints}  # corrected by 409s
        self._latest: tuple[int, str] | None = None
        self._lock: asyncio.Lock | None = None
        self._client: httpx.AsyncClient | None = None

    def latest(self) -> tuple[int, str] | None:
        """(size, note) of the largest checkpoint cosigned by a quorum so far, if any."""
        return self._latest

    async def cosigned(self, size: int) -> tuple[int, str]:
        """A checkpoint of at least ``size`` entries cosigned by a quorum: (its size, the note).
        Raises ``RunIdError`` ``RUNID_WITNESS_UNAVAILABLE`` if no quorum answers."""
        if self._lock is None:
            self._lock = asyncio.Lock()
            self._client = httpx.AsyncClient(timeout=TIMEOUT)
        async with self._lock:
            for _ in range(MAX_ROUNDS):
                if self._latest is not None and self._latest[0] >= size:
                    return self._latest
                try:
                    await self._round()
                except _Retry:
                    continue  # a witness is ahead of us: a new round with a newer checkpoint
                if self._latest is None or self._latest[0] < size:
                    break  # every witness answered this checkpoint; too few cosigned it
            if self._latest is not None and self._latest[0] >= size:
                return self._latest
        raise LogError(
            f"fewer than {self.quorum} of the {len(self.endpoints)} witnesses cosigned the log's checkpoint; "
            "the entry is logged: fetch its receipt later (GET /log/proof/inclusion)",
            code=ErrorCode.WITNESS_UNAVAILABLE,
        )

    async def _round(self) -> None:
        note = await asyncio.to_thread(self.log.checkpoint)  # refreshes from the database
        size = parse_signed_checkpoint(note)[0].tree_size
        results = await asyncio.gather(*(self._submit(e, note, size) for e in self.endpoints), return_exceptions=True)
        if any(isinstance(r, _Retry) for r in results):
            raise _Retry
        lines = [line for r in results if isinstance(r, list) for line in r]
        cosigned = add_cosignatures(note, lines)
        try:
            # Count only what verifies: a witness answering garbage must not make up the quorum.
            verify_cosignatures(cosigned, [e.witness for e in self.endpoints], self.quorum)
        except RunIdError:
            return
        if self._latest is None or size >= self._latest[0]:
            self._latest = (size, cosigned)

    async def _submit(self, endpoint: WitnessEndpoint, note: str, size: int) -> list[NoteSignature]:
        """One witness's cosignature lines for ``note``, retrying once from the size it reports."""
        assert self._client is not None
        name = endpoint.witness.name
        for _ in range(3):
            old = min(self._known[name], size)
            proof = self.log.consistency_proof_at(old, size)
            body = format_add_checkpoint(old, proof, note)
            try:
                response = await self._client.post(f"{endpoint.url}/add-checkpoint", content=body)
            except httpx.HTTPError:
                return []
            if response.status_code == 200:
                self._known[name] = size
                try:
                    lines = parse_cosignature_lines(response.text)
                except RunIdError:
                    return []
                return [line for line in lines if line.key_name == name]
            if response.status_code == 409 and response.headers.get("content-type", "").startswith(SIZE_CONTENT_TYPE):
                try:
                    theirs = parse_size_body(response.text)
                except RunIdError:
                    return []
                self._known[name] = theirs
                if theirs > size:
                    raise _Retry
                continue
            return []  # 4xx: the witness refuses this checkpoint (a fork?) — no cosignature
        return []

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


#: Environment variables through which ``serve --witness`` reaches every worker process.
WITNESSES_ENV = "RUNID_SERVER_WITNESSES"
QUORUM_ENV = "RUNID_SERVER_WITNESS_QUORUM"


def cosigner_from_env(log: RunLog) -> Cosigner | None:
    """The cosigner ``serve`` configured (a JSON list of ``NAME=VKEY=URL`` and a quorum), if any."""
    import json
    import os

    options = json.loads(os.environ.get(WITNESSES_ENV) or "[]")
    if not options:
        return None
    endpoints = [parse_witness_option(option) for option in options]
    quorum = int(os.environ.get(QUORUM_ENV) or len(endpoints))
    return Cosigner(log, endpoints, quorum)
