"""`vc-runid present` and `vc-runid verify VP --challenge --domain`, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.trust import with_trust
from vc_runid.cli.main import app


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, with_trust(list(args)))
    output = result.output
    assert "Traceback" not in output
    return result.exit_code, output


def test_present_runs_and_verify_with_the_auditors_challenge(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    code, _ = invoke("demo", "--home", home, "--out-dir", str(tmp_path / "demo"))
    assert code == 0
    code, listing = invoke("runs", "list", "--home", home, "--json")
    run_id = json.loads(listing)[0]["runId"]
    vp = str(tmp_path / "vp.json")
    code, _ = invoke("present", run_id, "--challenge", "c-42", "--domain", "audit.example", "--out", vp, "--home", home)
    assert code == 0

    code, out = invoke("verify", vp, "--challenge", "c-42", "--domain", "audit.example")
    assert code == 0, out
    assert "VALID (bound)" in out

    code, out = invoke("verify", vp, "--challenge", "c-43", "--domain", "audit.example")
    assert code == 1 and "RUNID_PROOF_CHALLENGE_MISMATCH" in out

    code, out = invoke("verify", vp, "--challenge", "c-42", "--domain", "other.example")
    assert code == 1 and "RUNID_PROOF_DOMAIN_MISMATCH" in out

    code, out = invoke("verify", vp)
    assert code == 1 and "RUNID_PROOF_CHALLENGE_MISMATCH" in out


def test_present_an_unknown_run_is_refused(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert invoke("init", "--home", home)[0] == 0
    result = CliRunner().invoke(app, ["present", "urn:uuid:0", "--challenge", "c", "--domain", "d", "--home", home])
    assert result.exit_code == 1
    assert "RUNID_RUN_NOT_FOUND" in result.output
