"""The witness's home directory and HTTP server (c2sp.org/tlog-witness over HTTP/1.1).

A home holds ``witness.json`` (the witness name and the logs it follows: origin + verifier
key), ``witness.key`` (its Ed25519 key, owner-only) and ``witness.sqlite`` (what it cosigned)::

    from pathlib import Path
    from vc_runid.witness.server import add_log, init_witness, serve

    home = Path("witness-home")
    print(init_witness(home, "witness.example/w1"))   # the vkey to give to auditors
    add_log(home, "did:key:z6Mk…+1a2b3c4d+AbC…")      # the log's vkey (GET /log/key)
    serve(home, "127.0.0.1", 7380)                    # POST /add-checkpoint

The server is the standard library's threaded HTTP server: a witness answers rarely and
briefly (a signature check, a proof check, an fsync), so it needs no framework.
"""

from __future__ import annotations

import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from ..errors import ErrorCode, KeyMaterialError, UsageError
from ..transparency.checkpoint import _check_key_name, parse_vkey
from .core import Answer, LogKey, Witness, WitnessStore

__all__ = ["MAX_BODY_BYTES", "add_log", "init_witness", "load_witness", "make_server", "serve"]

#: Largest add-checkpoint body accepted: 63 proof lines and a checkpoint with many signatures
#: fit many times over.
MAX_BODY_BYTES = 64 * 1024
#: Seconds a connection may stay silent (a slow client cannot hold a thread forever).
TIMEOUT = 10

CONFIG, KEY, DATABASE = "witness.json", "witness.key", "witness.sqlite"


def _config(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((home / CONFIG).read_text())
    except FileNotFoundError:
        raise UsageError(f"{home} is not a witness home: run `vc-runid witness init --home {home}` first") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {home / CONFIG}: {exc}", code=ErrorCode.FILE_UNREADABLE) from exc
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("logs"), list):
        raise UsageError(f"{home / CONFIG} is not a witness configuration", code=ErrorCode.FILE_UNREADABLE)
    return data


def _write_config(home: Path, data: dict[str, Any]) -> None:
    tmp = home / (CONFIG + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, home / CONFIG)


def init_witness(home: Path, name: str) -> str:
    """Create a witness home (key, configuration) unless it exists; return its vkey."""
    _check_key_name(name)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (home / KEY).exists():
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        fd = os.open(home / KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    if not (home / CONFIG).exists():
        _write_config(home, {"name": name, "logs": []})
    elif _config(home)["name"] != name:
        raise UsageError(f"{home} is already the witness {_config(home)['name']!r}")
    return load_witness(home).vkey()


def add_log(home: Path, log_vkey: str, origin: str | None = None) -> LogKey:
    """Follow the log whose checkpoints ``log_vkey`` signs (origin: the key name by default,
    as tlog-checkpoint recommends)."""
    name, public = parse_vkey(log_vkey.strip())
    data = _config(home)
    entry = {"origin": origin or name, "vkey": log_vkey.strip()}
    if entry not in data["logs"]:
        data["logs"].append(entry)
        _write_config(home, data)
    return LogKey(entry["origin"], name, public)


def load_witness(home: Path) -> Witness:
    """The witness whose key and logs are in ``home`` (``vc-runid witness init``)."""
    data = _config(home)
    try:
        key = load_pem_private_key((home / KEY).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KeyMaterialError(f"cannot read the witness key {home / KEY}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMaterialError(f"{home / KEY} is not an Ed25519 key")
    logs = []
    for entry in data["logs"]:
        name, public = parse_vkey(str(entry["vkey"]))
        logs.append(LogKey(str(entry["origin"]), name, public))
    return Witness(data["name"], key, logs, WitnessStore(home / DATABASE))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, which the spec asks witnesses to support
    # Headers and body go out in two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK (40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True
    server: _Server
    timeout = TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no client addresses in any log

    def _answer(self, answer: Answer) -> None:
        data = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
            self._answer(Answer(404, "not found\n"))
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._answer(Answer(411, "Content-Length required\n"))
            return
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            self._answer(Answer(413, f"the body is limited to {MAX_BODY_BYTES} bytes\n"))
            return
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            self.close_connection = True
            return
        try:
            answer = self.server.witness.add_checkpoint(body, int(time.time()))
        except Exception:  # noqa: BLE001 - e.g. the disk is full: not cosigned, say so
            answer = Answer(503, "the witness cannot record the checkpoint now\n")
        self._answer(answer)

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) >= 2 and parts[-1] == "checkpoint":
            self._answer(self.server.witness.checkpoint(parts[-2]))
        elif parts == ["healthz"]:
            self._answer(Answer(200, "ok\n"))
        else:
            self._answer(Answer(404, "not found\n"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        self.witness = witness
        super().__init__(address, _Handler)


def make_server(home: Path, host: str, port: int) -> _Server:
    return _Server((host, port), load_witness(home))


def serve(home: Path, host: str, port: int) -> None:
    """Serve until interrupted. Raises ``RunIdError`` for a bad home, ``OSError`` for the port."""
    server = make_server(home, host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.witness.store.close()
