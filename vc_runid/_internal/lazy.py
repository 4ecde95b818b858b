"""Re-exports loaded on first use (PEP 562), for the package ``__init__`` files.

A package root lists its public names, but importing every module behind them would make each
``vc-runid`` command pay for the whole library (tests/test_cold_start.py) and would pull optional
dependencies (FastAPI, the OpenAI SDK) into code that never uses them.
"""

from __future__ import annotations

import importlib
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
