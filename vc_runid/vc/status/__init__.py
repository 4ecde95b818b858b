"""Bitstring Status List v1.0: revocation entries, status list credentials, and fetching them on request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .bitstring import (
        REVOCATION,
        SUSPENSION,
        StatusResult,
        build_status_list_credential,
        check_status,
        issue_status_list,
        load_status_lists,
        read_status,
        status_entry,
    )
    from .fetch import fetch_status_lists, status_list_urls

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".bitstring": (
        "REVOCATION", "SUSPENSION", "StatusResult",
        "build_status_list_credential", "check_status", "issue_status_list", "load_status_lists", "read_status",
        "status_entry",
    ),
    ".fetch": ("fetch_status_lists", "status_list_urls"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "REVOCATION",
    "SUSPENSION",
    "StatusResult",
    "build_status_list_credential",
    "check_status",
    "issue_status_list",
    "fetch_status_lists",
    "load_status_lists",
    "read_status",
    "status_entry",
    "status_list_urls",
]
