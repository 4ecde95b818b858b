"""The issuer service (``vc-runid serve``): an HTTP issuer independent of the executor, with a
verifiable run log.

It needs FastAPI and uvicorn, the ``server`` extra (``pip install 'vc-runid[server]'``); nothing
outside this package and the gateway imports them, so the library works without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .app import app_from_env, create_app

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".app": ("app_from_env", "create_app"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "app_from_env",
    "create_app",
]
