"""The `vc-runid` command: thin shells over the library workflows."""

from .main import app, main

__all__ = ["app", "main"]
