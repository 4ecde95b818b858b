"""The wallets people run (Credo, Veramo, panva jose, ACA-Py) as interoperability peers.

The JavaScript peers are driven like ``dbjs``: each call spawns ``node interop/wallets/<peer>.mjs``
with one JSON request on stdin (``interop/wallets/common.mjs`` documents the protocol). ACA-Py
runs in its own Python 3.13 virtual environment (``interop/acapy/.venv``, made by scripts/test),
driven the same way through ``interop/acapy/acapy_peer.py``. Every peer is offline: contexts come
from ``contexts/`` and DID documents from the request.

Install the JavaScript side with ``npm ci --prefix interop/wallets``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
WALLETS_DIR = REPO_ROOT / "interop" / "wallets"
ACAPY_DIR = REPO_ROOT / "interop" / "acapy"
ACAPY_PYTHON = ACAPY_DIR / ".venv" / "bin" / "python"
CONTEXTS_DIR = REPO_ROOT / "contexts"
TIMEOUT_S = 120

JS_PEERS = ("credo", "veramo", "jose")
JWS_2020 = "https://w3id.org/security/suites/jws-2020/v1"
JWS_2020_FILE = (
    WALLETS_DIR / "node_modules/@veramo/credential-ld/build/contexts/w3id.org_security_suites_jws-2020_v1.json"
)

MISSING_JS = (
    "wallet interop harness unavailable: needs `node` (v20+) and the npm packages in "
    "interop/wallets/node_modules. Install them with: npm ci --prefix interop/wallets"
)
MISSING_ACAPY = (
    "ACA-Py interop SKIPPED: acapy-agent 1.7 needs Python >= 3.13, and interop/acapy/.venv "
    "(made by scripts/test from a python3.13 on PATH or pyenv's 3.13) is missing. Without it "
    "nothing is known about ACA-Py reach: see docs/formats.md."
)


def js_available() -> bool:
    if shutil.which("node") is None:
        return False
    manifest = json.loads((WALLETS_DIR / "package.json").read_text(encoding="utf-8"))
    modules = WALLETS_DIR / "node_modules"
    return all((modules / name / "package.json").is_file() for name in manifest["dependencies"])


def acapy_available() -> bool:
    return ACAPY_PYTHON.is_file()


def run(peer: str, request: dict[str, Any]) -> dict[str, Any]:
    """Send one request to a peer's bridge and return its JSON response.

    AssertionError (with the bridge's stderr) when it cannot run, times out, exits non-zero (a bad
    request or an issuance the peer refused) or prints something that is not one JSON object.
    """
    if peer == "acapy":
        command = [str(ACAPY_PYTHON), str(ACAPY_DIR / "acapy_peer.py")]
        cwd = ACAPY_DIR
    else:
        node = shutil.which("node")
        if node is None:
            raise AssertionError(MISSING_JS)
        command = [node, str(WALLETS_DIR / f"{peer}.mjs")]
        cwd = WALLETS_DIR
    request = {"contextsDir": str(CONTEXTS_DIR), **request}
    if JWS_2020_FILE.is_file():
        # did:web documents name the jws-2020 context (for JsonWebKey2020); Credo and ACA-Py bundle
        # no copy and would fetch it. Offline, the published document comes from Veramo's package.
        extra = dict(request.get("extraContexts") or {})
        extra.setdefault(JWS_2020, json.loads(JWS_2020_FILE.read_text(encoding="utf-8")))
        request["extraContexts"] = extra
    try:
        proc = subprocess.run(
            command,
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{peer} timed out after {TIMEOUT_S} s (op={request.get('op')!r})") from exc
    if proc.returncode != 0:
        raise AssertionError(
            f"{peer} failed (exit {proc.returncode}, op={request.get('op')!r}): "
            f"{proc.stdout.strip()[:3000]}\nstderr:\n{proc.stderr.strip()[-3000:]}"
        )
    try:
        response = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{peer} printed no JSON: {proc.stdout[:2000]!r}\n{proc.stderr[-2000:]}") from exc
    if not isinstance(response, dict):
        raise AssertionError(f"{peer} answered with a non-object: {response!r}")  # noqa: TRY004 - a failed check, as above
    return response
