"""Reading and writing run credentials as files (the CLI's and the demo's edge)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .._internal.contexts import BINDING_TYPE_IRI, DECLARATION_TYPE_IRI, DocumentLoader
from .._internal.files import read_limited
from ..errors import ErrorCode, InputError, RunError, RunIdError, UsageError, error_for
from ..vc.documents import MAX_DOCUMENT_BYTES, SecuredWire, parse_json, read_document_file
from ..vc.secured import SecuredCredential
from ..vc.signed_form import types_of
from .home import RECEIPTS_DIR

# Loaded by parse_disclosures: `vc-runid verify CREDENTIAL` does not load the run models.
if TYPE_CHECKING:
    from ..runs.composition import Disclosure


def run_file_stem(run_id: str) -> str:
    """A file name for a run: its uuid when the id is a plain ``urn:uuid:…``, else a digest. Run
    ids come from credentials and services, so they never reach a path unchecked."""
    tail = run_id.rsplit(":", 1)[-1]
    if re.fullmatch(r"[A-Za-z0-9-]{1,64}", tail):
        return tail
    return hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:32]


def receipt_path(home: Path, run_id: str, kind: str) -> Path:
    """Where the CLI keeps the issuer service's log receipt for a run's declaration or binding."""
    return home / RECEIPTS_DIR / f"{run_file_stem(run_id)}.{kind}.json"


def read_secured(path: Path) -> SecuredWire:
    """A secured credential (JSON or compact JWS) from a file."""
    return read_document_file(path)


def write_secured(path: Path, secured: SecuredWire) -> None:
    """Write a secured credential to a file, as ``vc-runid`` writes them."""
    try:
        path.write_text((secured if isinstance(secured, str) else json.dumps(secured, indent=2)) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def peek_status_urls(secured: SecuredWire) -> list[str]:
    """The status list URLs a credential's ``credentialStatus`` names, without verifying it."""
    try:
        document = SecuredCredential.parse(secured).unverified_document
    except RunIdError:
        return []
    status = document.get("credentialStatus")
    entries = status if isinstance(status, list) else [status]
    return [e["statusListCredential"] for e in entries if isinstance(e, dict) and isinstance(e.get("statusListCredential"), str)]


def is_run_credential(secured: SecuredWire, loader: DocumentLoader | None = None) -> bool:
    """By expanded type: a type spelled as its IRI is still a run credential."""
    types = types_of(secured, loader)
    return DECLARATION_TYPE_IRI in types or BINDING_TYPE_IRI in types


def is_binding(secured: SecuredWire, loader: DocumentLoader | None = None) -> bool:
    return BINDING_TYPE_IRI in types_of(secured, loader)


def is_declaration(secured: SecuredWire, loader: DocumentLoader | None = None) -> bool:
    return DECLARATION_TYPE_IRI in types_of(secured, loader)


def read_disclosures(path: Path) -> list[tuple[Disclosure, bytes]]:
    """A disclosure file: one object or a list of ``{"path", "salt", "content"}``."""
    try:
        data = read_limited(path, MAX_DOCUMENT_BYTES)
    except InputError as exc:  # too large: the documented code for disclosure files
        raise RunError(f"disclosure file {path}: {exc.message}", code=ErrorCode.DISCLOSURE_MISMATCH) from exc
    return parse_disclosures(data, str(path))


def parse_disclosures(data: bytes, source: str) -> list[tuple[Disclosure, bytes]]:
    """Disclosures (content + salt) as an owner hands them to an auditor, from a file or a bundle."""
    from ..runs.composition import Disclosure

    try:
        parsed = parse_json(data)
    except InputError as exc:
        # A file that is not JSON at all is a reading problem; JSON whose content cannot be
        # disclosed text (a lone surrogate, say) is a disclosure that cannot match.
        not_json = isinstance(exc.__cause__, (json.JSONDecodeError, UnicodeDecodeError))
        code = ErrorCode.INPUT_NOT_JSON if not_json else ErrorCode.DISCLOSURE_MISMATCH
        raise error_for(f"disclosure file {source}: {exc.message}", code=code) from exc
    items = parsed if isinstance(parsed, list) else [parsed]
    result = []
    for item in items:
        try:
            disclosure = Disclosure.model_validate(item)
        except ValueError as exc:
            raise RunError(f"disclosure file {source} is malformed: {exc}", code=ErrorCode.DISCLOSURE_MISMATCH) from exc
        if disclosure.content is None:
            raise RunError(
                f"{source}: the disclosure of {disclosure.path} has no content", code=ErrorCode.DISCLOSURE_MISMATCH
            )
        result.append((disclosure, disclosure.content.encode("utf-8")))
    return result
