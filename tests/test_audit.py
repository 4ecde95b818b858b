"""Bulk audit (issue 5, "Reading it" → Bulk): every run in a directory, verified in parallel.

The main figure is a directory of 30 runs made by ``vc_runid.run`` — valid and bound, declared but
unbound, a tampered output digest, a binding whose declaration is missing, drift — and the audit
must give exactly the counts that mix implies, whatever the number of workers. Discovery's own
adversarial cases (copies, conflicts, unreadable files) are a table of (mutation, expected code).
Every run uses a fixed, ticking clock and every audit a fixed verification time.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import vc_runid as runid
from tests.trust import ANY_ISSUER, with_trust
from vc_runid import CompositionBuilder, ErrorCode, Issuer, KeyType, ProofFormat
from vc_runid.audit.bulk import (
    AuditRow,
    AuditSummary,
    Verdict,
    discover_runs,
    write_csv,
    write_json,
)
from vc_runid.audit.bulk import audit_runs as _audit_runs
from vc_runid.cli.audit import register
from vc_runid.runs import output_digest
from vc_runid.runs.declaration import declare
from vc_runid.store.files import write_secured
from vc_runid.vc.dids import did_web_document
from vc_runid.vc.documents import SecuredWire
from vc_runid.vc.keys import KeyPair


def audit_runs(runs: Any, **options: Any) -> AuditSummary:
    """These tests are about the audit, not whom to trust: any issuer, unless a test says otherwise."""
    return _audit_runs(runs, **{"policy": ANY_ISSUER, **options})
from vc_runid.runs.runner import Run

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
VERIFY_AT = T0 + timedelta(days=1)
AT = VERIFY_AT.isoformat()

#: The mix of the 30-run directory: kind → how many.
MIX = {"valid": 16, "valid-jose": 2, "unbound": 4, "tampered-output": 3, "no-declaration": 2, "drift": 3}


def ticking_clock(start: datetime = T0) -> Callable[[], datetime]:
    ticks = iter(range(1_000_000))
    return lambda: start + timedelta(seconds=next(ticks))


def make_run(
    issuer: Issuer, index: int, *, proof_format: ProofFormat = ProofFormat.DI, observed_model: str = "gpt-4o"
) -> Run:
    composition = (
        CompositionBuilder()
        .model("gpt-4o", provider="openai")
        .parameters({"temperature": 0.2})
        .instruction("You are a careful billing assistant.\n")
        .input(f"question {index}\n")
        .build()
    )
    with runid.run(composition, issuer=issuer, proof_format=proof_format, clock=ticking_clock()) as current:
        current.record_output(f"answer {index}\n", observed={"modelId": observed_model})
    return current


def suffix(secured: SecuredWire) -> str:
    return ".jwt" if isinstance(secured, str) else ".json"


def write_run(
    directory: Path, current: Run, *, declaration: bool = True, binding: bool = True
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if declaration:
        write_secured(directory / f"declaration{suffix(current.declaration)}", current.declaration)
    if binding:
        assert current.binding is not None
        write_secured(directory / f"binding{suffix(current.binding)}", current.binding)
    return directory


def tamper_output_digest(current: Run) -> Run:
    assert isinstance(current.binding, dict)
    binding = json.loads(json.dumps(current.binding))
    binding["credentialSubject"]["output"]["digestMultibase"] = "uEiD" + "A" * 43
    current.binding = binding
    return current


@dataclass(frozen=True)
class Figure:
    directory: Path
    kinds: dict[str, str]  # run id → kind in MIX


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture(scope="module")
def figure(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer) -> Figure:
    root = tmp_path_factory.mktemp("runs")
    kinds: dict[str, str] = {}
    index = 0
    for kind, count in MIX.items():
        for _ in range(count):
            index += 1
            fmt = ProofFormat.JOSE if kind == "valid-jose" else ProofFormat.DI
            current = make_run(issuer, index, proof_format=fmt, observed_model="llama-3" if kind == "drift" else "gpt-4o")
            if kind == "tampered-output":
                tamper_output_digest(current)
            # Nested a level deeper for some, so discovery must walk the tree.
            directory = root / ("2025" if index % 2 else "2024") / f"run-{index:03d}"
            write_run(directory, current, declaration=kind != "no-declaration", binding=kind != "unbound")
            kinds[current.run_id] = kind
    # Files that are not run credentials are not runs.
    (root / "notes.json").write_text(json.dumps({"about": "not a credential"}))
    (root / "disclosures.json").write_text(json.dumps([{"path": "input", "salt": "x", "content": "y"}]))
    (root / "README.txt").write_text("runs of March\n")
    return Figure(root, kinds)


@pytest.fixture(scope="module")
def summary(figure: Figure) -> AuditSummary:
    return audit_runs(discover_runs(figure.directory), now=VERIFY_AT, workers=2)


# ------------------------------------------------------------------------------------------
# Discovery: classify and pair without verifying
# ------------------------------------------------------------------------------------------


def test_discovery_finds_one_run_per_declaration_or_orphan_binding(figure: Figure) -> None:
    runs = discover_runs(figure.directory)

    assert len(runs) == sum(MIX.values()) == 30
    assert {run.run_id for run in runs} == set(figure.kinds)


def test_discovery_pairs_each_binding_with_the_declaration_its_related_resource_names(figure: Figure) -> None:
    for run in discover_runs(figure.directory):
        kind = figure.kinds[str(run.run_id)]
        if kind == "no-declaration":
            assert run.declaration is None and run.binding is not None
        elif kind == "unbound":
            assert run.declaration is not None and run.binding is None
        else:
            assert run.declaration is not None and run.binding is not None
            assert run.declaration.parent == run.binding.parent  # written side by side
            assert run.declaration.suffix == run.binding.suffix == (".jwt" if kind == "valid-jose" else ".json")


def test_files_that_are_not_run_credentials_are_not_runs(figure: Figure) -> None:
    files = {path.name for run in discover_runs(figure.directory) for path in run.files}

    assert files <= {"declaration.json", "binding.json", "declaration.jwt", "binding.jwt"}


# ------------------------------------------------------------------------------------------
# Audit: exact counts, first failing check per run
# ------------------------------------------------------------------------------------------


def test_audit_counts_every_verdict_exactly(summary: AuditSummary) -> None:
    counts = (summary.valid, summary.unbound, summary.invalid, summary.revoked, summary.drift)
    assert summary.total == 30
    assert counts == (18, 4, 5, 0, 3)
    assert summary.duplicates == 0
    assert summary.verified_at == VERIFY_AT
    assert not summary.ok


EXPECTED_ROW = {
    # kind: (verdict, first failing check, its code)
    "valid": (Verdict.VALID, None, None),
    "valid-jose": (Verdict.VALID, None, None),
    "unbound": (Verdict.UNBOUND, None, None),
    "tampered-output": (Verdict.INVALID, "binding.proof.signature", ErrorCode.PROOF_INVALID.value),
    "no-declaration": (Verdict.INVALID, "declaration", ErrorCode.BINDING_WITHOUT_DECLARATION.value),
    "drift": (Verdict.DRIFT, "composition", ErrorCode.COMPOSITION_DRIFT.value),
}


def test_each_row_names_its_verdict_and_first_failing_check(summary: AuditSummary, figure: Figure) -> None:
    for row in summary.runs:
        kind = figure.kinds[str(row.run_id)]
        assert (row.verdict, row.check, row.code) == EXPECTED_ROW[kind], (kind, row)
        assert row.files and all(Path(f).is_file() for f in row.files)
        if row.code is not None:
            assert row.message and row.codes == [row.code]


def test_one_worker_and_two_workers_give_the_same_summary(figure: Figure, summary: AuditSummary) -> None:
    runs = discover_runs(figure.directory)

    alone = audit_runs(runs, now=VERIFY_AT, workers=1)

    assert alone.model_dump() == summary.model_dump()
    assert [row.files for row in summary.runs] == [[str(p) for p in run.files] for run in runs]  # order kept


def test_progress_reports_every_run_exactly_once(figure: Figure) -> None:
    reported: list[int] = []

    audit_runs(discover_runs(figure.directory), now=VERIFY_AT, workers=2, progress=reported.append)

    assert sum(reported) == 30 and len(reported) > 1


def test_verification_time_is_the_one_passed_in(figure: Figure) -> None:
    before = audit_runs(discover_runs(figure.directory), now=T0 - timedelta(days=1), workers=1)

    assert before.valid == 0 and before.unbound == 0
    assert "RUNID_CREDENTIAL_NOT_YET_VALID" in {code for row in before.runs for code in row.codes}


def test_did_documents_reach_every_worker(tmp_path: Path) -> None:
    did = "did:web:auditor.example"
    key = KeyPair.generate(KeyType.ED25519)
    issuer = Issuer.from_key(key, did)
    for i in range(4):
        write_run(tmp_path / f"run-{i}", make_run(issuer, i))
    runs = discover_runs(tmp_path)

    unresolved = audit_runs(runs, now=VERIFY_AT, workers=2)
    resolved = audit_runs(runs, now=VERIFY_AT, workers=2, did_documents={did: did_web_document(did, [key.public])})

    assert {row.code for row in unresolved.runs} == {ErrorCode.DID_UNRESOLVED.value}
    assert resolved.valid == 4


def test_an_empty_directory_audits_nothing_and_passes_nothing(tmp_path: Path) -> None:
    summary = audit_runs(discover_runs(tmp_path), now=VERIFY_AT)

    assert summary.total == 0 and not summary.ok


def test_workers_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(runid.RunIdError) as caught:
        audit_runs([], now=VERIFY_AT, workers=0)
    assert caught.value.code is ErrorCode.USAGE


# ------------------------------------------------------------------------------------------
# Discovery's adversarial cases: (mutation, expected code)
# ------------------------------------------------------------------------------------------


def _elsewhere(directory: Path) -> Path:
    (directory / "elsewhere").mkdir()
    return directory / "elsewhere"


def _second_binding(directory: Path, current: Run, issuer: Issuer) -> None:
    """Another, validly signed binding for the same declaration: a second output."""
    other = runid.bind(
        current.declaration, issuer, declaration_id=current.declaration_id, run_id=current.run_id,
        output=output_digest(b"a different answer\n"), started_at=T0 + timedelta(seconds=2),
        completed_at=T0 + timedelta(seconds=3), bound_at=T0 + timedelta(seconds=4),
    )
    write_secured(_elsewhere(directory) / "binding.json", other)


def _second_declaration(directory: Path, current: Run, issuer: Issuer) -> None:
    """A second declaration of the same run id (another credential)."""
    assert isinstance(current.declaration, dict)
    composition = runid.RunComposition.model_validate(
        {k: v for k, v in current.declaration["credentialSubject"].items() if k not in ("id", "type", "runNonce")}
    )
    again = declare(composition, issuer, declared_at=T0, run_id=current.run_id)
    write_secured(_elsewhere(directory) / "declaration.json", again)


def _altered_copy(directory: Path, current: Run, issuer: Issuer) -> None:
    """A different document under the declaration's id."""
    assert isinstance(current.declaration, dict)
    altered = json.loads(json.dumps(current.declaration))
    altered["credentialSubject"]["model"]["modelId"] = "gpt-3.5"
    write_secured(_elsewhere(directory) / "declaration.json", altered)


def _not_json(directory: Path, current: Run, issuer: Issuer) -> None:
    (_elsewhere(directory) / "binding.json").write_text('{"truncated": ')


def _duplicate_key(directory: Path, current: Run, issuer: Issuer) -> None:
    (_elsewhere(directory) / "declaration.json").write_text('{"id": "urn:x", "id": "urn:y"}')


def _broken_jwt(directory: Path, current: Run, issuer: Issuer) -> None:
    (_elsewhere(directory) / "declaration.jwt").write_text("eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln")


MUTATIONS: list[tuple[str, Callable[[Path, Run, Issuer], None], str]] = [
    ("a second binding for one declaration", _second_binding, ErrorCode.ALREADY_BOUND.value),
    ("a second declaration of one run", _second_declaration, ErrorCode.RUN_EXISTS.value),
    ("another document under the declaration's id", _altered_copy, ErrorCode.RUN_EXISTS.value),
    ("a credential file that is not JSON", _not_json, ErrorCode.INPUT_NOT_JSON.value),
    ("a credential file with a duplicate key", _duplicate_key, ErrorCode.INPUT_DUPLICATE_KEY.value),
    ("a .jwt file that is not a JWS", _broken_jwt, ErrorCode.JWS_INVALID.value),
]


@pytest.mark.parametrize(("mutation", "code"), [(m, c) for _, m, c in MUTATIONS], ids=[n for n, _, _ in MUTATIONS])
def test_discovery_turns_what_it_finds_wrong_into_a_failed_check(
    tmp_path: Path, issuer: Issuer, mutation: Callable[[Path, Run, Issuer], None], code: str
) -> None:
    current = make_run(issuer, 1)
    write_run(tmp_path / "run", current)
    mutation(tmp_path, current, issuer)

    summary = audit_runs(discover_runs(tmp_path), now=VERIFY_AT, workers=1)

    assert summary.invalid >= 1 and not summary.ok
    assert code in {c for row in summary.runs for c in row.codes}, summary.runs


def test_an_identical_copy_is_reported_as_a_duplicate_and_changes_no_verdict(tmp_path: Path, issuer: Issuer) -> None:
    current = make_run(issuer, 1)
    write_run(tmp_path / "run", current)
    write_run(tmp_path / "run-copy", current)  # both credentials copied; "run" sorts first

    summary = audit_runs(discover_runs(tmp_path), now=VERIFY_AT, workers=1)

    assert (summary.total, summary.valid, summary.duplicates) == (1, 1, 1)
    assert sorted(Path(p).parent.name for p in summary.runs[0].duplicates) == ["run-copy", "run-copy"]


# ------------------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_run(summary: AuditSummary, tmp_path: Path) -> None:
    path = tmp_path / "audit.csv"

    write_csv(summary, path)

    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30
    assert Counter(r["verdict"] for r in rows) == {"valid": 18, "unbound": 4, "invalid": 5, "drift": 3}
    assert {r["code"] for r in rows if r["code"]} == {
        ErrorCode.PROOF_INVALID.value, ErrorCode.BINDING_WITHOUT_DECLARATION.value, ErrorCode.COMPOSITION_DRIFT.value,
    }


def test_json_reads_back_as_the_same_summary(summary: AuditSummary, tmp_path: Path) -> None:
    path = tmp_path / "audit.json"

    write_json(summary, path)

    assert AuditSummary.model_validate_json(path.read_text()) == summary
    assert json.loads(path.read_text())["invalid"] == 5


def test_a_json_summary_whose_counts_disagree_with_its_rows_is_refused(summary: AuditSummary) -> None:
    data = summary.model_dump(mode="json")
    data["valid"] += 1

    with pytest.raises(ValueError, match="valid"):
        AuditSummary.model_validate(data)


def test_csv_cells_from_credentials_cannot_become_spreadsheet_formulas(tmp_path: Path) -> None:
    row = AuditRow(run_id="=HYPERLINK(\"http://evil\")", verdict=Verdict.INVALID, check="x", code="C", message="@SUM(1)")
    path = tmp_path / "audit.csv"

    write_csv(AuditSummary.of([row], verified_at=VERIFY_AT), path)

    with path.open(newline="") as handle:
        written = next(csv.DictReader(handle))
    assert written["run_id"].startswith("'=") and written["message"].startswith("'@")


# ------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def audit_cli(*args: str | Path) -> Result:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:  # a group, so the command is invoked by its name as under ``vc-runid``
        """vc-runid"""

    register(app)
    invoked = CliRunner().invoke(app, with_trust(["audit", *map(str, args)]))
    assert invoked.exception is None or isinstance(invoked.exception, SystemExit), repr(invoked.exception)
    result = Result(invoked.exit_code, invoked.stdout, invoked.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_cli_audits_a_directory_and_writes_csv_and_json(figure: Figure, tmp_path: Path) -> None:
    csv_path, json_path = tmp_path / "audit.csv", tmp_path / "audit.json"

    result = audit_cli(figure.directory, "--at", AT, "--workers", "2", "--csv", csv_path, "--json", json_path)

    assert result.code == 1, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"30 runs: 18 valid, 4 unbound, 5 invalid, 0 revoked, 3 drift; verified at {AT}; trust policy: {ANY_ISSUER.describe()}"
    assert Counter(line.split()[0] for line in lines[:-1]) == {"INVALID": 5, "DRIFT": 3}
    assert AuditSummary.model_validate_json(json_path.read_text()).drift == 3
    assert len(csv_path.read_text().splitlines()) == 31
    assert "\x1b" not in result.stderr  # no progress bar when stderr is not a terminal


def test_cli_exits_0_when_every_run_is_valid_or_validly_unbound(tmp_path: Path, issuer: Issuer) -> None:
    write_run(tmp_path / "bound", make_run(issuer, 1))
    write_run(tmp_path / "unbound", make_run(issuer, 2), binding=False)

    result = audit_cli(tmp_path, "--at", AT)

    assert result.code == 0, result.stdout
    assert result.stdout.strip() == f"2 runs: 1 valid, 1 unbound, 0 invalid, 0 revoked, 0 drift; verified at {AT}; trust policy: {ANY_ISSUER.describe()}"


def test_cli_resolves_did_web_from_the_did_store(tmp_path: Path) -> None:
    did = "did:web:auditor.example"
    key = KeyPair.generate(KeyType.ED25519)
    write_run(tmp_path / "runs" / "one", make_run(Issuer.from_key(key, did), 1))
    (tmp_path / "dids").mkdir()
    (tmp_path / "dids" / "did.json").write_text(json.dumps(did_web_document(did, [key.public])))

    without = audit_cli(tmp_path / "runs", "--at", AT)
    with_store = audit_cli(tmp_path / "runs", "--at", AT, "--did-store", tmp_path / "dids")

    assert (without.code, with_store.code) == (1, 0)
    assert ErrorCode.DID_UNRESOLVED.value in without.stdout


def test_cli_an_empty_directory_is_not_a_passing_audit(tmp_path: Path) -> None:
    result = audit_cli(tmp_path, "--at", AT)

    assert result.code == 1
    assert result.stderr.strip() == f"RUNID_NO_CHECKS: no run credential found in {tmp_path}"


@pytest.mark.parametrize(
    ("args", "code", "prefix"),
    [
        (["--workers", "0"], 2, "RUNID_USAGE: --workers"),
        (["--at", "yesterday"], 2, "RUNID_USAGE: --at"),
        (["--did-store", "/nonexistent/dids"], 2, "RUNID_USAGE: DID store"),
    ],
    ids=["workers-zero", "at-unparseable", "did-store-missing"],
)
def test_cli_usage_errors_are_one_line_and_exit_2(figure: Figure, args: list[str], code: int, prefix: str) -> None:
    result = audit_cli(figure.directory, *args)

    assert result.code == code
    assert result.stderr.startswith(prefix) and len(result.stderr.strip().splitlines()) == 1


def test_cli_a_missing_directory_is_unreadable(tmp_path: Path) -> None:
    result = audit_cli(tmp_path / "nope")

    assert result.code == 1
    assert result.stderr.startswith("RUNID_FILE_UNREADABLE: ")


def test_cli_a_plain_file_is_neither_a_directory_nor_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "runs.tar").write_bytes(b"")

    result = audit_cli(tmp_path / "runs.tar")

    assert result.code == 2 and result.stderr.startswith("RUNID_USAGE: ")


@pytest.fixture
def bundle_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any], None]]:
    """Install ``vc_runid.bundle.archive`` (a stand-in) or hide it (``None``), for this test only."""

    def install(module: Any) -> None:
        monkeypatch.setitem(sys.modules, "vc_runid.bundle.archive", module)

    yield install


def test_cli_refuses_a_bundle_when_bundle_support_is_absent(tmp_path: Path, bundle_module: Callable[[Any], None]) -> None:
    bundle_module(None)  # an import of vc_runid.bundle.archive now fails as if the module did not exist
    (tmp_path / "audit.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)

    result = audit_cli(tmp_path / "audit.zip", "--at", AT)

    assert result.code == 2
    assert result.stderr.startswith("RUNID_USAGE: this installation cannot read audit bundles")
    assert result.stdout == ""  # no summary: nothing was verified


def test_cli_delegates_a_bundle_to_verify_bundle(tmp_path: Path) -> None:
    bundle = pytest.importorskip("vc_runid.bundle.archive")
    home = tmp_path / "home"
    issuer, _ = runid.init_home(home)
    store = runid.RunStore.in_home(home)
    composition = CompositionBuilder().model("gpt-4o").input("hi").build()
    run_ids = []
    for observed in ("gpt-4o", "llama-3"):
        with runid.run(composition, issuer=issuer, store=store, clock=ticking_clock()) as current:
            current.record_output("hello", observed={"modelId": observed})
        run_ids.append(current.run_id)
    path = bundle.create_bundle(home, run_ids, tmp_path / "audit.zip", created_at=T0 + timedelta(hours=1))

    result = audit_cli(path, "--at", AT, "--json", tmp_path / "audit.json")

    assert result.code == 1, result.stderr
    assert result.stdout.splitlines()[-1].startswith("2 runs: 1 valid, 0 unbound, 0 invalid, 0 revoked, 1 drift")
    rows = AuditSummary.model_validate_json((tmp_path / "audit.json").read_text()).runs
    assert {(row.run_id, row.verdict) for row in rows} == {(run_ids[0], Verdict.VALID), (run_ids[1], Verdict.DRIFT)}
    assert all(row.files == [str(path)] for row in rows)


def test_cli_a_damaged_bundle_fails_the_audit_with_its_own_check(tmp_path: Path) -> None:
    pytest.importorskip("vc_runid.bundle.archive")
    (tmp_path / "audit.zip").write_bytes(b"PK\x03\x04 truncated")

    result = audit_cli(tmp_path / "audit.zip", "--at", AT)

    assert result.code == 1
    assert result.stdout.startswith(f"INVALID bundle {tmp_path / 'audit.zip'}  archive [RUNID_BUNDLE_")
