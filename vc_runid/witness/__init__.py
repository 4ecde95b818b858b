"""A C2SP ``tlog-witness``: cosigns a log's checkpoints only when they extend what it saw.

``vc-runid witness init|add-log|serve`` runs one; :mod:`vc_runid.witness.core` is the
protocol's checks and :mod:`vc_runid.witness.server` the home directory and HTTP server.
"""

from .core import Answer, LogKey, Witness, WitnessStore

__all__ = ["Answer", "LogKey", "Witness", "WitnessStore"]
