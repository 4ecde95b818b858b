"""The real issuer service, as a separate process on 127.0.0.1, and a throwaway PostgreSQL.

Nothing is mocked: the tests talk HTTP to ``python -m vc_runid.server`` and, for PostgreSQL, to a
cluster created with the Debian packages' ``initdb``/``pg_ctl`` in a temporary directory.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import create_token
from vc_runid.store.home import init_home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One service process; ``restart`` keeps the home and database (crash recovery tests)."""

    def __init__(self, home: Path, database: str | None = None, extra_args: list[str] | None = None) -> None:
        self.home = home
        self.database = database
        self.extra_args = list(extra_args or [])  # e.g. --witness NAME=VKEY=URL
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        init_home(home)
        storage = open_storage(home, database)
        try:
            self.tokens = {name: create_token(storage, name) for name in ("alice", "bob")}
            self.tokens["admin"] = create_token(storage, "admin", admin=True)
        finally:
            storage.close()
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "vc_runid.server", "--port", str(self.port), "--home", str(self.home)]
        if self.database:
            command += ["--database", self.database]
        command += self.extra_args
        self.log_path = self.home / f"server-{self.port}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/log/checkpoint", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not become ready: {self.log_path.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        self.process = None

    def restart(self) -> None:
        self.kill(signal.SIGTERM)
        self.start()

    def client(self, who: str | None = "alice") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


class Postgres:
    """A throwaway cluster in a temporary directory, run as the ``postgres`` user."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)")
        self.bin = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="runid-pg-"))
        self.port = free_port()
        self.data = self.dir / "data"
        as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            as_postgres = ["runuser", "-u", "postgres", "--"]
        self.as_postgres = as_postgres
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"])
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "pg.log"), "-w", "start"])

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(self.as_postgres + command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stderr.strip() or result.stdout.strip()}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = "runid_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    try:
        cluster = Postgres()
    except Exception as exc:  # noqa: BLE001 - any reason it cannot start is a skip, said loudly
        message = f"PostgreSQL COULD NOT START — the PostgreSQL service tests are SKIPPED: {exc}"
        warnings.warn(message, stacklevel=1)
        print("\n" + "!" * 100 + "\n" + message + "\n" + "!" * 100, file=sys.stderr)
        pytest.skip(message)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Server]:
    """One service per backend per module: tests only ever look at what they added to the log."""
    database = request.getfixturevalue("postgres").new_database() if backend == "postgresql" else None
    srv = Server(tmp_path_factory.mktemp(backend) / "home", database)
    yield srv
    srv.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One SQLite service for the many small bad-input tests."""
    srv = Server(tmp_path_factory.mktemp("shared") / "home")
    yield srv
    srv.kill(signal.SIGTERM)
