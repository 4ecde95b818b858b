"""Offline audit bundles: one zip an auditor can verify with no network (docs/bundles.md).

    path = create_bundle(home, [run_id], Path("AUDIT.zip"), disclose=["instructions[0]"])
    report = verify_bundle(path, at=datetime.now(UTC))
    assert report.valid  # every bundle check, and every run valid (bound, logged, not revoked)

A bundle holds each run's declaration and binding, the DID documents of did:web issuers, any
non-pinned JSON-LD contexts, status list snapshots, the log receipts (inclusion proofs against a
signed checkpoint), and — where the owner chooses — disclosed components and outputs.
``manifest.json`` lists every member with its SHA-256 and size.

The manifest is an *index*, not a signature: whoever assembles a bundle can rewrite it. What an
auditor relies on are the signatures inside (credentials, checkpoints, status lists), which
verification checks against keys from the DIDs. The manifest catches accidental damage and names
the member that changed; tampering that also rewrites the manifest is caught by the signatures.

Reading is defensive: the archive is read into memory under fixed limits (``BundleLimits``),
nothing is ever extracted to disk, and member paths are refused before they are used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from .._internal.contexts import DocumentLoader
from .._internal.files import read_limited
from .._internal.timeutil import format_datetime, parse_datetime, utc_now
from ..errors import DidError, ErrorCode, InputError, LogError, RunIdError, UsageError
from ..runs.composition import Disclosure
from ..runs.declaration import declaration_subject, issued_at, log_leaf_data
from ..runs.verify import Verdict, verdict_of, verify_run
from ..store.files import parse_disclosures, receipt_path, run_file_stem
from ..store.home import load_issuer
from ..store.runs import RunRecord, RunStore
from ..transparency import (
    Witness,
    leaf_hash,
    verify_cosignatures,
    verify_inclusion,
    verify_signed_checkpoint,
)
from ..transparency.receipt import Receipt
from ..vc.dids import ASSERTION, DidResolver
from ..vc.documents import MAX_DOCUMENT_BYTES, SecuredWire, read_document
from ..vc.policy import TrustPolicy
from ..vc.secured import SecuredCredential
from ..vc.verification import CheckResult, Report, VerificationReport, Verifier

FORMAT = "vc-runid-audit-bundle"
VERSION = 1
MANIFEST = "manifest.json"


# --- limits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleLimits:
    """What a bundle may cost to read. Anything over a limit is ``RUNID_BUNDLE_TOO_LARGE``,
    decided from the zip's directory *before* decompressing, and enforced again while reading
    (a directory can lie about sizes)."""

    #: The bundle file itself.
    max_bundle_bytes: int = 256 * 1024 * 1024
    #: Members in the archive (a run takes 2–7).
    max_members: int = 20_000
    #: One member, uncompressed.
    max_member_bytes: int = 64 * 1024 * 1024
    #: All members together, uncompressed.
    max_total_bytes: int = 256 * 1024 * 1024
    #: Uncompressed/compressed size of one member; checked for members of at least
    #: ``ratio_floor_bytes`` (tiny members compress well and cost nothing).
    max_compression_ratio: int = 100
    ratio_floor_bytes: int = 1024 * 1024


DEFAULT_LIMITS = BundleLimits()
MAX_BUNDLE_BYTES = DEFAULT_LIMITS.max_bundle_bytes
MAX_MEMBERS = DEFAULT_LIMITS.max_members
MAX_MEMBER_BYTES = DEFAULT_LIMITS.max_member_bytes
MAX_TOTAL_BYTES = DEFAULT_LIMITS.max_total_bytes
MAX_COMPRESSION_RATIO = DEFAULT_LIMITS.max_compression_ratio


# --- the manifest ----------------------------------------------------------------------------

Role = Literal[
    "declaration",
    "binding",
    "output",
    "disclosures",
    "receipt:declaration",
    "receipt:binding",
    "did-document",
    "context",
    "status-list",
    "checkpoint",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Member(_Strict):
    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    role: Role


class RunEntryManifest(_Strict):
    runId: str
    declaration: str
    binding: str | None = None
    output: str | None = None
    disclosures: str | None = None
    receipts: list[str] = []


class Manifest(_Strict):
    format: Literal["vc-runid-audit-bundle"]
    version: Literal[1]
    createdAt: str
    members: list[Member]
    runs: list[RunEntryManifest]
    didDocuments: list[str] = []
    contexts: dict[str, str] = {}
    statusLists: dict[str, str] = {}
    checkpoints: list[str] = []


# --- the report ------------------------------------------------------------------------------

#: The order reports list verdicts in.
VERDICTS: tuple[Verdict, ...] = (Verdict.VALID, Verdict.INVALID, Verdict.UNBOUND, Verdict.REVOKED, Verdict.DRIFT)


class Timeline(_Strict):
    """declared → started → completed → bound, as the credentials state them (UTC)."""

    declared: str | None = None
    started: str | None = None
    completed: str | None = None
    bound: str | None = None


class CompositionSummary(_Strict):
    model_id: str | None = None
    provider: str | None = None
    revision: str | None = None
    instructions: int = 0
    documents: int = 0
    tools: int = 0
    has_input: bool = False


class DisclosedComponent(_Strict):
    path: str
    matched: bool
    message: str = ""


CredentialLogState = Literal["verified", "invalid", "not logged"]


class LogInclusion(_Strict):
    #: ``verified``: every credential of the run (its declaration and, once bound, its binding) is
    #: proven by a receipt to be in the issuer's signed log; ``invalid``: a receipt does not prove
    #: its credential; ``partial``: some credential is proven and another has no receipt (a binding
    #: the log never saw, next to a logged declaration, is what a swapped-in binding looks like);
    #: ``not logged``: the bundle has no receipt for this run.
    state: Literal["verified", "partial", "invalid", "not logged"]
    #: Per credential of the run: ``{"declaration": "verified", "binding": "not logged"}``.
    credentials: dict[str, CredentialLogState] = {}
    entries: list[str] = []


class StatusInfo(_Strict):
    #: ``not applicable``: no credential of the run carries a credentialStatus.
    state: Literal["active", "revoked", "suspended", "unknown", "invalid", "not applicable"]
    as_of: str | None = None
    message: str = ""


class RunEntry(BaseModel):
    """One run of a bundle report: its verdict, timeline, composition and checks."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    verdict: Verdict
    issuer: str | None = None
    timeline: Timeline
    composition: CompositionSummary | None = None
    disclosures: list[DisclosedComponent] = []
    output_checked: bool = False
    log_inclusion: LogInclusion
    status: StatusInfo
    report: VerificationReport


class IssuerInfo(_Strict):
    did: str
    key_source: str


class BundleReport(Report):
    """The bundle's own checks (archive, limits, paths, manifest, members…) and one entry per run.

    ``valid`` is true only if every bundle check passed and every run's verdict is ``valid``; a
    bundle with no run is never valid."""

    model_config = ConfigDict(extra="forbid")

    bundle: str
    created_at: str | None = None
    verified_at: str
    checks: list[CheckResult] = []
    runs: list[RunEntry] = []
    issuers: list[IssuerInfo] = []
    #: The trust policy the run verdicts were taken under (TrustPolicy.describe()).
    policy: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def bundle_valid(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        return self.bundle_valid and bool(self.runs) and all(r.verdict == "valid" for r in self.runs)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {verdict: 0 for verdict in VERDICTS}
        for run in self.runs:
            counts[run.verdict] += 1
        return counts

    @property
    def error_codes(self) -> list[str]:
        codes = super().error_codes
        for run in self.runs:
            codes.extend(run.report.error_codes)
        return codes


# --- paths -----------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def unsafe_path_reason(path: str) -> str | None:
    """Why ``path`` may not name a bundle member, or None. Checked for every name in the zip and
    every path in the manifest, so no member can point outside the bundle (zip-slip)."""
    if not path:
        return "an empty path"
    if "\\" in path:
        return "a backslash"
    if path.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(path):
        return "a drive letter"
    if "\x00" in path or any(ord(ch) < 0x20 for ch in path):
        return "a control character"
    parts = path.rstrip("/").split("/")
    if any(part == ".." for part in parts):
        return "a '..' segment"
    if any(part in ("", ".") for part in parts):
        return "an empty or '.' segment"
    return None


def _run_dir(run_id: str) -> str:
    return f"runs/{run_file_stem(run_id)}"


def _slug(text: str, limit: int = 80) -> str:
    slug = _SLUG.sub("_", text).strip("._") or "x"
    if len(slug) > limit:
        slug = slug[: limit - 17] + "-" + hashlib.sha256(text.encode()).hexdigest()[:16]
    return slug


# --- creating --------------------------------------------------------------------------------


def _secured_bytes(secured: SecuredWire) -> tuple[bytes, str]:
    if isinstance(secured, str):
        return secured.encode("ascii"), ".jwt"
    return (json.dumps(secured, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), ".json"


def _parsed(secured: SecuredWire) -> SecuredCredential | None:
    """``secured`` decoded, unverified — only to read fields; None when it cannot be read."""
    try:
        return SecuredCredential.parse(secured)
    except RunIdError:
        return None


def _issuer_of(secured: SecuredWire) -> str | None:
    parsed = _parsed(secured)
    return parsed.issuer if parsed is not None else None


def _scoped_disclosures(disclose: Sequence[str], records: Sequence[RunRecord]) -> dict[str, list[str]]:
    """``COMPONENT`` applies to every run; ``RUN_ID=COMPONENT`` to that run only."""
    chosen: dict[str, list[str]] = {r.run_id: [] for r in records}
    for item in disclose:
        run_ref, sep, component = item.rpartition("=")
        targets = [r for r in records if not sep or run_ref in (r.run_id, r.declaration_id)]
        if sep and not targets:
            raise UsageError(f"--disclose {item!r}: run {run_ref} is not in the bundle")
        for record in targets:
            if component not in chosen[record.run_id]:
                chosen[record.run_id].append(component)
    return chosen


def _disclosure_items(record: RunRecord, components: Sequence[str]) -> list[dict[str, Any]]:
    items = []
    for component in components:
        disclosure = record.disclosures.components.get(component)
        if disclosure is None:
            known = ", ".join(sorted(record.disclosures.components)) or "none"
            raise UsageError(f"run {record.run_id} has no stored component {component} (known: {known})")
        if disclosure.content is None:
            raise UsageError(
                f"run {record.run_id}: the content of {component} was not kept, so it cannot be disclosed"
            )
        items.append(disclosure.model_dump(mode="json", exclude_none=True))
    return items


class _Writer:
    def __init__(self) -> None:
        self.members: dict[str, tuple[bytes, str]] = {}

    def add(self, path: str, data: bytes, role: str) -> str:
        reason = unsafe_path_reason(path)
        if reason is not None:  # pragma: no cover - paths here are built from slugs
            raise UsageError(f"refusing to write bundle member {path!r}: {reason}")
        if path in self.members:
            if self.members[path][0] != data:
                raise UsageError(f"two different bundle members would be named {path}")
            return path
        self.members[path] = (data, role)
        return path


def create_bundle(
    home: Path,
    run_ids: Sequence[str],
    out: Path,
    *,
    disclose: Sequence[str] = (),
    include_outputs: Mapping[str, Path] | None = None,
    did_documents: Sequence[Mapping[str, Any]] = (),
    extra_contexts: Mapping[str, Any] | None = None,
    status_lists: Mapping[str, SecuredWire] | None = None,
    created_at: datetime | None = None,
) -> Path:
    """Write an audit bundle of ``run_ids`` (run or declaration ids) from the run store in ``home``.

    Each run's declaration and binding come from the store, its log receipts from
    ``home/receipts``; the DID document of a did:web issuer from ``did_documents`` or, when it is
    the home's own issuer, from its key (did:key needs none). ``disclose`` names components to
    disclose (content + salt), ``include_outputs`` maps a run id to its output file. Nothing is
    verified here; the bundle is written atomically (a temporary file renamed into place).
    """
    if not run_ids:
        raise UsageError("name at least one run to bundle")
    store = RunStore.in_home(home)
    records: list[RunRecord] = []
    for run_id in run_ids:
        record = store.get(run_id)
        if all(r.run_id != record.run_id for r in records):
            records.append(record)
    moment = created_at or utc_now()
    writer = _Writer()
    manifest_runs: list[dict[str, Any]] = []
    outputs = _outputs_by_run(include_outputs or {}, records)
    chosen = _scoped_disclosures(disclose, records)
    checkpoints: dict[str, None] = {}
    issuers: set[str] = set()

    for record in records:
        base = _run_dir(record.run_id)
        data, ext = _secured_bytes(record.declaration)
        entry: dict[str, Any] = {"runId": record.run_id, "declaration": writer.add(f"{base}/declaration{ext}", data, "declaration")}
        credentials: dict[str, SecuredWire] = {"declaration": record.declaration}
        entry["binding"] = None
        if record.binding is not None:
            data, ext = _secured_bytes(record.binding)
            entry["binding"] = writer.add(f"{base}/binding{ext}", data, "binding")
            credentials["binding"] = record.binding
        entry["output"] = None
        if record.run_id in outputs:
            if record.binding is None:
                raise UsageError(f"run {record.run_id} is not bound: there is no output digest to check an output against")
            output_path = outputs[record.run_id]
            output = read_limited(output_path, None)
            suffix = output_path.suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", output_path.suffix) else ""
            entry["output"] = writer.add(f"{base}/output{suffix}", output, "output")
        entry["disclosures"] = None
        if chosen[record.run_id]:
            items = _disclosure_items(record, chosen[record.run_id])
            text = json.dumps(items, indent=2, ensure_ascii=False) + "\n"
            entry["disclosures"] = writer.add(f"{base}/disclosures.json", text.encode("utf-8"), "disclosures")
        entry["receipts"] = []
        for kind in credentials:
            receipt_file = receipt_path(home, record.run_id, kind)
            if not receipt_file.is_file():
                continue
            try:
                raw = read_limited(receipt_file, MAX_DOCUMENT_BYTES)
                receipt = Receipt.model_validate_json(raw)
            except (RunIdError, ValidationError) as exc:
                raise UsageError(f"the log receipt {receipt_file} is unreadable: {exc}", code=ErrorCode.FILE_UNREADABLE) from exc
            checkpoints[receipt.checkpoint] = None
            entry["receipts"].append(writer.add(f"{base}/receipts/{kind}.json", raw, f"receipt:{kind}"))
        for secured in credentials.values():
            issuer = _issuer_of(secured)
            if issuer is not None:
                issuers.add(issuer)
        manifest_runs.append(entry)

    documents = _did_documents(home, issuers, did_documents)
    did_paths = []
    for did, document in sorted(documents.items()):
        data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        did_paths.append(writer.add(f"dids/{_slug(did)}.json", data, "did-document"))
    context_paths = {}
    for i, (url, document) in enumerate(sorted((extra_contexts or {}).items())):
        data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        context_paths[url] = writer.add(f"contexts/{i:03d}-{_slug(url, 60)}.json", data, "context")
    status_paths = {}
    for i, (url, secured) in enumerate(sorted((status_lists or {}).items())):
        data, ext = _secured_bytes(secured)
        status_paths[url] = writer.add(f"status/{i:03d}-{_slug(url, 60)}{ext}", data, "status-list")
    checkpoint_paths = [
        writer.add(f"log/checkpoint-{i:03d}.txt", note.encode("utf-8"), "checkpoint")
        for i, note in enumerate(checkpoints)
    ]

    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "createdAt": format_datetime(moment),
        "members": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "role": role}
            for path, (data, role) in writer.members.items()
        ],
        "runs": manifest_runs,
        "didDocuments": did_paths,
        "contexts": context_paths,
        "statusLists": status_paths,
        "checkpoints": checkpoint_paths,
    }
    Manifest.model_validate(manifest)  # what we write, we can read
    _write_zip(out, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n", writer, moment)
    return out


def _outputs_by_run(outputs: Mapping[str, Path], records: Sequence[RunRecord]) -> dict[str, Path]:
    by_run: dict[str, Path] = {}
    for ref, path in outputs.items():
        matches = [r for r in records if ref in (r.run_id, r.declaration_id)]
        if not matches:
            raise UsageError(f"an output was given for run {ref}, which is not in the bundle")
        by_run[matches[0].run_id] = Path(path)
    return by_run


def _did_documents(
    home: Path, issuers: Iterable[str], supplied: Sequence[Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """The DID documents the bundle needs: one per non-did:key issuer, from ``supplied`` or the
    home's own issuer. A did:key needs none (the key is the identifier)."""
    documents: dict[str, Mapping[str, Any]] = {}
    for document in supplied:
        did = document.get("id") if isinstance(document, Mapping) else None
        if not isinstance(did, str):
            raise DidError("a DID document to bundle has no id", code=ErrorCode.DID_INVALID)
        documents[did] = document
    needed = sorted(d for d in issuers if not d.startswith("did:key:") and d not in documents)
    if needed:
        try:
            own = load_issuer(home)
        except RunIdError:
            own = None
        for did in needed:
            if own is not None and own.did == did:
                documents[did] = own.did_document()
            else:
                raise DidError(
                    f"the issuer {did} is not a did:key: supply its DID document as of issuance "
                    "(--did-document FILE)",
                    code=ErrorCode.DID_UNRESOLVED,
                )
    return documents


def _write_zip(out: Path, manifest: bytes, writer: _Writer, moment: datetime) -> None:
    stamp = moment.timetuple()[:6]
    stamp = (max(stamp[0], 1980), *stamp[1:])
    directory = out.resolve().parent
    if not directory.is_dir():
        raise UsageError(f"cannot write {out}: {directory} is not a directory")
    fd, tmp_name = tempfile.mkstemp(prefix=".bundle-", suffix=".zip.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for name, data in [(MANIFEST, manifest), *((p, d) for p, (d, _) in writer.members.items())]:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(tmp_name, out)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


# --- reading ---------------------------------------------------------------------------------


class BundleProblem(RunIdError):
    """The archive or its manifest is unusable; verification of the runs does not start."""

    default_code = ErrorCode.BUNDLE_INVALID
    checks_family = False  # a member's finding keeps its own code (DID_INVALID, CONTEXT_INVALID)


def _problem(code: ErrorCode, message: str, **detail: Any) -> BundleProblem:
    return BundleProblem(message, code=code, detail=detail)


# What zipfile raises on a hostile archive besides BadZipFile: a negative seek from a lying
# end-of-central-directory offset (ValueError), a struct too short (struct.error), an offset past
# what the platform can seek to (OverflowError).
_ZIP_DAMAGE = (zipfile.BadZipFile, EOFError, ValueError, OSError, struct.error, OverflowError, zlib.error)


def _read_archive(data: bytes, limits: BundleLimits) -> dict[str, bytes]:
    """Every file member of the zip, in memory, under ``limits``. Raises ``BundleProblem``."""
    if not data.startswith(b"PK"):
        # Every zip starts with a local file header (or, empty, the end record): anything else is
        # another kind of file, not a bundle cut short.
        raise _problem(ErrorCode.BUNDLE_INVALID, "the file is not a zip archive (an audit bundle is the .zip `vc-runid bundle` writes)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_DAMAGE as exc:
        raise _problem(ErrorCode.BUNDLE_TRUNCATED, f"the bundle is not a complete zip archive ({exc})") from exc
    except NotImplementedError as exc:  # "zip file version 10.0": a feature zipfile cannot read
        raise _problem(ErrorCode.BUNDLE_INVALID, f"the bundle uses an unsupported zip feature ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise _problem(ErrorCode.BUNDLE_TOO_LARGE, f"{len(infos)} members; the limit is {limits.max_members}")
        declared_total = 0
        seen: set[str] = set()
        for info in infos:
            reason = unsafe_path_reason(info.filename)
            if reason is not None:
                raise _problem(
                    ErrorCode.BUNDLE_UNSAFE_PATH, f"member {info.filename!r} has {reason}", member=info.filename
                )
            if info.filename in seen:
                raise _problem(ErrorCode.BUNDLE_INVALID, f"member {info.filename} appears twice", member=info.filename)
            seen.add(info.filename)
            if info.flag_bits & 0x1:
                raise _problem(ErrorCode.BUNDLE_INVALID, f"member {info.filename} is encrypted", member=info.filename)
            if info.file_size > limits.max_member_bytes:
                raise _problem(
                    ErrorCode.BUNDLE_TOO_LARGE,
                    f"member {info.filename} is {info.file_size} bytes; the limit is {limits.max_member_bytes}",
                    member=info.filename,
                )
            if info.file_size >= limits.ratio_floor_bytes:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_compression_ratio:
                    raise _problem(
                        ErrorCode.BUNDLE_TOO_LARGE,
                        f"member {info.filename} expands {ratio:.0f}:1; the limit is "
                        f"{limits.max_compression_ratio}:1 (a zip bomb?)",
                        member=info.filename,
                    )
            declared_total += info.file_size
            if declared_total > limits.max_total_bytes:
                raise _problem(
                    ErrorCode.BUNDLE_TOO_LARGE,
                    f"the members total more than {limits.max_total_bytes} bytes uncompressed",
                )
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            members[info.filename] = _read_member(archive, info)
        return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one member, never more than its declared size (+1 byte to catch a lie)."""
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except _ZIP_DAMAGE as exc:
        raise _problem(
            ErrorCode.BUNDLE_TRUNCATED, f"member {info.filename} is truncated or corrupt ({exc})", member=info.filename
        ) from exc
    except (NotImplementedError, RuntimeError) as exc:  # RuntimeError: "password required"
        raise _problem(
            ErrorCode.BUNDLE_INVALID, f"member {info.filename} uses an unsupported compression or encryption", member=info.filename
        ) from exc
    if len(data) != info.file_size:
        raise _problem(
            ErrorCode.BUNDLE_TOO_LARGE if len(data) > info.file_size else ErrorCode.BUNDLE_TRUNCATED,
            f"member {info.filename} does not decompress to its declared {info.file_size} bytes",
            member=info.filename,
        )
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _strict_json(data: bytes, what: str, code: ErrorCode = ErrorCode.BUNDLE_INVALID) -> Any:
    def refuse(value: str) -> Any:
        raise ValueError(f"{value} is not JSON")

    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=refuse)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _problem(code, f"{what} is not strict JSON: {exc}") from exc


def _parse_manifest(members: Mapping[str, bytes]) -> Manifest:
    if MANIFEST not in members:
        raise _problem(ErrorCode.BUNDLE_INVALID, "the bundle has no manifest.json")
    data = _strict_json(members[MANIFEST], "manifest.json")
    if isinstance(data, dict) and data.get("format") != FORMAT:
        raise _problem(ErrorCode.BUNDLE_INVALID, f"manifest.json: format is {data.get('format')!r}, not {FORMAT!r}")
    if isinstance(data, dict) and data.get("version") != VERSION:
        raise _problem(
            ErrorCode.BUNDLE_INVALID, f"manifest.json: version {data.get('version')!r} is not supported (only {VERSION})"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _problem(ErrorCode.BUNDLE_INVALID, f"manifest.json field {where!r}: {first['msg']}") from exc


def _member_checks(manifest: Manifest, members: Mapping[str, bytes]) -> list[CheckResult]:
    """One failed check per member that is missing, unlisted or different; else one passed."""
    failed: list[CheckResult] = []
    listed: dict[str, Member] = {}

    def fail(path: str, code: ErrorCode, message: str) -> None:
        failed.append(CheckResult(name=f"member:{path}", passed=False, code=code.value, message=message))

    for member in manifest.members:
        reason = unsafe_path_reason(member.path)
        if reason is not None:
            fail(member.path, ErrorCode.BUNDLE_UNSAFE_PATH, f"the manifest lists {member.path!r}, which has {reason}")
            continue
        if member.path == MANIFEST or member.path in listed:
            fail(member.path, ErrorCode.BUNDLE_INVALID, f"the manifest lists {member.path} twice (or lists itself)")
            continue
        listed[member.path] = member
        data = members.get(member.path)
        if data is None:
            fail(member.path, ErrorCode.BUNDLE_MEMBER_MISMATCH, f"{member.path} ({member.role}) is listed in the manifest but missing")
        elif len(data) != member.size:
            fail(
                member.path, ErrorCode.BUNDLE_MEMBER_MISMATCH,
                f"{member.path} ({member.role}) is {len(data)} bytes; the manifest says {member.size}",
            )
        elif hashlib.sha256(data).hexdigest() != member.sha256:
            fail(member.path, ErrorCode.BUNDLE_MEMBER_MISMATCH, f"{member.path} ({member.role}) does not match its sha256 in the manifest")
    for path in sorted(members):
        if path != MANIFEST and path not in listed:
            fail(path, ErrorCode.BUNDLE_MEMBER_MISMATCH, f"{path} is in the archive but not listed in the manifest")
    if failed:
        return failed
    return [CheckResult(name="members", passed=True, message=f"{len(listed)} members match the manifest (sha256, size)")]


def _reference_checks(manifest: Manifest) -> list[CheckResult]:
    """Every path the manifest uses is a listed member of the right role, and every member is used."""
    roles = {m.path: m.role for m in manifest.members}
    used: set[str] = set()
    failed: list[CheckResult] = []

    def use(path: str | None, role: str, where: str) -> None:
        if path is None:
            return
        used.add(path)
        if path not in roles:
            reason = unsafe_path_reason(path)
            code = ErrorCode.BUNDLE_UNSAFE_PATH if reason else ErrorCode.BUNDLE_MEMBER_MISMATCH
            failed.append(CheckResult(
                name=f"member:{path}", passed=False, code=code.value,
                message=f"{where} names {path!r}, which is not a listed member" + (f" ({reason})" if reason else ""),
            ))
        elif not (roles[path] == role or (role == "receipt" and roles[path].startswith("receipt:"))):
            failed.append(CheckResult(
                name=f"member:{path}", passed=False, code=ErrorCode.BUNDLE_INVALID.value,
                message=f"{where} names {path}, whose role is {roles[path]}, not {role}",
            ))

    run_ids: set[str] = set()
    for run in manifest.runs:
        if run.runId in run_ids:
            failed.append(CheckResult(name="references", passed=False, code=ErrorCode.BUNDLE_INVALID.value, message=f"run {run.runId} is listed twice"))
        run_ids.add(run.runId)
        where = f"run {run.runId}"
        use(run.declaration, "declaration", where)
        use(run.binding, "binding", where)
        use(run.output, "output", where)
        use(run.disclosures, "disclosures", where)
        kinds = []
        for path in run.receipts:
            use(path, "receipt", where)
            kinds.append(roles.get(path))
        if len(set(kinds)) != len(kinds):
            failed.append(CheckResult(name="references", passed=False, code=ErrorCode.BUNDLE_INVALID.value, message=f"{where} has two receipts for one credential"))
    for path in manifest.didDocuments:
        use(path, "did-document", "didDocuments")
    for url, path in manifest.contexts.items():
        use(path, "context", f"contexts[{url}]")
    for url, path in manifest.statusLists.items():
        use(path, "status-list", f"statusLists[{url}]")
    for path in manifest.checkpoints:
        use(path, "checkpoint", "checkpoints")
    for path in sorted(set(roles) - used):
        failed.append(CheckResult(
            name=f"member:{path}", passed=False, code=ErrorCode.BUNDLE_INVALID.value,
            message=f"{path} is listed but nothing in the manifest uses it",
        ))
    if not manifest.runs:
        failed.append(CheckResult(name="references", passed=False, code=ErrorCode.BUNDLE_INVALID.value, message="the bundle holds no run"))
    if failed:
        return failed
    return [CheckResult(name="references", passed=True, message=f"{len(manifest.runs)} runs; every member is used, with its role")]


# --- verifying -------------------------------------------------------------------------------


class _Checks:
    def __init__(self) -> None:
        self.items: list[CheckResult] = []

    def ok(self, name: str, message: str) -> None:
        self.items.append(CheckResult(name=name, passed=True, message=message))

    def fail(self, name: str, error: RunIdError) -> None:
        self.items.append(CheckResult(name=name, passed=False, code=error.code.value, message=error.message))

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.items)


def verify_bundle(
    path: Path,
    *,
    at: datetime,
    limits: BundleLimits = DEFAULT_LIMITS,
    witnesses: Sequence[Witness] = (),
    witness_quorum: int = 0,
    policy: TrustPolicy | None = None,
    did_documents: Mapping[str, Mapping[str, Any]] | None = None,
) -> BundleReport:
    """Verify everything in the bundle at ``path`` as of ``at``, with no network.

    DIDs resolve from the bundle's DID documents only (did:key from the key itself), contexts
    from the pinned set plus the bundle's own. A problem with the archive or its manifest is a
    failed bundle check (and no run is verified); a run's problems are failed checks in its
    entry. Raises ``RunIdError`` only when ``path`` cannot be read or ``at`` is naive.

    With ``witness_quorum`` K > 0, every checkpoint in the bundle (listed, or inside a receipt)
    must carry valid ``cosignature/v1`` lines from K of ``witnesses`` (check ``witnesses:<path>``),
    so that the log cannot have shown this auditor a history it hid from the witnesses.

    Under a trust policy (not ``unsafe_any_issuer``), a did:web issuer's key comes only from
    ``did_documents``, the DID documents the verifier supplies (``--did-store``): the bundle's
    own are whatever its author wrote, and a forged one can list any key for a trusted DID.
    """
    if at.tzinfo is None:
        raise UsageError("the verification time must be timezone-aware (e.g. UTC)")
    report = BundleReport(bundle=str(path), verified_at=format_datetime(at), policy=policy.describe() if policy else None)
    checks = _Checks()
    report.checks = checks.items
    try:
        data = read_limited(path, limits.max_bundle_bytes)
    except InputError as exc:  # over the limit: a finding about the bundle, not a usage error
        checks.fail("archive", _problem(ErrorCode.BUNDLE_TOO_LARGE, f"the bundle {exc.message}"))
        return report
    try:
        members = _read_archive(data, limits)
        checks.ok("archive", f"a complete zip of {len(members)} members within the limits; every path is safe")
        manifest = _parse_manifest(members)
        checks.ok("manifest", f"{FORMAT} version {VERSION}, created {manifest.createdAt}")
    except BundleProblem as problem:
        checks.fail("archive" if not checks.items else "manifest", problem)
        return report
    report.created_at = manifest.createdAt
    checks.items.extend(_member_checks(manifest, members))
    if checks.passed:
        checks.items.extend(_reference_checks(manifest))
    if not checks.passed:
        return report

    resolver, did_sources = _bundle_resolver(manifest, members, checks)
    if policy is not None and not policy.any_issuer:
        # VALID means "signed by someone I trust": a did:web key the bundle's author supplied
        # would let anyone who can write a zip name any key for a trusted DID.
        resolver = DidResolver(dict(did_documents or {}))
        did_sources = {did: "supplied by the verifier" for did in did_documents or {}}
    elif did_documents:
        resolver = resolver.with_documents(did_documents)
        did_sources = {**did_sources, **{did: "supplied by the verifier" for did in did_documents}}
    loader = _bundle_loader(manifest, members, checks)
    status_lists = _bundle_status_lists(manifest, members, checks)
    # Without a policy no run is valid: verify_run says RUNID_TRUST_POLICY_MISSING in each entry.
    verifier = Verifier(resolver=resolver, loader=loader, now=at, policy=policy)
    roles = {m.path: m.role for m in manifest.members}
    issuers: dict[str, None] = {}
    for run in manifest.runs:
        entry = _verify_run_entry(run, members, roles, verifier, status_lists)
        report.runs.append(entry)
        for credential_issuer in _run_issuers(run, members):
            issuers[credential_issuer] = None
    _checkpoint_checks(manifest, members, resolver, list(issuers), checks)
    if policy is not None and policy.witness_quorum and not witness_quorum:
        # The policy's witnesses (c2sp.org/tlog-cosignature), unless the caller named its own.
        witnesses, witness_quorum = [w.witness() for w in policy.witnesses], policy.witness_quorum
    if witness_quorum:
        _witness_checks(manifest, members, roles, witnesses, witness_quorum, checks)
    report.issuers = [
        IssuerInfo(did=did, key_source=_key_source(did, did_sources)) for did in issuers
    ]
    return report


def _key_source(did: str, sources: Mapping[str, str]) -> str:
    if did.startswith("did:key:"):
        return "did:key: the public key is the identifier itself"
    if sources.get(did) == "supplied by the verifier":
        return "DID document supplied by the verifier (--did-store)"
    if did in sources:
        return f"DID document in the bundle ({sources[did]}): compare its keys with the issuer's published history"
    return "no DID document in the bundle: the issuer's key could not be resolved"


def _bundle_resolver(
    manifest: Manifest, members: Mapping[str, bytes], checks: _Checks
) -> tuple[DidResolver, dict[str, str]]:
    documents: dict[str, Mapping[str, Any]] = {}
    sources: dict[str, str] = {}
    problems = 0
    for path in manifest.didDocuments:
        try:
            document = _strict_json(members[path], path, ErrorCode.DID_INVALID)
            if not isinstance(document, dict) or not isinstance(document.get("id"), str):
                raise _problem(ErrorCode.DID_INVALID, f"{path} is not a DID document (no id)")
            did = document["id"]
            if did in documents and documents[did] != document:
                raise _problem(ErrorCode.BUNDLE_INVALID, f"{path}: two different DID documents for {did}")
        except BundleProblem as problem:
            checks.fail(f"did-document:{path}", problem)
            problems += 1
            continue
        documents[did] = document
        sources[did] = path
    if manifest.didDocuments and not problems:
        checks.ok("did-documents", f"{len(documents)} DID document(s): " + ", ".join(sorted(documents)))
    return DidResolver(documents), sources


def _bundle_loader(manifest: Manifest, members: Mapping[str, bytes], checks: _Checks) -> DocumentLoader:
    extra: dict[str, Any] = {}
    for url, path in manifest.contexts.items():
        try:
            document = _strict_json(members[path], path, ErrorCode.CONTEXT_INVALID)
            if not isinstance(document, dict) or "@context" not in document:
                raise _problem(ErrorCode.CONTEXT_INVALID, f"{path} has no top-level @context")
        except BundleProblem as problem:
            checks.fail(f"context:{path}", problem)
            continue
        extra[url] = document
    try:
        loader = DocumentLoader(extra)
    except RunIdError as exc:
        checks.fail("contexts", exc)
        return DocumentLoader()
    if extra:
        checks.ok("contexts", f"{len(extra)} context(s) besides the pinned ones: " + ", ".join(sorted(extra)))
    return loader


def _bundle_status_lists(
    manifest: Manifest, members: Mapping[str, bytes], checks: _Checks
) -> dict[str, SecuredWire]:
    lists: dict[str, SecuredWire] = {}
    for url, path in manifest.statusLists.items():
        try:
            lists[url] = read_document(members[path])
        except RunIdError as exc:
            checks.fail(f"status-list:{path}", exc)
    if lists and len(lists) == len(manifest.statusLists):
        checks.ok("status-lists", f"{len(lists)} status list snapshot(s)")
    return lists


def _run_issuers(run: RunEntryManifest, members: Mapping[str, bytes]) -> list[str]:
    found = []
    for path in (run.declaration, run.binding):
        secured = _secured_member(members, path)
        issuer = _issuer_of(secured) if secured is not None else None
        if issuer is not None:
            found.append(issuer)
    return found


def _secured_member(members: Mapping[str, bytes], path: str | None) -> SecuredWire | None:
    if path is None:
        return None
    try:
        return read_document(members[path])
    except RunIdError:
        return None


def _ed25519_keys(resolver: DidResolver, did: str) -> list[Ed25519PublicKey]:
    """The issuer's Ed25519 assertion keys: the log signs its checkpoints with the issuer key
    (vc_runid/server/log.py), under the issuer DID as the signed-note key name."""
    try:
        document = resolver.resolve(did)
    except RunIdError:
        return []
    entries = document.get(ASSERTION)
    keys: list[Ed25519PublicKey] = []
    for entry in entries if isinstance(entries, list) else []:
        ref = entry if isinstance(entry, str) else entry.get("id") if isinstance(entry, Mapping) else None
        if not isinstance(ref, str):
            continue
        url = did + ref if ref.startswith("#") else ref
        try:
            method = resolver.verification_method(url, ASSERTION)
        except RunIdError:
            continue
        if isinstance(method.public_key.key, Ed25519PublicKey):
            keys.append(method.public_key.key)
    return keys


def _verify_checkpoint(note: str, did: str, resolver: DidResolver) -> Any:
    """The checkpoint, verified with one of ``did``'s keys; raises RunIdError."""
    keys = _ed25519_keys(resolver, did)
    if not keys:
        raise LogError(
            f"{did} has no Ed25519 assertion key to verify a log checkpoint with",
            code=ErrorCode.LOG_CHECKPOINT_INVALID,
        )
    last: RunIdError | None = None
    for key in keys:
        try:
            return verify_signed_checkpoint(note, did, key)
        except RunIdError as exc:
            last = exc
    assert last is not None
    raise LogError(f"checkpoint not signed by {did}: {last.message}", code=ErrorCode.LOG_CHECKPOINT_INVALID)


def _checkpoint_checks(
    manifest: Manifest, members: Mapping[str, bytes], resolver: DidResolver, issuers: Sequence[str], checks: _Checks
) -> None:
    for path in manifest.checkpoints:
        try:
            note = members[path].decode("utf-8")
        except UnicodeDecodeError:
            checks.fail(f"checkpoint:{path}", LogError(f"{path} is not UTF-8 text", code=ErrorCode.LOG_CHECKPOINT_INVALID))
            continue
        signer = None
        for did in issuers:
            try:
                checkpoint = _verify_checkpoint(note, did, resolver)
            except RunIdError:
                continue
            signer = (did, checkpoint)
            break
        if signer is None:
            checks.fail(
                f"checkpoint:{path}",
                LogError(f"{path} is not a checkpoint signed by an issuer of these runs", code=ErrorCode.LOG_CHECKPOINT_INVALID),
            )
        else:
            checks.ok(f"checkpoint:{path}", f"signed by {signer[0]}: tree size {signer[1].tree_size}")


def _witness_checks(
    manifest: Manifest,
    members: Mapping[str, bytes],
    roles: Mapping[str, str],
    witnesses: Sequence[Witness],
    quorum: int,
    checks: _Checks,
) -> None:
    """K-of-N witness cosignatures on every checkpoint the bundle shows (c2sp.org/tlog-cosignature)."""
    notes: dict[str, str] = {}
    for path in manifest.checkpoints:
        notes[path] = members[path].decode("utf-8", errors="replace")
    for path, role in roles.items():
        if role.startswith("receipt:"):
            try:
                notes[path] = str(json.loads(members[path])["checkpoint"])
            except (ValueError, KeyError, TypeError):
                continue  # an unreadable receipt already fails log-inclusion
    for path, note in notes.items():
        try:
            cosigned = verify_cosignatures(note, witnesses, quorum)
        except RunIdError as exc:
            checks.fail(f"witnesses:{path}", exc)
        else:
            checks.ok(f"witnesses:{path}", f"cosigned by {', '.join(c.witness.name for c in cosigned)} ({quorum} required)")


def _log_inclusion(
    run: RunEntryManifest,
    members: Mapping[str, bytes],
    secured: Mapping[str, SecuredWire],
    resolver: DidResolver,
    roles: Mapping[str, str],
) -> tuple[LogInclusion, CheckResult | None]:
    """Log inclusion per credential of the run. A run is ``verified`` only when each of its
    credentials is proven: a receipt for the declaration says nothing about the binding."""
    if not run.receipts:
        return LogInclusion(state="not logged"), None
    states: dict[str, CredentialLogState] = {kind: "not logged" for kind in ("declaration", "binding") if kind in secured}
    entries: list[str] = []
    failure: str | None = None
    for path in run.receipts:
        kind = roles[path].removeprefix("receipt:")
        try:
            credential = secured.get(kind)
            if credential is None:
                raise LogError(f"{path}: there is no {kind} credential to prove", code=ErrorCode.LOG_INCLUSION_INVALID)
            entries.append(f"{kind}: " + _check_receipt(path, members[path], credential, resolver))
            states[kind] = "verified"
        except RunIdError as exc:
            message = exc.message if exc.code is ErrorCode.LOG_INCLUSION_INVALID else f"{kind} receipt {path}: {exc.message}"
            entries.append(f"{kind}: {message}")
            states[kind] = "invalid"
            failure = failure or message
    missing = [kind for kind, state in states.items() if state == "not logged"]
    entries.extend(f"{kind}: no receipt" for kind in missing)
    if failure is not None:
        state: Literal["verified", "partial", "invalid"] = "invalid"
    elif missing:
        state = "partial"
        failure = (
            f"the run's {' and '.join(kind for kind in states if kind not in missing)} is proven in the log but its "
            f"{' and '.join(missing)} is not: the issuer logs every credential it signs, so a credential it "
            "never logged did not come from its run endpoints"
        )
    else:
        state = "verified"
    inclusion = LogInclusion(state=state, credentials=states, entries=entries)
    if failure is not None:
        return inclusion, CheckResult(name="log-inclusion", passed=False, code=ErrorCode.LOG_INCLUSION_INVALID.value, message=failure)
    return inclusion, CheckResult(name="log-inclusion", passed=True, message="; ".join(entries))


def _check_receipt(path: str, data: bytes, credential: SecuredWire, resolver: DidResolver) -> str:
    try:
        receipt = Receipt.model_validate(_strict_json(data, path, ErrorCode.LOG_INCLUSION_INVALID))
        proof = [_b64(h) for h in receipt.inclusionProof]
    except (ValidationError, ValueError) as exc:
        raise LogError(f"{path} is not a log receipt: {exc}", code=ErrorCode.LOG_INCLUSION_INVALID) from exc
    issuer = _issuer_of(credential)
    if issuer is None:
        raise LogError(f"{path}: the credential names no issuer", code=ErrorCode.LOG_INCLUSION_INVALID)
    checkpoint = _verify_checkpoint(receipt.checkpoint, issuer, resolver)
    if checkpoint.tree_size != receipt.treeSize:
        raise LogError(
            f"{path}: the receipt says tree size {receipt.treeSize}, its checkpoint {checkpoint.tree_size}",
            code=ErrorCode.LOG_INCLUSION_INVALID,
        )
    # The leaf is the RFC 8785 JSON of the credential as issued (vc_runid/server/log.py).
    leaf = leaf_hash(log_leaf_data(credential))
    if receipt.leafIndex >= receipt.treeSize or not verify_inclusion(
        leaf, receipt.leafIndex, receipt.treeSize, proof, checkpoint.root_hash
    ):
        raise LogError(
            f"{path}: the inclusion proof does not lead from this credential to the signed root",
            code=ErrorCode.LOG_INCLUSION_INVALID,
        )
    return f"leaf {receipt.leafIndex} of {receipt.treeSize}, checkpoint signed by {issuer}"


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"inclusion proof hash {text[:16]!r} is not base64") from exc


# --- status (Bitstring Status List) ---------------------------------------------------------

StatusChecker = Callable[..., Any]


def _status_checker() -> StatusChecker | None:
    """Extension point: ``vc_runid.vc.status.bitstring.check_status`` when that module is installed.

    Without it, a credential that carries a ``credentialStatus`` cannot be checked, and its run
    gets a *failed* ``status`` check (never a silent pass)."""
    try:
        from ..vc.status import bitstring as status
    except ImportError:
        return None
    checker = getattr(status, "check_status", None)
    return checker if callable(checker) else None


def _status(
    documents: Mapping[str, dict[str, Any]],
    status_lists: Mapping[str, SecuredWire],
    verifier: Verifier,
) -> tuple[StatusInfo, list[CheckResult]]:
    subject = {kind: doc for kind, doc in documents.items() if "credentialStatus" in doc}
    if not subject:
        return StatusInfo(state="not applicable", message="no credential carries a credentialStatus"), []
    checker = _status_checker()
    checks: list[CheckResult] = []
    states: list[str] = []
    as_of: list[str] = []
    messages: list[str] = []
    for kind, document in subject.items():
        name = f"status.{kind}"
        if checker is None:
            message = "revocation status cannot be checked: this installation has no vc_runid.vc.status.bitstring"
            checks.append(CheckResult(name=name, passed=False, code=ErrorCode.STATUS_LIST_MISSING.value, message=message))
            states.append("unknown")
            messages.append(f"{kind}: {message}")
            continue
        if not status_lists:
            message = "the credential has a credentialStatus but the bundle has no status list snapshot"
            checks.append(CheckResult(name=name, passed=False, code=ErrorCode.STATUS_LIST_MISSING.value, message=message))
            states.append("unknown")
            messages.append(f"{kind}: {message}")
            continue
        try:
            result = checker(document, status_lists, verifier=verifier)
        except RunIdError as exc:
            checks.append(CheckResult(name=name, passed=False, code=exc.code.value, message=exc.message))
            state = {
                ErrorCode.CREDENTIAL_REVOKED: "revoked",
                ErrorCode.CREDENTIAL_SUSPENDED: "suspended",
                ErrorCode.STATUS_LIST_MISSING: "unknown",
            }.get(exc.code, "invalid")
            states.append(state)
            moment = exc.detail.get("as_of") or exc.detail.get("asOf")
            if isinstance(moment, str):
                as_of.append(moment)
            messages.append(f"{kind}: {exc.message}")
            continue
        state, moment, message = _read_status_result(result)
        if state in ("revoked", "suspended"):
            code = ErrorCode.CREDENTIAL_REVOKED if state == "revoked" else ErrorCode.CREDENTIAL_SUSPENDED
            checks.append(CheckResult(name=name, passed=False, code=code.value, message=message))
        else:
            checks.append(CheckResult(name=name, passed=True, message=message))
        states.append(state)
        if moment:
            as_of.append(moment)
        messages.append(f"{kind}: {message}")
    order = ["invalid", "revoked", "suspended", "unknown", "active"]
    worst = min(states, key=order.index)
    return (
        StatusInfo(state=worst, as_of=min(as_of) if as_of else None, message="; ".join(messages)),  # type: ignore[arg-type]
        checks,
    )


def _read_status_result(result: Any) -> tuple[str, str | None, str]:
    """(state, as-of, message) of a ``vc_runid.vc.status.bitstring.StatusResult``."""
    state = "revoked" if result.revoked else "suspended" if result.suspended else "active"
    describe = getattr(result, "describe", None)
    message = describe() if callable(describe) else f"{state} as of {result.as_of}"
    return state, result.as_of, message


# --- one run ---------------------------------------------------------------------------------


def _verify_run_entry(
    run: RunEntryManifest,
    members: Mapping[str, bytes],
    roles: Mapping[str, str],
    verifier: Verifier,
    status_lists: Mapping[str, SecuredWire],
) -> RunEntry:
    declaration = members[run.declaration]
    binding = members[run.binding] if run.binding else None
    output = members[run.output] if run.output else None
    pre_checks: list[CheckResult] = []
    disclosures: list[tuple[Disclosure, bytes]] = []
    if run.disclosures:
        try:
            disclosures = parse_disclosures(members[run.disclosures], run.disclosures)
        except RunIdError as exc:
            pre_checks.append(CheckResult(name="disclosures", passed=False, code=exc.code.value, message=exc.message))
    report = verify_run(
        declaration, binding, verifier=verifier, output=output, disclosures=disclosures,
        receipts=_receipts_for("declaration", run, members, roles),
    )
    report.checks[:0] = pre_checks
    if report.run_id is not None and report.run_id != run.runId:
        report.checks.append(CheckResult(
            name="bundle.run-id", passed=False, code=ErrorCode.BUNDLE_INVALID.value,
            message=f"the manifest lists run {run.runId}, but its declaration is for {report.run_id}",
        ))

    secured: dict[str, SecuredWire] = {}
    for kind, path in (("declaration", run.declaration), ("binding", run.binding)):
        value = _secured_member(members, path)
        if value is not None:
            secured[kind] = value
    inclusion, inclusion_check = _log_inclusion(run, members, secured, verifier.resolver, roles)
    if inclusion_check is not None:
        report.checks.append(inclusion_check)

    documents: dict[str, dict[str, Any]] = {}
    if report.document is not None:
        documents["declaration"] = report.document
    parsed_binding = _parsed(secured["binding"]) if "binding" in secured else None
    binding_doc = parsed_binding.unverified_document if parsed_binding is not None else None
    if binding_doc is not None and report.passed("binding.run"):
        documents["binding"] = binding_doc
    status, status_checks = _status(documents, status_lists, verifier)
    report.checks.extend(status_checks)
    if status_checks:
        report.warnings = [w for w in report.warnings if "revocation status is unknown" not in w]

    disclosed = [
        DisclosedComponent(path=c.name.removeprefix("disclosure."), matched=c.passed, message=c.message)
        for c in report.checks
        if c.name.startswith("disclosure.")
    ]
    return RunEntry(
        run_id=report.run_id or run.runId,
        verdict=verdict_of(report),
        issuer=report.issuer,
        timeline=_timeline(report.document, binding_doc),
        composition=_composition(report.document),
        disclosures=disclosed,
        output_checked=any(c.name == "output" and c.passed for c in report.checks),
        log_inclusion=inclusion,
        status=status,
        report=report,
    )


def _receipts_for(kind: str, run: RunEntryManifest, members: Mapping[str, bytes], roles: Mapping[str, str]) -> list[Receipt]:
    """The run's receipts for its ``kind`` credential that parse (a malformed one is reported by
    the log-inclusion check; here it only cannot count toward the policy)."""
    receipts = []
    for path in run.receipts:
        if roles.get(path) == f"receipt:{kind}":
            try:
                receipts.append(Receipt.model_validate_json(members[path]))
            except ValidationError:
                continue
    return receipts


def _timeline(declaration: dict[str, Any] | None, binding: dict[str, Any] | None) -> Timeline:
    def moment(action: Callable[[], datetime]) -> str | None:
        try:
            return format_datetime(action())
        except (RunIdError, ValueError, TypeError, AttributeError):
            return None

    subject = binding.get("credentialSubject") if isinstance(binding, dict) else None
    subject = subject if isinstance(subject, dict) else {}
    return Timeline(
        declared=moment(lambda: issued_at(declaration)) if declaration is not None else None,
        started=moment(lambda: parse_datetime(subject.get("startedAt"), "startedAt")) if subject else None,
        completed=moment(lambda: parse_datetime(subject.get("completedAt"), "completedAt")) if subject else None,
        bound=moment(lambda: issued_at(binding)) if binding is not None else None,
    )


def _composition(declaration: dict[str, Any] | None) -> CompositionSummary | None:
    if declaration is None:
        return None
    try:
        _, composition = declaration_subject(declaration)
    except RunIdError:
        return None
    return CompositionSummary(
        model_id=composition.model.modelId,
        provider=composition.model.provider,
        revision=composition.model.revision,
        instructions=len(composition.instructions),
        documents=len(composition.retrievalContext.documents) if composition.retrievalContext else 0,
        tools=len(composition.tools),
        has_input=composition.input is not None,
    )


__all__ = [
    "DEFAULT_LIMITS",
    "FORMAT",
    "MAX_BUNDLE_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_TOTAL_BYTES",
    "VERSION",
    "BundleLimits",
    "BundleReport",
    "RunEntry",
    "create_bundle",
    "unsafe_path_reason",
    "verify_bundle",
]
