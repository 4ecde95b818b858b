"""The declaring gateway (``vc-runid gateway``): see ``app.py`` and docs/gateway.md."""

from .app import Gateway, create_gateway_app
from .declarer import Declarer, LocalDeclarer, ServiceDeclarer
from .registry import ModelRegistration, ModelRegistry

__all__ = ["Declarer", "Gateway", "LocalDeclarer", "ModelRegistration", "ModelRegistry", "ServiceDeclarer", "create_gateway_app"]
