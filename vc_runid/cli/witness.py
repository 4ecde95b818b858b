"""``vc-runid witness init|add-log|vkey|serve|evidence``: run a C2SP tlog-witness."""

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import RunIdError
from .common import fail

witness_app = typer.Typer(
    help="Run a transparency-log witness (c2sp.org/tlog-witness): it cosigns a log's checkpoints "
    "only when they extend every checkpoint of that log it cosigned before.",
    no_args_is_help=True,
    add_completion=False,
)

WitnessHome = Annotated[Path, typer.Option("--home", help="The witness's directory: key, configuration, database.")]


@witness_app.command("init")
def witness_init(
    home: WitnessHome,
    name: Annotated[str, typer.Option("--name", help="The witness's key name, e.g. witness.example/w1.")],
) -> None:
    """Create the witness key and configuration (once); print its verifier key."""
    from ..witness.server import init_witness

    try:
        typer.echo(init_witness(home, name))
    except RunIdError as exc:
        fail(exc)


@witness_app.command("add-log")
def witness_add_log(
    home: WitnessHome,
    vkey: Annotated[str, typer.Option("--vkey", help="The log's checkpoint verifier key (GET /log/key).")],
    origin: Annotated[str | None, typer.Option("--origin", help="The log's origin line (default: the key name).")] = None,
) -> None:
    """Follow a log: cosign checkpoints of this origin signed by this key."""
    from ..witness.server import add_log

    try:
        log = add_log(home, vkey, origin)
    except RunIdError as exc:
        fail(exc)
    typer.echo(f"following {log.origin}", err=True)


@witness_app.command("vkey")
def witness_vkey(home: WitnessHome) -> None:
    """Print the witness's verifier key (what auditors pin with --witness)."""
    from ..witness.server import load_witness

    try:
        witness = load_witness(home)
    except RunIdError as exc:
        fail(exc)
    typer.echo(witness.vkey())
    witness.store.close()


@witness_app.command("evidence")
def witness_evidence(home: WitnessHome) -> None:
    """Print, as JSON, the log-signed checkpoints this witness refused as inconsistent."""
    from ..witness.server import load_witness

    try:
        witness = load_witness(home)
    except RunIdError as exc:
        fail(exc)
    typer.echo(json.dumps(witness.store.evidence(), indent=2))
    witness.store.close()


@witness_app.command("serve")
def witness_serve(
    home: WitnessHome,
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 7380,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve POST /add-checkpoint and GET /<sha256(origin)>/checkpoint."""
    from ..witness.server import make_server

    try:
        server = make_server(home, host, port)
    except RunIdError as exc:
        fail(exc)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"witness {server.witness.key.name} on http://{host}:{server.server_address[1]}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.witness.store.close()


def register(app: typer.Typer) -> None:
    app.add_typer(witness_app, name="witness")
