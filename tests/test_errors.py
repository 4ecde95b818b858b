"""The class of an error follows its code's family (vc_runid/errors.py, FAMILY).

``except ProofError`` must catch the proof failures and nothing else, so a ``LOG_*`` code raised
as an ``InputError`` is a bug even though the CLI and the service, which read only the code, would
not show it. The guard is static: every raise site in vc_runid/ is read with ``ast``, so a site no
test reaches is checked too. Codes known only at run time are checked by the base class itself
when ``RUNID_STRICT_ERRORS=1``, which tests/conftest.py sets for the whole suite.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from vc_runid import errors
from vc_runid.errors import FAMILY, ErrorCode, ProofError, RunIdError, error_for

PACKAGE = Path(errors.__file__).resolve().parent


@dataclass
class _Class:
    name: str
    base: str
    default_code: str | None
    relays: bool
    where: str


def _error_classes() -> dict[str, _Class]:
    """Every RunIdError subclass defined in vc_runid/, by name, read from the source."""
    found: dict[str, _Class] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ClassDef) or len(node.bases) != 1:
                continue
            base = node.bases[0]
            if not isinstance(base, ast.Name):
                continue
            default = None
            relays = False
            for stmt in node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign):
                    target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
                    if isinstance(target, ast.Name) and target.id == "default_code" and stmt.value:
                        default = ast.unparse(stmt.value).rsplit(".", 1)[-1]
                    if isinstance(target, ast.Name) and target.id == "checks_family" and stmt.value:
                        relays = ast.unparse(stmt.value) == "False"
            found[node.name] = _Class(node.name, base.id, default, relays, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    # Keep only the ones that descend from RunIdError.
    def descends(name: str) -> bool:
        seen = set()
        while name in found and name not in seen:
            seen.add(name)
            if name == "RunIdError":
                return True
            name = found[name].base
        return name == "RunIdError"

    return {name: c for name, c in found.items() if descends(name) or name == "RunIdError"}


CLASSES = _error_classes()


def _ancestors(name: str) -> list[str]:
    chain = []
    while name in CLASSES:
        chain.append(name)
        if name == "RunIdError":
            break
        name = CLASSES[name].base
    return chain


def _relays(name: str) -> bool:
    return any(CLASSES[n].relays for n in _ancestors(name))


def _default_code(name: str) -> str:
    for n in _ancestors(name):
        if CLASSES[n].default_code:
            return CLASSES[n].default_code  # type: ignore[return-value]
    raise AssertionError(name)


def _mismatch(class_name: str, code_name: str) -> str | None:
    family = FAMILY[ErrorCode[code_name]].__name__
    return None if family in _ancestors(class_name) else family


def _raise_sites() -> list[tuple[str, str, str | None]]:
    """(where, class, code member or None for the class's default) for every construction."""
    sites = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name not in CLASSES:
                continue
            code = next((kw.value for kw in node.keywords if kw.arg == "code"), None)
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if code is None:
                sites.append((where, name, None))
            elif isinstance(code, ast.Attribute) and ast.unparse(code.value) in ("ErrorCode", "Code"):
                sites.append((where, name, code.attr))
            elif name == "RunIdError":
                sites.append((where, name, ast.unparse(code)))
            # Any other code (a variable, a check's code) is known only at run time: the strict
            # check in RunIdError.__init__ covers it wherever the suite reaches it.
    return sites


def test_every_code_has_exactly_one_family() -> None:
    assert set(FAMILY) == set(ErrorCode)
    assert all(issubclass(cls, RunIdError) and cls is not RunIdError for cls in FAMILY.values())


def test_every_family_class_default_code_is_of_its_family() -> None:
    for cls in {*FAMILY.values()}:
        assert FAMILY[cls.default_code] is cls, cls


def test_every_raise_site_uses_its_codes_family() -> None:
    assert len(CLASSES) > 15  # the scan found the hierarchy
    wrong = []
    for where, name, code in _raise_sites():
        if _relays(name):
            continue
        if name == "RunIdError":
            wrong.append(f"{where}: RunIdError(code={code}): raise the family's class")
            continue
        code = code or _default_code(name)
        family = _mismatch(name, code)
        if family:
            wrong.append(f"{where}: {name}(code={code}) should be a {family}")
    assert wrong == []


def test_every_error_class_default_code_is_of_its_family() -> None:
    wrong = [
        f"{c.where}: {c.name} defaults to {_default_code(c.name)}"
        for c in CLASSES.values()
        if c.name != "RunIdError" and not _relays(c.name) and _mismatch(c.name, _default_code(c.name))
    ]
    assert wrong == []


def test_the_suite_runs_with_the_strict_check_on() -> None:
    assert os.environ.get("RUNID_STRICT_ERRORS") == "1"
    assert errors._STRICT
    with pytest.raises(TypeError, match="RUNID_LOG_RANGE is raised as HttpServiceError"):
        ProofError("x", code=ErrorCode.LOG_RANGE)


def test_error_for_picks_the_family() -> None:
    error = error_for("expired", code=ErrorCode.PROOF_EXPIRED)
    assert type(error) is ProofError and error.code is ErrorCode.PROOF_EXPIRED


def test_a_mismatch_outside_the_suite_keeps_the_code_and_never_crashes() -> None:
    # In production the code is the contract (exit code, HTTP status): a mismatched class must
    # still produce its error, not a TypeError in the error path.
    env = {k: v for k, v in os.environ.items() if k != "RUNID_STRICT_ERRORS"}
    probe = (
        "from vc_runid.errors import ErrorCode, ProofError\n"
        "e = ProofError('m', code=ErrorCode.LOG_RANGE)\n"
        "print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "RUNID_LOG_RANGE: m"
