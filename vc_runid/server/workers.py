"""Several worker processes serving one port, each with a listening socket of its own.

    serve_workers({"app": "vc_runid.server.app:app_from_env", "factory": True, ...}, "127.0.0.1", 8080, 2)

Why not uvicorn's own ``--workers``: it shares *one* listening socket between the processes, and
asyncio accepts every connection that is waiting at once, so the first worker to wake up takes a
whole burst. Clients that keep their connections open (a load balancer's pool, an executor's
HTTP client, a benchmark) then all land on one worker while the others idle: measured here, one
worker at 100% CPU and the second at 0% under 64 keep-alive connections. With ``SO_REUSEPORT``
each worker listens on a socket of its own bound to the same port, and the kernel spreads new
connections over the sockets by a hash of their addresses.

The parent binds every socket before starting the workers (so a port in use fails at once, and
connections that arrive while a worker restarts wait in its socket's queue), restarts a worker
that dies, and stops them all on SIGINT/SIGTERM. A worker whose parent is gone (``kill -9``)
shuts itself down gracefully.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

#: Listen queue per worker socket (uvicorn's default).
BACKLOG = 2048
#: uvicorn's exit code for a server that failed to start (``uvicorn.config.STARTUP_FAILURE``).
STARTUP_FAILURE = 3


def reuse_port_supported() -> bool:
    """Whether this platform balances connections over sockets sharing a port (Linux does)."""
    return hasattr(socket, "SO_REUSEPORT") and os.uname().sysname == "Linux"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _check_free(host: str, port: int) -> None:
    """Raise ``OSError`` (address in use) if anything listens on the port already, as a plain
    bind would: with ``SO_REUSEPORT`` alone, a second service on the same port (an old instance
    still running) would silently get a share of the connections."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Only processes of the same user can join a SO_REUSEPORT group (Linux), so no other user can
    # bind the port alongside and take a share of the connections.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _worker(config: dict[str, Any], sock: socket.socket, parent: int) -> None:
    """One worker process: a uvicorn server on ``sock`` until told to stop or orphaned."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(**config))

    def watch_parent() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True  # the parent died: finish what is in flight, then exit
                return
            time.sleep(1)

    threading.Thread(target=watch_parent, name="watch-parent", daemon=True).start()
    server.run(sockets=[sock])


def serve_workers(config: dict[str, Any], host: str, port: int, workers: int) -> None:
    """Run ``workers`` uvicorn servers built from ``config`` (``uvicorn.Config`` keyword
    arguments, without host and port) on ``host:port`` until SIGINT or SIGTERM. Raises
    ``OSError`` if the address cannot be bound (in use, not ours)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state shared by fork
    _check_free(host, port)
    sockets = [_listening_socket(host, port) for _ in range(workers)]
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start(sock: socket.socket) -> BaseProcess:
        process = context.Process(target=_worker, args=(config, sock, os.getpid()), name="vc-runid-worker")
        process.start()
        return process

    processes = [start(sock) for sock in sockets]
    try:
        while not stopping.wait(0.5):
            for i, process in enumerate(processes):
                if not process.is_alive():
                    process.join()
                    if process.exitcode == STARTUP_FAILURE:
                        # The app or its database cannot start: every replacement would fail alike.
                        raise SystemExit(STARTUP_FAILURE)
                    # A worker that dies (a crash, the OOM killer) is replaced; its socket stayed
                    # open here, so the connections the kernel queued on it are served by the next one.
                    processes[i] = start(sockets[i])
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["BACKLOG", "reuse_port_supported", "serve_workers"]
