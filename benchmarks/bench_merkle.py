"""Rates of the transparency log's Merkle tree at 100,000 leaves.

Run: ``python benchmarks/bench_merkle.py [leaves]``. Prints figures; asserts nothing (timing
is for people, correctness is in tests/test_merkle.py).
"""

from __future__ import annotations

import random
import sys
import time

from vc_runid.transparency import MerkleTree, leaf_hash, verify_consistency, verify_inclusion


def _rate(label: str, count: int, seconds: float) -> None:
    per = seconds / count
    unit = f"{per * 1e6:8.1f} µs" if per < 1e-3 else f"{per * 1e3:8.2f} ms"
    print(f"{label:<34} {count:>8} in {seconds:6.3f} s  {unit} each  {count / seconds:>12,.0f}/s")


def main(n: int = 100_000, samples: int = 2_000) -> None:
    rng = random.Random(0)
    hashes = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]

    start = time.perf_counter()
    tree = MerkleTree()
    for h in hashes:
        tree.append(h)
    _rate("append", n, time.perf_counter() - start)

    start = time.perf_counter()
    loaded = MerkleTree(hashes)
    _rate("load from stored hashes (whole)", 1, time.perf_counter() - start)

    start = time.perf_counter()
    root = tree.root()
    _rate("root (current size)", 1, time.perf_counter() - start)
    assert loaded.root() == root

    sizes = [rng.randint(1, n) for _ in range(samples)]
    start = time.perf_counter()
    for s in sizes:
        tree.root(s)
    _rate("root (random earlier size)", samples, time.perf_counter() - start)

    indices = [rng.randrange(n) for _ in range(samples)]
    start = time.perf_counter()
    proofs = [tree.inclusion_proof(i) for i in indices]
    _rate("inclusion proof", samples, time.perf_counter() - start)

    start = time.perf_counter()
    for i, proof in zip(indices, proofs, strict=True):
        assert verify_inclusion(hashes[i], i, n, proof, root)
    _rate("verify inclusion", samples, time.perf_counter() - start)

    olds = [rng.randint(1, n - 1) for _ in range(samples)]
    start = time.perf_counter()
    cproofs = [tree.consistency_proof(m) for m in olds]
    _rate("consistency proof", samples, time.perf_counter() - start)

    old_roots = [tree.root(m) for m in olds]
    start = time.perf_counter()
    for m, old_root, proof in zip(olds, old_roots, cproofs, strict=True):
        assert verify_consistency(m, n, old_root, root, proof)
    _rate("verify consistency", samples, time.perf_counter() - start)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
