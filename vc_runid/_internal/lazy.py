"""Re-exports loaded on first use (PEP 562), for the package ``__init__`` files.

A package root lists its public names, but importing every module behind them would make each
``vc-runid`` command pay for the whole library (tests/test_cold_start.py) and would pull optional
dependencies (FastAPI, the OpenAI SDK) into code that never uses them.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import EXTRA_OF, missing_extra


def lazy_exports(
    package: str, modules: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, which re-exports each name listed under
    a module (``".credentials"``, relative to the package) from it the first time it is asked for."""
    exports = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(module, package), name)
        except ModuleNotFoundError as exc:
            # An optional dependency (FastAPI for the service): say which extra installs it.
            top = (exc.name or "").partition(".")[0]
            refusal = missing_extra(f"{package}.{name}", top) if top in EXTRA_OF else None
            if refusal is None:
                raise
            raise refusal from exc
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__


# --- pyld without its network loader ------------------------------------------------------------

#: What pyld would pick its default document loader from when it is imported.
_NETWORK_CLIENTS = ("requests", "aiohttp")


class _OfflineSourceLoader(importlib.machinery.SourceFileLoader):
    """Runs ``pyld.jsonld`` with requests and aiohttp hidden (see ``keep_pyld_offline``)."""

    def exec_module(self, module: Any) -> None:
        hidden = [name for name in _NETWORK_CLIENTS if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # "import requests" raises ImportError
        try:
            super().exec_module(module)
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]


class _PyldOffline:
    """A meta path finder for ``pyld.jsonld`` alone: found as usual, run by ``_OfflineSourceLoader``."""

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "pyld.jsonld":
            return None
        sys.meta_path[:] = [finder for finder in sys.meta_path if finder is not cls]  # one module, once
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        origin = spec.origin if spec is not None else None
        if spec is None or origin is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec  # not a plain source file: imported as it is (requests and all)
        return importlib.util.spec_from_file_location(name, origin, loader=_OfflineSourceLoader(name, origin))


def keep_pyld_offline() -> None:
    """Have pyld, whenever it is first imported, leave its network document loader out.

    pyld picks a default document loader when ``pyld.jsonld`` is imported, importing requests
    (~80 ms) for it. vc-runid always passes its own offline loader, so pyld's default is never
    used; without requests pyld falls back to a loader that refuses every URL, which is the
    fail-closed default anyway. Only that module's own import sees requests missing: the entries
    are removed right after. Nothing is imported here: a command that never expands JSON-LD
    (``--help``) does not pay for pyld (~90 ms) at all.
    """
    if "pyld.jsonld" in sys.modules or _PyldOffline in sys.meta_path:
        return
    sys.meta_path.insert(0, _PyldOffline)
