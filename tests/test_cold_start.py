"""Every CLI call pays for the modules it imports: a command imports what it needs, no more.

Not a timing test (timings are in docs/performance.md): these check *which* modules a fresh
interpreter has loaded, which is what the start-up time follows from.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# The service stack (FastAPI, uvicorn, httpx), the network stack pyld would pick a default loader
# from (requests) and jwcrypto (only JOSE credentials need it) stay out of a plain `--help`.
NOT_FOR_HELP = ("fastapi", "uvicorn", "httpx", "starlette", "requests", "aiohttp", "jwcrypto")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_imports_no_service_or_network_stack() -> None:
    loaded = _modules_after(
        "import sys\n"
        "sys.argv = ['vc-runid', '--help']\n"
        "from vc_runid.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    assert "vc_runid.cli.main" in loaded
    assert not {m for m in NOT_FOR_HELP if m in loaded}


def test_building_the_cli_draws_nothing() -> None:
    # rich renders --help (typer's choice) but has no business in a command that prints a report.
    loaded = _modules_after("import typer\nfrom vc_runid import cli\ntyper.main.get_command(cli.app)")
    assert not {m for m in (*NOT_FOR_HELP, "rich") if m in loaded}


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
