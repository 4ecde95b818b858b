"""The executor's side of independence: `vc-runid declare/bind/run --issuer URL --token T` talk to
the real service process, hold no issuer key, and the result verifies offline — including
revocation through `vc-runid revoke --issuer` and `vc-runid verify --fetch-status`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vc_runid.store.home import load_issuer

from .conftest import Server

MANIFEST = """model: {id: demo-model, provider: local}
parameters: {temperature: 0}
instructions: [system.txt]
input: input.txt
executor: {id: billing-agent-7}
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "vc_runid", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "system.txt").write_text("You are terse.\n")
    (tmp_path / "input.txt").write_text("hello\n")
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    return tmp_path


def test_run_through_the_issuer_service_verifies_offline_and_keeps_no_key(shared_server: Server, tmp_path: Path) -> None:
    work = workspace(tmp_path)
    remote = ["--issuer", shared_server.url, "--token", shared_server.tokens["alice"], "--home", "executor"]
    result = cli("run", "--manifest", "manifest.yaml", "--out-dir", "out", *remote, "--", sys.executable, "-c", "print('42')", cwd=work)
    assert result.returncode == 0, result.stderr
    assert not (work / "executor" / "keys").exists()  # the executor never held an issuer key
    assert sorted(p.name for p in (work / "executor" / "receipts").iterdir())[0].endswith(".binding.json")

    service = json.loads((work / "out" / "declaration.json").read_text())["issuer"]
    verified = cli("verify", "out/declaration.json", "out/binding.json", "--output", "out/output.txt", "--json",
                   "--trusted-issuer", service, cwd=work)
    assert verified.returncode == 0, verified.stdout
    report = json.loads(verified.stdout)
    assert report["status"] == "bound" and report["valid"] is True

    again = cli("bind", "out/declaration.json", "--output", "out/output.txt", *remote, cwd=work)
    assert again.returncode == 1 and again.stderr.startswith("RUNID_ALREADY_BOUND")


def test_declare_without_a_token_is_a_usage_error(shared_server: Server, tmp_path: Path) -> None:
    work = workspace(tmp_path)
    result = cli("declare", "manifest.yaml", "--issuer", shared_server.url, "--home", "executor", cwd=work)
    assert result.returncode == 2 and result.stderr.startswith("RUNID_USAGE")


def test_wrong_token_is_refused_and_nothing_is_declared(shared_server: Server, tmp_path: Path) -> None:
    work = workspace(tmp_path)
    result = cli("declare", "manifest.yaml", "--issuer", shared_server.url, "--token", "runid_wrong", "--home", "executor", cwd=work)
    assert result.returncode == 1 and result.stderr.startswith("RUNID_UNAUTHORIZED")
    listing = cli("runs", "list", "--home", "executor", "--json", cwd=work)
    assert json.loads(listing.stdout) == []


def test_revoke_at_the_service_then_fetch_status_reports_it(shared_server: Server, tmp_path: Path) -> None:
    work = workspace(tmp_path)
    remote = ["--issuer", shared_server.url, "--token", shared_server.tokens["alice"], "--home", "executor"]
    assert cli("declare", "manifest.yaml", "--out", "decl.json", *remote, cwd=work).returncode == 0
    trusted = ["--trusted-issuer", json.loads((work / "decl.json").read_text())["issuer"]]
    before = cli("verify", "decl.json", "--fetch-status", *trusted, cwd=work)
    assert before.returncode == 0, before.stdout

    declaration_id = json.loads((work / "decl.json").read_text())["id"]
    not_admin = cli("revoke", declaration_id, "--reason", "test", "--issuer", shared_server.url,
                    "--token", shared_server.tokens["alice"], cwd=work)
    assert not_admin.returncode == 1
    revoked = cli("revoke", declaration_id, "--reason", "wrong prompt", "--issuer", shared_server.url,
                  "--token", shared_server.tokens["admin"], cwd=work)
    assert revoked.returncode == 0, revoked.stderr

    after = cli("verify", "decl.json", "--fetch-status", *trusted, cwd=work)
    assert after.returncode == 1 and "RUNID_CREDENTIAL_REVOKED" in after.stdout
    offline = cli("verify", "decl.json", *trusted, cwd=work)  # no lists, no fetching: a warning, not a verdict
    assert offline.returncode == 0 and "revocation status is unknown" in offline.stdout


def test_bundle_of_service_runs_needs_their_status_list_and_can_fetch_it(shared_server: Server, tmp_path: Path) -> None:
    work = workspace(tmp_path)
    remote = ["--issuer", shared_server.url, "--token", shared_server.tokens["alice"], "--home", "executor"]
    result = cli("run", "--manifest", "manifest.yaml", "--out-dir", "out", *remote, "--", sys.executable, "-c", "print(1)", cwd=work)
    assert result.returncode == 0, result.stderr
    run_id = json.loads(cli("runs", "list", "--home", "executor", "--json", cwd=work).stdout)[0]["runId"]

    missing = cli("bundle", run_id, "--out", "audit.zip", "--home", "executor", cwd=work)
    assert missing.returncode == 2 and missing.stderr.startswith("RUNID_USAGE")
    assert f"{shared_server.url}/status/1" in missing.stderr
    assert not (work / "audit.zip").exists()

    fetched = cli("bundle", run_id, "--out", "audit.zip", "--fetch-status", "--home", "executor", cwd=work)
    assert fetched.returncode == 0, fetched.stderr
    service = json.loads((work / "out" / "declaration.json").read_text())["issuer"]
    # The auditor has the service's DID document from the organisation, not from the bundle.
    (work / "dids").mkdir()
    (work / "dids" / "service.json").write_text(json.dumps(load_issuer(shared_server.home).did_document()))
    verified = cli("verify-bundle", "audit.zip", "--trusted-issuer", service, "--did-store", "dids", cwd=work)
    assert verified.returncode == 0, verified.stdout + verified.stderr
