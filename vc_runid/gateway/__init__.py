"""The declaring gateway (``vc-runid gateway``, docs/gateway.md): an OpenAI-compatible proxy that
declares each call before forwarding it and binds the answer. Needs the ``server`` extra."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .app import Gateway, create_gateway_app
    from .declarer import Declarer, LocalDeclarer, ServiceDeclarer
    from .registry import ModelRegistration, ModelRegistry

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".app": ("Gateway", "create_gateway_app"),
    ".declarer": ("Declarer", "LocalDeclarer", "ServiceDeclarer"),
    ".registry": ("ModelRegistration", "ModelRegistry"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Declarer",
    "Gateway",
    "LocalDeclarer",
    "ModelRegistration",
    "ModelRegistry",
    "ServiceDeclarer",
    "create_gateway_app",
]
