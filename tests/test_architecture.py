"""The architecture holds beyond the import contracts (tests/test_layers.py): each concept lives
in one place."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from vc_runid.audit.log import AuditReport
from vc_runid.bundle.archive import BundleReport, verify_bundle
from vc_runid.runs.presentations import RunPresentationReport
from vc_runid.runs.presentations import verify_presentation as verify_run_presentation
from vc_runid.runs.verify import verify_run
from vc_runid.vc.presentations import PresentationReport, verify_presentation
from vc_runid.vc.verification import Report, VerificationReport, verify_credential

PACKAGE = Path(__file__).resolve().parents[1] / "vc_runid"


def _sources() -> dict[Path, str]:
    return {path: path.read_text() for path in PACKAGE.rglob("*.py")}


def test_every_verification_returns_a_report_of_one_family() -> None:
    for report_type in (VerificationReport, PresentationReport, RunPresentationReport, BundleReport, AuditReport):
        assert issubclass(report_type, Report), report_type
    for verify in (verify_credential, verify_run, verify_presentation, verify_run_presentation, verify_bundle):
        returned = inspect.signature(verify).return_annotation
        assert returned in {"VerificationReport", "PresentationReport", "RunPresentationReport", "BundleReport"}, verify


def test_an_empty_report_of_any_kind_is_not_valid() -> None:
    assert not VerificationReport().valid
    assert not AuditReport(treeSize=0, rootHash="", declarations=0, bindings=0, checks=[], unbound=[]).valid
    assert not BundleReport(bundle="b.zip", verified_at="2026-01-01T00:00:00Z").valid


def test_only_the_store_knows_the_home_layout() -> None:
    names = re.compile(r'"(runs\.sqlite3|status\.sqlite3|service\.sqlite3|identity\.json|receipts|keys)"')
    holders = {
        path.relative_to(PACKAGE).as_posix()
        for path, text in _sources().items()
        if any(names.search(line) and not line.lstrip().startswith("#") for line in text.splitlines())
    }
    # "receipts" and "keys" are also JSON member names elsewhere; a path is built only in store.home.
    path_builders = {
        path.relative_to(PACKAGE).as_posix()
        for path, text in _sources().items()
        if re.search(r'/ "(runs\.sqlite3|status\.sqlite3|service\.sqlite3|identity\.json|receipts|keys)"', text)
    }
    assert path_builders == set(), path_builders
    assert "store/home.py" in holders


def test_one_log_leaf_rule() -> None:
    definitions = [p for p, text in _sources().items() if "def log_leaf_data(" in text]
    assert [p.relative_to(PACKAGE).as_posix() for p in definitions] == ["runs/declaration.py"]


def test_the_vc_engine_says_nothing_of_runs_in_its_code() -> None:
    """The VC layer is generic: no run type, run store or run verification appears in it."""
    for path, text in _sources().items():
        if path.relative_to(PACKAGE).parts[0] != "vc":
            continue
        assert not re.search(r"RunStore|verify_run\(|^\s*from (\.\.+|vc_runid\.)runs", text, re.M), path
