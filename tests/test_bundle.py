"""Audit bundles (issue 5, "Audit bundles" and "Bad input"): one zip, verified with no network.

Runs are made the way users make them (``vc_runid.runs.runner.run`` into a home's run store; the log
receipts by the issuer service's own ``RunLog``), bundled with ``create_bundle``, and verified with
``verify_bundle`` — in process, through the CLI, and inside a network namespace with no network.
Bad input is a table of (mutation, expected error code, what the report must name).
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

import vc_runid as runid
from tests.trust import ANY_ISSUER, with_trust
from vc_runid._internal.timeutil import format_datetime
from vc_runid.bundle.archive import BundleLimits, BundleReport, create_bundle
from vc_runid.bundle.archive import verify_bundle as _verify_bundle
from vc_runid.bundle.report import render_html, render_terminal
from vc_runid.cli.bundle import register
from vc_runid.errors import ErrorCode
from vc_runid.runs.binding import bind, output_digest
from vc_runid.runs.declaration import build_declaration, new_run_id
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.keys import KeyPair


def verify_bundle(path: Path, **options: Any) -> BundleReport:
    """These tests are about bundles, not whom to trust: any issuer, unless a test says otherwise."""
    return _verify_bundle(path, **{"policy": ANY_ISSUER, **options})

T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
#: When the auditor verifies: an hour after the runs.
AT = T0 + timedelta(hours=1)
LIST_URL = "https://example.com/status/1"
EXTRA_CONTEXT_URL = "https://example.com/contexts/audit-notes/v1"
EXTRA_CONTEXT = {"@context": {"auditNote": "https://example.com/vocab#auditNote"}}
REPO = Path(__file__).resolve().parent.parent


# --- making runs the way users do ------------------------------------------------------------


class Clock:
    """A clock that ticks one second per reading, from ``start``."""

    def __init__(self, start: datetime = T0) -> None:
        self._ticks = itertools.count()
        self.start = start

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=next(self._ticks))


def composition(model: str = "llama-3.1-8b-instruct") -> tuple[runid.RunComposition, runid.Disclosures]:
    return (
        runid.CompositionBuilder()
        .model(model, provider="local", revision="r1")
        .instruction("You are a careful assistant.")
        .retrieved("doc-1", "The capital of France is Paris.")
        .tool({"name": "calculator", "parameters": {"type": "object"}})
        .input("What is the capital of France?")
        .build()
    )


def make_run(
    home: Path, clock: Clock, *, output: str | None = "Paris.", observed_model: str | None = None, model: str | None = None
) -> runid.Run:
    """A run through ``vc_runid.runs.runner.run`` into the home's run store; ``output=None`` leaves it
    declared and unbound (the body raises, as a crashed run would)."""
    issuer = runid.load_issuer(home)
    store = runid.RunStore.in_home(home)
    comp = composition(model or "llama-3.1-8b-instruct")
    if output is None:
        holder: list[runid.Run] = []
        with pytest.raises(RuntimeError), runid.run(comp, issuer=issuer, store=store, clock=clock) as current:
            holder.append(current)
            raise RuntimeError("the run crashed")
        return holder[0]
    with runid.run(comp, issuer=issuer, store=store, clock=clock) as current:
        current.record_output(output, observed={"modelId": observed_model or comp[0].model.modelId})
    return current


def log_run(home: Path, run: runid.Run) -> None:
    """Log the run's credentials with the issuer service's ``RunLog`` and keep the receipts where
    the CLI keeps them (``<home>/receipts/<uuid>.<kind>.json``)."""
    from vc_runid.server.log import RunLog, new_entry
    from vc_runid.server.storage import open_storage

    storage = open_storage(home / "service", None)
    log = RunLog(storage, runid.load_issuer(home))
    try:
        (home / "receipts").mkdir(exist_ok=True)
        for kind, credential in (("declaration", run.declaration), ("binding", run.binding)):
            if credential is None:
                continue
            _, receipt = log.append(
                new_entry("credential", credential, credential_id=None, run_id=run.run_id, client="test", logged_at=T0)
            )
            name = f"{run.run_id.rsplit(':', 1)[-1]}.{kind}.json"
            (home / "receipts" / name).write_text(receipt.model_dump_json(indent=2))
    finally:
        log.close()
        storage.close()


def declare_with_status(home: Path, clock: Clock, registry: Any) -> tuple[str, str]:
    """A bound run whose declaration carries a Bitstring Status List entry. Returns (run id,
    declaration id)."""
    issuer = runid.load_issuer(home)
    comp, disclosures = composition()
    run_id = new_run_id()
    declared_at = clock()
    unsigned = build_declaration(comp, issuer_did=issuer.did, declared_at=declared_at, run_id=run_id)
    declaration_id, entry = registry.assign(LIST_URL)
    unsigned["id"] = declaration_id
    unsigned["credentialStatus"] = entry
    declaration = issue_credential(unsigned, issuer, created=declared_at)
    store = runid.RunStore.in_home(home)
    store.add_declaration(run_id, declaration_id, declaration, format_datetime(declared_at), disclosures.model_copy(update={"runId": run_id}))
    started, completed, bound = clock(), clock(), clock()
    binding = bind(
        declaration, issuer, declaration_id=declaration_id, run_id=run_id, output=output_digest(b"Paris."),
        started_at=started, completed_at=completed, bound_at=bound,
    )
    store.add_binding(run_id, binding, format_datetime(bound))
    return run_id, declaration_id


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A did:key issuer's home."""
    path = tmp_path / "home"
    runid.init_home(path)
    return path


@dataclass
class Full:
    """A bundle with every kind of member: did:web issuer (DID document), receipts and their
    checkpoints, an extra context, a status list, a disclosure and an output."""

    path: Path
    run_id: str
    home: Path


@pytest.fixture
def full(tmp_path: Path) -> Full:
    from vc_runid.store.status import StatusRegistry

    home = tmp_path / "web-home"
    runid.init_home(home, domain="example.com")
    clock = Clock()
    registry = StatusRegistry(home)
    run_id, _ = declare_with_status(home, clock, registry)
    record = runid.RunStore.in_home(home).get(run_id)
    log_run(home, runid.Run(run_id, record.declaration_id, record.declaration, record.disclosures, T0, binding=record.binding))
    status_list = registry.status_list_credential(runid.load_issuer(home), LIST_URL, T0 + timedelta(minutes=1))
    output = tmp_path / "answer.txt"
    output.write_bytes(b"Paris.")
    path = create_bundle(
        home, [run_id], tmp_path / "full.zip",
        disclose=["instructions[0]", "tools[0]"], include_outputs={run_id: output},
        extra_contexts={EXTRA_CONTEXT_URL: EXTRA_CONTEXT}, status_lists={LIST_URL: status_list},
    )
    return Full(path, run_id, home)


# --- reading and rewriting bundles -----------------------------------------------------------


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def manifest_of(members: dict[str, bytes]) -> dict[str, Any]:
    return dict(json.loads(members["manifest.json"]))


def path_with_role(members: dict[str, bytes], role: str) -> str:
    return str(next(m["path"] for m in manifest_of(members)["members"] if m["role"] == role))


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 6, 1, 12, 0, 0)), data, compress_type=compression)
    return path


def fix_manifest(members: dict[str, bytes]) -> None:
    """What a forger does: recompute the manifest after changing a member."""
    manifest = manifest_of(members)
    for member in manifest["members"]:
        if member["path"] in members:
            data = members[member["path"]]
            member["sha256"], member["size"] = hashlib.sha256(data).hexdigest(), len(data)
    members["manifest.json"] = json.dumps(manifest).encode()


def rewrite(source: Path, target: Path, mutate: Callable[[dict[str, bytes]], None], *, fix: bool) -> Path:
    members = members_of(source)
    mutate(members)
    if fix:
        fix_manifest(members)
    return write_zip(target, members)


def codes(report: BundleReport) -> list[str]:
    return report.error_codes


def failed_names(report: BundleReport) -> list[str]:
    names = [c.name for c in report.failures]
    for run in report.runs:
        names.extend(c.name for c in run.report.failures)
    return names


# --- round trip ------------------------------------------------------------------------------


def test_a_bundle_of_bound_runs_verifies_offline(home: Path, tmp_path: Path, no_network: list[Any]) -> None:
    clock = Clock()
    first, second = make_run(home, clock), make_run(home, clock, output="Lyon.")
    path = create_bundle(home, [first.run_id, second.run_id], tmp_path / "audit.zip")
    report = verify_bundle(path, at=AT)
    assert report.valid, report.model_dump_json(indent=2)
    assert [r.run_id for r in report.runs] == [first.run_id, second.run_id]
    assert {r.verdict for r in report.runs} == {"valid"}
    assert report.summary == {"valid": 2, "invalid": 0, "unbound": 0, "revoked": 0, "drift": 0}
    assert no_network == []  # verification never even tried to open a socket


def test_the_report_gives_timeline_composition_and_every_check(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    report = verify_bundle(create_bundle(home, [run.run_id], tmp_path / "a.zip"), at=AT)
    entry = report.runs[0]
    assert entry.timeline.model_dump() == {
        "declared": "2025-06-01T12:00:00Z",
        "started": "2025-06-01T12:00:01Z",
        "completed": "2025-06-01T12:00:02Z",
        "bound": "2025-06-01T12:00:03Z",
    }
    assert entry.composition is not None
    assert (entry.composition.model_id, entry.composition.provider) == ("llama-3.1-8b-instruct", "local")
    assert (entry.composition.instructions, entry.composition.documents, entry.composition.tools) == (1, 1, 1)
    names = {c.name for c in entry.report.checks}
    assert {"declaration.proof.signature", "binding.proof.signature", "link", "run-id", "time-order", "composition"} <= names
    assert entry.log_inclusion.state == "not logged"
    assert entry.status.state == "not applicable"
    assert report.issuers[0].did.startswith("did:key:")


def test_a_full_bundle_verifies_did_web_receipts_status_disclosures_and_output(full: Full) -> None:
    report = verify_bundle(full.path, at=AT)
    assert report.valid, report.model_dump_json(indent=2)
    entry = report.runs[0]
    assert entry.log_inclusion.state == "verified"
    assert entry.report.passed("log-inclusion")
    assert entry.status.state == "active"
    assert entry.status.as_of == "2025-06-01T12:01:00Z"
    assert entry.report.passed("status.declaration")
    assert entry.output_checked
    assert [(d.path, d.matched) for d in entry.disclosures] == [("instructions[0]", True), ("tools[0]", True)]
    names = {c.name for c in report.checks}
    assert {"did-documents", "contexts", "status-lists"} <= names
    assert any(n.startswith("checkpoint:") for n in names)
    assert report.issuers[0].did == "did:web:example.com"
    assert "dids/" in report.issuers[0].key_source


def test_the_manifest_lists_every_member_with_digest_size_and_role(full: Full) -> None:
    members = members_of(full.path)
    manifest = manifest_of(members)
    assert (manifest["format"], manifest["version"]) == ("vc-runid-audit-bundle", 1)
    listed = {m["path"]: m for m in manifest["members"]}
    assert set(listed) == set(members) - {"manifest.json"}
    for path, member in listed.items():
        assert member["sha256"] == hashlib.sha256(members[path]).hexdigest()
        assert member["size"] == len(members[path])
    roles = {m["role"] for m in manifest["members"]}
    assert roles == {
        "declaration", "binding", "output", "disclosures", "receipt:declaration", "receipt:binding",
        "did-document", "context", "status-list", "checkpoint",
    }
    (run,) = manifest["runs"]
    assert run["runId"] == full.run_id
    uuid = full.run_id.rsplit(":", 1)[-1]
    assert run["declaration"] == f"runs/{uuid}/declaration.json"
    assert all(p.startswith(("runs/", "dids/", "contexts/", "status/", "log/")) for p in listed)
    assert manifest["contexts"] == {EXTRA_CONTEXT_URL: manifest["contexts"][EXTRA_CONTEXT_URL]}
    assert list(manifest["statusLists"]) == [LIST_URL]


def test_verdicts_valid_unbound_drift_revoked_and_the_summary(tmp_path: Path) -> None:
    from vc_runid.store.status import StatusRegistry

    home = tmp_path / "home"
    runid.init_home(home)
    clock = Clock()
    valid = make_run(home, clock)
    unbound = make_run(home, clock, output=None)
    drift = make_run(home, clock, observed_model="gpt-4o")
    registry = StatusRegistry(home)
    revoked_run, revoked_declaration = declare_with_status(home, clock, registry)
    registry.revoke(revoked_declaration, "issued in error", at=T0 + timedelta(minutes=1))
    status_list = registry.status_list_credential(runid.load_issuer(home), LIST_URL, T0 + timedelta(minutes=2))
    path = create_bundle(
        home, [valid.run_id, unbound.run_id, drift.run_id, revoked_run], tmp_path / "a.zip",
        status_lists={LIST_URL: status_list},
    )
    report = verify_bundle(path, at=AT)
    verdicts = {r.run_id: r.verdict for r in report.runs}
    assert verdicts == {valid.run_id: "valid", unbound.run_id: "unbound", drift.run_id: "drift", revoked_run: "revoked"}
    revoked = next(r for r in report.runs if r.run_id == revoked_run)
    assert revoked.status.state == "revoked"
    assert revoked.status.as_of == "2025-06-01T12:02:00Z"
    assert ErrorCode.CREDENTIAL_REVOKED.value in revoked.report.error_codes
    assert report.summary == {"valid": 1, "invalid": 0, "unbound": 1, "revoked": 1, "drift": 1}
    assert report.bundle_valid and not report.valid


def test_a_status_list_signed_by_someone_else_is_named(home: Path, tmp_path: Path) -> None:
    from vc_runid.store.status import StatusRegistry

    registry = StatusRegistry(home)
    run_id, _ = declare_with_status(home, Clock(), registry)
    other = Issuer.generate()
    forged = StatusRegistry(tmp_path / "other").status_list_credential(other, LIST_URL, T0 + timedelta(minutes=1))
    report = verify_bundle(create_bundle(home, [run_id], tmp_path / "a.zip", status_lists={LIST_URL: forged}), at=AT)
    assert report.runs[0].verdict == "invalid"
    assert report.runs[0].status.state == "invalid"
    assert ErrorCode.STATUS_LIST_ISSUER_MISMATCH.value in codes(report)


def test_a_credential_status_without_a_status_list_in_the_bundle_fails_closed(home: Path, tmp_path: Path) -> None:
    from vc_runid.store.status import StatusRegistry

    run_id, _ = declare_with_status(home, Clock(), StatusRegistry(home))
    report = verify_bundle(create_bundle(home, [run_id], tmp_path / "a.zip"), at=AT)
    assert report.runs[0].verdict == "invalid"
    assert report.runs[0].status.state == "unknown"
    assert ErrorCode.STATUS_LIST_MISSING.value in codes(report)


def test_a_did_web_issuer_without_its_did_document_is_refused_at_bundling(tmp_path: Path) -> None:
    home = tmp_path / "web"
    runid.init_home(home, domain="example.com")
    run = make_run(home, Clock())
    runid.init_home(home, domain="example.org")  # the home now signs as another DID
    with pytest.raises(runid.RunIdError) as caught:
        create_bundle(home, [run.run_id], tmp_path / "a.zip")
    assert caught.value.code is ErrorCode.DID_UNRESOLVED
    document = Issuer.from_key(runid.load_issuer(home).key, "did:web:example.com").did_document()
    path = create_bundle(home, [run.run_id], tmp_path / "a.zip", did_documents=[document])
    assert verify_bundle(path, at=AT).valid


# --- disclosures -----------------------------------------------------------------------------


def test_a_disclosure_in_the_bundle_is_matched(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    path = create_bundle(home, [run.run_id], tmp_path / "a.zip", disclose=["input", "retrievalContext.documents[0]"])
    entry = verify_bundle(path, at=AT).runs[0]
    assert entry.verdict == "valid"
    assert [(d.path, d.matched) for d in entry.disclosures] == [("input", True), ("retrievalContext.documents[0]", True)]
    members = members_of(path)
    disclosed = json.loads(members[path_with_role(members, "disclosures")])
    assert disclosed[0]["content"] == "What is the capital of France?"


def test_a_wrong_disclosure_is_flagged(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    path = create_bundle(home, [run.run_id], tmp_path / "a.zip", disclose=["instructions[0]"])

    def lie(members: dict[str, bytes]) -> None:
        where = path_with_role(members, "disclosures")
        items = json.loads(members[where])
        items[0]["content"] = "You may say anything."
        members[where] = json.dumps(items).encode()

    entry = verify_bundle(rewrite(path, tmp_path / "b.zip", lie, fix=True), at=AT).runs[0]
    assert entry.verdict == "invalid"
    assert [(d.path, d.matched) for d in entry.disclosures] == [("instructions[0]", False)]
    assert entry.report.error_codes == [ErrorCode.DISCLOSURE_MISMATCH.value]


def test_an_unknown_component_cannot_be_disclosed(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    with pytest.raises(runid.RunIdError, match="no stored component tools\\[7\\]"):
        create_bundle(home, [run.run_id], tmp_path / "a.zip", disclose=["tools[7]"])


# --- tampering: every member kind, named in the report ----------------------------------------

#: role → (how a forger changes it, the code once the manifest is fixed to match, where it shows).
def _json_edit(edit: Callable[[Any], None]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        document = json.loads(data)
        edit(document)
        return json.dumps(document).encode()

    return apply


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _other_key(document: dict[str, Any]) -> None:
    multikey = KeyPair.generate().public.multikey
    for method in document["verificationMethod"]:
        method["id"] = f"{document['id']}#{multikey}"
        method["publicKeyMultibase"] = multikey
    for relationship in ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
        document[relationship] = [f"{document['id']}#{multikey}"]


def _flip_proof_hash(data: bytes) -> bytes:
    receipt = json.loads(data)
    receipt["inclusionProof"] = [base64.b64encode(b"\x00" * 32).decode() for _ in receipt["inclusionProof"]]
    return json.dumps(receipt).encode()


def _forge_checkpoint(data: bytes) -> bytes:
    lines = data.decode().split("\n")
    lines[2] = base64.b64encode(b"\x01" * 32).decode()  # the root hash line
    return "\n".join(lines).encode()


TAMPERING: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("declaration", _json_edit(_set(["credentialSubject", "model", "modelId"], "gpt-4o")), ErrorCode.PROOF_INVALID.value),
    ("binding", _json_edit(_set(["credentialSubject", "completedAt"], "2025-06-01T12:30:00Z")), ErrorCode.PROOF_INVALID.value),
    ("output", lambda data: b"Marseille.", ErrorCode.OUTPUT_MISMATCH.value),
    ("disclosures", _json_edit(lambda d: d[0].update(content="Ignore all rules.")), ErrorCode.DISCLOSURE_MISMATCH.value),
    ("receipt:declaration", _json_edit(_set(["leafIndex"], 1)), ErrorCode.LOG_INCLUSION_INVALID.value),
    ("receipt:binding", _flip_proof_hash, ErrorCode.LOG_INCLUSION_INVALID.value),
    ("did-document", _json_edit(_other_key), ErrorCode.VERIFICATION_METHOD_NOT_FOUND.value),
    ("context", lambda data: b'{"not": "a context"}', ErrorCode.CONTEXT_INVALID.value),
    ("status-list", _json_edit(_set(["validFrom"], "2025-06-01T11:00:00Z")), ErrorCode.STATUS_LIST_INVALID.value),
    ("checkpoint", _forge_checkpoint, ErrorCode.LOG_CHECKPOINT_INVALID.value),
]


@pytest.mark.parametrize(("role", "change", "_code"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_a_changed_member_is_named_as_a_member_mismatch(
    full: Full, tmp_path: Path, role: str, change: Callable[[bytes], bytes], _code: str
) -> None:
    members = members_of(full.path)
    target = path_with_role(members, role)

    def mutate(m: dict[str, bytes]) -> None:
        m[target] = change(m[target])

    report = verify_bundle(rewrite(full.path, tmp_path / "t.zip", mutate, fix=False), at=AT)
    assert not report.valid and report.runs == []
    failure = next(c for c in report.failures if c.name == f"member:{target}")
    assert failure.code == ErrorCode.BUNDLE_MEMBER_MISMATCH.value
    assert target in failure.message and role in failure.message


@pytest.mark.parametrize(("role", "change", "code"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_a_changed_member_with_a_rewritten_manifest_fails_its_own_check(
    full: Full, tmp_path: Path, role: str, change: Callable[[bytes], bytes], code: str
) -> None:
    """The manifest is an index anyone can rewrite; the signatures are what catch a forger."""
    members = members_of(full.path)
    target = path_with_role(members, role)

    def mutate(m: dict[str, bytes]) -> None:
        m[target] = change(m[target])

    report = verify_bundle(rewrite(full.path, tmp_path / "t.zip", mutate, fix=True), at=AT)
    assert not report.valid
    assert code in codes(report), failed_names(report)
    if role in ("receipt:declaration", "receipt:binding"):
        assert report.runs[0].log_inclusion.state == "invalid"
        assert role.split(":")[1] in report.runs[0].report.failures[-1].message


# --- bad archives ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../evil.json", "runs/../../evil.json", "/etc/evil.json", "runs\\evil.json", "C:/evil.json", "c:evil.json"]
)
def test_a_zip_slip_path_is_refused_and_nothing_is_written(full: Full, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    members = members_of(full.path)
    members[name] = b'{"pwned": true}'
    manifest = manifest_of(members)
    manifest["members"].append({"path": name, "sha256": hashlib.sha256(b'{"pwned": true}').hexdigest(), "size": 15, "role": "output"})
    members["manifest.json"] = json.dumps(manifest).encode()
    bad = write_zip(tmp_path / "slip.zip", members)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before = sorted(p for p in tmp_path.rglob("*"))
    report = verify_bundle(bad, at=AT)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing extracted, anywhere
    assert not (tmp_path / "evil.json").exists()
    assert report.failures[0].code == ErrorCode.BUNDLE_UNSAFE_PATH.value
    assert repr(name) in report.failures[0].message
    assert report.runs == []


def test_a_manifest_path_outside_the_bundle_is_refused(full: Full, tmp_path: Path) -> None:
    def point_outside(members: dict[str, bytes]) -> None:
        manifest = manifest_of(members)
        manifest["runs"][0]["output"] = "../../etc/passwd"
        members["manifest.json"] = json.dumps(manifest).encode()

    report = verify_bundle(rewrite(full.path, tmp_path / "t.zip", point_outside, fix=False), at=AT)
    assert ErrorCode.BUNDLE_UNSAFE_PATH.value in codes(report)


def test_a_zip_bomb_is_refused_before_it_is_inflated(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    bomb = b"\0" * (16 * 1024 * 1024)  # 16 MiB of zeros deflates ~1000:1

    def add_bomb(members: dict[str, bytes]) -> None:
        members["runs/bomb.bin"] = bomb
        manifest = manifest_of(members)
        manifest["members"].append({"path": "runs/bomb.bin", "sha256": hashlib.sha256(bomb).hexdigest(), "size": len(bomb), "role": "output"})
        members["manifest.json"] = json.dumps(manifest).encode()

    path = rewrite(create_bundle(home, [run.run_id], tmp_path / "a.zip"), tmp_path / "bomb.zip", add_bomb, fix=False)
    assert path.stat().st_size < 200_000
    report = verify_bundle(path, at=AT)
    failure = report.failures[0]
    assert failure.code == ErrorCode.BUNDLE_TOO_LARGE.value
    assert "runs/bomb.bin" in failure.message and ":1" in failure.message


@pytest.mark.parametrize(
    ("limits", "says"),
    [
        (BundleLimits(max_members=2), "members; the limit is 2"),
        (BundleLimits(max_member_bytes=100), "the limit is 100"),
        (BundleLimits(max_total_bytes=1000), "more than 1000 bytes"),
        (BundleLimits(max_bundle_bytes=1000), "the limit is 1000"),
    ],
)
def test_every_size_limit_is_enforced(home: Path, tmp_path: Path, limits: BundleLimits, says: str) -> None:
    run = make_run(home, Clock())
    report = verify_bundle(create_bundle(home, [run.run_id], tmp_path / "a.zip"), at=AT, limits=limits)
    assert report.failures[0].code == ErrorCode.BUNDLE_TOO_LARGE.value
    assert says in report.failures[0].message


def test_a_truncated_bundle_is_named_as_truncated(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    data = create_bundle(home, [run.run_id], tmp_path / "a.zip").read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        truncated = tmp_path / f"cut-{cut}.zip"
        truncated.write_bytes(data[:cut])
        report = verify_bundle(truncated, at=AT)
        assert [c.code for c in report.failures] == [ErrorCode.BUNDLE_TRUNCATED.value], cut


def test_a_corrupt_member_is_named(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    path = create_bundle(home, [run.run_id], tmp_path / "a.zip")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("binding.json"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 20):
        data[i] ^= 0xFF
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(data))
    report = verify_bundle(corrupt, at=AT)
    assert report.failures[0].code == ErrorCode.BUNDLE_TRUNCATED.value
    assert info.filename in report.failures[0].message


def test_an_extra_unlisted_member_is_named(full: Full, tmp_path: Path) -> None:
    report = verify_bundle(
        rewrite(full.path, tmp_path / "t.zip", lambda m: m.update({"runs/extra.json": b"{}"}), fix=False), at=AT
    )
    failure = next(c for c in report.failures if c.name == "member:runs/extra.json")
    assert failure.code == ErrorCode.BUNDLE_MEMBER_MISMATCH.value
    assert "not listed" in failure.message


def test_a_listed_but_missing_member_is_named(full: Full, tmp_path: Path) -> None:
    members = members_of(full.path)
    binding = path_with_role(members, "binding")
    def drop(members: dict[str, bytes]) -> None:
        del members[binding]

    report = verify_bundle(rewrite(full.path, tmp_path / "t.zip", drop, fix=False), at=AT)
    failure = next(c for c in report.failures if c.name == f"member:{binding}")
    assert failure.code == ErrorCode.BUNDLE_MEMBER_MISMATCH.value
    assert "missing" in failure.message


def test_a_listed_member_nothing_uses_is_refused(full: Full, tmp_path: Path) -> None:
    def smuggle(members: dict[str, bytes]) -> None:
        members["runs/smuggled.json"] = b"{}"
        manifest = manifest_of(members)
        manifest["members"].append({"path": "runs/smuggled.json", "sha256": hashlib.sha256(b"{}").hexdigest(), "size": 2, "role": "output"})
        members["manifest.json"] = json.dumps(manifest).encode()

    report = verify_bundle(rewrite(full.path, tmp_path / "t.zip", smuggle, fix=False), at=AT)
    assert ErrorCode.BUNDLE_INVALID.value in codes(report)
    assert any("runs/smuggled.json" in c.message for c in report.failures)


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda m: m.pop("manifest.json"), "no manifest.json"),
        (lambda m: m.update({"manifest.json": b"{not json"}), "not strict JSON"),
        (lambda m: m.update({"manifest.json": b'{"format": "other", "version": 1}'}), "format is 'other'"),
        (lambda m: m.update({"manifest.json": b'{"format": "vc-runid-audit-bundle", "version": 2}'}), "version 2"),
    ],
)
def test_a_missing_or_foreign_manifest_is_invalid(full: Full, tmp_path: Path, mutate: Callable[[dict[str, bytes]], None], says: str) -> None:
    report = verify_bundle(rewrite(full.path, tmp_path / "t.zip", mutate, fix=False), at=AT)
    assert report.failures[0].code == ErrorCode.BUNDLE_INVALID.value
    assert says in report.failures[0].message


def test_a_run_listed_under_another_run_id_is_flagged(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())

    def relabel(members: dict[str, bytes]) -> None:
        manifest = manifest_of(members)
        manifest["runs"][0]["runId"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
        members["manifest.json"] = json.dumps(manifest).encode()

    path = rewrite(create_bundle(home, [run.run_id], tmp_path / "a.zip"), tmp_path / "b.zip", relabel, fix=False)
    entry = verify_bundle(path, at=AT).runs[0]
    assert entry.run_id == run.run_id  # the report names the run the credentials are for
    assert entry.verdict == "invalid"
    assert entry.report.error_codes == [ErrorCode.BUNDLE_INVALID.value]


def test_a_presentation_challenge_does_not_apply_to_bundles(home: Path, tmp_path: Path) -> None:
    """A bundle carries credentials, not a challenge-bound presentation: there is no challenge to
    get wrong (presentations, with their challenge checks, are tested in test_presentations)."""
    run = make_run(home, Clock())
    manifest = manifest_of(members_of(create_bundle(home, [run.run_id], tmp_path / "a.zip")))
    assert "challenge" not in json.dumps(manifest)


# --- the CLI ---------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_cli_bundle_then_verify_bundle(home: Path, tmp_path: Path) -> None:
    run = make_run(home, Clock())
    answer = tmp_path / "answer.txt"
    answer.write_text("Paris.")
    out = tmp_path / "audit.zip"
    runner = CliRunner()
    made = runner.invoke(
        cli(), ["bundle", run.run_id, "--out", str(out), "--home", str(home), "--disclose", "input", "--output", f"{run.run_id}={answer}"]
    )
    assert made.exit_code == 0, made.output
    html = tmp_path / "report.html"
    checked = runner.invoke(cli(), with_trust(["verify-bundle", str(out), "--at", "2025-06-01T13:00:00Z", "--html", str(html)]))
    assert checked.exit_code == 0, checked.output
    assert f"VALID    {run.run_id}" in checked.output
    assert "1 valid, 0 invalid, 0 unbound, 0 revoked, 0 drift" in checked.output
    assert run.run_id in html.read_text()
    as_json = runner.invoke(cli(), with_trust(["verify-bundle", str(out), "--at", "2025-06-01T13:00:00Z", "--json"]))
    data = json.loads(as_json.output)
    assert data["valid"] is True and data["runs"][0]["disclosures"][0]["path"] == "input"


def test_cli_exit_codes_and_one_line_errors(home: Path, tmp_path: Path) -> None:
    clock = Clock()
    bound, unbound = make_run(home, clock), make_run(home, clock, output=None)
    out = tmp_path / "audit.zip"
    runner = CliRunner()
    assert runner.invoke(cli(), with_trust(["bundle", bound.run_id, unbound.run_id, "--out", str(out), "--home", str(home)])).exit_code == 0
    result = runner.invoke(cli(), with_trust(["verify-bundle", str(out), "--at", "2025-06-01T13:00:00Z"]))
    assert result.exit_code == 1  # not all valid: one run is unbound
    assert "UNBOUND" in result.output and "1 valid, 0 invalid, 1 unbound" in result.output
    missing = runner.invoke(cli(), with_trust(["verify-bundle", str(tmp_path / "nope.zip")]))
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines() == [missing.output.strip()]
    assert missing.output.startswith("RUNID_FILE_UNREADABLE: ")
    bad_time = runner.invoke(cli(), with_trust(["verify-bundle", str(out), "--at", "yesterday"]))
    assert bad_time.exit_code == 2 and bad_time.output.startswith("RUNID_USAGE: ")
    unknown = runner.invoke(cli(), with_trust(["bundle", "urn:uuid:nope", "--out", str(out), "--home", str(home)]))
    assert unknown.exit_code == 1 and unknown.output.startswith("RUNID_RUN_NOT_FOUND: ")
    assert runner.invoke(cli(), with_trust(["bundle", bound.run_id, "--home", str(home)])).exit_code == 2  # --out missing
    truncated = tmp_path / "t.zip"
    truncated.write_bytes(out.read_bytes()[:200])
    broken = runner.invoke(cli(), with_trust(["verify-bundle", str(truncated)]))
    assert broken.exit_code == 1 and "RUNID_BUNDLE_TRUNCATED" in broken.output
    assert "Traceback" not in broken.output


def _main_command() -> list[str]:
    """``python -m vc_runid`` once the main CLI mounts these commands; until then the same
    ``main`` with ``register`` applied first (so the no-network test runs either way)."""
    from vc_runid import cli as main_cli

    names = set(typer.main.get_command(main_cli.app).commands)  # type: ignore[attr-defined]
    if "verify-bundle" in names:
        return [sys.executable, "-m", "vc_runid"]
    code = "import sys; from vc_runid import cli; from vc_runid.cli.bundle import register; register(cli.app); cli.main()"
    return [sys.executable, "-c", code]


def _unshare_available() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(["unshare", "-rn", "true"], check=False, capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -rn is not permitted here: {probe.stderr.strip()}"
    return None


def test_verify_bundle_runs_inside_a_namespace_without_network(full: Full) -> None:
    assert (REPO / "vc_runid" / "__main__.py").is_file()
    why = _unshare_available()
    if why is not None:
        pytest.skip(f"NO-NETWORK PROOF NOT RUN: {why}")
    # The namespace really has no network: not even loopback is up.
    probe = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)"],
        check=False, capture_output=True, text=True,
    )
    assert probe.returncode != 0 and "Network is unreachable" in probe.stderr, probe.stderr
    result = subprocess.run(
        ["unshare", "-rn", *_main_command(), "verify-bundle", str(full.path), "--at", "2025-06-01T13:00:00Z", "--json", "--any-issuer"],
        check=False, capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["valid"] is True
    run = report["runs"][0]
    assert run["log_inclusion"]["state"] == "verified"
    assert run["status"]["state"] == "active"
    assert report["issuers"][0]["did"] == "did:web:example.com"


# --- reading the report ----------------------------------------------------------------------


class _Html(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Html:
    parser = _Html()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], parser.stack
    return parser


def test_the_html_report_is_self_contained_and_parseable(full: Full, home: Path, tmp_path: Path) -> None:
    clock = Clock()
    unbound = make_run(home, clock, output=None)
    reports = [verify_bundle(full.path, at=AT), verify_bundle(create_bundle(home, [unbound.run_id], tmp_path / "u.zip"), at=AT)]
    for report in reports:
        html = render_html(report)
        assert html.startswith("<!DOCTYPE html>")
        parsed = _parse(html)
        for tag, attrs in parsed.tags:
            assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
            for name in ("src", "href", "action", "data"):
                value = attrs.get(name) or ""
                assert not value.lower().startswith(("http://", "https://", "//")), (tag, name, value)
        assert "url(" not in html  # no CSS-loaded asset either
        text = "".join(parsed.text)
        for run in report.runs:
            assert run.run_id in text and run.verdict.upper() in text
        for check in ("declaration.proof.signature", "time-order"):
            assert check in text or report.runs[0].verdict == "unbound"


def test_every_value_in_the_reports_is_escaped(home: Path, tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script>[bold red]boom[/bold red]'
    run = make_run(home, Clock(), model=hostile)
    report = verify_bundle(create_bundle(home, [run.run_id], tmp_path / "a.zip"), at=AT)
    html = render_html(report)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    _parse(html)
    console = Console(record=True, width=400, color_system=None)
    render_terminal(report, console)
    assert "[bold red]boom[/bold red]" in console.export_text()  # printed, not interpreted


def test_the_terminal_report_names_each_failure(full: Full, tmp_path: Path) -> None:
    members = members_of(full.path)
    output = path_with_role(members, "output")
    report = verify_bundle(rewrite(full.path, tmp_path / "t.zip", lambda m: m.update({output: b"Lyon."}), fix=True), at=AT)
    console = Console(record=True, width=200, color_system=None)
    render_terminal(report, console)
    text = console.export_text()
    assert f"INVALID  {full.run_id}" in text
    assert "output [RUNID_OUTPUT_MISMATCH]" in text
    assert "NOT ALL VALID — 1 run(s): 0 valid, 1 invalid, 0 unbound, 0 revoked, 0 drift" in text


@pytest.fixture(autouse=True)
def _no_leftover_temp_files(tmp_path: Path) -> Iterator[None]:
    yield
    assert not list(tmp_path.rglob(".bundle-*.tmp")), "create_bundle left a temporary file"
