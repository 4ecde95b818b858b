"""RFC 9162 Merkle tree hashing, inclusion proofs and consistency proofs.

The issuer appends one leaf per credential it issues. A signed tree head (see
:mod:`vc_runid.transparency.checkpoint`) commits to every leaf so far; an inclusion proof shows a
credential is in the log, and a consistency proof shows a later tree head extends an earlier one,
so an issuer cannot drop or back-date a run without an auditor noticing.

Two layers live here:

* Module functions (``root_hash``, ``inclusion_proof``, ``consistency_proof``) transcribe the
  recursive definitions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 as directly as possible. They
  cost O(n) hashes per call and serve one-shot use and as the reference the fast tree is checked
  against.
* :class:`MerkleTree` keeps the hash of every complete, aligned power-of-two subtree, so append
  is amortised O(1) and any root or proof, at the current size or an earlier one, is O(log n).

The verifiers (``verify_inclusion``, ``verify_consistency``) follow the iterative algorithms of
RFC 9162 §2.1.3.2 and §2.1.4.2. They never raise on bad input: a verifier answers yes or no.

Example::

    from vc_runid.transparency import MerkleTree, leaf_hash, verify_inclusion

    tree = MerkleTree()
    for credential in (b"vc-1", b"vc-2", b"vc-3"):
        tree.append(leaf_hash(credential))
    proof = tree.inclusion_proof(1)
    assert verify_inclusion(leaf_hash(b"vc-2"), 1, tree.size, proof, tree.root())
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 digest, the hash RFC 9162 §2.1 uses for log version 1 (and RFC 6962)."""

# RFC 9162 §2.1.1: domain separation between leaves and interior nodes, so that a leaf can never
# be passed off as an interior node (second-preimage attack on the tree).
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = HASH(), the root of the empty tree (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry as a leaf: ``SHA-256(0x00 || data)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: ``SHA-256(0x01 || left || right)`` (§2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1): the RFC's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")
    return value


# --- the recursive definitions, transcribed -----------------------------------------------------


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) over leaf hashes (RFC 9162 §2.1.1), without copying slices."""
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of *leaf hashes* (RFC 9162 §2.1.1).

    The input is already hashed with :func:`leaf_hash`, because that is what the log stores and
    what an auditor is sent. The empty tree's root is ``SHA-256("")``.
    """
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def _path(m: int, leaves: Sequence[bytes], lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi]) (RFC 9162 §2.1.3.1), listed from the leaf's sibling upwards."""
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return _path(m, leaves, lo, lo + k) + [_mth(leaves, lo + k, hi)]
    return _path(m - k, leaves, lo + k, hi) + [_mth(leaves, lo, lo + k)]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``leaf_hashes`` (RFC 9162 §2.1.3.1).

    Raises ``ValueError`` if ``index`` is not a leaf of the tree: there is nothing to prove.
    """
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf index {index} is outside a tree of size {len(leaf_hashes)}")
    return _path(index, leaf_hashes, 0, len(leaf_hashes))


def _subproof(m: int, leaves: Sequence[bytes], lo: int, hi: int, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b) (RFC 9162 §2.1.4.1); ``complete`` is the RFC's flag ``b``."""
    n = hi - lo
    if m == n:
        # The old tree is this whole subtree. Its hash is only sent when the verifier cannot
        # already know it, i.e. when it is not the old root itself.
        return [] if complete else [_mth(leaves, lo, hi)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves, lo, lo + k, complete) + [_mth(leaves, lo + k, hi)]
    return _subproof(m - k, leaves, lo + k, hi, False) + [_mth(leaves, lo, lo + k)]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Proof that the first ``old_size`` leaves are a prefix of ``leaf_hashes`` (§2.1.4.1).

    RFC 9162 defines PROOF(m, D[n]) for 0 < m < n; for ``old_size`` 0 or equal to the tree size
    the proof is empty, as every log implementation agrees and as :func:`verify_consistency`
    expects. Raises ``ValueError`` if ``old_size`` is negative or beyond the tree.
    """
    n = len(leaf_hashes)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} is outside 0..{n}")
    if old_size in (0, n):
        return []
    return _subproof(old_size, leaf_hashes, 0, n, True)


# --- verification -------------------------------------------------------------------------------


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    # bool is an int subclass; True is not a tree size.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf ``index`` with hash ``leaf_hash`` is in the tree ``root``.

    The iterative algorithm of RFC 9162 §2.1.3.2, which needs no tree: it climbs from the leaf,
    using the bits of the index to know on which side each sibling sits, and checks it both
    lands on ``root`` and uses exactly as many siblings as a tree of ``tree_size`` has levels.
    """
    if not (_is_size(index) and _is_size(tree_size) and _is_hash(leaf_hash) and _is_hash(root)):
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    # Step 1: the index must name a leaf of the tree.
    if index >= tree_size:
        return False
    # Steps 2-3.
    fn, sn, r = index, tree_size - 1, leaf_hash
    # Step 4.
    for p in proof:
        if sn == 0:  # 4a: more proof than tree.
            return False
        if fn & 1 or fn == sn:  # 4b: p is a left sibling.
            r = node_hash(p, r)
            if not fn & 1:
                # fn is the last node of a level whose width is not a power of two: it has no
                # right sibling, so it is promoted unchanged until it becomes a right child.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:  # p is a right sibling.
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    # Step 5.
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``old_root`` of ``old_size`` is a prefix of ``new_root``.

    The iterative algorithm of RFC 9162 §2.1.4.2: from one proof it rebuilds both roots, so a
    log that rewrote, dropped or reordered any of the first ``old_size`` leaves cannot pass.
    Edge cases the RFC leaves to the caller: equal sizes need an empty proof and equal roots;
    an old size of 0 needs an empty proof and the empty-tree root as ``old_root``.
    """
    if not (_is_size(old_size) and _is_size(new_size)):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if not all(_is_hash(c) for c in proof):
        return False
    if old_size > new_size:
        return False
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if old_size == 0:
        return len(proof) == 0 and old_root == EMPTY_ROOT
    # Step 1.
    if not proof:
        return False
    path = list(proof)
    # Step 2: a power-of-two old tree is a complete subtree of the new one, so the proof omits
    # its hash (the verifier has it); put it back so the walk below starts from it.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Steps 3-4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:  # 6a: more proof than tree.
            return False
        if fn & 1 or fn == sn:  # 6b: c is a left sibling, inside the old tree too.
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:  # c is a right sibling: only the new tree has it.
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    # Step 7.
    return fr == old_root and sr == new_root and sn == 0


# --- the fast tree ------------------------------------------------------------------------------


class MerkleTree:
    """An append-only RFC 9162 Merkle tree with O(log n) roots and proofs at any past size.

    ``_levels[h][i]`` is the hash of the complete subtree of the ``2**h`` leaves starting at
    ``i * 2**h``. Every node of the RFC tree of any size is either such a complete subtree or
    splits into a run of them (the binary digits of its width, left to right), because RFC 9162
    §2.1.1 always puts the largest power of two on the left. So a root or a proof only ever reads
    O(log n) stored hashes and computes O(log n) new ones. Storage is about two hashes per leaf.

    Build it from the leaf hashes a store already holds (``MerkleTree(stored_hashes)``) in O(n).
    The tree is a plain in-memory value; persisting the leaves is the caller's business.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        leaves = [_check_hash(h, "a leaf hash") for h in leaf_hashes]
        levels = [leaves]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        self._levels: list[list[bytes]] = levels

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    def __len__(self) -> int:
        return self.size

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        self._check_index(index, self.size)
        return self._levels[0][index]

    def leaves(self) -> list[bytes]:
        """A copy of all leaf hashes, in log order."""
        return list(self._levels[0])

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash (see :func:`leaf_hash`) and return its index.

        Amortised O(1): the new leaf closes one complete subtree per trailing 1-bit of its index.
        """
        _check_hash(leaf_hash, "a leaf hash")
        levels = self._levels
        levels[0].append(leaf_hash)
        index = len(levels[0]) - 1
        height = 0
        while len(levels[height]) % 2 == 0:
            row = levels[height]
            parent = node_hash(row[-2], row[-1])
            height += 1
            if height == len(levels):
                levels.append([])
            levels[height].append(parent)
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for h in leaf_hashes:
            self.append(h)

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all of them)."""
        n = self._resolve_size(size)
        return self._subtree(0, n) if n else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves (§2.1.3.1).

        Raises ``ValueError`` if ``index`` is not below ``size``.
        """
        n = self._resolve_size(size)
        self._check_index(index, n)
        # Walk down PATH(m, D[lo:hi]) iteratively; siblings come out top-down, the RFC lists
        # them bottom-up.
        siblings: list[bytes] = []
        lo, hi, m = 0, n, index
        while hi - lo > 1:
            k = _split(hi - lo)
            if m < k:
                siblings.append(self._subtree(lo + k, hi - lo - k))
                hi = lo + k
            else:
                siblings.append(self._subtree(lo, k))
                lo, m = lo + k, m - k
        siblings.reverse()
        return siblings

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the first ``old_size`` leaves are a prefix of the first ``new_size``.

        Same result as :func:`consistency_proof` (RFC 9162 §2.1.4.1), empty when ``old_size`` is
        0 or ``new_size``. Raises ``ValueError`` if ``old_size`` is not in ``0..new_size``.
        """
        n = self._resolve_size(new_size)
        if not _is_size(old_size) or old_size > n:
            raise ValueError(f"old size {old_size!r} is outside 0..{n}")
        if old_size in (0, n):
            return []
        nodes: list[bytes] = []
        lo, hi, m, complete = 0, n, old_size, True
        while m != hi - lo:
            k = _split(hi - lo)
            if m <= k:
                nodes.append(self._subtree(lo + k, hi - lo - k))
                hi = lo + k
            else:
                nodes.append(self._subtree(lo, k))
                lo, m, complete = lo + k, m - k, False
        if not complete:
            nodes.append(self._subtree(lo, hi - lo))
        nodes.reverse()
        return nodes

    # -- internals --

    def _resolve_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not _is_size(size) or size > self.size:
            raise ValueError(f"tree size {size!r} is outside 0..{self.size}")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not _is_size(index) or index >= size:
            raise ValueError(f"leaf index {index!r} is outside a tree of size {size}")

    def _subtree(self, start: int, width: int) -> bytes:
        """MTH of the ``width`` leaves from ``start``, for a node of an RFC 9162 tree (width > 0).

        Such a node starts at a multiple of the smallest power of two >= its width, so it is the
        complete subtrees given by the binary digits of ``width``, left to right, folded from the
        right (RFC 9162 §2.1.1 puts the largest power of two on the left at every split).
        """
        pieces: list[bytes] = []
        offset = start
        for height in range(width.bit_length() - 1, -1, -1):
            if width >> height & 1:
                pieces.append(self._levels[height][offset >> height])
                offset += 1 << height
        acc = pieces[-1]
        for piece in reversed(pieces[:-1]):
            acc = node_hash(piece, acc)
        return acc
