"""Bulk audit: find every run under a directory, verify them all in parallel, and summarize.

    from datetime import UTC, datetime
    from pathlib import Path
    from vc_runid.audit.bulk import audit_runs, discover_runs, write_csv

    runs = discover_runs(Path("runs/"))
    summary = audit_runs(runs, now=datetime.now(UTC))
    print(f"{summary.valid} valid, {summary.unbound} unbound, {summary.invalid} invalid")
    write_csv(summary, Path("audit.csv"))

Two steps, kept apart on purpose:

* ``discover_runs`` reads and classifies files **without verifying anything**: it only decides
  which files are verified together. A run is keyed by its declaration; a binding joins the
  declaration its ``relatedResource`` names (the link is then *checked* by ``verify_run``, which
  also compares the declaration's digest). Anything discovery finds wrong (a file that is not
  JSON, a binding whose declaration is absent, one id used by two different documents, a run
  bound twice) becomes a failed check of that run, never a silently skipped file: a credential
  that fails to parse must not vanish from an audit.
* ``audit_runs`` verifies the runs with ``verify_run`` in a process pool and reduces each report
  to one row: the verdict and the first failing check.

Verdicts are the ones ``verify-bundle`` gives, so the two reports count alike: ``valid``
(declared and bound, every check passed), ``unbound`` (a valid declaration with no binding:
"declared, not yet bound"), ``revoked`` / ``drift`` (the only failures are a revoked or suspended
status / ``RUNID_COMPOSITION_DRIFT``), else ``invalid``. An audit passes when every run is
``valid`` or ``unbound``.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from .._internal.contexts import (
    BINDING_TYPE_IRI,
    DECLARATION_TYPE_IRI,
    DocumentLoader,
    default_loader,
)
from .._internal.files import read_limited
from ..errors import DataModelError, ErrorCode, InternalError, RunIdError, UsageError
from ..runs.declaration import secured_digest
from ..runs.digests import digests_equal
from ..runs.verify import PASSING, Verdict, verdict_of, verify_run
from ..vc.dids import DidResolver, VerificationMethod
from ..vc.documents import MAX_DOCUMENT_BYTES, SecuredWire, read_document
from ..vc.policy import TrustPolicy
from ..vc.secured import SecuredCredential
from ..vc.verification import CheckResult, VerificationReport, Verifier

#: The file names discovery reads: secured credentials as JSON, or compact JWS.
CREDENTIAL_SUFFIXES = (".json", ".jwt")

#: Upper bound of runs handed to a worker at once: large enough to amortize inter-process
#: overhead (a pair costs milliseconds), small enough for a smooth progress bar.
MAX_CHUNK = 64

#: Chunks in flight per worker: one running, one queued, so no worker waits for the parent.
_IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class Problem:
    """Something discovery found wrong; it becomes a failed check of the run's report."""

    check: str
    code: ErrorCode
    message: str


@dataclass(frozen=True)
class RunFiles:
    """The files of one run, as discovery paired them (nothing here is verified yet).

    ``run_id`` is what the files *claim* (for a row whose declaration is missing or unreadable);
    the verified run id comes from the declaration. ``duplicates`` are other files carrying one of
    this run's credential ids (identical copies, or conflicting documents, which ``problems``
    then names). ``unreadable`` is a credential file that could not even be classified.
    """

    declaration: Path | None = None
    binding: Path | None = None
    run_id: str | None = None
    duplicates: tuple[Path, ...] = ()
    unreadable: Path | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def files(self) -> list[Path]:
        main = [p for p in (self.declaration, self.binding, self.unreadable) if p is not None]
        return main + list(self.duplicates)


class AuditRow(BaseModel):
    """One run of an audit: its verdict and, when it failed, the first failing check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str | None
    verdict: Verdict
    #: The first failing check, its code and message (empty when the run is valid or unbound).
    check: str | None = None
    code: str | None = None
    message: str = ""
    #: Every failure code of the run, in check order.
    codes: list[str] = []
    files: list[str] = []
    duplicates: list[str] = []
    #: What the run's report warns about without failing it (e.g. revocation status unknown).
    warnings: list[str] = []


class AuditSummary(BaseModel):
    """Counts and one row per run; every run has exactly one verdict, so
    ``valid + unbound + invalid + revoked + drift == total``."""

    model_config = ConfigDict(extra="forbid")

    verified_at: datetime
    total: int
    valid: int
    unbound: int
    invalid: int
    revoked: int
    drift: int
    duplicates: int
    runs: list[AuditRow]
    #: The trust policy the verdicts were taken under (TrustPolicy.describe()), if any.
    policy: str | None = None

    @classmethod
    def of(cls, rows: Sequence[AuditRow], *, verified_at: datetime, policy: TrustPolicy | str | None = None) -> AuditSummary:
        described = policy.describe() if isinstance(policy, TrustPolicy) else policy
        return cls(verified_at=verified_at, runs=list(rows), policy=described, **_counts(rows))

    @model_validator(mode="after")
    def _counts_match_rows(self) -> AuditSummary:
        # A summary read back from JSON must not claim counts its rows do not support.
        for name, value in _counts(self.runs).items():
            if getattr(self, name) != value:
                raise ValueError(f"{name} is {getattr(self, name)}, but the rows say {value}")
        return self

    @property
    def ok(self) -> bool:
        """Every run is valid or validly declared-but-unbound, and there was at least one run:
        an audit that checked nothing passes nothing."""
        return self.total > 0 and self.valid + self.unbound == self.total

    def line(self) -> str:
        """The one-line summary."""
        runs = "run" if self.total == 1 else "runs"
        return (
            f"{self.total} {runs}: {self.valid} valid, {self.unbound} unbound, {self.invalid} invalid, "
            f"{self.revoked} revoked, {self.drift} drift; verified at {self.verified_at.isoformat()}"
            f"; trust policy: {self.policy or 'none (add --trusted-issuer DID or --trust FILE)'}"
        )


def _counts(rows: Sequence[AuditRow]) -> dict[str, int]:
    verdicts = [row.verdict for row in rows]
    return {
        "total": len(rows),
        "valid": verdicts.count(Verdict.VALID),
        "unbound": verdicts.count(Verdict.UNBOUND),
        "invalid": verdicts.count(Verdict.INVALID),
        "revoked": verdicts.count(Verdict.REVOKED),
        "drift": verdicts.count(Verdict.DRIFT),
        "duplicates": sum(bool(row.duplicates) for row in rows),
    }


# ------------------------------------------------------------------------------------------
# Discovery
# ------------------------------------------------------------------------------------------


@dataclass
class _Credential:
    """A run credential file, classified but not verified."""

    path: Path
    secured: SecuredWire  # as the binding's digest sees it (the JWS for JOSE)
    declaration: bool
    id: str | None
    run_id: str | None
    target: str | None = None  # a binding's relatedResource id
    target_digest: str | None = None
    # Filled in by pairing:
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[Path] = field(default_factory=list)

    @cached_property
    def digest(self) -> str:
        return secured_digest(self.secured)


def _credential_files(directory: Path) -> Iterator[Path]:
    # Directory links are not followed, so a link cannot make the walk loop (a link to a file is
    # read like the file). Sorted, so the rows come out in the same order on every machine.
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(CREDENTIAL_SUFFIXES):
                yield Path(root) / name


def _first_related(document: Mapping[str, Any]) -> dict[str, Any]:
    related = document.get("relatedResource")
    for entry in related if isinstance(related, list) else [related]:
        if isinstance(entry, dict):
            return entry
    return {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _classify(path: Path, loader: DocumentLoader | None = None) -> _Credential | Problem | None:
    """The run credential in ``path``, a problem that makes it unreadable, or ``None`` when it is
    readable JSON that is not a run credential (a DID document, a report, a disclosure file).
    ``loader`` is the audit's (its pinned contexts plus ``--context``)."""
    try:
        data = read_limited(path, MAX_DOCUMENT_BYTES)
    except RunIdError as exc:  # a FIFO, a device, a file over the limit, an unreadable file
        return Problem("discovery.read", exc.code, exc.message)
    try:
        secured: SecuredWire = read_document(data)
    except DataModelError:
        return None  # JSON, but not an object: not a credential
    except RunIdError as exc:
        return Problem("discovery.read", exc.code, f"{path}: {exc.message}")
    try:
        parsed = SecuredCredential.parse(secured)
    except RunIdError as exc:
        return Problem("discovery.read", exc.code, f"{path}: {exc.message}")
    secured, document = parsed.signed, parsed.unverified_document  # an envelope's JWS, as signed
    # By expanded type: a type written as its IRI is still a run credential (and then refused
    # by verification as not compacted), never silently skipped.
    try:
        types = parsed.expanded_types(loader)
    except RunIdError as exc:
        if "proof" in document or "credentialSubject" in document or isinstance(secured, str):
            # A credential whose types cannot be read may be a run's: dropping it silently would
            # turn a drifted or revoked run into an unbound one, or hide it altogether.
            return Problem("discovery.read", exc.code, f"{path}: a credential whose types cannot be read: {exc.message}")
        return None
    is_declaration = DECLARATION_TYPE_IRI in types
    if not is_declaration and BINDING_TYPE_IRI not in types:
        return None
    subject = document.get("credentialSubject")
    credential = _Credential(
        path=path,
        secured=secured,
        declaration=is_declaration,
        id=parsed.id,
        run_id=_string(subject.get("id")) if isinstance(subject, dict) else None,
    )
    if not is_declaration:
        related = _first_related(document)
        credential.target = _string(related.get("id"))
        credential.target_digest = _string(related.get("digestMultibase"))
    return credential


def _fold_copies(credentials: list[_Credential], code: ErrorCode, what: str) -> list[_Credential]:
    """One entry per distinct document: identical copies of a credential (same id, same digest)
    fold into the first; different documents under one id are all kept and all flagged."""
    by_id: dict[str | None, list[_Credential]] = defaultdict(list)
    kept: list[_Credential] = []
    for credential in credentials:
        if credential.id is None:
            kept.append(credential)  # no id to collide on; verification reports the rest
        else:
            by_id[credential.id].append(credential)
    for credential_id, group in by_id.items():
        distinct: list[_Credential] = []
        for credential in group:
            original = next((d for d in distinct if d.digest == credential.digest), None) if len(group) > 1 else None
            if original is None:
                distinct.append(credential)
            else:
                original.duplicates.append(credential.path)
        if len(distinct) > 1:
            paths = ", ".join(str(d.path) for d in distinct)
            for credential in distinct:
                credential.duplicates.extend(d.path for d in distinct if d is not credential)
                credential.problems.append(
                    Problem(
                        "discovery.unique-id", code,
                        f"{what} id {credential_id} is used by {len(distinct)} different documents: {paths}",
                    )
                )
        kept.extend(distinct)
    return kept


def _flag_runs_declared_twice(declarations: list[_Credential]) -> None:
    by_run: dict[str, list[_Credential]] = defaultdict(list)
    for declaration in declarations:
        if declaration.run_id is not None:
            by_run[declaration.run_id].append(declaration)
    for run_id, group in by_run.items():
        # Declarations flagged for sharing a credential id already say so.
        distinct_ids = {d.id for d in group}
        if len(group) > 1 and len(distinct_ids) > 1:
            paths = ", ".join(str(d.path) for d in group)
            for declaration in group:
                declaration.problems.append(
                    Problem(
                        "discovery.unique-run", ErrorCode.RUN_EXISTS,
                        f"run {run_id} is declared by {len(group)} declarations: {paths}",
                    )
                )


def _pair(declarations: list[_Credential], bindings: list[_Credential]) -> list[RunFiles]:
    candidates: dict[str, list[_Credential]] = defaultdict(list)
    for declaration in declarations:
        if declaration.id is not None:
            candidates[declaration.id].append(declaration)
    bound: dict[int, list[_Credential]] = defaultdict(list)
    runs: list[RunFiles] = []
    for binding in bindings:
        targets = candidates.get(binding.target or "", [])
        if not targets:
            runs.append(
                RunFiles(
                    binding=binding.path, run_id=binding.run_id, duplicates=tuple(binding.duplicates),
                    problems=tuple(binding.problems),
                )
            )
            continue
        # Several declarations under the id (already flagged): the one whose digest the binding
        # commits to is the one it was issued for.
        chosen = targets[0]
        if len(targets) > 1 and binding.target_digest is not None:
            chosen = next((t for t in targets if digests_equal(binding.target_digest, t.digest)), chosen)
        bound[id(chosen)].append(binding)
    for declaration in declarations:
        own = bound.get(id(declaration), [])
        problems = list(declaration.problems)
        duplicates = list(declaration.duplicates)
        for binding in own:
            problems.extend(binding.problems)
            duplicates.extend(binding.duplicates)
        if len(own) > 1:
            # A run has one output binding: two signed outputs for one declaration contradict.
            duplicates.extend(b.path for b in own[1:])
            problems.append(
                Problem(
                    "discovery.unique-binding", ErrorCode.ALREADY_BOUND,
                    f"{len(own)} bindings name declaration {declaration.id}: "
                    + ", ".join(str(b.path) for b in own),
                )
            )
        runs.append(
            RunFiles(
                declaration=declaration.path,
                binding=own[0].path if own else None,
                run_id=declaration.run_id,
                duplicates=tuple(dict.fromkeys(duplicates)),
                problems=tuple(problems),
            )
        )
    return runs


def discover_runs(
    directory: Path, *, contexts: Mapping[str, Any] | None = None, workers: int | None = 1
) -> list[RunFiles]:
    """Every run under ``directory`` (recursively), from its ``*.json`` and ``*.jwt`` files.

    Nothing is verified here; files that are readable but not run credentials are ignored, and a
    credential whose types cannot be read (with the pinned contexts plus ``contexts``, as the
    audit verifies) is an unreadable entry. ``workers`` processes (``None``: one per CPU) read
    and classify the files; the pairing that follows is the same whatever their number.
    """
    loader = DocumentLoader(contexts) if contexts else default_loader()
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory", code=ErrorCode.FILE_UNREADABLE)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise UsageError(f"workers must be at least 1, not {workers}")
    paths = list(_credential_files(directory))
    declarations: list[_Credential] = []
    bindings: list[_Credential] = []
    runs: list[RunFiles] = []
    for path, found in zip(paths, _classify_all(paths, loader, dict(contexts or {}), workers), strict=True):
        if isinstance(found, Problem):
            runs.append(RunFiles(unreadable=path, problems=(found,)))
        elif found is not None:
            (declarations if found.declaration else bindings).append(found)
    declarations = _fold_copies(declarations, ErrorCode.RUN_EXISTS, "declaration")
    bindings = _fold_copies(bindings, ErrorCode.ALREADY_BOUND, "binding")
    _flag_runs_declared_twice(declarations)
    runs.extend(_pair(declarations, bindings))
    runs.sort(key=lambda run: run.files[0])
    return runs


#: Below this many files, classifying them in this process is faster than starting workers.
_MIN_FILES_FOR_WORKERS = 256

# The loader of a discovery worker process, built once by ``_init_classifier``.
_worker_loader: DocumentLoader | None = None


def _init_classifier(contexts: dict[str, Any]) -> None:
    global _worker_loader
    _worker_loader = DocumentLoader(contexts) if contexts else default_loader()


def _classify_chunk(start: int, paths: list[Path]) -> tuple[int, list[_Credential | Problem | None]]:
    if _worker_loader is None:  # pragma: no cover - the pool always runs the initializer
        raise RuntimeError("discovery worker used before its initializer ran")
    return start, [_classify(path, _worker_loader) for path in paths]


def _classify_all(
    paths: list[Path], loader: DocumentLoader, contexts: dict[str, Any], workers: int
) -> list[_Credential | Problem | None]:
    """``_classify`` of every path, in order: here, or in ``workers`` processes for many files
    (reading, parsing and expanding each credential is most of discovery's time)."""
    if workers <= 1 or len(paths) < _MIN_FILES_FOR_WORKERS:
        return [_classify(path, loader) for path in paths]
    size = _chunk_size(len(paths), workers)
    chunks = [(start, paths[start : start + size]) for start in range(0, len(paths), size)]
    found: list[_Credential | Problem | None] = [None] * len(paths)
    _in_pool(_classify_chunk, chunks, found, min(workers, len(chunks)), _init_classifier, (contexts,), None)
    return found


# ------------------------------------------------------------------------------------------
# Verification
# ------------------------------------------------------------------------------------------


class _RememberingResolver(DidResolver):
    """An audit's resolver. Its DID documents cannot change while the audit runs, and one issuer
    key typically signs thousands of runs, so a method dereferenced once is remembered (bounded:
    a directory could name any number of did:keys). Failures are not remembered: every run
    reports its own."""

    MAX_METHODS = 4096

    def __init__(self, documents: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__(documents)
        self._methods: dict[tuple[str, str], VerificationMethod] = {}

    def verification_method(self, vm_url: str, relationship: str) -> VerificationMethod:
        key = (vm_url, relationship)
        method = self._methods.get(key)
        if method is None:
            method = super().verification_method(vm_url, relationship)
            if len(self._methods) < self.MAX_METHODS:
                self._methods[key] = method
        return method


def make_verifier(
    now: datetime,
    did_documents: Mapping[str, Mapping[str, Any]] | None = None,
    contexts: Mapping[str, Any] | None = None,
    status_lists: Mapping[str, Any] | None = None,
    policy: TrustPolicy | None = None,
) -> Verifier:
    """The verifier an audit (or one of its workers) uses for every run."""
    loader: DocumentLoader = DocumentLoader(contexts) if contexts else default_loader()
    return Verifier(
        resolver=_RememberingResolver(did_documents), loader=loader, now=now, status_lists=status_lists or None,
        policy=policy,
    )


def row_from_report(
    report: VerificationReport,
    *,
    files: Sequence[str] = (),
    duplicates: Sequence[str] = (),
    run_id: str | None = None,
    verdict: Verdict | None = None,
) -> AuditRow:
    """One audit row from a run's verification report (``verdict`` defaults to ``verdict_of``)."""
    verdict = verdict or verdict_of(report)
    failures = report.failures
    first = failures[0] if failures else None
    if verdict not in PASSING and first is None:
        # Failing without a failed check: nothing (or no proof) was checked.
        first = CheckResult(
            name="report", passed=False, code=ErrorCode.NO_CHECKS.value, message="no check was performed"
        )
    codes = [c.code for c in failures if c.code]
    return AuditRow(
        run_id=report.run_id or run_id,
        verdict=verdict,
        check=first.name if first else None,
        code=first.code if first else None,
        message=first.message if first else "",
        codes=codes or ([first.code] if first and first.code else []),
        files=list(files),
        duplicates=list(duplicates),
        warnings=list(report.warnings),
    )


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    return read_limited(path, MAX_DOCUMENT_BYTES)


def audit_run(run: RunFiles, verifier: Verifier) -> AuditRow:
    """Verify one discovered run and reduce its report to a row."""
    files = [str(p) for p in (run.declaration, run.binding, run.unreadable) if p is not None]
    duplicates = [str(p) for p in run.duplicates]
    try:
        if run.declaration is None and run.binding is None:
            report = VerificationReport(kind="run")  # nothing readable: only the problems speak
        else:
            report = verify_run(_read(run.declaration), _read(run.binding), verifier=verifier)
    except RunIdError as exc:
        report = VerificationReport(kind="run")
        report.checks.append(CheckResult(name="read", passed=False, code=exc.code.value, message=exc.message))
    except Exception as exc:  # noqa: BLE001 - a bug of ours costs this run its verdict, not the audit
        report = VerificationReport(kind="run")
        report.checks.append(
            CheckResult(
                name="internal", passed=False, code=ErrorCode.INTERNAL.value,
                message=f"unexpected {type(exc).__name__}: {exc}",
            )
        )
    for problem in run.problems:
        report.checks.append(CheckResult(name=problem.check, passed=False, code=problem.code.value, message=problem.message))
    return row_from_report(report, files=files, duplicates=duplicates, run_id=run.run_id)


# The verifier of a worker process, built once by ``_init_worker`` (keys, DID documents and the
# processed-context cache then serve every run that worker verifies).
_worker_verifier: Verifier | None = None


def _init_worker(
    now: datetime,
    did_documents: dict[str, dict[str, Any]],
    contexts: dict[str, Any],
    status_lists: dict[str, Any],
    policy: TrustPolicy | None,
) -> None:
    global _worker_verifier
    _worker_verifier = make_verifier(now, did_documents, contexts, status_lists, policy)


def _verify_chunk(start: int, chunk: list[RunFiles]) -> tuple[int, list[AuditRow]]:
    if _worker_verifier is None:  # pragma: no cover - the pool always runs the initializer
        raise RuntimeError("audit worker used before its initializer ran")
    return start, [audit_run(run, _worker_verifier) for run in chunk]


def default_workers() -> int:
    return os.cpu_count() or 1


def _chunk_size(total: int, workers: int) -> int:
    # About eight chunks per worker, so a slow chunk at the end does not leave cores idle.
    return max(1, min(MAX_CHUNK, total // (workers * 8)))


def audit_runs(
    runs: Sequence[RunFiles],
    *,
    now: datetime,
    did_documents: Mapping[str, Mapping[str, Any]] | None = None,
    contexts: Mapping[str, Any] | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    status_lists: Mapping[str, Any] | None = None,
    policy: TrustPolicy | None = None,
) -> AuditSummary:
    """Verify ``runs`` at ``now`` under ``policy`` and summarize them; rows keep the order of
    ``runs``. Without a policy no run passes (``RUNID_TRUST_POLICY_MISSING``).

    ``workers`` processes (default: ``os.cpu_count()``) each build one ``Verifier`` with
    ``did_documents``, ``contexts`` and ``status_lists`` (by URL; with none, a credential's status
    is reported as unknown); with one worker the runs are verified in this process.
    ``progress(n)`` is called in this process each time ``n`` more runs have been verified.
    """
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise UsageError(f"workers must be at least 1, not {workers}")
    documents = {did: dict(doc) for did, doc in (did_documents or {}).items()}
    extra = dict(contexts or {})
    lists = dict(status_lists or {})
    verifier = make_verifier(now, documents, extra, lists, policy)  # also checks ``now`` and the contexts here
    size = _chunk_size(len(runs), workers)
    chunks = [(start, list(runs[start : start + size])) for start in range(0, len(runs), size)]
    workers = min(workers, len(chunks))
    rows: list[AuditRow | None] = [None] * len(runs)
    if workers <= 1:
        for start, chunk in chunks:
            for offset, run in enumerate(chunk):
                rows[start + offset] = audit_run(run, verifier)
            if progress is not None:
                progress(len(chunk))
    else:
        _in_pool(_verify_chunk, chunks, rows, workers, _init_worker, (now, documents, extra, lists, policy), progress)
    return AuditSummary.of([row for row in rows if row is not None], verified_at=now, policy=policy)


_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def _in_pool(
    task: Callable[[int, list[_Item]], tuple[int, list[_Result]]],
    chunks: list[tuple[int, list[_Item]]],
    results: list[Any],
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    progress: Callable[[int], None] | None,
) -> None:
    """``task(start, chunk)`` for every chunk in ``workers`` processes; each chunk's results go to
    ``results[start:start + len(chunk)]``."""
    # Chunks are submitted as earlier ones finish, never all at once: thousands of runs make
    # dozens of futures in flight, not thousands, and the parent's memory stays flat.
    pending_chunks = iter(chunks)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=initargs)
    try:
        in_flight: set[Future[tuple[int, list[_Result]]]] = set()

        def submit_next() -> None:
            chunk = next(pending_chunks, None)
            if chunk is not None:
                in_flight.add(pool.submit(task, *chunk))

        for _ in range(workers * _IN_FLIGHT_PER_WORKER):
            submit_next()
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                in_flight.discard(future)
                start, chunk_results = future.result()
                results[start : start + len(chunk_results)] = chunk_results
                if progress is not None:
                    progress(len(chunk_results))
                submit_next()
    except BrokenProcessPool as exc:
        raise InternalError(f"an audit worker process died: {exc}", code=ErrorCode.INTERNAL) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------------------

CSV_COLUMNS = ("run_id", "verdict", "check", "code", "message", "codes", "files", "duplicates", "warnings")

# A spreadsheet runs a cell that starts with one of these as a formula; run ids and messages come
# from the credentials being audited, i.e. from whoever wrote them (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csv(summary: AuditSummary, path: Path) -> None:
    """One row per run; list columns are joined with ``;`` (paths) or a space (codes)."""
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in summary.runs:
                writer.writerow(
                    [
                        _cell(row.run_id or ""), row.verdict.value, _cell(row.check or ""), row.code or "",
                        _cell(row.message), " ".join(row.codes), _cell(";".join(row.files)),
                        _cell(";".join(row.duplicates)), _cell(" | ".join(row.warnings)),
                    ]
                )
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_json(summary: AuditSummary, path: Path) -> None:
    """Write an audit summary as JSON."""
    try:
        path.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


__all__ = [
    "AuditRow",
    "AuditSummary",
    "Problem",
    "RunFiles",
    "Verdict",
    "audit_run",
    "audit_runs",
    "discover_runs",
    "row_from_report",
    "verdict_of",
    "write_csv",
    "write_json",
]
