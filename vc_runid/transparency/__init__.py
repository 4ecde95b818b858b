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

from vc_runid.transparency.checkpoint import (
    Checkpoint,
    NoteSignature,
    key_id,
    parse_signed_checkpoint,
    parse_vkey,
    sign_checkpoint,
    verify_signed_checkpoint,
    vkey,
)
from vc_runid.transparency.cosignature import (
    Cosignature,
    Witness,
    add_cosignatures,
    cosign,
    cosigner_key_id,
    parse_witness_vkey,
    verify_cosignatures,
)
from vc_runid.transparency.merkle import (
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

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "Cosignature",
    "MerkleTree",
    "NoteSignature",
    "Witness",
    "add_cosignatures",
    "consistency_proof",
    "cosign",
    "cosigner_key_id",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "node_hash",
    "parse_signed_checkpoint",
    "parse_witness_vkey",
    "parse_vkey",
    "root_hash",
    "sign_checkpoint",
    "verify_consistency",
    "verify_cosignatures",
    "verify_inclusion",
    "verify_signed_checkpoint",
    "vkey",
]
