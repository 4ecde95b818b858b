"""Help text a newcomer can read: no Python type names, no value shown for a flag.

Typer labels every parameter with its Python annotation (``<list[Path]>``, ``<bool>`` even for a
flag, so ``--json true`` looks right and then fails as a file name). Rather than repeat a metavar
on every option of every command (and miss the next one), the command tree is walked once and
each parameter gets the conventional click label: a flag none, a path PATH, a string TEXT.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, get_args, get_origin

_LABELS = {str: "TEXT", int: "INTEGER", float: "NUMBER", bool: "BOOLEAN", datetime: "TIME", Path: "PATH"}


def _label(param: Any) -> str:
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(getattr(choice, "value", choice)) for choice in desc.choices or ())
    if desc.is_path:
        return "PATH"
    annotation = desc.annotation
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    return _LABELS.get(annotation, "VALUE")


def _no_type(ctx: Any = None) -> None:
    return None


def tidy_help(command: Any) -> Any:
    """Give every parameter of ``command`` and its subcommands a plain label (in place)."""
    # --help is made on demand (and then cached): make it now, so that it gets a label too.
    help_option = command.get_help_option(command.context_class(command))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if param.param_type_name == "argument":
            if param.metavar is None:
                param.metavar = (param.name or "arg").upper()
            # The name already says what it is; typer would add "<list[Path]>" after it.
            param.display_type_rich = _no_type
        elif param.param_type_name == "option" and param.metavar is None:
            if param.is_flag or param.count:
                param.metavar = ""
            else:
                param.metavar = _label(param)
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)
    return command
