"""Where the issuer service keeps its runs, its log and its client tokens: SQLite or PostgreSQL.

The one operation that matters is :meth:`Storage.commit_batch`: it takes the log lock, assigns
consecutive indices, writes every log entry *and* the run rows they belong to, and commits — all
in ONE transaction. The lock is SQLite's ``BEGIN IMMEDIATE`` (one writer per database file, across
processes; the service's writers first queue on a ``flock`` of ``<database>.lock``, which hands it
over without SQLite's sleep-and-retry) or, on PostgreSQL, ``SELECT … FOR UPDATE`` on the single
row of ``log_head`` (one writer across every service instance). So two entries never share an
index and the tree never forks, no matter how many threads, processes or machines write. Nothing
is acknowledged before the commit returns (the caller only learns the indices from this method's
return value).

Preconditions that must hold at the moment of writing (the run exists, belongs to the client and
is not yet bound) are checked inside the same transaction, so a replayed binding racing the first
one cannot slip in between check and write.

Revocation (W3C Bitstring Status List) lives here too. A credential's status list index has to be
in the credential *before* it is signed, so indices are reserved ahead, in blocks, from the
``status_head`` counter (:meth:`Storage.reserve_status_indices`); the counter only ever grows, so
an index is never handed out twice, even across crashes, processes and instances (an index
reserved but never used stays a 0 bit nobody points to). Which credential owns an index is
written by ``commit_batch`` in the transaction that logs the credential, and a revocation sets
the credential's bit in the transaction that logs the revocation: the status list never says
anything the log does not.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ErrorCode, HttpServiceError, RunError, RunIdError, UsageError
from ..store.home import SERVICE_DB

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]

#: ``credential``: signed by the generic issuer (``POST /credentials/issue``); ``status-list``: a
#: status list the run issuer signed and published (server/status.py).
EntryKind = Literal["declaration", "binding", "credential", "revocation", "status-list"]

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
        revoked INTEGER NOT NULL DEFAULT 0,
        admin INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS runs_unbound ON runs (declared_at) WHERE binding IS NULL",
    # One row per credential with a status list entry; idx is its bit in the list.
    """CREATE TABLE IF NOT EXISTS status_entries (
        idx {int} PRIMARY KEY,
        credential_id TEXT NOT NULL UNIQUE,
        run_id TEXT,
        revoked_at TEXT,
        reason TEXT,
        revocation_index {int}
    )""",
    "CREATE INDEX IF NOT EXISTS status_revoked ON status_entries (idx) WHERE revoked_at IS NOT NULL",
    # The next status list index never handed out, and the URL the list is published at (fixed the
    # first time the service starts: every credential issued points to it).
    """CREATE TABLE IF NOT EXISTS status_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        next_index {int} NOT NULL,
        list_url TEXT
    )""",
    "INSERT INTO status_head (id, next_index) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
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
    # declarations, bindings, credentials: the status list index the credential carries;
    # revocations: the index of the credential revoked
    status_index: int | None = None
    reason: str | None = None  # revocations
    # SHA-256 of the bearer token that asked for the entry: checked to be live (not revoked) in the
    # transaction that writes it
    token: str | None = None


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
    admin: bool = False


@dataclass(frozen=True)
class StatusRow:
    """A credential's status list entry: its index and, once revoked, when, why and where in the log."""

    index: int
    credential_id: str
    run_id: str | None
    revoked_at: str | None
    reason: str | None
    revocation_index: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


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
        # One statement is a transaction of its own (both connections are in autocommit mode): no
        # BEGIN and COMMIT around it, which on PostgreSQL would be two more round trips.
        return list(self._conn().execute(self._sql(statement), tuple(params)).fetchall())

    @abstractmethod
    def _read_txn(self, conn: Any) -> Any: ...

    @abstractmethod
    @contextmanager
    def _write_txn(self, wait: bool = True) -> Iterator[tuple[Any, int] | None]:
        """A transaction holding the log lock; yields (connection, current log size), or — when
        ``wait`` is false and another writer holds the lock — ``None`` at once."""

    def _set_size(self, conn: Any, size: int) -> None:
        """Record the new log size inside the write transaction (PostgreSQL's lock row)."""

    # -- the log --

    def commit_batch(
        self, known_size: int, items: Sequence[PendingEntry], *, wait: bool = True
    ) -> tuple[list[tuple[int, bytes]], list[Outcome]] | None:
        """Append ``items`` in one transaction. Returns the leaves other writers committed since
        ``known_size`` (so the caller's tree can catch up first) and, per item, its index or the
        error that refused it. Raises if the transaction fails: then nothing was written. With
        ``wait`` false, returns ``None`` at once, having done nothing, if another writer holds
        the log lock.

        The preconditions are read for the whole batch at once and then applied in order, each
        item seeing the effect of the ones before it (a run declared, bound or revoked earlier in
        the batch counts as such); the rows are written with one ``executemany`` per table. So a
        batch costs a fixed number of statements, not a few per item (on PostgreSQL each is a
        round trip)."""
        with self._write_txn(wait) as txn:
            if txn is None:
                return None
            conn, size = txn
            others = [
                (int(i), bytes(h))
                for i, h in conn.execute(
                    self._sql("SELECT idx, leaf_hash FROM log_entries WHERE idx >= ? ORDER BY idx"),
                    (known_size,),
                ).fetchall()
            ]
            refusals = self._refusals(conn, items)
            outcomes: list[Outcome] = []
            logs: list[tuple[Any, ...]] = []
            runs: list[tuple[Any, ...]] = []
            bindings: list[tuple[Any, ...]] = []
            revocations: list[tuple[Any, ...]] = []
            statuses: list[tuple[Any, ...]] = []
            next_index = size
            for item, refusal in zip(items, refusals, strict=True):
                if refusal is not None:
                    outcomes.append(refusal)
                    continue
                logs.append(
                    (next_index, item.leaf_hash, item.kind, item.credential_id, item.run_id, item.entry, item.logged_at)
                )
                if item.kind == "declaration":
                    runs.append(
                        (item.run_id, item.client, item.declaration, item.credential_id, item.declared_at, next_index)
                    )
                elif item.kind == "binding":
                    bindings.append((item.binding, item.credential_id, item.logged_at, next_index, item.run_id))
                if item.kind == "revocation":
                    revocations.append((item.logged_at, item.reason, next_index, item.credential_id))
                elif item.status_index is not None:
                    statuses.append((item.status_index, item.credential_id, item.run_id))
                outcomes.append(next_index)
                next_index += 1
            self._executemany(
                conn,
                "INSERT INTO log_entries (idx, leaf_hash, kind, credential_id, run_id, entry, logged_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                logs,
            )
            self._executemany(
                conn,
                "INSERT INTO runs (run_id, client, declaration, declaration_id, declared_at, declaration_index) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                runs,
            )
            self._executemany(
                conn,
                "UPDATE runs SET binding = ?, binding_id = ?, bound_at = ?, binding_index = ? "
                "WHERE run_id = ? AND binding IS NULL",
                bindings,
            )
            # Status entries before revocations: a credential may be revoked in the batch that issued it.
            self._executemany(conn, "INSERT INTO status_entries (idx, credential_id, run_id) VALUES (?, ?, ?)", statuses)
            self._executemany(
                conn,
                "UPDATE status_entries SET revoked_at = ?, reason = ?, revocation_index = ? "
                "WHERE credential_id = ? AND revoked_at IS NULL",
                revocations,
            )
            self._set_size(conn, next_index)
        return others, outcomes

    def _executemany(self, conn: Any, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            conn.executemany(self._sql(statement), rows)

    def _select_in(self, conn: Any, statement: str, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        """``statement`` has one ``IN ({keys})``; run it over ``keys`` in chunks (SQLite before
        3.32 allows 999 parameters)."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows += conn.execute(self._sql(statement.format(keys=", ".join("?" * len(chunk)))), chunk).fetchall()
        return rows

    def _refusals(self, conn: Any, items: Sequence[PendingEntry]) -> list[RunIdError | None]:
        """Per item, why it cannot be written now (``None``: it can), taking the items before it
        in the batch into account."""
        tokens = sorted({i.token for i in items if i.token is not None})
        live = {r[0] for r in self._select_in(
            conn, "SELECT token_sha256 FROM tokens WHERE revoked = 0 AND token_sha256 IN ({keys})", tokens
        )}
        run_ids = sorted({i.run_id for i in items if i.kind in ("declaration", "binding") and i.run_id is not None})
        # run id -> (client, bound), as the batch goes on
        runs: dict[str, tuple[str, bool]] = {
            r[0]: (r[1], r[2] is not None)
            for r in self._select_in(conn, "SELECT run_id, client, binding FROM runs WHERE run_id IN ({keys})", run_ids)
        }
        issued: dict[str, int] = {}  # credential id -> status index, for credentials issued in this batch
        revoked: set[str] = set()  # credential ids revoked in this batch
        refusals: list[RunIdError | None] = []
        for item in items:
            refusal: RunIdError | None = None
            if item.token is not None and item.token not in live:
                refusal = TokenRevokedError("the bearer token is unknown or revoked")
            elif item.kind == "declaration":
                assert item.run_id is not None
                if item.run_id in runs:
                    refusal = RunError(f"run {item.run_id} is already declared", code=ErrorCode.RUN_EXISTS)
                else:
                    runs[item.run_id] = (item.client, False)
            elif item.kind == "binding":
                assert item.run_id is not None
                run = runs.get(item.run_id)
                if run is None:
                    refusal = RunError(f"no run {item.run_id} was declared here", code=ErrorCode.RUN_NOT_FOUND)
                elif run[0] != item.client:
                    refusal = ForbiddenError(f"run {item.run_id} was declared by another client")
                elif run[1]:
                    refusal = RunError(f"run {item.run_id} is already bound", code=ErrorCode.ALREADY_BOUND)
                else:
                    runs[item.run_id] = (run[0], True)
            elif item.kind == "revocation":
                refusal = self._revocation_refusal(conn, item, issued, revoked)
                if refusal is None and item.credential_id is not None:
                    revoked.add(item.credential_id)
            if refusal is None and item.kind != "revocation" and item.status_index is not None and item.credential_id:
                issued[item.credential_id] = item.status_index
            refusals.append(refusal)
        return refusals

    def _revocation_refusal(
        self, conn: Any, item: PendingEntry, issued: dict[str, int], revoked: set[str]
    ) -> RunIdError | None:
        if item.credential_id in revoked:
            return AlreadyRevokedError(f"credential {item.credential_id} was already revoked")
        if item.credential_id in issued:
            found: tuple[Any, ...] | None = (issued[item.credential_id], None)
        else:
            found = conn.execute(
                self._sql("SELECT idx, revoked_at FROM status_entries WHERE credential_id = ?"), (item.credential_id,)
            ).fetchone()
        if found is None or int(found[0]) != item.status_index:
            return CredentialNotFoundError(f"no credential {item.credential_id} with a status list entry was issued here")
        if found[1] is not None:
            return AlreadyRevokedError(f"credential {item.credential_id} was already revoked at {found[1]}")
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

    # -- status list --

    def reserve_status_indices(self, count: int) -> range:
        """Reserve ``count`` fresh status list indices (committed before they are used, so no
        crash, process or instance can hand them out again)."""
        conn = self._conn()
        with self._plain_txn(conn):
            # The UPDATE takes the row's (PostgreSQL) or the database's (SQLite) write lock first.
            conn.execute(self._sql("UPDATE status_head SET next_index = next_index + ? WHERE id = 1"), (count,))
            (end,) = conn.execute("SELECT next_index FROM status_head WHERE id = 1").fetchone()
        return range(int(end) - count, int(end))

    def status_list_url(self, proposed: str) -> str:
        """The URL the status list is published at: ``proposed`` the first time, then whatever
        was fixed then (credentials already issued point to it)."""
        conn = self._conn()
        with self._plain_txn(conn):
            conn.execute(self._sql("UPDATE status_head SET list_url = ? WHERE id = 1 AND list_url IS NULL"), (proposed,))
            (url,) = conn.execute("SELECT list_url FROM status_head WHERE id = 1").fetchone()
        return str(url)

    def status_state(self) -> tuple[int, int]:
        """(indices reserved so far, credentials revoked): changes whenever the list must."""
        rows = self._read(
            "SELECT (SELECT next_index FROM status_head WHERE id = 1), "
            "(SELECT COUNT(*) FROM status_entries WHERE revoked_at IS NOT NULL)"
        )
        return int(rows[0][0]), int(rows[0][1])

    def revoked_indices(self) -> tuple[int, list[tuple[int, str]]]:
        """(indices reserved so far, [(index, revoked_at)] of every revoked credential), read in
        one transaction."""
        conn = self._conn()
        with self._read_txn(conn):
            (reserved,) = conn.execute("SELECT next_index FROM status_head WHERE id = 1").fetchone()
            revoked = conn.execute("SELECT idx, revoked_at FROM status_entries WHERE revoked_at IS NOT NULL").fetchall()
        return int(reserved), [(int(i), str(at)) for i, at in revoked]

    def status_entry(self, credential_id: str) -> StatusRow | None:
        rows = self._read(
            "SELECT idx, credential_id, run_id, revoked_at, reason, revocation_index FROM status_entries "
            "WHERE credential_id = ?",
            (credential_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return StatusRow(int(r[0]), r[1], r[2], r[3], r[4], None if r[5] is None else int(r[5]))

    def issued_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are run ids or ids of credentials with a status entry here (both
        indexed: the generic issuer asks this on every request)."""
        conn = self._conn()
        runs = self._select_in(conn, "SELECT run_id FROM runs WHERE run_id IN ({keys})", list(ids))
        issued = self._select_in(conn, "SELECT credential_id FROM status_entries WHERE credential_id IN ({keys})", list(ids))
        return {str(r[0]) for r in runs + issued}

    # -- tokens --

    def add_token(self, name: str, token_sha256: str, created_at: str, admin: bool = False) -> None:
        conn = self._conn()
        try:
            with self._plain_txn(conn):
                conn.execute(
                    self._sql(
                        "INSERT INTO tokens (name, token_sha256, created_at, revoked, admin) VALUES (?, ?, ?, 0, ?)"
                    ),
                    (name, token_sha256, created_at, int(admin)),
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

    def token_client(self, token_sha256: str) -> tuple[str, bool] | None:
        """(client name, admin) of a live token."""
        rows = self._read("SELECT name, admin FROM tokens WHERE token_sha256 = ? AND revoked = 0", (token_sha256,))
        return (str(rows[0][0]), bool(rows[0][1])) if rows else None

    def tokens(self) -> list[TokenRow]:
        rows = self._read("SELECT name, token_sha256, created_at, revoked, admin FROM tokens ORDER BY name")
        return [TokenRow(r[0], r[1], r[2], bool(r[3]), bool(r[4])) for r in rows]

    @abstractmethod
    def _plain_txn(self, conn: Any) -> Any: ...

    @abstractmethod
    def _is_integrity_error(self, exc: Exception) -> bool: ...

    @property
    @abstractmethod
    def description(self) -> str: ...


class ForbiddenError(HttpServiceError):
    """A client acted on a run another client declared (HTTP 403)."""

    default_code = ErrorCode.RUN_FORBIDDEN


class CredentialNotFoundError(RunError):
    """No credential with a status list entry has this id (HTTP 404)."""

    # RUN_NOT_FOUND, as StatusRegistry.record uses for an unknown credential.
    default_code = ErrorCode.RUN_NOT_FOUND


class TokenRevokedError(HttpServiceError):
    """The token that asked for an entry was revoked before it was written (HTTP 401)."""

    default_code = ErrorCode.UNAUTHORIZED


class AlreadyRevokedError(RunError):
    """The credential is revoked already: revocation is final, so a repeat changes nothing."""


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
        self._lock_fds: list[int] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in _TABLES:
            conn.execute(statement.format(int="INTEGER", blob="BLOB"))
        # Databases created before tokens had an admin flag.
        if "admin" not in {row[1] for row in conn.execute("PRAGMA table_info(tokens)")}:
            with suppress(sqlite3.OperationalError):  # another process added it first
                conn.execute("ALTER TABLE tokens ADD COLUMN admin INTEGER NOT NULL DEFAULT 0")

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
        if mode == "IMMEDIATE":
            with self._writer_lock() as locked:
                assert locked
                with self._txn(conn, mode):
                    yield
        else:
            with self._txn(conn, mode):
                yield

    @contextmanager
    def _txn(self, conn: sqlite3.Connection, mode: str) -> Iterator[None]:
        conn.execute(f"BEGIN {mode}")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _writer_lock(self, wait: bool = True) -> Iterator[bool]:
        """Writers queue on an exclusive ``flock`` of ``<database>.lock`` before they ask SQLite
        for its write lock; yields whether it was taken (always, when ``wait``). SQLite makes a
        writer that finds the database locked retry after sleeping 1, 2, 5, 10 … up to 100 ms,
        so the writers of two processes (``--workers 2``) keep missing each other's short
        transactions and wait tens of milliseconds; the kernel hands a ``flock`` to the next
        waiter the moment it is released. (Other SQLite clients still get SQLite's own locking;
        this only orders the service's writers.)"""
        if fcntl is None:  # pragma: no cover
            yield True
            return
        fd = getattr(self._local, "lock_fd", None)
        if fd is None:
            # One open file per thread: flock excludes open files, not processes.
            fd = self._local.lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            with self._all_lock:
                self._lock_fds.append(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        super().close()
        with self._all_lock:
            for fd in self._lock_fds:
                with suppress(OSError):
                    os.close(fd)
            self._lock_fds.clear()

    def _read_txn(self, conn: sqlite3.Connection) -> Any:
        return self._begin(conn, "DEFERRED")

    def _plain_txn(self, conn: sqlite3.Connection) -> Any:
        return self._begin(conn, "IMMEDIATE")

    @contextmanager
    def _write_txn(self, wait: bool = True) -> Iterator[tuple[Any, int] | None]:
        conn = self._conn()
        with self._writer_lock(wait) as locked:
            if not locked:
                yield None
                return
            # IMMEDIATE takes the database's write lock now, before we read the size: no other
            # connection (thread, process) can append between our read and our commit.
            with self._txn(conn, "IMMEDIATE"):
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
            # Databases created before tokens had an admin flag.
            conn.execute("ALTER TABLE tokens ADD COLUMN IF NOT EXISTS admin INTEGER NOT NULL DEFAULT 0")
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
        conn = self._psycopg.connect(self.url, autocommit=True)
        # Bound the wait for the log lock as SQLite's busy_timeout does: a commit runs on the event
        # loop, and an instance stuck behind a hung transaction should fail, not freeze.
        conn.execute("SET lock_timeout = '60s'")
        return conn

    def _read_txn(self, conn: Any) -> Any:
        return conn.transaction()

    def _plain_txn(self, conn: Any) -> Any:
        return conn.transaction()

    @contextmanager
    def _write_txn(self, wait: bool = True) -> Iterator[tuple[Any, int] | None]:
        conn = self._conn()
        with conn.transaction():
            row = conn.execute(
                "SELECT size FROM log_head WHERE id = 1 FOR UPDATE" + ("" if wait else " SKIP LOCKED")
            ).fetchone()
            # No row: another instance holds the lock (SKIP LOCKED); the empty transaction ends.
            yield None if row is None else (conn, int(row[0]))

    def _set_size(self, conn: Any, size: int) -> None:
        conn.execute("UPDATE log_head SET size = %s WHERE id = 1", (size,))

    def _executemany(self, conn: Any, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with conn.cursor() as cursor:
                # psycopg 3 sends the rows in pipeline mode: one round trip, not one per row.
                cursor.executemany(self._sql(statement), rows)

    def _is_integrity_error(self, exc: Exception) -> bool:
        return isinstance(exc, self._psycopg.errors.IntegrityError)


def open_storage(home: Path, database: str | None) -> Storage:
    """``database`` None → SQLite in ``home``; ``postgresql://…`` → PostgreSQL; ``sqlite:///path``
    → that SQLite file."""
    if database is None:
        return SqliteStorage(home / SERVICE_DB)
    if database.startswith(("postgresql://", "postgres://")):
        return PostgresStorage(database)
    if database.startswith("sqlite:///"):
        return SqliteStorage(Path(database.removeprefix("sqlite://")))
    raise UsageError(f"unsupported --database {database!r}: use postgresql://… or sqlite:///path")


__all__ = [
    "AlreadyRevokedError",
    "CredentialNotFoundError",
    "EntryKind",
    "ForbiddenError",
    "LogRow",
    "Outcome",
    "PendingEntry",
    "PostgresStorage",
    "RunRow",
    "SqliteStorage",
    "StatusRow",
    "Storage",
    "TokenRevokedError",
    "TokenRow",
    "open_storage",
]
