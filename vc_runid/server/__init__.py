"""The issuer service: an HTTP issuer independent of the executor, with a verifiable run log.

``create_app`` builds the FastAPI application; ``commands`` holds the ``serve``/``tokens``/``log``
CLI groups the main ``vc-runid`` command mounts. Nothing outside this package imports it, so the
library works without FastAPI installed.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
