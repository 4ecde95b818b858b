"""``vc-runid gateway``: the declaring OpenAI-compatible gateway (docs/gateway.md)."""

import os
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ErrorCode, RunIdError, TrustError, UsageError, missing_extra
from .common import fail, home_dir


def _env(name: str | None, option: str) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise UsageError(f"{option} {name}: the environment variable is not set")
    return value


def gateway(
    upstream: Annotated[str, typer.Option("--upstream", help="The OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1.")],
    upstream_key_env: Annotated[
        str | None, typer.Option("--upstream-key-env", help="Environment variable holding the upstream's API key.")
    ] = None,
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8088,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Sign with the issuer key here (created if missing); the run store is here too."),
    ] = None,
    issuer_url: Annotated[
        str | None, typer.Option("--issuer", help="Declare through this issuer service instead (every call logged).")
    ] = None,
    token_env: Annotated[
        str | None, typer.Option("--token-env", help="With --issuer: environment variable holding the client token.")
    ] = None,
    models: Annotated[
        Path | None, typer.Option("--models", help="models.yaml: provider, weights, served-by per model id.")
    ] = None,
    trust: Annotated[
        Path | None, typer.Option("--trust", help="The trust policy verifiers of these runs use: it must trust the issuer; "
                     "with --issuer, a declaration by another issuer is not forwarded.")
    ] = None,
    upstream_timeout: Annotated[
        float, typer.Option("--upstream-timeout", help="Seconds for a whole upstream answer (streaming: each next event).")
    ] = 600.0,
    public_url: Annotated[
        str | None, typer.Option("--public-url", help="Where clients reach this gateway (for Runid-Run-Url).")
    ] = None,
) -> None:
    """Declare every call before forwarding it to an OpenAI-compatible server, bind the answer after."""
    missing = missing_extra("vc-runid gateway", "fastapi", "uvicorn")
    if missing:
        fail(missing)
    import uvicorn

    from ..gateway import Gateway, LocalDeclarer, ModelRegistry, ServiceDeclarer, create_gateway_app

    try:
        if issuer_url is not None and home is not None:
            raise UsageError("give --home DIR (sign here) or --issuer URL (the issuer service), not both")
        if issuer_url is None and token_env is not None:
            raise UsageError("--token-env goes with --issuer")
        if upstream_timeout <= 0:
            raise UsageError("--upstream-timeout must be positive")
        policy = None
        if trust is not None:
            from ..vc.policy import TrustPolicy

            policy = TrustPolicy.from_file(trust)
        registry = ModelRegistry.load(models) if models is not None else ModelRegistry()
        upstream_key = _env(upstream_key_env, "--upstream-key-env")
        if issuer_url is not None:
            token = _env(token_env, "--token-env")
            if token is None:
                raise UsageError("--issuer needs --token-env VAR (the client token)")
            # Salts and receipts stay with the gateway's operator: in the default home.
            declarer: LocalDeclarer | ServiceDeclarer = ServiceDeclarer(issuer_url, token, home_dir(None), policy=policy)
            who = f"issuer service {issuer_url}"
        else:
            local = LocalDeclarer(home_dir(home))
            declarer, who = local, f"issuer {local.issuer.did}"
            # The policy its verifiers use must name this gateway, or every run it declares fails.
            if policy is not None and not policy.trusts_issuer(local.issuer.did):
                raise TrustError(f"--trust {trust} does not trust this gateway's issuer {local.issuer.did}; "
                                 "add it to the policy's issuers", code=ErrorCode.ISSUER_NOT_TRUSTED)
    except RunIdError as exc:
        fail(exc)
    config = Gateway(
        upstream=upstream, declarer=declarer, upstream_key=upstream_key, registry=registry,
        timeout=upstream_timeout, public_url=public_url,
    )
    typer.echo(f"gateway on http://{host}:{port}/v1 -> {upstream}, declaring with {who}", err=True)
    try:
        uvicorn.run(create_gateway_app(config), host=host, port=port, log_level="warning", access_log=False)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from exc


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)
