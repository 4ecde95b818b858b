"""What the operator registers for a model id (``models.yaml``), added to every declaration of a
call to that model: what the request alone cannot say.

    models:
      gpt-4o-mini:
        provider: openai
        servedBy: api.openai.com
      llama-3.1-8b-instruct:
        provider: meta
        revision: 0e9e39f
        weights: /models/llama-3.1-8b-instruct     # hashed once, at start
        servedBy: vllm 0.6.3 on gpu-node-3
      vc-runid-demo-bigram-1:
        weightsDigest: uEiB…                        # or the digest a publisher announced

Unknown fields are errors naming the field: a typo must not silently drop a component.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ErrorCode, RunError, UsageError
from ..runs.composition import Executor, ModelComponent, RunComposition, WeightsDigest
from ..runs.digests import hash_weights


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRegistration(_Strict):
    """What the gateway declares of one model it serves: provider, revision, weights."""

    provider: str | None = None
    revision: str | None = None
    weights: str | None = Field(default=None, description="a weights file or directory, hashed at start")
    weightsDigest: str | None = Field(default=None, description="a published weights digest (multibase)")
    servedBy: str | None = None


class _File(_Strict):
    models: dict[str, ModelRegistration] = {}


class ModelRegistry:
    """Model id → (provider, revision, weights digest, served-by). Weights are hashed once here,
    never per call: a call must not wait for gigabytes to be read."""

    def __init__(self, models: dict[str, ModelRegistration] | None = None, base: Path | None = None) -> None:
        self._models = dict(models or {})
        self._weights: dict[str, WeightsDigest] = {}
        for model_id, entry in self._models.items():
            if entry.weights is not None and entry.weightsDigest is not None:
                raise RunError(f"models.{model_id}: give weights or weightsDigest, not both", code=ErrorCode.MANIFEST_INVALID)
            if entry.weights is not None:
                path = Path(entry.weights)
                path = path if path.is_absolute() or base is None else base / path
                tree = hash_weights(path)
                self._weights[model_id] = WeightsDigest(digestMultibase=tree.root, fileCount=tree.file_count, size=tree.total_bytes)
            elif entry.weightsDigest is not None:
                self._weights[model_id] = WeightsDigest(digestMultibase=entry.weightsDigest)

    @classmethod
    def load(cls, path: Path) -> ModelRegistry:
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {exc}", code=ErrorCode.FILE_UNREADABLE) from exc
        except yaml.YAMLError as exc:
            raise RunError(f"{path} is not valid YAML: {' '.join(str(exc).split())}", code=ErrorCode.MANIFEST_INVALID) from exc
        try:
            parsed = _File.model_validate(data or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            raise RunError(f"{path}: {where}: {first['msg']}", code=ErrorCode.MANIFEST_INVALID) from exc
        return cls(parsed.models, base=path.parent)

    def provider(self, model_id: str) -> str | None:
        entry = self._models.get(model_id)
        return entry.provider if entry is not None else None

    def complete(self, composition: RunComposition, default_served_by: str) -> RunComposition:
        """The composition with the operator's registration for its model id added."""
        model_id = composition.model.modelId
        entry = self._models.get(model_id, ModelRegistration())
        # The provider is what the operator registers, never a guess: an unregistered model says none.
        model = ModelComponent(
            modelId=model_id,
            provider=entry.provider,
            revision=entry.revision,
            weights=self._weights.get(model_id),
        )
        executor = Executor(name=entry.servedBy or default_served_by)
        return composition.model_copy(update={"model": model, "executor": executor})
