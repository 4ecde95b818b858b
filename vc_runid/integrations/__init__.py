"""Instrumentation for code that already calls a model, one module per SDK:
``vc_runid.integrations.openai`` (the official OpenAI SDK, extra ``openai``) and
``vc_runid.integrations.otel`` (OpenTelemetry linkage, extra ``otel``).

Import the module you use; neither is imported here, so neither SDK is needed until then.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["openai", "otel"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)
