"""Revocation end to end: runs issued with status entries, revoked, and verified against the published list."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

import vc_runid as runid
from vc_runid._internal.timeutil import utc_now
from vc_runid.cli.main import app
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs.runner import credential_id
from vc_runid.runs.verify import verify_run
from vc_runid.store.home import init_home
from vc_runid.store.status import StatusRegistry
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.policy import TrustPolicy
from vc_runid.vc.verification import Verifier

#: Status rules are under test here, not whom to trust.
ANY = TrustPolicy.unsafe_any_issuer()

URL = "https://issuer.example/status/1"


def _composition() -> runid.RunComposition:
    return runid.CompositionBuilder().model("gpt-4o", provider="openai").input("hi").build()


@pytest.mark.parametrize("fmt", [ProofFormat.DI, ProofFormat.ECDSA, ProofFormat.JOSE])
def test_run_with_status_then_revoke(tmp_path: Path, fmt: ProofFormat) -> None:
    issuer = runid.Issuer.generate(runid.KeyType.P256 if fmt is ProofFormat.ECDSA else runid.KeyType.ED25519)
    registry = StatusRegistry(tmp_path)
    with runid.run(_composition(), issuer=issuer, proof_format=fmt, status=partial(registry.assign, URL)) as run:
        run.record_output("out")
    now = utc_now()
    lists = {URL: registry.status_list_credential(issuer, URL, now)}
    report = verify_run(run.declaration, run.binding, verifier=Verifier(now=now, status_lists=lists, policy=ANY))
    assert report.valid, report.failures
    status_checks = [c for c in report.checks if c.name.endswith("status")]
    assert len(status_checks) == 2 and all("not revoked as of" in c.message for c in status_checks), report.checks
    registry.revoke(credential_id(run.binding), "wrong output", now)
    later = utc_now()
    lists = {URL: registry.status_list_credential(issuer, URL, later)}
    report = verify_run(run.declaration, run.binding, verifier=Verifier(now=later, status_lists=lists, policy=ANY))
    assert not report.valid
    assert ErrorCode.CREDENTIAL_REVOKED.value in report.error_codes
    report = verify_run(run.declaration, run.binding, verifier=Verifier(now=later, policy=ANY))
    assert report.valid and report.warnings


def test_vc11_profile_refuses_status(tmp_path: Path) -> None:
    registry = StatusRegistry(tmp_path)
    with pytest.raises(RunIdError) as excinfo:
        with runid.run(_composition(), issuer=runid.Issuer.generate(), proof_format=ProofFormat.DI_2020,
                       status=partial(registry.assign, URL)) as run:
            run.record_output("x")
    assert excinfo.value.code is ErrorCode.USAGE


def test_cli_verify_with_status_list(tmp_path: Path) -> None:
    home = tmp_path / "home"
    issuer, _ = init_home(home)
    registry = StatusRegistry(home)
    cid, entry = registry.assign(URL)
    secured = runid.issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": cid, "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:a"}, "credentialStatus": entry}, issuer)
    (tmp_path / "c.json").write_text(json.dumps(secured))
    cli = CliRunner()
    publish = ["status-list", "--url", URL, "--home", str(home), "--out", str(tmp_path / "l.json")]
    assert cli.invoke(app, publish).exit_code == 0
    ok = cli.invoke(app, ["verify", "--any-issuer", str(tmp_path / "c.json"), "--status-list", str(tmp_path / "l.json")])
    assert ok.exit_code == 0, ok.output
    assert "not revoked as of" in ok.stdout
    assert cli.invoke(app, ["revoke", cid, "--reason", "x", "--home", str(home)]).exit_code == 0
    assert cli.invoke(app, publish).exit_code == 0
    bad = cli.invoke(app, ["verify", "--any-issuer", str(tmp_path / "c.json"), "--status-list", str(tmp_path / "l.json")])
    assert bad.exit_code == 1
    assert "RUNID_CREDENTIAL_REVOKED" in bad.stdout


def test_bulk_audit_reports_revoked_runs_given_the_status_list(tmp_path: Path) -> None:
    from vc_runid.store.files import write_secured

    issuer = runid.Issuer.generate()
    registry = StatusRegistry(tmp_path / "registry")
    runs = []
    for index in range(3):
        with runid.run(_composition(), issuer=issuer, status=partial(registry.assign, URL)) as run:
            run.record_output(f"out {index}")
        directory = tmp_path / "runs" / str(index)
        directory.mkdir(parents=True)
        write_secured(directory / "declaration.json", run.declaration)
        assert run.binding is not None
        write_secured(directory / "binding.json", run.binding)
        runs.append(run)
    registry.revoke(credential_id(runs[1].declaration), "declared the wrong model", utc_now())
    status_list = tmp_path / "status.json"
    status_list.write_text(json.dumps(registry.status_list_credential(issuer, URL, utc_now())))

    cli = CliRunner()
    unknown = cli.invoke(app, ["audit", "--any-issuer", str(tmp_path / "runs"), "--workers", "1", "--json", str(tmp_path / "a.json")])
    assert unknown.exit_code == 0, unknown.output  # no list: status unknown, said in the rows
    rows = json.loads((tmp_path / "a.json").read_text())["runs"]
    assert all(any("revocation status is unknown" in w for w in row["warnings"]) for row in rows)

    checked = cli.invoke(app, ["audit", "--any-issuer", str(tmp_path / "runs"), "--workers", "1", "--status-list", str(status_list),
                               "--json", str(tmp_path / "b.json")])
    assert checked.exit_code == 1, checked.output
    summary = json.loads((tmp_path / "b.json").read_text())
    assert (summary["valid"], summary["revoked"]) == (2, 1)
