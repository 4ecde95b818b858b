"""One transaction on one of the home's embedded SQLite databases (runs, status registry)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` whose work is committed on leaving (rolled back on an error), then
    closed. It waits up to 30 s for another process's write to finish."""
    db = sqlite3.connect(path, timeout=30)
    try:
        with db:
            yield db
    finally:
        db.close()
