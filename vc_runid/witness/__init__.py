"""A C2SP ``tlog-witness``: cosigns a log's checkpoints only when they extend what it saw.

``vc-runid witness init|add-log|serve`` runs one: ``Witness`` is the protocol's checks,
``init_witness``/``load_witness``/``serve`` the home directory and HTTP server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .core import Answer, LogKey, Witness, WitnessStore
    from .server import add_log, init_witness, load_witness, serve

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".core": ("Answer", "LogKey", "Witness", "WitnessStore"),
    ".server": ("add_log", "init_witness", "load_witness", "serve"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Answer",
    "LogKey",
    "Witness",
    "WitnessStore",
    "add_log",
    "init_witness",
    "load_witness",
    "serve",
]
