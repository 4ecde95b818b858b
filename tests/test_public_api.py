"""The public API is small, documented, and the only thing the docs teach.

The root (``import vc_runid as runid``) is the verbs and types a user learns in a minute; each
subpackage root lists its public names in ``__all__``. Everything else (a module inside a
subpackage, ``_internal``) may change in any release, so the docs, the README and the examples
import only from the root, ``vc_runid.errors`` and the subpackage roots: a newcomer who copies an
example copies a stable import.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import vc_runid

ROOT = Path(__file__).resolve().parent.parent

#: The subpackage roots, each with its ``__all__``.
SUBPACKAGES = (
    "vc_runid.vc",
    "vc_runid.vc.status",
    "vc_runid.vc.proofs",
    "vc_runid.runs",
    "vc_runid.store",
    "vc_runid.bundle",
    "vc_runid.audit",
    "vc_runid.client",
    "vc_runid.transparency",
    "vc_runid.server",
    "vc_runid.gateway",
    "vc_runid.witness",
    "vc_runid.demo",
    "vc_runid.integrations",
    "vc_runid.integrations.openai",
    "vc_runid.integrations.otel",
    "vc_runid.cli",
)
#: Where a user's import may point: the root, the errors, and every subpackage root.
DOCUMENTED = frozenset({"vc_runid", "vc_runid.errors", *SUBPACKAGES})
#: "About 25": a root a user can read in one screen (the lead adds the Signer here; see issue 9).
MAX_ROOT_NAMES = 25

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _user_code() -> list[tuple[str, str]]:
    """Every Python code block of README.md and docs/*.md, and every example file."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, match in enumerate(_FENCE.finditer(page.read_text())):
            if match.group(1) in ("python", "py"):
                found.append((f"{page.relative_to(ROOT)} (block {n})", match.group(2)))
    for example in sorted((ROOT / "examples").rglob("*.py")):
        found.append((str(example.relative_to(ROOT)), example.read_text()))
    return found


def _imported_modules(source: str) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
            # `from vc_runid import vc` names a subpackage: that is a documented place too.
    return [m for m in modules if m == "vc_runid" or m.startswith("vc_runid.")]


def test_the_docs_and_examples_have_code_to_check() -> None:
    code = _user_code()
    assert len(code) > 15
    assert sum(bool(_imported_modules(source)) for _, source in code) > 10


_CODE = _user_code()


@pytest.mark.parametrize(("where", "source"), _CODE, ids=[where for where, _ in _CODE])
def test_docs_and_examples_import_only_documented_places(where: str, source: str) -> None:
    undocumented = [m for m in _imported_modules(source) if m not in DOCUMENTED]
    assert undocumented == [], f"{where} imports from a module inside a subpackage: {undocumented}"


def test_the_root_is_small() -> None:
    assert len(vc_runid.__all__) <= MAX_ROOT_NAMES
    assert len(set(vc_runid.__all__)) == len(vc_runid.__all__)
    for verb in ("declare", "bind", "verify_run", "run", "present", "verify_presentation"):
        assert verb in vc_runid.__all__


def _own_doc(obj: object) -> str | None:
    if inspect.isclass(obj):
        doc = vars(obj).get("__doc__")
        # A dataclass without a docstring gets its signature as one; that is not documentation.
        return None if not doc or doc.startswith(f"{obj.__name__}(") else doc
    return getattr(obj, "__doc__", None)


@pytest.mark.parametrize("package", ["vc_runid", "vc_runid.errors", *SUBPACKAGES])
def test_every_public_name_resolves_and_is_documented(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__doc__, package
    names = module.__all__
    assert names, package
    undocumented = []
    for name in names:
        value = getattr(module, name)  # resolves (lazily loaded names included)
        assert name in dir(module), (package, name)
        # Constants and suite instances are documented where they are defined (a `#:` comment)
        # and in the package docstring; functions, classes and modules carry their own.
        if (inspect.isclass(value) or inspect.isroutine(value) or inspect.ismodule(value)) and not _own_doc(value):
            undocumented.append(name)
    assert undocumented == [], f"{package}: no docstring for {undocumented}"


def test_internal_has_no_public_names() -> None:
    import vc_runid._internal

    assert not hasattr(vc_runid._internal, "__all__")


def test_names_dropped_from_the_root_stay_importable_from_their_subpackage() -> None:
    from vc_runid.runs import composition_from_chat_request, output_digest, run_callable
    from vc_runid.store import init_home
    from vc_runid.vc import CheckResult, DidResolver, DocumentLoader, KeyPair

    assert all((composition_from_chat_request, output_digest, run_callable, CheckResult, DidResolver, DocumentLoader, KeyPair, init_home))


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_a_subpackage_root_loads_none_of_its_modules() -> None:
    # The roots re-export lazily: `import vc_runid.vc.credentials` (what a CLI command does) must
    # not pay for presentations, JOSE or status lists, nor `import vc_runid.gateway.declarer` for
    # FastAPI.
    packages = [p for p in SUBPACKAGES if p not in ("vc_runid.integrations.openai", "vc_runid.integrations.otel", "vc_runid.cli", "vc_runid.vc.proofs")]
    loaded = _modules_after("\n".join(f"import {p}" for p in packages))
    ours = {m for m in loaded if m.startswith("vc_runid.")} - set(packages)
    assert ours <= {"vc_runid.errors", "vc_runid._internal", "vc_runid._internal.lazy"}, ours
    assert not {"fastapi", "uvicorn", "openai", "opentelemetry"} & loaded
