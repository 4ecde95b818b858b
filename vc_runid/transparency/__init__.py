"""The append-only log of issued credentials: RFC 9162 Merkle proofs and signed checkpoints.

Every credential the issuer service issues becomes one leaf. A checkpoint (a signed tree head in
the C2SP ``tlog-checkpoint`` format) commits to all leaves so far; inclusion proofs show a
credential is in the log and consistency proofs show the log only ever grew, which is how an
auditor catches an omitted or back-dated run.

Witnesses (C2SP ``tlog-cosignature``) cosign checkpoints they have checked are consistent with
every one they saw before, which is what makes a split view (a different history shown to
different auditors) detectable offline: see :func:`verify_cosignatures`.

Everything here is a pure function of its inputs; storing leaves and checkpoints is the
caller's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .checkpoint import (
        Checkpoint,
        NoteSignature,
        key_id,
        parse_signed_checkpoint,
        parse_vkey,
        sign_checkpoint,
        verify_signed_checkpoint,
        vkey,
    )
    from .cosignature import (
        Cosignature,
        Witness,
        add_cosignatures,
        cosign,
        cosigner_key_id,
        parse_witness_vkey,
        verify_cosignatures,
    )
    from .merkle import (
        EMPTY_ROOT,
        HASH_SIZE,
        MerkleTree,
        consistency_proof,
        inclusion_proof,
        leaf_hash,
        node_hash,
        root_hash,
        verify_consistency,
        verify_inclusion,
    )
    from .receipt import Receipt, verify_receipt
    from .witness_views import SplitViews, find_split_views

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".checkpoint": (
        "Checkpoint", "NoteSignature", "key_id", "parse_signed_checkpoint", "parse_vkey",
        "sign_checkpoint", "verify_signed_checkpoint", "vkey",
    ),
    ".cosignature": (
        "Cosignature", "Witness", "add_cosignatures", "cosign", "cosigner_key_id",
        "parse_witness_vkey", "verify_cosignatures",
    ),
    ".merkle": (
        "EMPTY_ROOT", "HASH_SIZE", "MerkleTree", "consistency_proof", "inclusion_proof",
        "leaf_hash", "node_hash", "root_hash", "verify_consistency", "verify_inclusion",
    ),
    ".receipt": ("Receipt", "verify_receipt"),
    ".witness_views": ("SplitViews", "find_split_views"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "Cosignature",
    "MerkleTree",
    "NoteSignature",
    "Receipt",
    "SplitViews",
    "Witness",
    "add_cosignatures",
    "consistency_proof",
    "cosign",
    "cosigner_key_id",
    "find_split_views",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "node_hash",
    "parse_signed_checkpoint",
    "parse_vkey",
    "parse_witness_vkey",
    "root_hash",
    "sign_checkpoint",
    "verify_consistency",
    "verify_cosignatures",
    "verify_inclusion",
    "verify_receipt",
    "verify_signed_checkpoint",
    "vkey",
]
