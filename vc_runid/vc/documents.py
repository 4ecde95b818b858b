"""Reading untrusted input and the VC data model rules (VC 2.0 §4, and VC 1.1 for verification).

Parsing is strict on purpose: duplicate JSON keys are refused (two parsers could otherwise read
two different documents from the same bytes), and input size is bounded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from .._internal.contexts import VC_V1, VC_V2, served_context_bytes
from .._internal.files import read_limited
from .._internal.multiformats import multibase_decode
from .._internal.timeutil import parse_datetime
from ..errors import DataModelError, ErrorCode, InputError, RunIdError

#: Largest credential, presentation or JWT accepted, in bytes (documented in docs/errors.md).
MAX_DOCUMENT_BYTES = 1 << 20

_JWT_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class VcVersion(StrEnum):
    V1 = "1.1"
    V2 = "2.0"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InputError(
                f"duplicate JSON key {key!r}", code=ErrorCode.INPUT_DUPLICATE_KEY, detail={"key": key}
            )
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise InputError(f"{name} is not valid JSON", code=ErrorCode.INPUT_NOT_JSON)


def parse_json(data: bytes | str) -> Any:
    """Strict JSON: bounded size, UTF-8, no duplicate keys, no NaN/Infinity, Unicode text only."""
    try:
        size = len(data.encode() if isinstance(data, str) else data)
    except UnicodeEncodeError as exc:  # a str holding a lone surrogate
        raise InputError("input is not Unicode text (a lone surrogate)", code=ErrorCode.INPUT_NOT_JSON) from exc
    if size > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"input is {size} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes",
            code=ErrorCode.INPUT_TOO_LARGE,
        )
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except UnicodeDecodeError as exc:
        raise InputError("input is not UTF-8 text", code=ErrorCode.INPUT_NOT_JSON) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"input is not JSON: {exc}", code=ErrorCode.INPUT_NOT_JSON) from exc
    except RecursionError as exc:
        raise InputError("input JSON is nested too deeply", code=ErrorCode.INPUT_NOT_JSON) from exc
    except ValueError as exc:  # an integer past Python's int-string conversion limit (4300 digits)
        raise InputError(f"input has a number too long to read: {exc}", code=ErrorCode.INPUT_NOT_JSON) from exc
    # "\\ud800" is valid JSON but no Unicode text: it cannot be encoded (hashed, signed, written) later.
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise InputError("input has a lone UTF-16 surrogate escape (not Unicode text)", code=ErrorCode.INPUT_NOT_JSON)
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # "1e400": JSON, but no number any JSON-LD or JCS can write back
        raise InputError(f"number {text[:40]} is out of range", code=ErrorCode.INPUT_NOT_JSON)
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


#: A credential as it travels: a JSON object with an embedded proof (or an enveloped credential),
#: or a compact JWS. What a user hands in; :class:`vc_runid.vc.secured.SecuredCredential` reads it.
SecuredWire = dict[str, Any] | str


def looks_like_jwt(text: str) -> bool:
    return bool(_JWT_RE.match(text.strip()))


def read_document(data: bytes | str) -> dict[str, Any] | str:
    """A JSON object, or a compact JWS (returned as its string)."""
    if not isinstance(data, (bytes, str)):
        raise DataModelError(f"a credential or presentation is JSON text or an object, not {type(data).__name__}")
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if len(text) <= MAX_DOCUMENT_BYTES and looks_like_jwt(text):
        return text.strip()
    document = parse_json(data)
    if isinstance(document, str) and looks_like_jwt(document):
        return document
    if not isinstance(document, dict):
        raise DataModelError("a credential or presentation must be a JSON object")
    return document


def read_document_file(path: Path) -> SecuredWire:
    """A credential (JSON or compact JWS) from a file; an unreadable one says *which* file."""
    data = read_limited(path, MAX_DOCUMENT_BYTES)
    try:
        return read_document(data)
    except InputError as exc:
        raise InputError(f"{path}: {exc.message}", code=exc.code, detail=exc.detail) from exc


def contexts_of(document: dict[str, Any]) -> list[Any]:
    ctx = document.get("@context")
    return list(ctx) if isinstance(ctx, list) else ([] if ctx is None else [ctx])


def vc_version(document: dict[str, Any], what: str = "credential") -> VcVersion:
    code = ErrorCode.NOT_A_CREDENTIAL if what == "credential" else ErrorCode.NOT_A_PRESENTATION
    contexts = contexts_of(document)
    if not contexts:
        raise DataModelError(f"a {what} must have an @context", code=code)
    if contexts[0] == VC_V2:
        return VcVersion.V2
    if contexts[0] == VC_V1:
        return VcVersion.V1
    raise DataModelError(
        f"the first @context of a {what} must be {VC_V2} (or {VC_V1}), got {contexts[0]!r}",
        code=code,
    )


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and ":" in value and not value.startswith(":") and " " not in value


def declared_types(document: Mapping[str, Any]) -> list[Any]:
    """The ``type`` values of a JSON object as written (one value or a list), unchecked. Deciding
    from them is safe once the document passed ``signed_form.check_compacted``."""
    value = document.get("type")
    return value if isinstance(value, list) else [value]


#: VC 2.0 §5.2: the type every verifiable presentation has.
PRESENTATION_TYPE = "VerifiablePresentation"


def is_presentation(document: Any) -> bool:
    """True when ``document`` (parsed JSON) says it is a presentation; for dispatching input."""
    return isinstance(document, dict) and PRESENTATION_TYPE in declared_types(document)


def issuer_id(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not _is_url(issuer):
        raise DataModelError("issuer must be a URL or an object whose id is a URL")
    return str(issuer)


def check_credential(credential: dict[str, Any]) -> VcVersion:
    """Raise ``RUNID_NOT_A_CREDENTIAL`` naming the first VC data model rule ``credential`` breaks."""
    version = vc_version(credential)
    if "VerifiableCredential" not in declared_types(credential):
        raise DataModelError("type must include VerifiableCredential")
    if "id" in credential and not _is_url(credential["id"]):
        raise DataModelError("id must be a URL")
    issuer_id(credential)
    subject = credential.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, dict) and s for s in subjects):
        raise DataModelError("credentialSubject must be a non-empty object or list of objects")
    if version is VcVersion.V2:
        for field in ("validFrom", "validUntil"):
            if field in credential:
                parse_datetime(credential[field], field)
        # VC 2.0 §4.9: validFrom is the same as or earlier than validUntil.
        if "validFrom" in credential and "validUntil" in credential and parse_datetime(
            credential["validFrom"], "validFrom"
        ) > parse_datetime(credential["validUntil"], "validUntil"):
            raise DataModelError("validFrom must not be later than validUntil")
    else:
        if "issuanceDate" not in credential:
            raise DataModelError("a VC 1.1 credential must have issuanceDate")
        for field in ("issuanceDate", "expirationDate"):
            if field in credential:
                parse_datetime(credential[field], field)
    proof = credential.get("proof")
    if proof is not None and not (
        isinstance(proof, dict) or (isinstance(proof, list) and all(isinstance(p, dict) for p in proof))
    ):
        raise DataModelError("proof must be an object or a list of objects")
    _check_typed_objects(credential)
    _check_related_resources(credential)
    return version


# VC 2.0 §4.10 (status), §4.11 (data schemas), §5.4 (refresh), §5.5 (terms of use), §5.6
# (evidence): each value is one or more objects, each of which MUST say its type; a data schema
# MUST also have an id. An id, where present, is a single URL (§4.4).
_TYPED_OBJECTS: tuple[tuple[str, bool], ...] = (
    ("credentialStatus", False),
    ("credentialSchema", True),
    ("refreshService", False),
    ("termsOfUse", False),
    ("evidence", False),
)


def _objects(credential: dict[str, Any], field: str) -> list[dict[str, Any]]:
    value = credential[field]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict) for item in items):
        raise DataModelError(f"{field} must be an object or a non-empty list of objects")
    return items


def _check_typed_objects(credential: dict[str, Any]) -> None:
    for field, id_required in _TYPED_OBJECTS:
        if field not in credential:
            continue
        for item in _objects(credential, field):
            kind = item.get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            if not kinds or not all(isinstance(k, str) and k for k in kinds):
                raise DataModelError(f"each {field} value must specify its type")
            if id_required and "id" not in item:
                raise DataModelError(f"each {field} value must have an id")
            if "id" in item and not _is_url(item["id"]):
                raise DataModelError(f"the id of a {field} value must be a URL")


_SRI = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$")
_SRI_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
# Multihash codes (sha2-256, sha2-512, sha2-384) and digest sizes, for digestMultibase.
_MULTIHASH = {0x12: ("sha256", 32), 0x13: ("sha512", 64), 0x20: ("sha384", 48)}


def _sri_digests(value: Any) -> list[tuple[str, bytes]]:
    """SRI §3.5 hash-expressions, space-separated; options (``?…``) are ignored as SRI says."""
    if not isinstance(value, str) or not value.strip():
        raise DataModelError("digestSRI must be a non-empty string of SRI hash expressions")
    digests = []
    for expression in value.split():
        match = _SRI.match(expression.split("?", 1)[0])
        try:
            raw = base64.b64decode(match.group(2), validate=True) if match else b""
        except (binascii.Error, ValueError):
            raw = b""
        if not match or len(raw) != _SRI_SIZES[match.group(1)]:
            raise DataModelError(
                f"digestSRI {expression[:60]!r} is not sha256-, sha384- or sha512- followed by the "
                "base64 digest"
            )
        digests.append((match.group(1), raw))
    return digests


def _multibase_digests(value: Any) -> list[tuple[str, bytes]]:
    """Data Integrity §2.6: a multibase-encoded multihash (sha2-256, sha2-384 or sha2-512)."""
    values = value if isinstance(value, list) else [value]
    digests = []
    for item in values:
        try:
            raw = multibase_decode(item, max_bytes=66) if isinstance(item, str) else b""
        except RunIdError:
            raw = b""
        algorithm, size = _MULTIHASH.get(raw[0], ("", -1)) if len(raw) > 2 else ("", -1)
        if not algorithm or raw[1] != size or len(raw) != size + 2:
            raise DataModelError(
                "digestMultibase must be a multibase-encoded multihash (sha2-256, sha2-384 or sha2-512)"
            )
        digests.append((algorithm, raw[2:]))
    return digests


def _check_related_resources(credential: dict[str, Any]) -> None:
    """VC 2.0 §5.3: one or more objects, each with a unique id and at least one digest. The digest
    of a resource vc-runid holds byte for byte (a pinned context) is computed here: a mismatch is
    an error. Other resources are not fetched (verification is offline), so not checked."""
    if "relatedResource" not in credential:
        return
    seen: set[str] = set()
    for item in _objects(credential, "relatedResource"):
        if not _is_url(item.get("id")):
            raise DataModelError("each relatedResource must have an id that is a URL")
        resource = str(item["id"])
        if resource in seen:
            raise DataModelError(f"relatedResource lists {resource} twice; ids must be unique")
        seen.add(resource)
        if "digestSRI" not in item and "digestMultibase" not in item:
            raise DataModelError(f"relatedResource {resource} must have a digestSRI or a digestMultibase")
        digests = []
        if "digestSRI" in item:
            digests += _sri_digests(item["digestSRI"])
        if "digestMultibase" in item:
            digests += _multibase_digests(item["digestMultibase"])
        held = served_context_bytes().get(resource)
        if held is None:
            continue
        for algorithm, digest in digests:
            if hashlib.new(algorithm, held).digest() != digest:
                raise DataModelError(
                    f"relatedResource {resource}: the stated {algorithm} digest does not match the "
                    "resource (vc-runid holds it: a pinned context)",
                    code=ErrorCode.RELATED_RESOURCE_MISMATCH,
                    detail={"id": resource},
                )


def check_presentation(presentation: dict[str, Any]) -> VcVersion:
    version = vc_version(presentation, "presentation")
    if "VerifiablePresentation" not in declared_types(presentation):
        raise DataModelError(
            "type must include VerifiablePresentation", code=ErrorCode.NOT_A_PRESENTATION
        )
    if "holder" in presentation:
        holder = presentation["holder"]
        holder = holder.get("id") if isinstance(holder, dict) else holder
        if not _is_url(holder):
            raise DataModelError("holder must be a URL", code=ErrorCode.NOT_A_PRESENTATION)
    return version


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    proof = document.get("proof")
    if proof is None:
        return []
    return proof if isinstance(proof, list) else [proof]
