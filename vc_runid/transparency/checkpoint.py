"""Signed tree heads: a C2SP ``tlog-checkpoint`` body inside a C2SP ``signed-note``.

A checkpoint is the log's signed promise "these are my first N entries, and this is their
Merkle root". An auditor who keeps the checkpoints it has seen can demand a consistency proof
between any two; a log that forked, dropped an entry or back-dated one cannot produce it.

The wire format is text, byte for byte what other transparency-log tooling reads::

    example.com/runid-log          <- origin (c2sp.org/tlog-checkpoint, "Note text" 1)
    42                             <- tree size, decimal (2)
    <base64 of the 32-byte root>   <- root hash (3)
                                   <- blank line ends the signed text (c2sp.org/signed-note)
    — example.com/runid-log <base64(4-byte key ID || 64-byte Ed25519 signature)>

Example::

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from vc_runid.transparency import (
        Checkpoint, MerkleTree, leaf_hash, sign_checkpoint, verify_signed_checkpoint)

    tree = MerkleTree([leaf_hash(b"credential-1"), leaf_hash(b"credential-2")])
    key = Ed25519PrivateKey.generate()
    head = Checkpoint(origin="example.com/log", tree_size=tree.size, root_hash=tree.root())
    note = sign_checkpoint(head, "example.com/log", key)
    assert verify_signed_checkpoint(note, "example.com/log", key.public_key()) == head

Only Ed25519 (signed-note signature type 0x01) is produced or verified; signature lines of any
other key are parsed and then ignored, as the signed-note spec requires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from vc_runid.errors import ErrorCode, KeyMaterialError, LogError, ProofError
from vc_runid.transparency.merkle import HASH_SIZE

__all__ = [
    "Checkpoint",
    "NoteSignature",
    "key_id",
    "parse_signed_checkpoint",
    "parse_vkey",
    "sign_checkpoint",
    "verify_signed_checkpoint",
    "vkey",
]


ED25519_SIGNATURE_TYPE = 0x01
"""The signed-note signature type identifier byte for Ed25519 (c2sp.org/signed-note)."""

_SIG_PREFIX = "\u2014 "  # em dash, space: the start of every signature line.
_KEY_ID_SIZE = 4
_ED25519_SIGNATURE_SIZE = 64
_MAX_TREE_SIZE = 2**64 - 1  # tree sizes are uint64 in RFC 9162 and every log.

# Verifiers MUST accept at least 16 signatures (signed-note "Format"); the caps below are far
# above that and only stop a hostile note from costing unbounded work.
_MAX_SIGNATURES = 100
_MAX_NOTE_CHARS = 1 << 20

# "ASCII decimal ... with no leading zeroes" (tlog-checkpoint "Note text" 2). int() alone would
# also take "+5", "0_1", " 7" and non-ASCII digits.
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


# signed-note "Format": no ASCII control characters other than newline (so no tab, no CR).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _has_control(text: str) -> bool:
    """Whether ``text`` has an ASCII control character other than newline (signed-note "Format")."""
    return _CONTROL.search(text) is not None


def _is_key_name(name: object) -> bool:
    # signed-note "Format": non-empty, no Unicode spaces, no "+" (the vkey separator).
    return (
        isinstance(name, str)
        and bool(name)
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and not _has_control(name)
    )


def _check_key_name(name: str) -> None:
    """Refuse a key name handed in by the caller (as opposed to one read from a note)."""
    if not _is_key_name(name):
        raise KeyMaterialError(
            f"invalid signed-note key name {name!r}: it must be non-empty, without spaces or '+'",
            code=ErrorCode.KEY_INVALID,
        )


def _check_line(value: str, what: str) -> str:
    # tlog-checkpoint "Note text": every line is non-empty; a newline would break the framing.
    if not value or "\n" in value or _has_control(value):
        raise ValueError(f"{what} must be one non-empty line without control characters")
    return value


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key ID of an Ed25519 key.

    ``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]`` (signed-note "Ed25519
    signatures"). It binds name, algorithm and key, so one name can rotate keys.
    """
    _check_key_name(key_name)
    data = key_name.encode() + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + _raw_public_key(public_key)
    return hashlib.sha256(data).digest()[:_KEY_ID_SIZE]


def vkey(key_name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key string ``<name>+<hex key ID>+<base64(0x01 || public key)>``.

    This is the one-line form in which a log publishes its key and an auditor pins it.
    Raises ``KeyMaterialError`` if ``key_name`` is empty or has a space or ``+``.
    """
    encoded = bytes([ED25519_SIGNATURE_TYPE]) + _raw_public_key(public_key)
    return f"{key_name}+{key_id(key_name, public_key).hex()}+{base64.b64encode(encoded).decode()}"


def parse_vkey(verifier_key: str) -> tuple[str, Ed25519PublicKey]:
    """Read a verifier key made by :func:`vkey` back into ``(key name, public key)``.

    The key ID in the string is recomputed and must match, so a vkey with a typo is refused
    rather than silently never matching any signature. Raises ``InputError``.
    """

    def fail(why: str) -> LogError:
        return LogError(
            f"invalid verifier key: {why}", code=ErrorCode.LOG_CHECKPOINT_INVALID
        )

    name, hex_id, public_key = split_vkey(verifier_key, ED25519_SIGNATURE_TYPE, "Ed25519 keys (type 0x01", fail)
    if hex_id.lower() != key_id(name, public_key).hex() or len(hex_id) != 2 * _KEY_ID_SIZE:
        raise fail("the key ID does not match the name and key")
    return name, public_key


def split_vkey(
    text: str, key_type: int, kind: str, fail: Callable[[str], Exception]
) -> tuple[str, str, Ed25519PublicKey]:
    """``(name, hex key ID, public key)`` of a signed-note verifier key of ``key_type``, for the
    caller to check the key ID (it depends on the key type); ``fail(why)`` makes the error."""
    # Name and hex ID cannot contain "+", but standard base64 can: split twice only.
    parts = text.strip().split("+", 2) if isinstance(text, str) else []
    if len(parts) != 3:
        raise fail("expected <name>+<hex key ID>+<base64 key>")
    name, hex_id, b64_key = parts
    if not _is_key_name(name):
        raise fail(f"invalid key name {name!r}")
    try:
        encoded = base64.b64decode(b64_key, validate=True)
    except (binascii.Error, ValueError):
        raise fail("the key is not base64") from None
    if len(encoded) != 33 or encoded[0] != key_type:
        raise fail(f"only {kind}, 32 bytes) are supported")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(encoded[1:])
    except ValueError:
        raise fail("not an Ed25519 public key") from None
    return name, hex_id, public_key


class Checkpoint(BaseModel):
    """The note text of a checkpoint (c2sp.org/tlog-checkpoint, "Note text").

    ``root_hash`` is raw bytes; it also accepts, and serialises to JSON as, standard base64 (RFC
    4648 §4), the same text as the checkpoint's third line. ``extensions`` are the optional,
    opaque lines after the root hash: vc-runid writes none (the spec does not recommend them) but
    keeps any it reads, so that the body it verified is the body it reports.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: str
    tree_size: int = Field(ge=0, le=_MAX_TREE_SIZE)
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    @field_validator("origin")
    @classmethod
    def _origin_is_one_line(cls, value: str) -> str:
        return _check_line(value, "origin")

    @field_validator("extensions")
    @classmethod
    def _extensions_are_lines(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for line in value:
            _check_line(line, "an extension line")
        return value

    @field_validator("root_hash", mode="before")
    @classmethod
    def _root_hash_from_base64(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("root_hash text must be standard base64") from None
        return value

    @field_validator("root_hash")
    @classmethod
    def _root_hash_is_sha256(cls, value: bytes) -> bytes:
        if len(value) != HASH_SIZE:
            raise ValueError(f"root_hash must be {HASH_SIZE} bytes, got {len(value)}")
        return value

    @field_serializer("root_hash", when_used="json")
    def _root_hash_to_base64(self, value: bytes) -> str:
        return base64.b64encode(value).decode()

    def body(self) -> str:
        """The note text that gets signed: one line each, each ending in ``\\n``."""
        lines = [self.origin, str(self.tree_size), base64.b64encode(self.root_hash).decode()]
        lines.extend(self.extensions)
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse note text into a checkpoint, refusing anything :meth:`body` would not write back.

        Raises ``InputError`` with code ``RUNID_LOG_CHECKPOINT_INVALID``.
        """

        def fail(why: str) -> LogError:
            return LogError(
                f"malformed checkpoint: {why}", code=ErrorCode.LOG_CHECKPOINT_INVALID
            )

        if not text.endswith("\n"):
            raise fail("the text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise fail("expected origin, tree size and root hash lines")
        if any(not line for line in lines):
            raise fail("lines must be non-empty")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text) or int(size_text) > _MAX_TREE_SIZE:
            raise fail(f"tree size {size_text!r} is not a decimal uint64 without leading zeros")
        try:
            root = base64.b64decode(root_text, validate=True)
        except (binascii.Error, ValueError):
            raise fail("the root hash is not base64") from None
        # Demand the canonical encoding, so that exactly one text exists per checkpoint.
        if len(root) != HASH_SIZE or base64.b64encode(root).decode() != root_text:
            raise fail(f"the root hash is not the base64 of {HASH_SIZE} bytes")
        try:
            checkpoint = cls(
                origin=origin,
                tree_size=int(size_text),
                root_hash=root,
                extensions=tuple(extensions),
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise fail(str(exc)) from None
        if checkpoint.body() != text:  # pragma: no cover - guarded by the checks above
            raise fail("the text does not round-trip")
        return checkpoint


class NoteSignature(BaseModel):
    """One signature line of a signed note: ``— <key_name> base64(key_id || signature)``.

    ``signature`` is whatever followed the key ID; its algorithm is only known once ``key_name``
    and ``key_id`` are matched against a trusted key (signed-note "Signatures").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_name: str
    key_id: bytes = Field(min_length=_KEY_ID_SIZE, max_length=_KEY_ID_SIZE)
    signature: bytes = Field(min_length=1)

    def line(self) -> str:
        """The signature line as it appears in the note, ending in ``\\n``."""
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{_SIG_PREFIX}{self.key_name} {encoded}\n"


def sign_checkpoint(checkpoint: Checkpoint, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``checkpoint`` with an Ed25519 key and return the whole signed note.

    The signature covers the note text including its final newline, not the blank line
    (signed-note "Format"). tlog-checkpoint says the key name SHOULD equal the origin; that is
    left to the caller, who may have reasons (key rotation under a new name) to differ.
    """
    _check_key_name(key_name)
    text = checkpoint.body()
    signature = NoteSignature(
        key_name=key_name,
        key_id=key_id(key_name, private_key.public_key()),
        signature=private_key.sign(text.encode()),
    )
    return text + "\n" + signature.line()


def _split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and its signature lines (signed-note "Format")."""

    def fail(why: str) -> LogError:
        return LogError(
            f"malformed signed note: {why}", code=ErrorCode.LOG_CHECKPOINT_INVALID
        )

    if not isinstance(note, str):
        raise fail("expected text")
    if len(note) > _MAX_NOTE_CHARS:
        raise fail(f"longer than {_MAX_NOTE_CHARS} characters")
    try:
        note.encode()
    except UnicodeEncodeError:  # a lone surrogate: the note was not valid UTF-8
        raise fail("not valid UTF-8") from None
    if _has_control(note):
        raise fail("contains a control character other than newline")
    # "the text is separated from the signatures by the last empty line in the note"
    cut = note.rfind("\n\n")
    if cut < 0:
        raise fail("no blank line before the signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    if not block.endswith("\n"):
        raise fail("the last signature line must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise fail(f"more than {_MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise fail("a signature line must start with an em dash and a space")
        name, space, encoded = line[len(_SIG_PREFIX) :].partition(" ")
        if not space:
            raise fail("a signature line needs a key name and a signature")
        if not _is_key_name(name):
            raise fail(f"invalid key name {name!r}")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise fail(f"the signature of {name!r} is not base64") from None
        if len(raw) <= _KEY_ID_SIZE:
            raise fail(f"the signature of {name!r} is too short")
        signatures.append(
            NoteSignature(key_name=name, key_id=raw[:_KEY_ID_SIZE], signature=raw[_KEY_ID_SIZE:])
        )
    return text, signatures


def parse_signed_checkpoint(note: str) -> tuple[Checkpoint, list[NoteSignature]]:
    """Parse a signed checkpoint WITHOUT verifying it.

    The result is untrusted: the signed-note spec says the text MUST be ignored until a
    signature from a trusted key verifies. Use :func:`verify_signed_checkpoint` for that; this
    is for tools that need to look (e.g. to list who signed). Raises ``InputError``.
    """
    text, signatures = _split_note(note)
    return Checkpoint.from_body(text), signatures


def verify_signed_checkpoint(note: str, key_name: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """Verify a signed checkpoint against one trusted Ed25519 key and return its checkpoint.

    Follows signed-note "Signatures": lines from other keys (a different name or key ID) are
    ignored, so witnesses' cosignatures do not get in the way; every line from the trusted key
    must verify (a bad one rejects the whole note); and at least one must be present.

    Raises ``InputError`` (``RUNID_LOG_CHECKPOINT_INVALID``) for a note that is not a well-formed
    checkpoint, ``ProofError`` (``RUNID_PROOF_INVALID``) when it is not validly signed by the
    key, and ``KeyMaterialError`` (``RUNID_KEY_INVALID``) if ``key_name`` cannot be a key name.
    The signature is checked before the body is parsed, so a tampered body reads as a bad
    signature, not as a malformed checkpoint.
    """
    _check_key_name(key_name)
    text, signatures = _split_note(note)
    expected_id = key_id(key_name, public_key)
    message = text.encode()
    ours = [s for s in signatures if s.key_name == key_name and s.key_id == expected_id]
    if not ours:
        raise ProofError(
            f"the checkpoint carries no signature from key {key_name!r} ({expected_id.hex()})",
            code=ErrorCode.PROOF_INVALID,
            detail={"key_name": key_name, "key_id": expected_id.hex()},
        )
    for signature in ours:
        try:
            if len(signature.signature) != _ED25519_SIGNATURE_SIZE:
                raise InvalidSignature
            public_key.verify(signature.signature, message)
        except InvalidSignature:
            raise ProofError(
                f"the checkpoint signature from key {key_name!r} does not verify",
                code=ErrorCode.PROOF_INVALID,
                detail={"key_name": key_name, "key_id": expected_id.hex()},
            ) from None
    # Only now is the text trusted enough to read.
    return Checkpoint.from_body(text)
