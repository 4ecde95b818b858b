"""The ``revoke`` and ``status-list`` commands: a thin shell over ``vc_runid.vc.status.bitstring``.

Registered onto an app with ``register(app)``, so the main CLI stays the one place that decides
which commands exist. Errors print one line, ``CODE: message``, like every other command.
"""

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from ..errors import RunIdError, UsageError
from .common import HomeOption, fail, home_dir


def revoke(
    credential_id: Annotated[str, typer.Argument(help="The id of the credential to revoke.")],
    reason: Annotated[str, typer.Option("--reason", help="Why. Kept in the home's registry; at an issuer service (--issuer) it is part of the public log entry.")],
    issuer_url: Annotated[
        str | None, typer.Option("--issuer", help="Revoke at this issuer service (needs an admin token).")
    ] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="RUNID_TOKEN", help="Admin token for --issuer.")] = None,
    home: HomeOption = None,
) -> None:
    """Revoke a credential: set its bit in the issuer's status list (final; publish the list after)."""
    if issuer_url is not None:
        _revoke_at_service(issuer_url, token, credential_id, reason)
        return
    from .._internal.timeutil import utc_now
    from ..store.status import StatusRegistry

    try:
        record = StatusRegistry(home_dir(home)).revoke(credential_id, reason, utc_now())
    except RunIdError as exc:
        fail(exc)
    typer.echo(
        f"revoked {record.credential_id} (status list index {record.index}) at {record.revoked_at}: "
        f"{record.reason}\npublish a fresh status list (`vc-runid status-list`) for verifiers to see it"
    )


def _revoke_at_service(issuer_url: str, token: str | None, credential_id: str, reason: str) -> None:
    from ..client.issuer import IssuerClient

    try:
        if not token:
            raise UsageError("--issuer needs --token (an admin token), or RUNID_TOKEN")
        with IssuerClient(issuer_url, token=token) as client:
            answer = client.revoke(credential_id, reason)
    except RunIdError as exc:
        fail(exc)
    state = "revoked" if answer.get("changed") else "already revoked"
    typer.echo(
        f"{state} {credential_id} at {issuer_url} (status list index {answer.get('statusListIndex')}) "
        f"at {answer.get('revokedAt')}"
    )


def status_list(
    url: Annotated[str, typer.Option("--url", help="The URL the status list is published at.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
    valid_hours: Annotated[
        int, typer.Option("--valid-hours", min=1, help="How long the list is valid (validUntil).")
    ] = 24,
    home: HomeOption = None,
) -> None:
    """Publish the signed status list credential (BitstringStatusListCredential) as of now."""
    from .._internal.timeutil import utc_now
    from ..store.home import load_issuer
    from ..store.status import StatusRegistry

    try:
        directory = home_dir(home)
        issuer = load_issuer(directory)
        credential = StatusRegistry(directory).status_list_credential(
            issuer, url, utc_now(), timedelta(hours=valid_hours)
        )
    except RunIdError as exc:
        fail(exc)
    text = json.dumps(credential, indent=2)
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n")
    except OSError as exc:
        fail(UsageError(f"cannot write {out}: {exc.strerror or exc}"))
    typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("revoke")(revoke)
    app.command("status-list")(status_list)


__all__ = ["register"]
