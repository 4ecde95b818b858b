"""Witnesses as real processes (``vc-runid witness serve``) on 127.0.0.1, and the issuer service
from tests/server/conftest.py started with ``--witness``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server.conftest import Server, free_port
from vc_runid.witness.server import add_log, init_witness

__all__ = ["Server", "WitnessProcess", "free_port"]


class WitnessProcess:
    """One witness; ``kill`` + ``start`` keep its home (its key and what it cosigned)."""

    def __init__(self, home: Path, name: str, log_vkeys: list[str]) -> None:
        self.home = home
        self.name = name
        self.vkey = init_witness(home, name)
        for vkey in log_vkeys:
            add_log(home, vkey)
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def option(self) -> str:
        """The service's ``--witness NAME=VKEY=URL``."""
        return f"{self.name}={self.vkey}={self.url}"

    def start(self) -> None:
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "vc_runid", "witness", "serve", "--home", str(self.home), "--port", str(self.port)]
        self.log_path = self.home / "witness.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the witness exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the witness did not become ready: {self.log_path.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        self.process = None
