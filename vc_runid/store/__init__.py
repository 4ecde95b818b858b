"""The home directory: run store, run files and receipts. The only code that knows its layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .files import read_disclosures, read_secured, receipt_path, write_secured
    from .runs import RunRecord, RunStore

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".runs": ("RunRecord", "RunStore"),
    ".files": ("read_disclosures", "read_secured", "receipt_path", "write_secured"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "RunRecord",
    "RunStore",
    "read_disclosures",
    "read_secured",
    "receipt_path",
    "write_secured",
]
