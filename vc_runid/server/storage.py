"""Where the issuer service keeps its runs, its log and its client tokens: SQLite or PostgreSQL.

The one operation that matters is :meth:`Storage.commit_batch`: it takes the log lock, assigns
consecutive indices, writes every log entry *and* the run rows they belong to, and commits — all
in ONE transaction. The lock is SQLite's ``BEGIN IMMEDIATE`` (one writer per database file, across
processes) or, on PostgreSQL, ``SELECT … FOR UPDATE`` on the single row of ``log_head`` (one writer
across every service instance). So two entries never share an index and the tree never forks, no
matter how many threads, processes or machines write. Nothing is acknowledged before the commit
returns (the caller only learns the indices from this method's return value).

Preconditions that must hold at the moment of writing (the run exists, belongs to the client and
is not yet bound) are checked inside the same transaction, so a replayed binding racing the first
one cannot slip in between check and write.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ErrorCode, RunError, RunIdError, UsageError

EntryKind = Literal["declaration", "binding", "credential"]

# Tables (same shape on both databases; BLOB/BYTEA and INTEGER/BIGINT aside).
_TABLES = (
    """CREATE TABLE IF NOT EXISTS log_entries (
        idx {int} PRIMARY KEY,
        leaf_hash {blob} NOT NULL,
        kind TEXT NOT NULL,
        credential_id TEXT,
        run_id TEXT,
        entry TEXT NOT NULL,
        logged_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        declaration TEXT NOT NULL,
        declaration_id TEXT NOT NULL,
        declared_at TEXT NOT NULL,
        declaration_index {int} NOT NULL,
        binding TEXT,
        binding_id TEXT,
        bound_at TEXT,
        binding_index {int}
    )""",
    """CREATE TABLE IF NOT EXISTS tokens (
        name TEXT PRIMARY KEY,
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS runs_unbound ON runs (declared_at) WHERE binding IS NULL",
)


@dataclass(frozen=True)
class PendingEntry:
    """One credential to append, with the run row change it implies."""

    kind: EntryKind
    leaf_hash: bytes
    entry: str  # the leaf data as text: RFC 8785 JSON of the secured credential
    credential_id: str | None
    run_id: str | None
    client: str
    logged_at: str
    # declarations: the run row to create
    declaration: str | None = None
    declared_at: str | None = None
    # bindings: the columns to fill
    binding: str | None = None


@dataclass(frozen=True)
class RunRow:
    run_id: str
    client: str
    declaration: str
    declaration_id: str
    declared_at: str
    declaration_index: int
    binding: str | None
    binding_id: str | None
    bound_at: str | None
    binding_index: int | None


@dataclass(frozen=True)
class LogRow:
    index: int
    leaf_hash: bytes
    kind: str
    credential_id: str | None
    run_id: str | None
    entry: str
    logged_at: str


@dataclass(frozen=True)
class TokenRow:
    name: str
    token_sha256: str
    created_at: str
    revoked: bool


Outcome = int | RunIdError  # the index assigned, or why the entry was refused (nothing written)

_RUN_COLUMNS = (
    "run_id, client, declaration, declaration_id, declared_at, declaration_index, "
    "binding, binding_id, bound_at, binding_index"
)


class Storage(ABC):
    """The service's database. Thread-safe: each thread gets its own connection."""

    placeholder = "?"

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()

    # -- connections --

    @abstractmethod
    def _connect(self) -> Any: ...

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                with suppress(Exception):  # closing on shutdown: nothing to report
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._conn()
        with self._read_txn(conn):
            return list(conn.execute(self._sql(statement), tuple(params)).fetchall())

    @abstractmethod
    def _read_txn(self, conn: Any) -> Any: ...

    @abstractmethod
    @contextmanager
    def _write_txn(self) -> Iterator[tuple[Any, int]]:
        """A transaction holding the log lock; yields (connection, current log size)."""

    def _set_size(self, conn: Any, size: int) -> None:
        """Record the new log size inside the write transaction (PostgreSQL's lock row)."""

    # -- the log --

    def commit_batch(
        self, known_size: int, items: Sequence[PendingEntry]
    ) -> tuple[list[tuple[int, bytes]], list[Outcome]]:
        """Append ``items`` in one transaction. Returns the leaves other writers committed since
        ``known_size`` (so the caller's tree can catch up first) and, per item, its index or the
        error that refused it. Raises if the transaction fails: then nothing was written."""
        with self._write_txn() as (conn, size):
            others = [
                (int(i), bytes(h))
                for i, h in conn.execute(
                    self._sql("SELECT idx, leaf_hash FROM log_entries WHERE idx >= ? ORDER BY idx"),
                    (known_size,),
                ).fetchall()
            ]
            outcomes: list[Outcome] = []
            next_index = size
            for item in items:
                refusal = self._precondition(conn, item)
                if refusal is not None:
                    outcomes.append(refusal)
                    continue
                conn.execute(
                    self._sql(
                        "INSERT INTO log_entries (idx, leaf_hash, kind, credential_id, run_id, entry, logged_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)"
                    ),
                    (next_index, item.leaf_hash, item.kind, item.credential_id, item.run_id, item.entry, item.logged_at),
                )
                if item.kind == "declaration":
                    conn.execute(
                        self._sql(
                            "INSERT INTO runs (run_id, client, declaration, declaration_id, declared_at, "
                            "declaration_index) VALUES (?, ?, ?, ?, ?, ?)"
                        ),
                        (item.run_id, item.client, item.declaration, item.credential_id, item.declared_at, next_index),
                    )
                elif item.kind == "binding":
                    conn.execute(
                        self._sql(
                            "UPDATE runs SET binding = ?, binding_id = ?, bound_at = ?, binding_index = ? "
                            "WHERE run_id = ? AND binding IS NULL"
                        ),
                        (item.binding, item.credential_id, item.logged_at, next_index, item.run_id),
                    )
                outcomes.append(next_index)
                next_index += 1
            self._set_size(conn, next_index)
        return others, outcomes

    def _precondition(self, conn: Any, item: PendingEntry) -> RunIdError | None:
        if item.kind == "declaration":
            row = conn.execute(self._sql("SELECT 1 FROM runs WHERE run_id = ?"), (item.run_id,)).fetchone()
            if row is not None:
                return RunError(f"run {item.run_id} is already declared", code=ErrorCode.RUN_EXISTS)
        elif item.kind == "binding":
            row = conn.execute(
                self._sql("SELECT client, binding FROM runs WHERE run_id = ?"), (item.run_id,)
            ).fetchone()
            if row is None:
                return RunError(f"no run {item.run_id} was declared here", code=ErrorCode.RUN_NOT_FOUND)
            if row[0] != item.client:
                return ForbiddenError(f"run {item.run_id} was declared by another client")
            if row[1] is not None:
                return RunError(f"run {item.run_id} is already bound", code=ErrorCode.ALREADY_BOUND)
        return None

    def leaf_hashes(self, start: int = 0) -> list[tuple[int, bytes]]:
        rows = self._read("SELECT idx, leaf_hash FROM log_entries WHERE idx >= ? ORDER BY idx", (start,))
        return [(int(i), bytes(h)) for i, h in rows]

    def entries(self, start: int, end: int) -> list[LogRow]:
        rows = self._read(
            "SELECT idx, leaf_hash, kind, credential_id, run_id, entry, logged_at FROM log_entries "
            "WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        )
        return [LogRow(int(r[0]), bytes(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def size(self) -> int:
        rows = self._read("SELECT COUNT(*) FROM log_entries")
        return int(rows[0][0])

    # -- runs --

    def get_run(self, run_id: str) -> RunRow | None:
        rows = self._read(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
        return _run_row(rows[0]) if rows else None

    def runs(self) -> list[RunRow]:
        return [_run_row(r) for r in self._read(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY declaration_index")]

    # -- tokens --

    def add_token(self, name: str, token_sha256: str, created_at: str) -> None:
        conn = self._conn()
        try:
            with self._plain_txn(conn):
                conn.execute(
                    self._sql("INSERT INTO tokens (name, token_sha256, created_at, revoked) VALUES (?, ?, ?, 0)"),
                    (name, token_sha256, created_at),
                )
        except Exception as exc:
            if self._is_integrity_error(exc):
                raise UsageError(f"a token named {name!r} already exists (revoke it or pick another name)") from exc
            raise

    def revoke_token(self, name: str) -> bool:
        conn = self._conn()
        with self._plain_txn(conn):
            cursor = conn.execute(
                self._sql("UPDATE tokens SET revoked = 1 WHERE name = ? AND revoked = 0"), (name,)
            )
            return bool(cursor.rowcount)

    def token_client(self, token_sha256: str) -> str | None:
        rows = self._read("SELECT name FROM tokens WHERE token_sha256 = ? AND revoked = 0", (token_sha256,))
        return str(rows[0][0]) if rows else None

    def tokens(self) -> list[TokenRow]:
        rows = self._read("SELECT name, token_sha256, created_at, revoked FROM tokens ORDER BY name")
        return [TokenRow(r[0], r[1], r[2], bool(r[3])) for r in rows]

    @abstractmethod
    def _plain_txn(self, conn: Any) -> Any: ...

    @abstractmethod
    def _is_integrity_error(self, exc: Exception) -> bool: ...

    @property
    @abstractmethod
    def description(self) -> str: ...


class ForbiddenError(RunError):
    """A client acted on a run another client declared (HTTP 403)."""

    default_code = ErrorCode.RUN_FORBIDDEN


def _run_row(r: Sequence[Any]) -> RunRow:
    return RunRow(
        run_id=r[0], client=r[1], declaration=r[2], declaration_id=r[3], declared_at=r[4],
        declaration_index=int(r[5]), binding=r[6], binding_id=r[7], bound_at=r[8],
        binding_index=None if r[9] is None else int(r[9]),
    )


# --- SQLite -----------------------------------------------------------------------------------


class SqliteStorage(Storage):
    """The zero-setup default: ``<home>/service.sqlite3``, WAL, ``synchronous=FULL`` (every commit
    is fsynced before it returns, so an acknowledged entry survives power loss, not just a crash)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in _TABLES:
            conn.execute(statement.format(int="INTEGER", blob="BLOB"))

    @property
    def description(self) -> str:
        return f"sqlite:{self.path}"

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves, so the lock is taken when we say.
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=60000")
        return conn

    @contextmanager
    def _begin(self, conn: sqlite3.Connection, mode: str) -> Iterator[None]:
        conn.execute(f"BEGIN {mode}")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _read_txn(self, conn: sqlite3.Connection) -> Any:
        return self._begin(conn, "DEFERRED")

    def _plain_txn(self, conn: sqlite3.Connection) -> Any:
        return self._begin(conn, "IMMEDIATE")

    @contextmanager
    def _write_txn(self) -> Iterator[tuple[Any, int]]:
        conn = self._conn()
        # IMMEDIATE takes the database's write lock now, before we read the size: no other
        # connection (thread, process) can append between our read and our commit.
        with self._begin(conn, "IMMEDIATE"):
            (size,) = conn.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries").fetchone()
            yield conn, int(size)

    def _is_integrity_error(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)


# --- PostgreSQL --------------------------------------------------------------------------------


class PostgresStorage(Storage):
    """Several service instances share one PostgreSQL database; ``log_head`` is the single row
    whose row lock serialises appends across all of them."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise UsageError("PostgreSQL support needs psycopg 3: pip install 'psycopg[binary]'") from exc
        self._psycopg = psycopg
        super().__init__()
        self.url = url
        conn = self._conn()
        with conn.transaction():
            # Concurrent first starts of several instances: serialise the DDL too.
            conn.execute("SELECT pg_advisory_xact_lock(7262733)")
            for statement in _TABLES:
                conn.execute(statement.format(int="BIGINT", blob="BYTEA"))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS log_head (id INTEGER PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL)"
            )
            conn.execute(
                "INSERT INTO log_head (id, size) SELECT 1, COALESCE(MAX(idx) + 1, 0) FROM log_entries "
                "ON CONFLICT (id) DO NOTHING"
            )

    @property
    def description(self) -> str:
        return "postgresql"

    def _connect(self) -> Any:
        # autocommit: transactions are explicit (conn.transaction()), never implicit.
        return self._psycopg.connect(self.url, autocommit=True)

    def _read_txn(self, conn: Any) -> Any:
        return conn.transaction()

    def _plain_txn(self, conn: Any) -> Any:
        return conn.transaction()

    @contextmanager
    def _write_txn(self) -> Iterator[tuple[Any, int]]:
        conn = self._conn()
        with conn.transaction():
            (size,) = conn.execute("SELECT size FROM log_head WHERE id = 1 FOR UPDATE").fetchone()
            yield conn, int(size)

    def _set_size(self, conn: Any, size: int) -> None:
        conn.execute("UPDATE log_head SET size = %s WHERE id = 1", (size,))

    def _is_integrity_error(self, exc: Exception) -> bool:
        return isinstance(exc, self._psycopg.errors.IntegrityError)


def open_storage(home: Path, database: str | None) -> Storage:
    """``database`` None → SQLite in ``home``; ``postgresql://…`` → PostgreSQL; ``sqlite:///path``
    → that SQLite file."""
    if database is None:
        return SqliteStorage(home / "service.sqlite3")
    if database.startswith(("postgresql://", "postgres://")):
        return PostgresStorage(database)
    if database.startswith("sqlite:///"):
        return SqliteStorage(Path(database.removeprefix("sqlite://")))
    raise UsageError(f"unsupported --database {database!r}: use postgresql://… or sqlite:///path")


__all__ = [
    "EntryKind",
    "ForbiddenError",
    "LogRow",
    "Outcome",
    "PendingEntry",
    "PostgresStorage",
    "RunRow",
    "SqliteStorage",
    "Storage",
    "TokenRow",
    "open_storage",
]
