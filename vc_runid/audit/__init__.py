"""The auditor's tools: bulk verification of run directories, and the audit of a service's log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .bulk import (
        AuditRow,
        AuditSummary,
        audit_run,
        audit_runs,
        discover_runs,
        write_csv,
        write_json,
    )
    from .log import AuditEntry, AuditReport, audit_entries

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".bulk": (
        "AuditRow", "AuditSummary", "audit_run", "audit_runs", "discover_runs", "write_csv",
        "write_json",
    ),
    ".log": ("AuditEntry", "AuditReport", "audit_entries"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "AuditEntry",
    "AuditReport",
    "AuditRow",
    "AuditSummary",
    "audit_entries",
    "audit_run",
    "audit_runs",
    "discover_runs",
    "write_csv",
    "write_json",
]
