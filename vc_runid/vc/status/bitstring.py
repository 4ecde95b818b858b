"""Revocation and suspension with the W3C Bitstring Status List v1.0.

The issuer gives each credential an index into a bitstring and puts a ``BitstringStatusListEntry``
pointing at it in ``credentialStatus``; revoking sets that bit, and the issuer publishes the
bitstring as a signed ``BitstringStatusListCredential``. A verifier checks the bit in a status list
credential it was *given* (an audit bundle's snapshot, or one the caller fetched on purpose):
nothing here touches the network, and the result says as of when the status is known::

    registry = StatusRegistry(home)
    credential_id, entry = registry.assign("https://issuer.example/status/1")
    # ... issue the credential with "id": credential_id and "credentialStatus": entry ...
    registry.revoke(credential_id, "key compromise", at=utc_now())
    status_list = registry.status_list_credential(issuer, "https://issuer.example/status/1", now)
    result = check_status(credential, {"https://issuer.example/status/1": status_list}, verifier=v)

The bitstring codec and ``check_status`` are pure; ``StatusRegistry`` is the SQLite adapter.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from ..._internal.contexts import VC_V2
from ..._internal.multiformats import b64url_decode, b64url_encode
from ..._internal.timeutil import format_datetime, parse_datetime
from ...errors import ErrorCode, RunIdError, StatusError, UsageError
from ..credentials import Issuer, issue_credential
from ..documents import SecuredWire, declared_types, issuer_id, read_document_file
from ..formats import ProofFormat
from ..keys import KeyType
from ..secured import SecuredCredential

if TYPE_CHECKING:
    from ..verification import Verifier

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
REVOCATION = "revocation"
SUSPENSION = "suspension"
#: The purposes whose set bit this module knows how to read (§2.1: a set bit revokes or suspends).
PURPOSES = (REVOCATION, SUSPENSION)

#: §2.1: "the uncompressed bitstring MUST be at least 16KB in size" (131,072 entries), so that
#: one credential's index hides among many (herd privacy, §5.2).
MIN_BITS = 131_072
MIN_BYTES = MIN_BITS // 8
#: Largest decompressed bitstring accepted (a gzip bomb is refused, not inflated): 16 MiB, i.e.
#: 134,217,728 entries — a thousand times the minimum list.
MAX_BYTES = 16 * 1024 * 1024
#: Longest ``statusListIndex`` string read (enough for any index below MAX_BYTES * 8).
_INDEX_RE = re.compile(r"^[0-9]{1,12}$")
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def _invalid(message: str) -> RunIdError:
    return StatusError(message, code=ErrorCode.STATUS_LIST_INVALID)


# --- the bitstring (§3.1 Bitstring Encoding) ----------------------------------------------------


def encode_bitstring(bits: bytearray | bytes) -> str:
    """``encodedList``: the GZIP-compressed bitstring as multibase base64url (prefix ``u``)."""
    if len(bits) < MIN_BYTES:
        raise UsageError(f"a status list bitstring must be at least {MIN_BYTES} bytes, got {len(bits)}")
    if len(bits) > MAX_BYTES:
        raise UsageError(f"a status list bitstring is limited to {MAX_BYTES} bytes, got {len(bits)}")
    # mtime=0: the same bitstring always encodes to the same string.
    return "u" + b64url_encode(gzip.compress(bytes(bits), mtime=0))


def decode_bitstring(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``, or ``RUNID_STATUS_LIST_INVALID`` saying why not."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise _invalid("encodedList must be a multibase base64url string (prefix 'u')")
    # Checked first: Python's base64 decoder silently skips characters outside the alphabet.
    if not _B64URL_RE.match(encoded[1:]):
        raise _invalid("encodedList is not base64url (unpadded, URL-safe alphabet)")
    try:
        compressed = b64url_decode(encoded[1:])
    except ValueError as exc:  # binascii.Error is a ValueError
        raise _invalid(f"encodedList is not base64url: {exc}") from exc
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # GZIP framing only
    try:
        # Bounded: at most MAX_BYTES + 1 bytes are ever produced, whatever the input claims.
        bits = inflater.decompress(compressed, MAX_BYTES + 1)
    except zlib.error as exc:
        raise _invalid(f"encodedList is not GZIP-compressed: {exc}") from exc
    if len(bits) > MAX_BYTES:
        raise _invalid(f"encodedList decompresses to more than {MAX_BYTES} bytes (refused)")
    if not inflater.eof:
        raise _invalid("encodedList is a truncated GZIP stream")
    if inflater.unused_data:
        raise _invalid("encodedList has data after the end of its GZIP stream")
    if len(bits) < MIN_BYTES:
        # §3.2 step 9: STATUS_LIST_LENGTH_ERROR.
        raise _invalid(f"the status list holds {len(bits) * 8} entries; at least {MIN_BITS} are required")
    return bits


def bit_at(bitstring: bytes | bytearray, index: int) -> bool:
    """§3.1: index 0 is the left-most (most significant) bit of the first byte."""
    if not 0 <= index < len(bitstring) * 8:
        # §3.2 step 10: RANGE_ERROR.
        raise _invalid(f"status list index {index} is outside the list ({len(bitstring) * 8} entries)")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def _set_bit(bitstring: bytearray, index: int) -> None:
    bitstring[index // 8] |= 0x80 >> (index % 8)


# --- documents (§2.1 BitstringStatusListEntry, §2.2 BitstringStatusListCredential) --------------


def check_list_url(list_url: str) -> None:
    parts = urlsplit(list_url)
    if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment or " " in list_url:
        # The entry's id is "<list_url>#<index>", so the list URL itself cannot carry a fragment.
        raise UsageError(f"a status list URL must be an absolute URL without a fragment, got {list_url!r}")


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise UsageError(f"statusPurpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")


def status_entry(list_url: str, index: int, purpose: str = REVOCATION) -> dict[str, Any]:
    """The ``credentialStatus`` entry for bit ``index`` of the list published at ``list_url``."""
    check_list_url(list_url)
    _check_purpose(purpose)
    if not 0 <= index < MAX_BYTES * 8:
        raise UsageError(f"status list index {index} is out of range")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        # §2.1: "statusListIndex ... MUST be an integer, expressed as a string".
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def build_status_list_credential(
    *,
    issuer_did: str,
    list_url: str,
    bitstring: bytes | bytearray,
    valid_from: datetime,
    valid_until: datetime,
    purpose: str = REVOCATION,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` (VC 2.0) publishing ``bitstring``."""
    check_list_url(list_url)
    _check_purpose(purpose)
    if valid_until <= valid_from:
        raise UsageError("a status list credential's validUntil must be after its validFrom")
    return {
        "@context": [VC_V2],  # VC 2.0 defines every status list term; no extra context needed
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer_did,
        "validFrom": format_datetime(valid_from),
        "validUntil": format_datetime(valid_until),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": LIST_TYPE,
            "statusPurpose": purpose,
            "encodedList": encode_bitstring(bitstring),
        },
    }


def _proof_format(issuer: Issuer) -> ProofFormat:
    # eddsa-rdfc-2022 for an Ed25519 issuer; a P-256 issuer can only sign ecdsa-rdfc-2019.
    return ProofFormat.DI if issuer.key.public.key_type is KeyType.ED25519 else ProofFormat.ECDSA


def issue_status_list(
    issuer: Issuer,
    list_url: str,
    revoked: Iterable[int],
    size: int,
    now: datetime,
    valid_for: timedelta = timedelta(days=1),
) -> dict[str, Any]:
    """The signed status list credential at ``list_url`` in which the indexes ``revoked`` are set,
    out of ``size`` allocated ones, valid from ``now`` for ``valid_for``."""
    check_list_url(list_url)
    # Whole 16 KB blocks: the list grows by the minimum size once it is full.
    blocks = max(1, -(-size // MIN_BITS))
    bitstring = bytearray(blocks * MIN_BYTES)
    for index in revoked:
        _set_bit(bitstring, index)
    unsigned = build_status_list_credential(
        issuer_did=issuer.did,
        list_url=list_url,
        bitstring=bitstring,
        valid_from=now,
        valid_until=now + valid_for,
    )
    signed = issue_credential(unsigned, issuer, proof_format=_proof_format(issuer), created=now)
    assert isinstance(signed, dict)  # Data Integrity formats return the document
    return signed


# --- checking a credential's status (§3.2 Validate Algorithm) -----------------------------------


class StatusResult(BaseModel):
    """The status of one credential in one status list, and as of when it is known."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revoked: bool
    suspended: bool
    as_of: str  # the status list credential's validFrom: the status is known as of then
    list_url: str
    index: int
    purpose: str

    def describe(self) -> str:
        state = {REVOCATION: "revoked", SUSPENSION: "suspended"}[self.purpose]
        is_set = self.revoked or self.suspended
        return f"{'' if is_set else 'not '}{state} as of {self.as_of} ({self.list_url}, index {self.index})"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True)

    purpose: str
    index: int
    list_url: str


class _StatusList(BaseModel):
    model_config = ConfigDict(frozen=True)

    purposes: tuple[str, ...]
    bitstring: bytes
    as_of: str


def _entries(credential: Mapping[str, Any]) -> list[_Entry]:
    status = credential.get("credentialStatus")
    if status is None:
        raise UsageError("the credential has no credentialStatus to check")
    raw = status if isinstance(status, list) else [status]
    if not raw:
        raise _invalid("credentialStatus is an empty list")
    return [_entry(item) for item in raw]


def _entry(item: Any) -> _Entry:
    if not isinstance(item, dict):
        raise _invalid("a credentialStatus entry must be an object")
    if ENTRY_TYPE not in declared_types(item):
        # An unknown status mechanism leaves the status unknown: fail closed, do not skip it.
        raise _invalid(f"credentialStatus type {item.get('type')!r} is not supported (only {ENTRY_TYPE})")
    purpose = item.get("statusPurpose")
    if purpose not in PURPOSES:
        raise _invalid(f"statusPurpose {purpose!r} is not supported (only {', '.join(PURPOSES)})")
    if item.get("statusSize", 1) != 1:
        raise _invalid(f"statusSize {item.get('statusSize')!r} is not supported (only 1)")
    index = item.get("statusListIndex")
    if not isinstance(index, str) or not _INDEX_RE.match(index):
        raise _invalid(f"statusListIndex must be a non-negative integer as a string, got {index!r}")
    url = item.get("statusListCredential")
    if not isinstance(url, str) or not urlsplit(url).scheme:
        raise _invalid(f"statusListCredential must be a URL, got {url!r}")
    return _Entry(purpose=purpose, index=int(index), list_url=url)


def _load_list(
    url: str, secured: SecuredWire | None, issuer: str, verifier: Verifier
) -> _StatusList:
    if secured is None:
        raise StatusError(
            f"no status list credential for {url} was supplied (status lists are never fetched)",
            code=ErrorCode.STATUS_LIST_MISSING,
            detail={"url": url},
        )
    # §3.2 step 4: the status list credential must itself verify (proof, issuer key, validity
    # period: an expired list says nothing about the present).
    report = verifier.verify_credential(secured)
    if not report.valid or report.document is None:
        failed = report.failures[0] if report.failures else None
        why = f"{failed.name} failed ({failed.code}: {failed.message})" if failed else "no proof was checked"
        raise _invalid(f"the status list credential {url} does not verify: {why}")
    document = report.document
    if document.get("id") != url:
        raise _invalid(f"the status list credential supplied for {url} has id {document.get('id')!r}")
    # Otherwise anyone could publish a list that "revokes" (or clears) someone else's credential.
    if issuer_id(document) != issuer:
        raise StatusError(
            f"the status list {url} is issued by {issuer_id(document)}, not by the credential's issuer {issuer}",
            code=ErrorCode.STATUS_LIST_ISSUER_MISMATCH,
        )
    if LIST_CREDENTIAL_TYPE not in declared_types(document):
        raise _invalid(f"the credential at {url} is not a {LIST_CREDENTIAL_TYPE}")
    if "credentialStatus" in document:
        # A status list whose own status depends on another list has no end; refuse it.
        raise _invalid(f"the status list credential {url} must not itself carry credentialStatus")
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict) or LIST_TYPE not in declared_types(subject):
        raise _invalid(f"the credentialSubject of {url} must be one {LIST_TYPE}")
    purposes = subject.get("statusPurpose")
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if not purposes or not all(isinstance(p, str) for p in purposes):
        raise _invalid(f"the status list {url} has no statusPurpose")
    as_of = document.get("validFrom", document.get("issuanceDate"))
    if not isinstance(as_of, str):
        raise _invalid(f"the status list {url} has no validFrom: as of when it holds is unknown")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise _invalid(f"the status list {url} has no encodedList")
    return _StatusList(purposes=tuple(purposes), bitstring=decode_bitstring(encoded), as_of=as_of)


def read_status(
    credential: Mapping[str, Any],
    status_lists: Mapping[str, SecuredWire],
    *,
    verifier: Verifier,
) -> list[StatusResult]:
    """The status of every ``credentialStatus`` entry of ``credential``, read from the supplied
    status list credentials (by URL; never fetched). Raises ``RunIdError`` when a status cannot be
    known (missing, invalid or foreign list); a set bit is reported, not raised."""
    issuer = issuer_id(dict(credential))
    entries = _entries(credential)
    lists: dict[str, _StatusList] = {}
    results = []
    for entry in entries:
        if entry.list_url not in lists:
            lists[entry.list_url] = _load_list(entry.list_url, status_lists.get(entry.list_url), issuer, verifier)
        status_list = lists[entry.list_url]
        # §3.2 step 6: the entry's purpose must be one the list was published for.
        if entry.purpose not in status_list.purposes:
            raise _invalid(
                f"the entry's statusPurpose is {entry.purpose!r} but the list {entry.list_url} is for "
                f"{', '.join(status_list.purposes)}"
            )
        is_set = bit_at(status_list.bitstring, entry.index)
        results.append(
            StatusResult(
                revoked=is_set and entry.purpose == REVOCATION,
                suspended=is_set and entry.purpose == SUSPENSION,
                as_of=status_list.as_of,
                list_url=entry.list_url,
                index=entry.index,
                purpose=entry.purpose,
            )
        )
    return results


def check_status(
    credential: Mapping[str, Any],
    status_lists: Mapping[str, SecuredWire],
    *,
    verifier: Verifier,
) -> StatusResult:
    """Pass only if the credential's status is known and it is neither revoked nor suspended:
    ``RUNID_CREDENTIAL_REVOKED`` / ``RUNID_CREDENTIAL_SUSPENDED`` when a bit is set, and the
    errors of ``read_status`` when the status cannot be known. With several entries, the result
    returned is the one known as of the earliest time (the weakest claim)."""
    results = read_status(credential, status_lists, verifier=verifier)
    for result in results:
        if result.revoked or result.suspended:
            raise StatusError(
                result.describe(),
                code=ErrorCode.CREDENTIAL_REVOKED if result.revoked else ErrorCode.CREDENTIAL_SUSPENDED,
                detail={"listUrl": result.list_url, "index": result.index, "asOf": result.as_of},
            )
    return min(results, key=lambda r: parse_datetime(r.as_of, "validFrom"))


def load_status_lists(paths: list[Path]) -> dict[str, SecuredWire]:
    """Status list credentials from files (JSON or a compact JWS), keyed by their ``id``."""
    lists: dict[str, SecuredWire] = {}

    for path in paths:
        document = read_document_file(path)
        # Filed under the id the credential carries (an enveloped list's, not its data: URL).
        url = SecuredCredential.parse(document).id
        if url is None:
            raise _invalid(f"the status list credential in {path} has no id")
        lists[url] = document
    return lists


__all__ = [
    "LIST_CREDENTIAL_TYPE",
    "MAX_BYTES",
    "MIN_BITS",
    "REVOCATION",
    "SUSPENSION",
    "StatusResult",
    "bit_at",
    "build_status_list_credential",
    "check_list_url",
    "check_status",
    "decode_bitstring",
    "encode_bitstring",
    "issue_status_list",
    "load_status_lists",
    "read_status",
    "status_entry",
]
