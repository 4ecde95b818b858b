"""The wire format of C2SP ``tlog-witness`` ``add-checkpoint``: request body and response body.

Pure encoding and decoding, shared by the witness (:mod:`vc_runid.witness`) and the issuer
service that asks witnesses to cosign (:mod:`vc_runid.server.witnesses`)::

    old 20852014                  <- the size the log believes the witness last cosigned
    PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=   <- consistency proof, one hash a line (<= 63)
                                  <- empty line
    <the signed checkpoint note>

The response to a success is one or more signature lines (the cosignatures); to a conflict
(409), the witness's size and a newline, with ``Content-Type: text/x.tlog.size``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from vc_runid.errors import ErrorCode, LogError
from vc_runid.transparency.checkpoint import NoteSignature, _split_note
from vc_runid.transparency.merkle import HASH_SIZE

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "format_add_checkpoint",
    "parse_add_checkpoint",
    "parse_cosignature_lines",
    "parse_size_body",
]

MAX_PROOF_LINES = 63  # "The client MUST NOT send more than 63 consistency proof lines."
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**64 - 1


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The ``add-checkpoint`` request body (tlog-witness "add-checkpoint")."""
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"a consistency proof has at most {MAX_PROOF_LINES} hashes")
    lines = [f"old {old_size}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof] + ["\n", note]
    return "".join(lines).encode()


def _fail(why: str) -> LogError:
    return LogError(f"malformed add-checkpoint request: {why}", code=ErrorCode.LOG_CHECKPOINT_INVALID)


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Parse an ``add-checkpoint`` body; raises ``InputError`` for anything the spec does not
    allow (the witness answers 400). The note is split into text and signatures, not verified."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail("not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise _fail("no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old ") or not _DECIMAL.fullmatch(first[4:]) or int(first[4:]) > _MAX_SIZE:
        raise _fail("the first line must be 'old <decimal size>'")
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise _fail(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            value = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise _fail("a proof line is not base64") from None
        if len(value) != HASH_SIZE or base64.b64encode(value).decode() != line:
            raise _fail(f"a proof line is not the base64 of {HASH_SIZE} bytes")
        proof.append(value)
    _split_note(note)  # framing only; the witness checks the signatures
    return AddCheckpointRequest(old_size=int(first[4:]), proof=tuple(proof), note=note)


def parse_cosignature_lines(body: str) -> list[NoteSignature]:
    """The signature lines of a 200 response. Raises ``InputError`` if it is anything else."""
    if not body or not body.endswith("\n"):
        raise _fail("a cosignature response is signature lines, each ending in a newline")
    # Reuse the signed-note parser: a dummy text, a blank line, then the lines.
    _, signatures = _split_note("x\n\n" + body)
    return signatures


def parse_size_body(body: str) -> int:
    """The tree size in a 409 response (``<decimal>\\n``)."""
    if not body.endswith("\n") or not _DECIMAL.fullmatch(body[:-1]) or int(body[:-1]) > _MAX_SIZE:
        raise _fail(f"a 409 body must be a decimal size and a newline, got {body[:40]!r}")
    return int(body[:-1])
