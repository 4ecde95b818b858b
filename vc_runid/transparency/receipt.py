"""A log receipt: where one entry sits in a log, proven against a signed checkpoint.

The one model of a receipt, used by the issuer service that hands receipts out, the audit bundle
that carries them, and the trust policy that requires them (RFC 9162 §2.1.3 inclusion proofs,
c2sp.org/tlog-checkpoint checkpoints).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from vc_runid.errors import ErrorCode, LogError
from vc_runid.transparency.checkpoint import Checkpoint, verify_signed_checkpoint
from vc_runid.transparency.merkle import HASH_SIZE, leaf_hash, verify_inclusion

__all__ = ["Receipt", "verify_receipt"]

#: A proof is at most one hash per tree level; 64 levels hold any log.
_MAX_PROOF_LENGTH = 64


class Receipt(BaseModel):
    """Where a credential sits in the log, and the proof of it against a signed checkpoint."""

    model_config = ConfigDict(extra="forbid")

    leafIndex: int = Field(ge=0)
    treeSize: int = Field(ge=1)
    checkpoint: str  # the signed note (c2sp.org/tlog-checkpoint)
    inclusionProof: list[str] = Field(max_length=_MAX_PROOF_LENGTH)  # base64 sibling hashes, leaf upwards


def _hashes(receipt: Receipt) -> list[bytes]:
    hashes = []
    for text in receipt.inclusionProof:
        try:
            value = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            value = b""
        if len(value) != HASH_SIZE:
            raise LogError(f"inclusion proof hash {text[:16]!r} is not a base64 SHA-256 hash", code=ErrorCode.LOG_INCLUSION_INVALID)
        hashes.append(value)
    return hashes


def verify_receipt(leaf_data: bytes, receipt: Receipt, key_name: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint ``receipt`` proves ``leaf_data`` is included under; raises
    ``RUNID_LOG_CHECKPOINT_INVALID`` (not signed by that key) or ``RUNID_LOG_INCLUSION_INVALID``."""
    checkpoint = verify_signed_checkpoint(receipt.checkpoint, key_name, public_key)
    if checkpoint.tree_size != receipt.treeSize:
        raise LogError(
            f"the receipt says tree size {receipt.treeSize}, its checkpoint {checkpoint.tree_size}",
            code=ErrorCode.LOG_INCLUSION_INVALID,
        )
    if receipt.leafIndex >= receipt.treeSize or not verify_inclusion(
        leaf_hash(leaf_data), receipt.leafIndex, receipt.treeSize, _hashes(receipt), checkpoint.root_hash
    ):
        raise LogError(
            "the inclusion proof does not lead from this entry to the signed root",
            code=ErrorCode.LOG_INCLUSION_INVALID,
        )
    return checkpoint
