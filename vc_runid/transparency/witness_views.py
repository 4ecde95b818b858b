"""Split-view detection: two checkpoints of one log, both signed by it, that cannot both be true.

A log that shows different auditors different histories must sign, for some size, two different
roots — or a root that the entries it shows another auditor do not hash to. Whoever holds both
holds the proof. An auditor gathers every checkpoint it can see (its own earlier ones, those in
bundles and receipts, those served by witnesses' monitoring endpoints) and hands them here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vc_runid.errors import RunIdError
from vc_runid.transparency.checkpoint import verify_signed_checkpoint

__all__ = ["SplitViews", "find_split_views"]


@dataclass
class SplitViews:
    """``conflicts``: one sentence per proven split view; ``checked``: checkpoints compared;
    ``unsigned``: notes ignored because the log's key did not sign them (not evidence)."""

    conflicts: list[str] = field(default_factory=list)
    checked: int = 0
    unsigned: list[str] = field(default_factory=list)


def find_split_views(
    notes: Iterable[tuple[str, str]],
    key_name: str,
    public_key: Ed25519PublicKey,
    root_at: Callable[[int], bytes | None] | None = None,
) -> SplitViews:
    """Compare ``notes`` (``(where it was seen, signed note)``) with each other and, through
    ``root_at(size)`` (the root the audited entries give at ``size``, ``None`` beyond them), with
    the log itself. Only notes the log's key signed count: anyone can write an unsigned one."""
    result = SplitViews()
    by_size: dict[int, tuple[bytes, str]] = {}
    for where, note in notes:
        try:
            checkpoint = verify_signed_checkpoint(note, key_name, public_key)
        except RunIdError:
            result.unsigned.append(where)
            continue
        result.checked += 1
        size, root = checkpoint.tree_size, checkpoint.root_hash
        seen = by_size.get(size)
        if seen is not None and seen[0] != root:
            result.conflicts.append(
                f"size {size}: {seen[1]} has root {_b64(seen[0])}, {where} has root {_b64(root)}"
            )
        elif seen is None:
            by_size[size] = (root, where)
        expected = root_at(size) if root_at is not None else None
        if expected is not None and expected != root:
            result.conflicts.append(
                f"size {size}: {where} has root {_b64(root)}, the audited entries give {_b64(expected)}"
            )
    return result


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
