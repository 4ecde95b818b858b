"""The W3C and W3C-CCG test suites against the real ``vc-runid serve`` (over TLS on 127.0.0.1),
and the evidence behind every failure the project accepts.

Marked ``conformance``: ``pytest -m "not conformance"`` leaves it out. It needs node/npm and the
suites in ``../shared/conformance/w3c`` beside the repository; without them it is skipped with
the reason. ``bash scripts/conformance --write-doc`` runs the same and regenerates
docs/conformance.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from vc_runid._internal.contexts import contexts_dir
from vc_runid.vc.verification import Verifier

from . import runner

pytestmark = pytest.mark.conformance

SHARED = runner.shared_dir()
needs_suites = pytest.mark.skipif(
    SHARED is None, reason="the W3C suites (../shared/conformance/w3c) are not beside this checkout"
)
needs_node = pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("node") is None, reason="node/npm are not installed"
)

DEFECTS = runner.load_defects()
#: Defects whose fixture is a credential: vc-runid and the reference verifier must both reject it.
FIXTURES = [d for d in DEFECTS if d.get("fixture")]
#: The installed suite whose node_modules hold the reference verifier for a proof type.
REFERENCE_SUITES = {"Ed25519Signature2020": "vc-data-model-2.0-test-suite", "ecdsa-rdfc-2019": "vc-di-ecdsa-test-suite"}


@needs_suites
@needs_node
def test_every_suite_passes_but_for_documented_fixture_defects() -> None:
    results = runner.run(runner.SUITES)
    bad = runner.unexplained(results, DEFECTS)
    assert not bad, "\n".join(f"{suite}: {test}\n    {message}" for suite, test, message in bad)
    # Every suite ran tests: a suite that selects nothing (a tag typo) would pass silently.
    assert all(r.passed for r in results), [r.suite for r in results if not r.passed]


@pytest.mark.parametrize("defect", FIXTURES, ids=[d["fixture"] for d in FIXTURES])
def test_a_defective_fixture_is_rejected_by_vc_runid(defect: dict[str, str]) -> None:
    credential = json.loads((runner.HERE / defect["fixture"]).read_text())
    report = Verifier().verify_credential(credential)
    assert not report.valid
    # Rejected for the documented reason (the signer is not the issuer's), not for another.
    assert "RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED" in {c.code for c in report.failures}, report.failures


def _reference_suite_dir(suite: str) -> Path:
    """An installed suite whose @digitalbazaar/vc 7 (and cryptosuite) is the reference verifier."""
    assert SHARED is not None
    with runner.locked():
        return runner.prepare(suite, SHARED, None)


@needs_suites
@needs_node
@pytest.mark.parametrize("defect", FIXTURES, ids=[d["fixture"] for d in FIXTURES])
def test_a_defective_fixture_is_rejected_by_the_reference_verifier(defect: dict[str, str]) -> None:
    # A fixture no reference cryptosuite can read names the one with the same defect that it can.
    fixture = json.loads((runner.HERE / defect.get("referenceFixture", defect["fixture"])).read_text())
    proof = fixture["proof"]
    suite_dir = _reference_suite_dir(REFERENCE_SUITES[proof.get("cryptosuite", proof["type"])])
    script = suite_dir / "reference_verify.mjs"
    shutil.copyfile(runner.HERE / "reference_verify.mjs", script)
    answer = subprocess.run(
        ["node", str(script), str(contexts_dir())],
        input=json.dumps(fixture), capture_output=True, text=True, timeout=60, cwd=suite_dir, check=False,
    )
    assert answer.returncode == 0, answer.stderr
    verdict = json.loads(answer.stdout)
    assert verdict["verified"] is False
    assert "must match the verification method controller" in verdict["error"]


def test_the_doc_table_is_the_one_the_runner_generates() -> None:
    results = json.loads(runner.RESULTS_FILE.read_text())
    text = runner.DOC_FILE.read_text()
    assert runner.render_table(results) in text
    assert runner.render_defects(DEFECTS) in text


def test_the_defect_list_is_short_and_complete() -> None:
    assert len(DEFECTS) <= 8
    for defect in DEFECTS:
        assert defect["suite"] in runner.SUITES
        assert {"tests", "reason", "reference"} <= set(defect) and defect["tests"]
        for key in ("fixture", "referenceFixture"):
            assert key not in defect or (runner.HERE / defect[key]).is_file()
