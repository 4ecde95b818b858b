"""Every CLI call pays for the modules it imports: a command imports what it needs, no more.

Not a timing test (timings are in docs/performance.md): these check *which* modules a fresh
interpreter has loaded, which is what the start-up time follows from.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# The service stack (FastAPI, uvicorn, httpx), the network stack pyld would pick a default loader
# from (requests) and jwcrypto (only JOSE credentials need it) stay out of a plain `--help`.
NOT_FOR_HELP = ("fastapi", "uvicorn", "httpx", "starlette", "requests", "aiohttp", "jwcrypto")

# What `vc-runid --help` is made of: typer draws it (with rich), from the command tree alone. No
# JSON-LD (pyld, lxml), no models (pydantic), no crypto, no RDF: ~0.2 s of imports stay unloaded.
NOT_FOR_THE_COMMAND_TREE = (
    *NOT_FOR_HELP, "pyld", "lxml", "pydantic", "pydantic_core", "cryptography", "pyoxigraph", "yaml", "asyncio",
)
# vc_runid's own modules a `--help` may load: the CLI, the error codes and the format names.
HELP_MODULES = {
    "vc_runid", "vc_runid.errors", "vc_runid._internal", "vc_runid._internal.lazy", "vc_runid.vc",
    "vc_runid.vc.formats",
}

# What `vc-runid verify` never needs, whatever it verifies: the other commands' layers.
NOT_FOR_VERIFY = (
    *NOT_FOR_HELP, "yaml", "vc_runid.server", "vc_runid.gateway", "vc_runid.witness", "vc_runid.client",
    "vc_runid.audit", "vc_runid.bundle", "vc_runid.demo", "vc_runid.integrations", "vc_runid.runs.manifest",
    "vc_runid.runs.runner", "vc_runid.runs.signer", "vc_runid.store.runs", "vc_runid.store.status",
    "vc_runid.vc.status.fetch",
)


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _cli_modules(*argv: str) -> set[str]:
    """The modules loaded by ``vc-runid ARGV`` run in a fresh interpreter, as the entry point runs it."""
    probe = (
        "import io, contextlib, sys\n"
        f"sys.argv = ['vc-runid', *{list(argv)!r}]\n"
        "from vc_runid.cli.main import main\n"
        "try:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "import json\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _present(loaded: set[str], names: tuple[str, ...]) -> set[str]:
    """Which of ``names`` (packages or modules) are loaded, themselves or a module under them."""
    return {name for name in names if any(m == name or m.startswith(name + ".") for m in loaded)}


def test_help_imports_no_service_or_network_stack() -> None:
    loaded = _cli_modules("--help")
    assert "vc_runid.cli.main" in loaded
    assert not _present(loaded, NOT_FOR_HELP)


def test_help_is_drawn_from_the_command_tree_alone() -> None:
    # Every command's options, choices (--format, --profile) and help are built without the
    # library behind them: a command imports its workflow when it runs.
    loaded = _cli_modules("--help")
    assert not _present(loaded, NOT_FOR_THE_COMMAND_TREE)
    ours = {m for m in loaded if m.startswith("vc_runid") and not m.startswith("vc_runid.cli")}
    assert ours <= HELP_MODULES, sorted(ours - HELP_MODULES)


def test_building_the_cli_draws_nothing() -> None:
    # rich renders --help (typer's choice) but has no business in a command that prints a report.
    loaded = _modules_after("import typer\nfrom vc_runid import cli\ntyper.main.get_command(cli.app)")
    assert not _present(loaded, (*NOT_FOR_THE_COMMAND_TREE, "rich"))


def test_importing_the_package_loads_no_json_ld() -> None:
    # pyld (~0.1 s with lxml and asyncio) is loaded by the first JSON-LD expansion, not by `import
    # vc_runid`; it is still loaded without its network loader (test_pyld_default_loader_is_offline).
    loaded = _modules_after("import vc_runid")
    assert not _present(loaded, ("pyld", "pydantic", "cryptography", "requests"))


def _credential(tmp_path: Path) -> tuple[Path, str]:
    from vc_runid.vc.credentials import Issuer, issue_credential

    issuer = Issuer.generate()
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:alice"},
    }
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(issue_credential(document, issuer)))
    return path, issuer.did


def test_verifying_a_credential_loads_no_run_or_other_command(tmp_path: Path) -> None:
    path, did = _credential(tmp_path)
    loaded = _cli_modules("verify", str(path), "--trusted-issuer", did)
    assert "vc_runid.vc.verification" in loaded  # it did verify
    assert not _present(loaded, (*NOT_FOR_VERIFY, "vc_runid.runs", "rich"))
    # Nor presentations, nor the log modules (for a policy that names a log or a witness).
    assert not _present(loaded, ("vc_runid.vc.presentations", "vc_runid.transparency"))
    # pyld's package __init__ (every document loader; asyncio for the aiohttp one) and lxml's HTML
    # parser (for JSON-LD in HTML) are never used by a verification: neither is run.
    assert not _present(loaded, ("asyncio", "lxml.etree", "pyld.documentloader.aiohttp", "pyld.documentloader.file"))


def test_what_pyld_defers_still_works_when_asked_for() -> None:
    # The names pyld's package __init__ defines, and lxml's HTML parser pyld.jsonld imports.
    _modules_after(
        "import vc_runid\n"
        "from vc_runid._internal.canonical import expand_document\n"
        "from vc_runid._internal.contexts import default_loader\n"
        "expand_document({'@context': 'https://www.w3.org/ns/credentials/v2', 'type': 'VerifiableCredential'},"
        " default_loader())\n"
        "import pyld, sys\n"
        "assert 'asyncio' not in sys.modules\n"
        "assert pyld.FrozenDocumentLoader.__name__ == 'FrozenDocumentLoader' and 'jsonld' in pyld.__all__\n"
        "from pyld import jsonld\n"
        "assert jsonld.lxml.html.fromstring('<p>x</p>').text == 'x'\n"
        "import lxml.html\n"
        "assert type(lxml.html) is type(sys) and lxml.html is sys.modules['lxml.html']\n"
    )


def test_verifying_a_run_loads_no_other_command(tmp_path: Path) -> None:
    import vc_runid as runid
    from vc_runid.store.files import write_secured

    issuer = runid.Issuer.generate()
    composition = runid.CompositionBuilder().model("m", provider="local").input("hi").build()
    with runid.run(composition, issuer=issuer) as current:
        current.record_output(b"hello", observed={"modelId": "m"})
    write_secured(tmp_path / "declaration.json", current.declaration)
    write_secured(tmp_path / "binding.json", current.binding)
    loaded = _cli_modules(
        "verify", str(tmp_path / "declaration.json"), str(tmp_path / "binding.json"), "--trusted-issuer", issuer.did
    )
    assert "vc_runid.runs.verify" in loaded  # it did verify a run
    assert not _present(loaded, (*NOT_FOR_VERIFY, "rich"))


def test_commands_load_what_only_other_commands_need_when_those_run() -> None:
    # The audit engine and YAML (manifests) are for `audit` and `--manifest`, not for `verify`.
    loaded = _modules_after("from vc_runid import cli")
    assert not {m for m in ("vc_runid.audit.bulk", "vc_runid.runs.manifest", "yaml") if m in loaded}


def test_the_package_loads_its_public_names_on_first_use() -> None:
    loaded = _modules_after("import vc_runid.errors")
    assert "vc_runid.runs.binding" not in loaded
    assert "vc_runid.vc.presentations" not in loaded
    loaded = _modules_after("import vc_runid\nassert vc_runid.TrustPolicy.__name__ == 'TrustPolicy'")
    assert "vc_runid.vc.policy" in loaded


def test_every_public_name_resolves() -> None:
    import vc_runid

    for name in vc_runid.__all__:
        assert getattr(vc_runid, name) is not None, name
    assert set(vc_runid.__all__) <= set(dir(vc_runid))
    with pytest.raises(AttributeError):
        _ = vc_runid.no_such_name  # type: ignore[attr-defined]


def test_pyld_default_loader_is_offline() -> None:
    # pyld picks a network loader by default when requests is importable; vc-runid always passes
    # its own, and pyld's default is the one that refuses every URL (fail closed).
    loaded = _modules_after(
        "import vc_runid\n"
        "from pyld import jsonld\n"
        "try:\n"
        "    jsonld.expand({'@context': 'https://example.com/c', 'a': 1})\n"
        "    raise SystemExit('fetched')\n"
        "except jsonld.JsonLdError:\n"
        "    pass\n"
    )
    assert "requests" not in loaded


def test_pyld_default_loader_refuses_even_when_requests_was_imported_first() -> None:
    pytest.importorskip("requests")
    _modules_after(
        "import requests\n"
        "import vc_runid\n"
        "from pyld import jsonld\n"
        "assert jsonld.get_document_loader().__qualname__.startswith('dummy_document_loader'), "
        "jsonld.get_document_loader()\n"
    )


def test_threads_that_first_use_a_deferred_module_together_all_get_it() -> None:
    # pyld's __init__ and lxml.html run once, while the other threads wait for them (five rounds,
    # each a fresh interpreter switching threads as often as it can).
    code = (
        "import sys, threading\n"
        "import vc_runid\n"
        "from vc_runid._internal.canonical import expand_document\n"
        "from vc_runid._internal.contexts import default_loader\n"
        "expand_document({'@context': 'https://www.w3.org/ns/credentials/v2', 'type': 'VerifiableCredential'},"
        " default_loader())\n"
        "import pyld\n"
        "from pyld import jsonld\n"
        "sys.setswitchinterval(1e-6)\n"
        "barrier, errors = threading.Barrier(8), []\n"
        "def use():\n"
        "    barrier.wait()\n"
        "    try:\n"
        "        assert pyld.FrozenDocumentLoader.__name__ == 'FrozenDocumentLoader'\n"
        "        assert jsonld.lxml.html.fromstring('<p>x</p>').text == 'x'\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "threads = [threading.Thread(target=use) for _ in range(8)]\n"
        "for thread in threads: thread.start()\n"
        "for thread in threads: thread.join()\n"
        "assert not errors, errors\n"
        "assert sys.modules['lxml.html'] is jsonld.lxml.html and type(jsonld.lxml.html) is type(sys)\n"
    )
    for _ in range(5):
        _modules_after(code)


def test_probing_a_deferred_module_does_not_run_it() -> None:
    # Tools that walk sys.modules reading __file__ or __version__ must not import anything.
    _modules_after(
        "import sys\n"
        "import vc_runid\n"
        "from vc_runid._internal.canonical import expand_document\n"
        "from vc_runid._internal.contexts import default_loader\n"
        "expand_document({'@context': 'https://www.w3.org/ns/credentials/v2', 'type': 'VerifiableCredential'},"
        " default_loader())\n"
        "for module in list(sys.modules.values()):\n"
        "    getattr(module, '__file__', None), getattr(module, '__version__', None)\n"
        "for module in sys.modules.values():\n"
        "    getattr(module, '__file__', None), getattr(module, '__version__', None)\n"
        "assert 'lxml.etree' not in sys.modules and 'asyncio' not in sys.modules\n"
        "assert sys.modules['lxml.html'].__file__.endswith('__init__.py')\n"
    )
