"""A client for the vc-runid issuer service (``vc-runid serve``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .issuer import IssuerClient, ServiceError

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".issuer": ("IssuerClient", "ServiceError"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "IssuerClient",
    "ServiceError",
]
