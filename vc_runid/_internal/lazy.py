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
import threading
import types
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

#: What pyld would pick its default document loader from when it is imported: the clients, and
#: pyld's modules for them (the aiohttp one imports asyncio, ~40 ms, before it finds no aiohttp).
_NETWORK_CLIENTS = ("requests", "aiohttp", "pyld.documentloader.requests", "pyld.documentloader.aiohttp")


class _OfflineSourceLoader(importlib.machinery.SourceFileLoader):
    """Runs ``pyld.jsonld`` with requests and aiohttp hidden and lxml's HTML parser deferred
    (see ``keep_pyld_offline``)."""

    def exec_module(self, module: Any) -> None:
        hidden = [name for name in _NETWORK_CLIENTS if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # "import requests" raises ImportError
        _defer_import(_HTML_PARSER)
        try:
            super().exec_module(module)
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]


#: Held while a deferred module runs (below): a thread that asks for one of its names meanwhile
#: waits for it instead of finding the module half made. Reentrant: the module's own imports may
#: ask for names again.
_DEFERRED_LOCK = threading.RLock()


class _DeferredInitLoader(importlib.machinery.SourceFileLoader):
    """Makes the ``pyld`` package without running its ``__init__`` (which imports every document
    loader pyld has, asyncio among them) until a name only that ``__init__`` defines is asked for
    (``pyld.FrozenDocumentLoader``, ``from pyld import *``). Its submodules import as usual: the
    package's ``__path__`` is there. One difference remains: ``pyld.documentloader.requests`` is
    an attribute only once something imported it (pyld's ``__init__`` imports it first thing)."""

    def exec_module(self, module: Any) -> None:
        loader = self
        ran = False

        def __getattr__(name: str) -> Any:
            nonlocal ran
            if name.startswith("__") and name != "__all__":
                raise AttributeError(name)  # a probe (__file__, __version__...): nothing to run for it
            if importlib.machinery.PathFinder.find_spec(f"{module.__name__}.{name}", module.__path__):
                raise AttributeError(name)  # a submodule not imported yet: "from pyld import x" imports it
            with _DEFERRED_LOCK:
                if not ran:
                    ran = True
                    try:
                        importlib.machinery.SourceFileLoader.exec_module(loader, module)
                    finally:
                        vars(module).pop("__getattr__", None)
            try:
                return vars(module)[name]
            except KeyError:
                raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}") from None

        module.__getattr__ = __getattr__
        # What the __init__ does first, and what its modules rely on: pyld.context_resolver and
        # pyld.jsonld import each other, and only work when the import starts with pyld.jsonld.
        importlib.import_module(f"{module.__name__}.jsonld")


def _defer_import(name: str) -> None:
    """Put a stand-in for module ``name`` in ``sys.modules`` (and on its parent package, as an
    import would) that imports the module the first time one of its names is read: for a
    dependency's import that is almost never used. (``importlib.util.LazyLoader`` will not do:
    a later ``import`` statement of the name reads its ``__spec__``, which loads it.) A name
    bound to the stand-in itself (``import lxml.html as html`` before first use) stays the
    stand-in, which hands on every name read through it."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    parent, _, child = name.rpartition(".")
    stand_in = _StandIn(name)
    # What a probe reads of a module (its file, path, loader) is answered without loading it.
    stand_in.__spec__ = spec
    stand_in.__loader__ = spec.loader
    stand_in.__package__ = spec.parent
    stand_in.__file__ = spec.origin
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = stand_in
    if parent:
        setattr(sys.modules[parent], child, stand_in)


class _StandIn(types.ModuleType):
    """See ``_defer_import``."""

    def __getattr__(self, attribute: str) -> Any:
        name = self.__name__
        if attribute.startswith("__") and attribute != "__all__":
            raise AttributeError(attribute)  # a probe (__version__, __wrapped__...): not a use
        with _DEFERRED_LOCK:
            if sys.modules.get(name) is self:
                sys.modules.pop(name, None)
            module = importlib.import_module(name)  # sets itself on the parent package
        return getattr(module, attribute)


#: pyld.jsonld imports it for JSON-LD embedded in HTML, which vc-runid never reads (~20 ms).
_HTML_PARSER = "lxml.html"


class _PyldOffline:
    """A meta path finder for ``pyld`` and ``pyld.jsonld`` alone: found as usual, the package made
    by ``_DeferredInitLoader`` and ``pyld.jsonld`` run by ``_OfflineSourceLoader``."""

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in ("pyld", "pyld.jsonld"):
            return None
        if name == "pyld.jsonld":
            sys.meta_path[:] = [finder for finder in sys.meta_path if finder is not cls]  # once
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        origin = spec.origin if spec is not None else None
        if spec is None or origin is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec  # not a plain source file: imported as it is (requests and all)
        if name == "pyld":
            return importlib.util.spec_from_file_location(
                name, origin, loader=_DeferredInitLoader(name, origin),
                submodule_search_locations=spec.submodule_search_locations,
            )
        return importlib.util.spec_from_file_location(name, origin, loader=_OfflineSourceLoader(name, origin))


def keep_pyld_offline() -> None:
    """Have pyld, whenever it is first imported, leave its network document loader out.

    pyld picks a default document loader when ``pyld.jsonld`` is imported, importing requests
    (~80 ms) for it. vc-runid always passes its own offline loader, so pyld's default is never
    used; with its network loader modules hidden pyld falls back to a loader that refuses every
    URL, the fail-closed default, even when requests was imported before. Only that module's own
    import sees them missing: the entries are removed right after (a thread importing requests at
    that very moment would see it missing too). The package's ``__init__`` (every document
    loader, asyncio among them, ~40 ms) and lxml's HTML parser (~20 ms) run only if something
    uses them. Nothing is imported here: a command that never expands JSON-LD (``--help``) does
    not pay for pyld at all.
    """
    if "pyld.jsonld" in sys.modules or _PyldOffline in sys.meta_path:
        return
    sys.meta_path.insert(0, _PyldOffline)
