"""Reading untrusted input and the VC data model rules (VC 2.0 §4, and VC 1.1 for verification).

Parsing is strict on purpose: duplicate JSON keys are refused (two parsers could otherwise read
two different documents from the same bytes), and input size is bounded.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

from .contexts import VC_V1, VC_V2
from .errors import DataModelError, ErrorCode, InputError
from .timeutil import parse_datetime

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


def looks_like_jwt(text: str) -> bool:
    return bool(_JWT_RE.match(text.strip()))


def read_document(data: bytes | str) -> dict[str, Any] | str:
    """A JSON object, or a compact JWS (returned as its string)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if len(text) <= MAX_DOCUMENT_BYTES and looks_like_jwt(text):
        return text.strip()
    document = parse_json(data)
    if isinstance(document, str) and looks_like_jwt(document):
        return document
    if not isinstance(document, dict):
        raise DataModelError("a credential or presentation must be a JSON object")
    return document


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


def _types(document: dict[str, Any]) -> list[Any]:
    value = document.get("type")
    return value if isinstance(value, list) else [value]


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
    if "VerifiableCredential" not in _types(credential):
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
    return version


def check_presentation(presentation: dict[str, Any]) -> VcVersion:
    version = vc_version(presentation, "presentation")
    if "VerifiablePresentation" not in _types(presentation):
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
