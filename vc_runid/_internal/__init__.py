"""Internals: bounded file reads, encodings, XML Schema time, the pinned JSON-LD contexts, safe-mode JSON-LD and RDFC.

Nothing here is public API; it may change in any release.
"""
