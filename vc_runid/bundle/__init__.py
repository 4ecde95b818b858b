"""Offline audit bundles: one zip an auditor verifies with no network, and its report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .archive import (
        DEFAULT_LIMITS,
        BundleLimits,
        BundleReport,
        RunEntry,
        create_bundle,
        verify_bundle,
    )
    from .report import render_html, render_terminal

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".archive": (
        "DEFAULT_LIMITS", "BundleLimits", "BundleReport", "RunEntry", "create_bundle",
        "verify_bundle",
    ),
    ".report": ("render_html", "render_terminal"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "DEFAULT_LIMITS",
    "BundleLimits",
    "BundleReport",
    "RunEntry",
    "create_bundle",
    "render_html",
    "render_terminal",
    "verify_bundle",
]
