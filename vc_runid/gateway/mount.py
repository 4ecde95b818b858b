"""The gateway inside the issuer service process (``vc-runid serve --gateway-upstream URL``): the
party that signs is the one that observed the traffic.

``serve`` checks the options once and gives the workers a client token of the service's own
(``prepare``); each worker mounts the gateway's ``/v1/…`` routes next to the service's
(``mount_from_env``). The gateway declares and binds through the service's run endpoints on the
loopback address, so every call is logged by exactly the code that logs any other run, and
``GET /runs/{id}`` of the service returns the pair.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, UsageError

_UPSTREAM = "RUNID_GATEWAY_UPSTREAM"
_KEY = "RUNID_GATEWAY_UPSTREAM_KEY"
_TOKEN = "RUNID_GATEWAY_TOKEN"
_MODELS = "RUNID_GATEWAY_MODELS"
_TIMEOUT = "RUNID_GATEWAY_TIMEOUT"
_SELF = "RUNID_GATEWAY_SERVICE_URL"


def prepare(
    *, home: Path, database: str | None, upstream: str, upstream_key_env: str | None, models: Path | None,
    timeout: float, host: str, port: int, tls: bool,
) -> None:
    """Check the gateway options and hand them, with a fresh client token, to the workers."""
    from ..server.storage import open_storage
    from ..server.tokens import create_token
    from .registry import ModelRegistry

    if tls:
        raise UsageError("--gateway-upstream with --tls-cert is not supported yet: put TLS in front of the service")
    if timeout <= 0:
        raise UsageError("--gateway-timeout must be positive")
    key = None
    if upstream_key_env is not None:
        key = os.environ.get(upstream_key_env)
        if not key:
            raise UsageError(f"--gateway-upstream-key-env {upstream_key_env}: the environment variable is not set")
    if models is not None:
        ModelRegistry.load(models)  # a bad file is one usage error here, not one per worker
    if not upstream.startswith(("http://", "https://")):
        raise UsageError(f"--gateway-upstream {upstream!r} needs a scheme, e.g. http://127.0.0.1:8000/v1",
                         code=ErrorCode.USAGE)
    storage = open_storage(home, database)
    try:
        # A token of its own per start: the gateway is a client of the service like any other.
        token = create_token(storage, f"gateway-{secrets.token_hex(4)}")
    finally:
        storage.close()
    loopback = "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else ("::1" if host == "::" else host)
    os.environ[_UPSTREAM] = upstream
    os.environ[_KEY] = key or ""
    os.environ[_TOKEN] = token
    os.environ[_MODELS] = str(models.resolve()) if models is not None else ""
    os.environ[_TIMEOUT] = str(timeout)
    os.environ[_SELF] = f"http://{f'[{loopback}]' if ':' in loopback else loopback}:{port}"


def mount_from_env(app: Any, home: Path) -> None:
    """Add the gateway's routes to the service ``app`` when ``prepare`` ran in this process tree."""
    upstream = os.environ.get(_UPSTREAM)
    if not upstream:
        return
    from .app import Gateway, create_gateway_app
    from .declarer import ServiceDeclarer
    from .registry import ModelRegistry

    models = os.environ.get(_MODELS)
    gateway = Gateway(
        upstream=upstream,
        declarer=ServiceDeclarer(os.environ[_SELF], os.environ[_TOKEN], home),
        upstream_key=os.environ.get(_KEY) or None,
        registry=ModelRegistry.load(Path(models)) if models else ModelRegistry(),
        timeout=float(os.environ.get(_TIMEOUT) or 600),
        public_url=os.environ.get("RUNID_SERVER_PUBLIC_URL") or None,
        serve_runs=False,
    )
    app.router.routes.extend(create_gateway_app(gateway).routes)
