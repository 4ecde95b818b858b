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
* ``unbound``: declared runs still unbound after the grace period are listed — a run that was
  declared, executed, and whose output was never bound (or was withheld) shows up here.

A pure function of its inputs: the caller fetches entries and passes the clock.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from ..binding import binding_subject
from ..declaration import declaration_subject, issued_at, secured_digest
from ..digests import digests_equal
from ..errors import RunIdError
from ..jose import credential_from_jwt, parse_jwt
from ..transparency import MerkleTree, leaf_hash, verify_signed_checkpoint
from ..verification import CheckResult
from .log import log_leaf_data


@dataclass(frozen=True)
class AuditEntry:
    index: int
    kind: str
    entry: Any  # the secured credential as logged (dict, or a compact JWS string)
    leaf_hash: bytes | None = None  # as the log claims it; recomputed and compared when given


class UnboundRun(BaseModel):
    runId: str
    declarationIndex: int
    declaredAt: str


class AuditReport(BaseModel):
    treeSize: int
    rootHash: str
    declarations: int
    bindings: int
    revocations: int = 0
    checks: list[CheckResult]
    unbound: list[UnboundRun]

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


def _document(secured: Any) -> dict[str, Any]:
    if isinstance(secured, str):
        return credential_from_jwt(parse_jwt(secured))[0]
    if not isinstance(secured, dict):
        raise TypeError("not a credential")
    return secured


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
    problems: dict[str, list[str]] = {"leaves": [], "bindings": [], "unique": [], "order": [], "revocations": []}
    declared: dict[str, tuple[int, Any, dict[str, Any]]] = {}  # credential id -> (index, secured, doc)
    runs: dict[str, tuple[int, datetime]] = {}  # run id -> (declaration index, declared at)
    bound: set[str] = set()
    status_of: dict[str, str | None] = {}  # credential id -> the statusListIndex it carries
    revoked: set[str] = set()
    n_decl = n_bind = n_rev = 0
    for item in entries:
        if item.index != tree.size:
            problems["order"].append(f"entry {item.index} where {tree.size} was expected")
        computed = leaf_hash(log_leaf_data(item.entry))
        if item.leaf_hash is not None and item.leaf_hash != computed:
            problems["leaves"].append(f"entry {item.index}: leaf hash does not match its content")
        tree.append(computed)
        try:
            if item.kind == "declaration":
                n_decl += 1
                doc = _document(item.entry)
                run_id, _ = declaration_subject(doc)
                if run_id in runs:
                    problems["unique"].append(f"run {run_id} declared again at {item.index}")
                    continue
                declared[str(doc.get("id"))] = (item.index, item.entry, doc)
                status_of[str(doc.get("id"))] = _status_index(doc)
                runs[run_id] = (item.index, issued_at(doc))
            elif item.kind == "binding":
                n_bind += 1
                doc = _document(item.entry)
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
        except (RunIdError, ValueError, TypeError, KeyError) as exc:
            problems["bindings" if item.kind == "binding" else "unique"].append(
                f"entry {item.index}: unreadable {item.kind}: {exc}"
            )
    checks = [
        _result("leaves", problems["leaves"] + problems["order"], f"{tree.size} leaves hash to their content"),
        _result("bindings", problems["bindings"], f"{n_bind} bindings each follow their declaration"),
        _result("unique", problems["unique"], "no run declared or bound twice"),
        _result("revocations", problems["revocations"], f"{n_rev} revocations each name a credential logged before them"),
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
        checks=checks,
        unbound=unbound,
    )


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
        yield AuditEntry(index=r.index, kind=r.kind, entry=json.loads(r.entry), leaf_hash=r.leaf_hash)


__all__ = ["AuditEntry", "AuditReport", "UnboundRun", "audit_entries", "entries_from_rows"]
