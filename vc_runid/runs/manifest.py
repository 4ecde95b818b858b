"""Run manifests (YAML or JSON): the files a run is made of, turned into a ``RunComposition``.

Paths are relative to the manifest. Unknown fields are errors that name the field: a typo must not
silently leave a component out of the declaration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._internal.files import read_limited
from ..errors import ErrorCode, RunError, RunIdError, UsageError
from ..vc.documents import parse_json
from .composition import CompositionBuilder, Disclosures, RunComposition, Runtime, Software


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ManifestModel(_Strict):
    id: str = Field(min_length=1)
    provider: str | None = None
    revision: str | None = None
    weights: str | None = None
    #: How the weights are identified: runid (default), oms (OpenSSF Model Signing) or both.
    weightsDigest: Literal["runid", "oms", "both"] = "runid"


class ManifestInstruction(_Strict):
    path: str
    role: str = "system"


class ManifestRetrieved(_Strict):
    path: str
    id: str | None = None


class ManifestExecutor(_Strict):
    id: str | None = None
    name: str | None = None
    software: dict[str, str] | None = None
    containerImage: str | None = None
    platform: str | None = None


class Manifest(_Strict):
    model: ManifestModel
    parameters: dict[str, Any] | None = None
    instructions: list[str | ManifestInstruction] = []
    retrieval: list[str | ManifestRetrieved] = []
    tools: list[str] = []
    input: str | None = None
    inputMediaType: str | None = None
    executor: ManifestExecutor | None = None
    salted: bool = True


def load_manifest(path: Path) -> Manifest:
    """Read and check a run manifest (YAML or JSON)."""
    try:
        text = read_limited(path, None).decode("utf-8")  # a regular file: a FIFO would hang
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read manifest {path}: {exc}", code=ErrorCode.FILE_UNREADABLE) from exc
    except RunIdError as exc:
        raise UsageError(f"cannot read manifest {path}: {exc.message}", code=ErrorCode.FILE_UNREADABLE) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())  # one line: errors are a single line on stderr
        raise RunError(f"manifest {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {reason}",
                       code=ErrorCode.MANIFEST_INVALID) from exc
    if not isinstance(data, dict):
        raise RunError(f"manifest {path} must be a mapping", code=ErrorCode.MANIFEST_INVALID)
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise RunError(f"manifest {path}: field {where!r}: {message}", code=ErrorCode.MANIFEST_INVALID,
                       detail={"field": where}) from exc


def _read(base: Path, relative: str, what: str) -> bytes:
    path = (base / relative)
    try:
        return read_limited(path, None)  # a regular file: a FIFO would hang the declaration
    except RunIdError as exc:
        raise UsageError(f"{what} file {relative!r} ({path}) is unreadable: {exc.message}",
                       code=ErrorCode.FILE_UNREADABLE, detail={"file": str(path)}) from exc


def _tool_definition(base: Path, relative: str) -> dict[str, Any]:
    data = _read(base, relative, "tool")
    try:
        # Strict: duplicate keys would make "the" definition the digest commits to ambiguous.
        definition = parse_json(data)
    except RunIdError as exc:
        raise RunError(f"tool file {relative!r}: {exc.message}", code=ErrorCode.MANIFEST_INVALID) from exc
    if not isinstance(definition, dict):
        raise RunError(f"tool file {relative!r} must hold one JSON object", code=ErrorCode.MANIFEST_INVALID)
    return definition


def compose_from_manifest(
    path: Path, *, on_bytes: Callable[[int], None] | None = None
) -> tuple[RunComposition, Disclosures]:
    """Hash every file the manifest names and build the composition (+ the owner's salts)."""
    manifest = load_manifest(path)
    base = path.resolve().parent
    builder = CompositionBuilder(salted=manifest.salted)
    weights = None
    if manifest.model.weights is not None:
        weights = base / manifest.model.weights
        if not weights.exists():
            raise UsageError(f"model weights {manifest.model.weights!r} ({weights}) do not exist",
                           code=ErrorCode.FILE_UNREADABLE)
    builder.model(manifest.model.id, provider=manifest.model.provider, revision=manifest.model.revision,
                  weights=weights, on_bytes=on_bytes, weights_digest_method=manifest.model.weightsDigest)
    if manifest.parameters is not None:
        builder.parameters(manifest.parameters)
    for entry in manifest.instructions:
        item = entry if isinstance(entry, ManifestInstruction) else ManifestInstruction(path=entry)
        builder.instruction(_read(base, item.path, "instruction"), role=item.role)
    for retrieval_entry in manifest.retrieval:
        doc = (
            retrieval_entry
            if isinstance(retrieval_entry, ManifestRetrieved)
            else ManifestRetrieved(path=retrieval_entry)
        )
        builder.retrieved(doc.id or doc.path, _read(base, doc.path, "retrieval"))
    for tool in manifest.tools:
        builder.tool(_tool_definition(base, tool))
    if manifest.input is not None:
        builder.input(_read(base, manifest.input, "input"), media_type=manifest.inputMediaType)
    if manifest.executor is not None:
        ex = manifest.executor
        software = [Software(name=k, version=v) for k, v in sorted((ex.software or {}).items())] or None
        runtime = None
        if software or ex.containerImage or ex.platform:
            runtime = Runtime(software=software, containerImage=ex.containerImage, platform=ex.platform)
        is_iri = ex.id is not None and ":" in ex.id
        if ex.id is not None and not is_iri and ex.name is not None:
            raise RunError(
                f"manifest {path}: field 'executor.id': {ex.id!r} is not a DID or URL; with a name "
                "given too, it would be lost (use a DID/URL, or put it in name)",
                code=ErrorCode.MANIFEST_INVALID,
                detail={"field": "executor.id"},
            )
        builder.executor(id=ex.id if is_iri else None, name=ex.name or (None if is_iri else ex.id),
                         runtime=runtime)
    return builder.build()
