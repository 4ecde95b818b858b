"""What every ``vc-runid`` command shares: the home option, the error line and exit codes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from .errors import ErrorCode, RunIdError, UsageError
from .keys import default_home
from .timeutil import parse_datetime

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Key store and run store directory (default: $RUNID_HOME, else ./.runid)."),
]


def fail(error: RunIdError) -> NoReturn:
    """One line, ``CODE: message``, on stderr; exit 2 for a usage error, else 1. No traceback."""
    typer.echo(str(error), err=True)
    raise typer.Exit(2 if error.code is ErrorCode.USAGE else 1)


def home_dir(home: Path | None) -> Path:
    return home if home is not None else default_home()


def moment(value: str | None, option: str) -> datetime | None:
    """A time given on the command line; a malformed one is a usage error naming the option."""
    if value is None:
        return None
    try:
        return parse_datetime(value, option)
    except RunIdError as exc:
        raise UsageError(f"{option}: {exc.message}") from exc
