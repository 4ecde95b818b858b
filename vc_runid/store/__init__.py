"""The home directory: keys, run store, status registry, run files and receipts. The only code
that knows its layout (``vc_runid.store.home``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .files import read_disclosures, read_secured, receipt_path, write_secured
    from .home import KeyStore, default_home, init_home, load_issuer
    from .runs import RunRecord, RunStore
    from .status import StatusRecord, StatusRegistry

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".runs": ("RunRecord", "RunStore"),
    ".files": ("read_disclosures", "read_secured", "receipt_path", "write_secured"),
    ".home": ("KeyStore", "default_home", "init_home", "load_issuer"),
    ".status": ("StatusRecord", "StatusRegistry"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "KeyStore",
    "RunRecord",
    "RunStore",
    "StatusRecord",
    "StatusRegistry",
    "default_home",
    "init_home",
    "load_issuer",
    "read_disclosures",
    "read_secured",
    "receipt_path",
    "write_secured",
]
