"""``vc-runid demo``: the whole job on the embedded default, with a bundled toy model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .job import run_demo
    from .model import MODEL_ID, WEIGHTS_DIR, BigramModel

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".model": ("MODEL_ID", "WEIGHTS_DIR", "BigramModel"),
    ".job": ("run_demo",),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "MODEL_ID",
    "WEIGHTS_DIR",
    "BigramModel",
    "run_demo",
]
