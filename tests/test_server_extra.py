"""FastAPI and uvicorn are the ``server`` extra: everything but the service and the gateway works
without them, and those two say which extra to install instead of showing a traceback.

Each test runs a real interpreter in which the service stack cannot be imported (a ``None`` in
``sys.modules`` makes ``import fastapi`` fail as if it were not installed), so nothing that the
library, ``verify``, ``declare``, ``bind`` or ``audit`` imports may need it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_STACK = ("fastapi", "starlette", "uvicorn", "httptools", "uvloop")

_BLOCK = (
    "import sys\n"
    f"for name in {SERVICE_STACK!r}:\n"
    "    sys.modules[name] = None\n"
)


def _without_server(code: str, *, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + code], capture_output=True, text=True, timeout=timeout, check=False
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return _without_server(
        f"sys.argv = ['vc-runid', *{list(args)!r}]\n"
        "from vc_runid.cli.main import main\n"
        "main()\n"
    )


def test_the_block_works() -> None:
    done = _without_server("import fastapi\n")
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


def test_the_library_works_without_the_server_extra() -> None:
    done = _without_server(
        "import vc_runid as runid\n"
        "issuer = runid.Issuer.generate()\n"
        "composition, _ = runid.CompositionBuilder().model('m', provider='p').input('hi').build()\n"
        "with runid.run(composition, issuer=issuer) as run:\n"
        "    run.record_output(b'hello')\n"
        "report = runid.verify_run(run.declaration, run.binding, output=b'hello',\n"
        "                          policy=runid.TrustPolicy.trusting(issuer.did))\n"
        "assert report.valid, report\n"
        "import vc_runid.client, vc_runid.audit, vc_runid.bundle, vc_runid.gateway, vc_runid.server\n"
        "from vc_runid.gateway import LocalDeclarer, ModelRegistry\n"  # the gateway's pieces that need no HTTP
        "assert not [m for m, v in sys.modules.items() if v is not None and m.partition('.')[0] in"
        f" {SERVICE_STACK!r}]\n"
        "print('ok')\n"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_the_cli_declares_binds_verifies_and_audits_without_the_server_extra(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "demo"
    # `vc-runid demo` declares, runs, binds and verifies a run (and checks a tampered output fails).
    demo = _cli("demo", "--home", str(home), "--out-dir", str(out))
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    declaration = next(out.rglob("*declaration*.json"))
    binding = next(out.rglob("*binding*.json"))
    did = json.loads(declaration.read_text())["issuer"]
    did = did["id"] if isinstance(did, dict) else did
    verify = _cli("verify", str(declaration), str(binding), "--trusted-issuer", did)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    runs = tmp_path / "runs"
    runs.mkdir()
    for credential in (declaration, binding):
        (runs / credential.name).write_bytes(credential.read_bytes())
    audit = _cli("audit", str(runs), "--trusted-issuer", did)
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr[-2000:]
    assert "Traceback" not in verify.stderr + audit.stderr


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (("serve", "--port", "0"), "vc-runid serve"),
        (("gateway", "--upstream", "http://127.0.0.1:9/v1"), "vc-runid gateway"),
    ],
)
def test_the_service_and_the_gateway_name_the_extra_to_install(tmp_path: Path, args: tuple[str, ...], command: str) -> None:
    done = _cli(*args, "--home", str(tmp_path / "home"))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"RUNID_EXTRA_NOT_INSTALLED: {command} needs fastapi, uvicorn"), line
    assert "pip install 'vc-runid[server]'" in line
    assert not (tmp_path / "home").exists()  # refused before anything was created


def test_the_service_app_from_python_names_the_extra() -> None:
    done = _without_server(
        "import vc_runid.server\n"
        "from vc_runid.errors import ErrorCode, RunIdError\n"
        "try:\n"
        "    vc_runid.server.create_app\n"
        "except RunIdError as error:\n"
        "    assert error.code is ErrorCode.EXTRA_NOT_INSTALLED, error\n"
        "    print(error)\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pip install 'vc-runid[server]'" in done.stdout
