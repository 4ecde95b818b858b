"""Real processes on 127.0.0.1: the bundled demo model as an OpenAI-compatible server, a
misbehaving upstream, the gateway itself (``vc-runid gateway``) and the issuer service. Nothing
is mocked; every wait is bounded."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from vc_runid.demo.model import MODEL_ID, WEIGHTS_DIR
from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import create_token
from vc_runid.store.home import init_home

HERE = Path(__file__).resolve().parent
VC_RUNID = [sys.executable, "-m", "vc_runid"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    def __init__(self, command: list[str], ready_url: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{command[2:4]} exited: {log.read_text()}")
            try:
                httpx.get(ready_url, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{command} did not become ready: {log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_gateway(tmp: Path, upstream: str, *extra: str, env: dict[str, str] | None = None) -> tuple[Process, str]:
    port = free_port()
    command = [*VC_RUNID, "gateway", "--upstream", upstream, "--port", str(port), *extra]
    process = Process(command, f"http://127.0.0.1:{port}/runs/none", tmp / f"gateway-{port}.log", env)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def demo_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("upstream") / "demo.log"
    process = Process([sys.executable, "-m", "vc_runid.gateway.demo_upstream", "--port", str(port)],
                      f"http://127.0.0.1:{port}/v1/models", log)
    yield f"http://127.0.0.1:{port}/v1"
    process.stop()


@pytest.fixture(scope="session")
def faulty_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("faulty") / "faulty.log"
    process = Process([sys.executable, str(HERE / "faulty_upstream.py"), str(port)], f"http://127.0.0.1:{port}/count", log)
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture(scope="session")
def gateway_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("gateway-home")
    models = home / "models.yaml"
    models.write_text(
        f"models:\n  {MODEL_ID}:\n    provider: vc-runid\n    weights: {WEIGHTS_DIR}\n    servedBy: demo_upstream on 127.0.0.1\n"
    )
    return home


@pytest.fixture(scope="session")
def gateway(demo_upstream: str, gateway_home: Path) -> Iterator[str]:
    """``vc-runid gateway --home`` in front of the demo model."""
    process, url = start_gateway(
        gateway_home, demo_upstream, "--home", str(gateway_home / "issuer"), "--models", str(gateway_home / "models.yaml")
    )
    yield url
    process.stop()


@pytest.fixture(scope="session")
def faulty_gateway(faulty_upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("faulty-gateway")
    process, url = start_gateway(home, f"{faulty_upstream}/v1", "--home", str(home / "issuer"), "--upstream-timeout", "2")
    yield url
    process.stop()


class Service:
    def __init__(self, home: Path, process: Process, url: str, token: str) -> None:
        self.home, self.process, self.url, self.token = home, process, url, token


def start_service(home: Path, *extra: str) -> Service:
    init_home(home)
    storage = open_storage(home, None)
    try:
        token = create_token(storage, "gateway")
    finally:
        storage.close()
    port = free_port()
    process = Process([*VC_RUNID, "serve", "--port", str(port), "--home", str(home), *extra],
                      f"http://127.0.0.1:{port}/log/checkpoint", home / "service.log")
    return Service(home, process, f"http://127.0.0.1:{port}", token)


@pytest.fixture(scope="session")
def issuer_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_service(tmp_path_factory.mktemp("service"))
    yield service
    service.process.stop()


@pytest.fixture
def verify_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*VC_RUNID, "verify", *map(str, args)], capture_output=True, text=True, timeout=120, check=False)

    return run


def have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


__all__ = ["Process", "Service", "free_port", "have", "shutil", "start_gateway", "start_service"]
