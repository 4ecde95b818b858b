"""Auditing a run log: is it what its checkpoint says, and does it hide anything?

Given every entry of a log (from the service's ``GET /log/entries`` or straight from its
database) an auditor checks, without trusting the service:

* ``leaves``: each entry's leaf hash is the hash of its content (RFC 9162 §2.1.1);
* ``checkpoint``: the tree of all entries has the root the signed checkpoint commits to;
* ``bindings``: every binding names a declaration that was logged *before* it, by id and by the
  digest of the secured declaration (a binding without a prior declaration means the run was
  declared after the fact, or not at all);
* ``unique``: no run is declared twice and no run bound twice;
* ``revocations``: every revocation names a credential logged before it, by id and by the status
  list index that credential carries, and no credential is revoked twice — so the revocation
  list can be rebuilt from the log alone;
* ``signers``: what the run issuer (the log's origin DID) signed is only ever a declaration, a
  binding or a status list, and what the generic issuer signed (kind ``credential``, from
  ``POST /credentials/issue``) is never signed by the run issuer — so a credential the service
  "signed" with its run key outside its run endpoints shows up here, as does one back-dated
  (a ``validFrom`` well before the entry was logged);
* ``status-lists``: every status list the service published (kind ``status-list``) has the bit
  of every revocation logged before it set — a list that hides a revocation shows up here;
* ``unbound``: declared runs still unbound after the grace period are listed — a run that was
  declared, executed, and whose output was never bound (or was withheld) shows up here.

A pure function of its inputs: the caller fetches entries and passes the clock.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from .._internal.timeutil import parse_datetime
from ..errors import RunIdError
from ..runs.binding import binding_subject
from ..runs.declaration import declaration_subject, issued_at, log_leaf_data, secured_digest
from ..runs.digests import digests_equal
from ..transparency import MerkleTree, leaf_hash, verify_signed_checkpoint
from ..vc.secured import SecuredCredential
from ..vc.status.bitstring import bit_at, decode_bitstring
from ..vc.verification import CheckResult, Report


@dataclass(frozen=True)
class AuditEntry:
    """One entry of a service's log, as the auditor reads it."""

    index: int
    kind: str
    entry: Any  # the secured credential as logged (dict, or a compact JWS string)
    leaf_hash: bytes | None = None  # as the log claims it; recomputed and compared when given
    logged_at: str | None = None  # when the log says it was appended (``signers``: back-dating)


class UnboundRun(BaseModel):
    runId: str
    declarationIndex: int
    declaredAt: str


class AuditReport(Report):
    """The audit of a service's log: what it holds, and every check by name."""

    treeSize: int
    rootHash: str
    declarations: int
    bindings: int
    revocations: int = 0
    credentials: int = 0
    statusLists: int = 0
    checks: list[CheckResult]
    unbound: list[UnboundRun]

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


def audit_entries(
    entries: Iterable[AuditEntry],
    *,
    now: datetime,
    grace: timedelta,
    checkpoint: str | None = None,
    key_name: str | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> AuditReport:
    """Audit a whole log (entries in index order, starting at 0)."""
    tree = MerkleTree()
    problems: dict[str, list[str]] = {
        "leaves": [], "bindings": [], "unique": [], "order": [], "revocations": [], "signers": [], "status-lists": []
    }
    signers = _Signers(key_name, problems["signers"], set(), [])
    revoked_bits: list[tuple[str, int]] = []  # (status list URL, index) of each revocation so far
    declared: dict[str, tuple[int, Any, dict[str, Any]]] = {}  # credential id -> (index, secured, doc)
    runs: dict[str, tuple[int, datetime]] = {}  # run id -> (declaration index, declared at)
    bound: set[str] = set()
    status_of: dict[str, str | None] = {}  # credential id -> the statusListIndex it carries
    revoked: set[str] = set()
    n_decl = n_bind = n_rev = n_cred = n_list = 0
    for item in entries:
        if item.index != tree.size:
            problems["order"].append(f"entry {item.index} where {tree.size} was expected")
        computed = leaf_hash(log_leaf_data(item.entry))
        if item.leaf_hash is not None and item.leaf_hash != computed:
            problems["leaves"].append(f"entry {item.index}: leaf hash does not match its content")
        tree.append(computed)
        try:
            _check_signer(item, signers)
        except (RunIdError, ValueError, TypeError, KeyError) as exc:
            problems["signers"].append(f"entry {item.index}: unreadable {item.kind}: {exc}")
        try:
            if item.kind == "credential":
                n_cred += 1
            elif item.kind == "status-list":
                n_list += 1
                problems["status-lists"].extend(_hidden_revocations(item, revoked_bits))
            if item.kind == "declaration":
                n_decl += 1
                doc = SecuredCredential.parse(item.entry).unverified_document
                run_id, _ = declaration_subject(doc)
                if run_id in runs:
                    problems["unique"].append(f"run {run_id} declared again at {item.index}")
                    continue
                declared[str(doc.get("id"))] = (item.index, item.entry, doc)
                status_of[str(doc.get("id"))] = _status_index(doc)
                runs[run_id] = (item.index, issued_at(doc))
            elif item.kind == "binding":
                n_bind += 1
                doc = SecuredCredential.parse(item.entry).unverified_document
                run_id, _, related = binding_subject(doc)
                status_of[str(doc.get("id"))] = _status_index(doc)
                prior = declared.get(str(related.get("id")))
                if prior is None:
                    problems["bindings"].append(
                        f"entry {item.index}: binding for run {run_id} has no declaration logged before it"
                    )
                    continue
                claimed = related.get("digestMultibase")
                if not isinstance(claimed, str) or not digests_equal(claimed, secured_digest(prior[1])):
                    problems["bindings"].append(
                        f"entry {item.index}: binding names declaration {related.get('id')} but not its digest"
                    )
                if declaration_subject(prior[2])[0] != run_id:
                    problems["bindings"].append(f"entry {item.index}: binding run id differs from its declaration's")
                if run_id in bound:
                    problems["unique"].append(f"run {run_id} bound again at {item.index}")
                bound.add(run_id)
            elif item.kind == "revocation":
                n_rev += 1
                record = item.entry if isinstance(item.entry, dict) else {}
                target = str(record.get("credentialId"))
                if target not in status_of:
                    problems["revocations"].append(
                        f"entry {item.index}: revokes {target}, which is not a credential logged before it"
                    )
                elif status_of[target] is None or status_of[target] != record.get("statusListIndex"):
                    problems["revocations"].append(
                        f"entry {item.index}: revokes status list index {record.get('statusListIndex')!r} but "
                        f"{target} carries {status_of[target]!r}"
                    )
                if target in revoked:
                    problems["revocations"].append(f"entry {item.index}: {target} revoked again")
                revoked.add(target)
                if isinstance(record.get("statusListIndex"), str) and record["statusListIndex"].isdigit():
                    revoked_bits.append((str(record.get("statusListCredential")), int(record["statusListIndex"])))
        except (RunIdError, ValueError, TypeError, KeyError) as exc:
            problems["bindings" if item.kind == "binding" else "unique"].append(
                f"entry {item.index}: unreadable {item.kind}: {exc}"
            )
    checks = [
        _result("leaves", problems["leaves"] + problems["order"], f"{tree.size} leaves hash to their content"),
        _result("bindings", problems["bindings"], f"{n_bind} bindings each follow their declaration"),
        _result("unique", problems["unique"], "no run declared or bound twice"),
        _result("revocations", problems["revocations"], f"{n_rev} revocations each name a credential logged before them"),
        _result("signers", signers.finish(),
                f"the run issuer signed only runs and status lists; {n_cred} generic credentials signed by another key"),
        _result("status-lists", problems["status-lists"],
                f"{n_list} published status lists each carry every revocation logged before them"),
    ]
    if checkpoint is not None:
        checks.append(_checkpoint_check(tree, checkpoint, key_name, public_key))
    unbound = [
        UnboundRun(runId=run_id, declarationIndex=index, declaredAt=at.isoformat())
        for run_id, (index, at) in runs.items()
        if run_id not in bound and at + grace < now
    ]
    return AuditReport(
        treeSize=tree.size,
        rootHash=base64.b64encode(tree.root()).decode(),
        declarations=n_decl,
        bindings=n_bind,
        revocations=n_rev,
        credentials=n_cred,
        statusLists=n_list,
        checks=checks,
        unbound=unbound,
    )


#: Kinds the run issuer signs; ``revocation`` entries are records, vouched for by the checkpoint.
_RUN_ISSUER_KINDS = ("declaration", "binding", "status-list")
#: How much earlier than its log entry a requested credential's signing time may be: the service
#: stamps it with the clock reading it logs the entry under, so anything more is back-dating.
BACKDATING_TOLERANCE = timedelta(minutes=5)


def _signers(entry: Any) -> tuple[dict[str, Any], set[str]]:
    """(the credential document, the DIDs it is issued or signed by: issuer, proof methods, kid)."""
    secured = SecuredCredential.parse(entry)
    doc = secured.unverified_document
    # The proofs' methods, or the JWS kid: the key that signed, whoever the document names.
    dids = {method.split("#", 1)[0] for method in secured.verification_methods}
    issuer = doc.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    if isinstance(issuer, str):
        dids.add(issuer)
    return doc, dids


@dataclass
class _Signers:
    """What the ``signers`` check has seen so far."""

    origin: str | None  # the run issuer: the log's origin DID
    problems: list[str]
    run_lists: set[str]  # status list URLs run credentials point to
    other_lists: list[tuple[int, str, list[str]]]  # (index, id, signers) of lists not signed by the run issuer

    def finish(self) -> list[str]:
        for index, list_id, dids in self.other_lists:
            if list_id in self.run_lists:
                self.problems.append(f"entry {index}: the run credentials' status list {list_id} signed by {dids}, "
                                     f"not by the run issuer {self.origin}")
        return self.problems


def _check_signer(item: AuditEntry, seen: _Signers) -> None:
    """Record what the run issuer signed besides runs and status lists, run credentials signed by
    another key, and requested credentials issued back-dated. Without a checkpoint key, the origin
    is the issuer of the first run credential."""
    if item.kind == "revocation":
        return  # a record, vouched for by the checkpoint; the ``revocations`` check reads it
    if item.kind not in (*_RUN_ISSUER_KINDS, "credential"):
        seen.problems.append(f"entry {item.index}: unknown kind {item.kind!r}")
        return
    doc, dids = _signers(item.entry)
    if item.kind in ("declaration", "binding"):
        if seen.origin is None and len(dids) == 1:
            seen.origin = next(iter(dids))
        if dids != {seen.origin}:
            seen.problems.append(f"entry {item.index}: a {item.kind} signed by {sorted(dids)}, not by the run issuer {seen.origin}")
        statuses = doc.get("credentialStatus")
        for status in statuses if isinstance(statuses, list) else [statuses]:
            if isinstance(status, dict) and isinstance(status.get("statusListCredential"), str):
                seen.run_lists.add(status["statusListCredential"])
        return
    if item.kind == "status-list":
        # The run issuer's list, or the generic issuer's (for requested credentials that carry a
        # status): the latter must not be the list run credentials point to (checked at the end).
        if seen.origin is not None and seen.origin in dids:
            if dids != {seen.origin}:
                seen.problems.append(f"entry {item.index}: a status list signed by {sorted(dids)}")
        else:
            seen.other_lists.append((item.index, str(doc.get("id")), sorted(dids)))
        return
    if seen.origin is not None and seen.origin in dids:
        seen.problems.append(
            f"entry {item.index}: a requested credential signed by the run issuer {seen.origin}; only the generic "
            "issuer signs those"
        )
    stated = _signing_time(doc)
    if item.logged_at is not None and isinstance(stated, str):
        try:
            early = parse_datetime(item.logged_at, "loggedAt") - parse_datetime(stated, "signing time")
        except RunIdError:
            seen.problems.append(f"entry {item.index}: unreadable signing time {stated!r}")
        else:
            if early > BACKDATING_TOLERANCE:
                seen.problems.append(f"entry {item.index}: a credential signed at {stated}, logged {early} later (back-dated)")


def _signing_time(doc: Mapping[str, Any]) -> Any:
    """When the service says it signed a requested credential: its proof's ``created``, or a VC
    1.1 ``issuanceDate``. A VC 2.0 ``validFrom`` is a validity claim, not a signing time."""
    proofs = doc.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, Mapping) and "created" in proof:
            return proof["created"]
    return doc.get("issuanceDate")


def _hidden_revocations(item: AuditEntry, revoked: list[tuple[str, int]]) -> list[str]:
    """Revocations logged before this status list that it does not show."""
    doc = SecuredCredential.parse(item.entry).unverified_document
    subject = doc.get("credentialSubject")
    encoded = subject.get("encodedList") if isinstance(subject, dict) else None
    if not isinstance(encoded, str):
        return [f"entry {item.index}: a status list without an encodedList"]
    bits = decode_bitstring(encoded)
    missing = [index for url, index in revoked if url == doc.get("id") and not (index < len(bits) * 8 and bit_at(bits, index))]
    if missing:
        return [f"entry {item.index}: status list {doc.get('id')} shows index(es) {missing[:5]} active, revoked earlier in the log"]
    return []


def _status_index(doc: dict[str, Any]) -> str | None:
    """The ``statusListIndex`` of a credential's (first) ``BitstringStatusListEntry``, if any."""
    status = doc.get("credentialStatus")
    entries = status if isinstance(status, list) else [status]
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("statusListIndex"), str):
            return str(entry["statusListIndex"])
    return None


def _result(name: str, problems: list[str], ok: str) -> CheckResult:
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return CheckResult(name=name, passed=False, code=_CODES[name], message="; ".join(problems[:3]) + more)
    return CheckResult(name=name, passed=True, message=ok)


_CODES = {
    "leaves": "RUNID_LOG_INCLUSION_INVALID",
    "bindings": "RUNID_BINDING_WITHOUT_DECLARATION",
    "unique": "RUNID_RUN_EXISTS",
    "revocations": "RUNID_STATUS_LIST_INVALID",
    "signers": "RUNID_ISSUANCE_REFUSED",
    "status-lists": "RUNID_STATUS_LIST_INVALID",
    "checkpoint": "RUNID_LOG_CHECKPOINT_INVALID",
}


def _checkpoint_check(
    tree: MerkleTree, note: str, key_name: str | None, public_key: Ed25519PublicKey | None
) -> CheckResult:
    if key_name is None or public_key is None:
        return CheckResult(name="checkpoint", passed=False, code=_CODES["checkpoint"], message="no key to verify it with")
    try:
        cp = verify_signed_checkpoint(note, key_name, public_key)
    except RunIdError as exc:
        return CheckResult(name="checkpoint", passed=False, code=exc.code.value, message=exc.message)
    if cp.tree_size > tree.size:
        return CheckResult(name="checkpoint", passed=False, code=_CODES["checkpoint"],
                           message=f"the checkpoint covers {cp.tree_size} entries, only {tree.size} were supplied")
    if tree.root(cp.tree_size) != cp.root_hash:
        return CheckResult(name="checkpoint", passed=False, code=_CODES["checkpoint"],
                           message=f"the entries do not hash to the checkpoint's root at size {cp.tree_size}")
    return CheckResult(name="checkpoint", passed=True, message=f"entries match the signed checkpoint at size {cp.tree_size}")


def entries_from_rows(rows: Iterable[Any]) -> Iterable[AuditEntry]:
    """Audit entries from storage rows (``LogRow``)."""
    for r in rows:
        yield AuditEntry(index=r.index, kind=r.kind, entry=json.loads(r.entry), leaf_hash=r.leaf_hash, logged_at=r.logged_at)


__all__ = ["AuditEntry", "AuditReport", "UnboundRun", "audit_entries", "entries_from_rows"]
