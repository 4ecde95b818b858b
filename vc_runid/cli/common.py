"""What every ``vc-runid`` command shares: the home option, the error line and exit codes."""

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ..errors import ErrorCode, RunIdError, UsageError

if TYPE_CHECKING:
    from ..vc.policy import TrustPolicy

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Key store and run store directory (default: $RUNID_HOME, else ./.runid)."),
]


def fail(error: RunIdError) -> NoReturn:
    """One line, ``CODE: message``, on stderr; exit 2 for a usage error, else 1. No traceback."""
    typer.echo(str(error), err=True)
    raise typer.Exit(2 if error.code is ErrorCode.USAGE else 1)


def home_dir(home: Path | None) -> Path:
    from ..store.home import default_home  # the store's rule, loaded with the command that needs it

    return home if home is not None else default_home()


def moment(value: str | None, option: str) -> datetime | None:
    """A time given on the command line; a malformed one is a usage error naming the option."""
    if value is None:
        return None
    from .._internal.timeutil import parse_datetime

    try:
        return parse_datetime(value, option)
    except RunIdError as exc:
        raise UsageError(f"{option}: {exc.message}") from exc


TrustOption = Annotated[
    Path | None,
    typer.Option(
        "--trust", metavar="FILE",
        help="A trust policy (JSON or YAML): the issuers, logs and witnesses you trust (docs/verification.md).",
    ),
]
TrustedIssuerOption = Annotated[
    list[str] | None,
    typer.Option("--trusted-issuer", metavar="DID", help="Trust runs and credentials signed by this DID (repeatable)."),
]
AnyIssuerOption = Annotated[
    bool,
    typer.Option("--any-issuer", help="UNSAFE, for exploring: accept any issuer; the verdict says so."),
]

#: What to add when a verdict was taken without a policy.
NO_POLICY_HINT = (
    "no trust policy: a verdict is VALID only for an issuer you trust. Add --trusted-issuer DID "
    "(the issuer's DID) or --trust FILE; --any-issuer to explore (unsafe)"
)


def trust_policy(trust: Path | None, trusted_issuers: list[str] | None, any_issuer: bool) -> "TrustPolicy | None":
    """The policy the command line names, or None when it names none."""
    from ..vc.policy import TrustPolicy

    if any_issuer:
        if trust is not None or trusted_issuers:
            raise UsageError("--any-issuer trusts everyone: give it alone, not with --trust or --trusted-issuer")
        return TrustPolicy.unsafe_any_issuer()
    policy = TrustPolicy.from_file(trust) if trust is not None else None
    if trusted_issuers:
        policy = (policy or TrustPolicy.model_validate({})).with_issuers(trusted_issuers)
    return policy


def check_writable(path: Path, option: str = "--out") -> None:
    """Refuse an output path that cannot be written *before* anything is signed or stored.

    A declaration or binding that is issued, stored (and, with ``--issuer``, logged for good) but
    then cannot be written leaves an orphan run that a retry cannot repair; checked here first, a
    typo in ``--out`` costs nothing."""
    import os

    target = Path(os.path.abspath(path))
    if target.is_dir():
        raise UsageError(f"{option} {path} is a directory: give a file name (nothing was issued)")
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: the directory {parent} does not exist (nothing was issued)")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"{option} {path}: permission denied (nothing was issued)")


def note_new_home(home: Path, holding: str = "a new issuer key") -> None:
    """Say on stderr that a command is about to create a home (with a new issuer key, say): a typo
    in ``--home`` or ``$RUNID_HOME`` would otherwise silently start a second identity or store."""
    if not home.exists():
        typer.echo(
            f"note: {home} does not exist: creating a new vc-runid home ({holding}) there; "
            "if you meant an existing home, check --home or $RUNID_HOME",
            err=True,
        )
