"""Witness cosignatures on checkpoints: C2SP ``tlog-cosignature`` (``cosignature/v1``, Ed25519).

A log signs its own checkpoints, so on its own it could show one auditor one history and
another auditor another (a split view). A witness cosigns a checkpoint only after checking it
is consistent with every checkpoint of that log it has cosigned before; a checkpoint carrying
cosignatures from K independent witnesses cannot be one branch of a fork unless K witnesses
lied. Example::

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from vc_runid.transparency import (Checkpoint, EMPTY_ROOT, Witness, add_cosignatures,
                                       cosign, sign_checkpoint, verify_cosignatures)

    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = sign_checkpoint(Checkpoint(origin="example.com/log", tree_size=0, root_hash=EMPTY_ROOT),
                           "example.com/log", log_key)
    line = cosign(note, "witness.example/w1", witness_key, timestamp=1_700_000_000)
    witnessed = add_cosignatures(note, [line])
    witness = Witness("witness.example/w1", witness_key.public_key())
    assert [c.witness for c in verify_cosignatures(witnessed, [witness], quorum=1)] == [witness]

The wire format (tlog-cosignature "Format"): a signed-note signature line whose key ID is
``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and whose signature is the 8-byte big-endian
timestamp followed by the Ed25519 signature over::

    cosignature/v1
    time <timestamp>
    <the checkpoint's note text, final newline included>

These functions check cosignatures only; whether the checkpoint itself is signed by the log is
:func:`~vc_runid.transparency.verify_signed_checkpoint`'s business (call both).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vc_runid.errors import ErrorCode, KeyMaterialError, LogError, UsageError
from vc_runid.transparency.checkpoint import (
    Checkpoint,
    NoteSignature,
    _check_key_name,
    _split_note,
    split_vkey,
)

__all__ = [
    "COSIGNATURE_V1_TYPE",
    "Cosignature",
    "Witness",
    "add_cosignatures",
    "cosign",
    "cosignature_message",
    "cosigner_key_id",
    "parse_witness_vkey",
    "verify_cosignatures",
]

COSIGNATURE_V1_TYPE = 0x04
"""The key ID algorithm byte of Ed25519 ``cosignature/v1`` keys (tlog-cosignature "Format")."""

_HEADER = "cosignature/v1\n"
_KEY_ID_SIZE = 4
_TIMESTAMP_SIZE = 8
_ED25519_SIGNATURE_SIZE = 64
_MAX_TIMESTAMP = 2**63 - 1  # "It MUST NOT exceed 2^63 - 1" (tlog-cosignature "Format")


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def cosigner_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """``SHA-256(name || "\\n" || 0x04 || 32-byte public key)[:4]`` (tlog-cosignature "Format").

    The 0x04 differs from the log's 0x01, so a witness's cosignature can never be mistaken for
    a signature of the log under the same name, nor the reverse.
    """
    _check_key_name(name)
    data = name.encode() + b"\n" + bytes([COSIGNATURE_V1_TYPE]) + _raw(public_key)
    return hashlib.sha256(data).digest()[:_KEY_ID_SIZE]


@dataclass(frozen=True)
class Witness:
    """A witness an auditor trusts: its key name and its Ed25519 cosigner public key."""

    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    @property
    def key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.public_key)

    def vkey(self) -> str:
        """The verifier key ``<name>+<hex key ID>+<base64(0x04 || public key)>`` (signed-note
        "Verifier keys" with the cosignature type, as tlog-cosignature allows)."""
        encoded = bytes([COSIGNATURE_V1_TYPE]) + _raw(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(encoded).decode()}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Witness) and (self.name, _raw(self.public_key)) == (other.name, _raw(other.public_key))

    def __hash__(self) -> int:
        return hash((self.name, _raw(self.public_key)))


def parse_witness_vkey(text: str) -> Witness:
    """Read a witness verifier key (type 0x04) made by :meth:`Witness.vkey`.

    The key ID in the text is recomputed and must match. Raises ``KeyMaterialError``
    (``RUNID_KEY_INVALID``) for anything else, including a log key (type 0x01): pinning a log
    key where a witness key belongs would make a log its own witness.
    """

    def fail(why: str) -> KeyMaterialError:
        return KeyMaterialError(f"invalid witness verifier key: {why}", code=ErrorCode.KEY_INVALID)

    name, hex_id, public_key = split_vkey(text, COSIGNATURE_V1_TYPE, "Ed25519 cosignature/v1 keys (type 0x04", fail)
    witness = Witness(name, public_key)
    if len(hex_id) != 2 * _KEY_ID_SIZE or hex_id.lower() != witness.key_id.hex():
        raise fail("the key ID does not match the name and key")
    return witness


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` signs (tlog-cosignature "Ed25519 signed message"):
    the header line, the time line, then the checkpoint's whole note text."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError(f"timestamp {timestamp} is outside 0..2^63-1")
    return f"{_HEADER}time {timestamp}\n{body}".encode()


def _note_text(note_or_checkpoint: str | Checkpoint) -> str:
    if isinstance(note_or_checkpoint, Checkpoint):
        return note_or_checkpoint.body()
    text, _ = _split_note(note_or_checkpoint)
    Checkpoint.from_body(text)  # a witness cosigns checkpoints, nothing else
    return text


def cosign(
    note: str | Checkpoint, name: str, private_key: Ed25519PrivateKey, *, timestamp: int
) -> NoteSignature:
    """A witness's ``cosignature/v1`` over a checkpoint (a signed note or its body), at POSIX
    ``timestamp``. It says nothing about whether the log signed the note: a witness checks that
    first (and that it is consistent with what it saw), see :mod:`vc_runid.witness`."""
    _check_key_name(name)
    text = _note_text(note)
    signature = private_key.sign(cosignature_message(text, timestamp))
    return NoteSignature(
        key_name=name,
        key_id=cosigner_key_id(name, private_key.public_key()),
        signature=struct.pack(">Q", timestamp) + signature,
    )


def add_cosignatures(note: str, lines: Iterable[NoteSignature | str]) -> str:
    """``note`` with signature lines appended, skipping any it already carries. Lines are not
    verified here: a verifier ignores lines from keys it does not trust and checks the others."""
    _, existing = _split_note(note)
    seen = {s.line() for s in existing}
    extra = []
    for line in lines:
        rendered = line.line() if isinstance(line, NoteSignature) else line
        if not rendered.endswith("\n"):
            rendered += "\n"
        if rendered not in seen:
            seen.add(rendered)
            extra.append(rendered)
    result = note + "".join(extra)
    _split_note(result)  # refuse a line that is not a signature line
    return result


@dataclass(frozen=True)
class Cosignature:
    """A cosignature that verified: who, and the time the witness put in it."""

    witness: Witness
    timestamp: int


def verify_cosignatures(
    note: str,
    witnesses: Sequence[Witness],
    quorum: int,
    *,
    not_after: int | None = None,
) -> list[Cosignature]:
    """Check the ``cosignature/v1`` lines of ``note`` from the trusted ``witnesses`` and demand
    that at least ``quorum`` distinct witnesses cosigned. Returns the verified cosignatures.

    Follows signed-note and tlog-cosignature: lines whose name and key ID match no trusted
    witness are ignored; a line that does match and fails to verify rejects the note (it is
    malformed, not merely unsigned). ``not_after`` (POSIX seconds) refuses cosignatures dated
    later, which the spec lets a verifier do for timestamps in the future.

    Raises ``ProofError`` with ``RUNID_LOG_COSIGNATURE_INVALID`` for a bad line from a trusted
    witness, ``RUNID_LOG_WITNESS_QUORUM`` when fewer than ``quorum`` verified, ``UsageError``
    ``RUNID_USAGE`` for a quorum that cannot be met by the list (0 or more than its length), and
    ``InputError`` ``RUNID_LOG_CHECKPOINT_INVALID`` for a note that is not a checkpoint.
    """
    unique = list(dict.fromkeys(witnesses))
    if not 1 <= quorum <= len(unique):
        # A quorum of 0 would make "witnessed" mean nothing: refuse it rather than pass silently.
        raise UsageError(f"a witness quorum must be between 1 and the {len(unique)} witnesses listed, got {quorum}")
    text, signatures = _split_note(note)
    Checkpoint.from_body(text)
    by_id = {(w.name, w.key_id): w for w in unique}
    verified: dict[Witness, Cosignature] = {}
    for line in signatures:
        witness = by_id.get((line.key_name, line.key_id))
        if witness is None:
            continue

        def bad(why: str, witness: Witness = witness) -> LogError:
            return LogError(
                f"the cosignature of witness {witness.name!r} {why}",
                code=ErrorCode.LOG_COSIGNATURE_INVALID,
                detail={"witness": witness.name, "key_id": witness.key_id.hex()},
            )

        if len(line.signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            raise bad("has the wrong length for cosignature/v1")
        (timestamp,) = struct.unpack(">Q", line.signature[:_TIMESTAMP_SIZE])
        if timestamp > _MAX_TIMESTAMP:
            raise bad("has a timestamp above 2^63-1")
        if not_after is not None and timestamp > not_after:
            raise bad(f"is dated {timestamp}, in the future")
        try:
            witness.public_key.verify(line.signature[_TIMESTAMP_SIZE:], cosignature_message(text, timestamp))
        except InvalidSignature:
            raise bad("does not verify") from None
        previous = verified.get(witness)
        if previous is None or timestamp > previous.timestamp:
            verified[witness] = Cosignature(witness, timestamp)
    if len(verified) < quorum:
        missing = [w.name for w in unique if w not in verified]
        raise LogError(
            f"{len(verified)} of the {len(unique)} trusted witnesses cosigned the checkpoint, "
            f"{quorum} required (missing: {', '.join(missing)})",
            code=ErrorCode.LOG_WITNESS_QUORUM,
            detail={"cosigned": len(verified), "quorum": quorum, "missing": missing},
        )
    return list(verified.values())
