"""The composition of a run — what the run *is* — as content digests, and how it is built.

A ``RunComposition`` is what goes into the declaration credential's subject: identifiers in the
clear, every content component (prompts, retrieved documents, tool definitions, input) by digest.
Components are salted by default (``salted_digest``), so that a short prompt cannot be recovered
by guessing; the salts stay with the run's owner in a ``Disclosures`` record, never in the
credential, and one component can later be disclosed (content + salt) to an auditor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..errors import ErrorCode, RunError, RunIdError
from ..vc.documents import parse_json
from .digests import (
    DigestMultibase,
    decode_salt,
    digest_multibase,
    digests_equal,
    encode_salt,
    hash_weights,
    jcs,
    new_salt,
    salted_digest,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ContentDigest(_Strict):
    digestMultibase: DigestMultibase
    salted: bool = False


class OmsSignatureRef(_Strict):
    """An OpenSSF Model Signing signature found with the weights (vc_runid/runs/weights_oms.py)."""

    signer: str = Field(min_length=1)
    digestMultibase: DigestMultibase


class WeightsDigest(_Strict):
    digestMultibase: DigestMultibase
    fileCount: int | None = None
    size: int | None = None
    #: The root digest model-signing computes (its signature's in-toto subject), when asked for.
    omsDigestMultibase: DigestMultibase | None = None
    omsSignature: OmsSignatureRef | None = None


class ModelComponent(_Strict):
    modelId: str = Field(min_length=1)
    provider: str | None = None
    revision: str | None = None
    weights: WeightsDigest | None = None


def _unicode_text(value: str) -> str:
    # A lone surrogate ("\\ud800" from a JSON escape) is a str but no text: it cannot be encoded
    # to be hashed, so it is refused here rather than failing the digest check with a crash.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("not Unicode text (a lone surrogate)") from exc
    return value


class Configuration(_Strict):
    parameters: Annotated[str, AfterValidator(_unicode_text)]  # RFC 8785 canonical JSON of the generation parameters
    digestMultibase: DigestMultibase


class Instruction(_Strict):
    role: str
    digestMultibase: DigestMultibase
    salted: bool = False


class RetrievedDocument(_Strict):
    documentId: str
    digestMultibase: DigestMultibase
    salted: bool = False


class RetrievalContext(_Strict):
    documents: list[RetrievedDocument]
    digestMultibase: DigestMultibase  # root over the ordered list, see ``retrieval_root``


class Tool(_Strict):
    name: str
    digestMultibase: DigestMultibase
    salted: bool = False


class InputComponent(_Strict):
    digestMultibase: DigestMultibase
    salted: bool = False
    mediaType: str | None = None


class Software(_Strict):
    """A piece of software the run executed on, by name and version."""

    name: str
    version: str


class Runtime(_Strict):
    """Where the run executed: software, container image, platform."""

    software: list[Software] | None = None
    containerImage: str | None = None
    platform: str | None = None


class Executor(_Strict):
    """Who executes the run (``id``, a DID or URL) and on what runtime."""

    id: str | None = None
    name: str | None = None
    runtime: Runtime | None = None


class TraceContext(_Strict):
    """The W3C Trace Context (traceparent) the run was declared under, so a trace and the signed
    record point to each other."""

    traceId: str = Field(pattern="^[0-9a-f]{32}$")
    spanId: str = Field(pattern="^[0-9a-f]{16}$")


class RunComposition(_Strict):
    """What a run is made of: model, configuration, instructions, retrieval, tools, input,
    executor, each as a digest. Build one with :class:`CompositionBuilder`."""

    model: ModelComponent
    configuration: Configuration | None = None
    instructions: list[Instruction] = []
    retrievalContext: RetrievalContext | None = None
    tools: list[Tool] = []
    input: InputComponent | None = None
    executor: Executor | None = None
    traceContext: TraceContext | None = None

    def check_derived_digests(self) -> str:
        """Digests the composition states but that follow from its own content must agree with it:
        the configuration's digest of its parameters, and the retrieval root of its documents."""
        if self.configuration is not None:
            derived = digest_multibase(self.configuration.parameters.encode("utf-8"))
            if not digests_equal(derived, self.configuration.digestMultibase):
                raise RunError(
                    "configuration.digestMultibase is not the digest of configuration.parameters",
                    code=ErrorCode.DECLARATION_INVALID,
                )
        retrieval = self.retrievalContext
        if retrieval is not None and not digests_equal(retrieval_root(retrieval.documents), retrieval.digestMultibase):
            raise RunError(
                "retrievalContext.digestMultibase is not the root digest of its ordered documents",
                code=ErrorCode.DECLARATION_INVALID,
            )
        return "configuration and retrieval root digests agree with their content"

    def subject_fields(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        for key in ("instructions", "tools"):
            if not data.get(key):
                data.pop(key, None)
        return data


class Disclosure(_Strict):
    """What the owner keeps for one component: the salt (and, optionally, the content)."""

    path: str
    salt: str | None = None
    content: str | None = None  # UTF-8 text of the component, when the owner chose to keep it


class Disclosures(_Strict):
    """The content and salts behind a composition's digests, kept by the run's owner to
    disclose later, component by component."""

    runId: str | None = None
    components: dict[str, Disclosure] = {}


def retrieval_root(documents: list[RetrievedDocument]) -> str:
    """Root digest over the *ordered* retrieval list: order is part of what the model saw."""
    return digest_multibase(
        jcs([{"documentId": d.documentId, "digestMultibase": d.digestMultibase} for d in documents])
    )


def component_digest(content: bytes, salt: bytes | None) -> str:
    return salted_digest(content, salt) if salt is not None else digest_multibase(content)


class CompositionBuilder:
    """Collects a run's components from their content and computes their (salted) digests."""

    def __init__(self, *, salted: bool = True) -> None:
        self.salted = salted
        self._model: ModelComponent | None = None
        self._configuration: Configuration | None = None
        self._instructions: list[Instruction] = []
        self._documents: list[RetrievedDocument] = []
        self._tools: list[Tool] = []
        self._input: InputComponent | None = None
        self._executor: Executor | None = None
        self._disclosures: dict[str, Disclosure] = {}

    def _digest(self, path: str, content: bytes, keep_content: bool) -> tuple[str, bool]:
        salt = new_salt() if self.salted else None
        text: str | None = None
        if keep_content:
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        self._disclosures[path] = Disclosure(
            path=path, salt=encode_salt(salt) if salt else None, content=text
        )
        return component_digest(content, salt), salt is not None

    def model(
        self,
        model_id: str,
        *,
        provider: str | None = None,
        revision: str | None = None,
        weights: Path | None = None,
        on_bytes: Any = None,
        weights_digest_method: str = "runid",
    ) -> CompositionBuilder:
        """``weights_digest_method``: ``"runid"`` (the digest documented in digests.py), ``"oms"``
        or ``"both"`` (the OpenSSF Model Signing root digest, and its signature if the directory
        has one; see weights_oms.py)."""
        weights_digest = None
        if weights is not None and weights_digest_method != "runid":
            from .weights_oms import oms_weights

            weights_digest = oms_weights(weights, method=weights_digest_method, on_bytes=on_bytes)
        elif weights is not None:
            # Weights are never salted: they cannot be guessed, and an unsalted digest can be
            # compared with the one a model publisher announces.
            tree = hash_weights(weights, on_bytes=on_bytes)
            weights_digest = WeightsDigest(
                digestMultibase=tree.root, fileCount=tree.file_count, size=tree.total_bytes
            )
        self._model = ModelComponent(
            modelId=model_id, provider=provider, revision=revision, weights=weights_digest
        )
        return self

    def parameters(self, parameters: dict[str, Any]) -> CompositionBuilder:
        canonical = jcs(parameters)
        self._configuration = Configuration(
            parameters=canonical.decode("utf-8"), digestMultibase=digest_multibase(canonical)
        )
        return self

    def instruction(self, content: bytes | str, role: str = "system", keep: bool = True) -> CompositionBuilder:
        data = content.encode() if isinstance(content, str) else content
        digest, salted = self._digest(f"instructions[{len(self._instructions)}]", data, keep)
        self._instructions.append(Instruction(role=role, digestMultibase=digest, salted=salted))
        return self

    def retrieved(self, document_id: str, content: bytes | str, keep: bool = True) -> CompositionBuilder:
        data = content.encode() if isinstance(content, str) else content
        digest, salted = self._digest(f"retrievalContext.documents[{len(self._documents)}]", data, keep)
        self._documents.append(RetrievedDocument(documentId=document_id, digestMultibase=digest, salted=salted))
        return self

    def tool(self, definition: dict[str, Any], keep: bool = True) -> CompositionBuilder:
        function = definition.get("function")
        name = definition.get("name") or (function.get("name") if isinstance(function, dict) else None)
        if not isinstance(name, str) or not name:
            raise RunError(
                "a tool definition needs a name (name, or function.name)", code=ErrorCode.MANIFEST_INVALID
            )
        digest, salted = self._digest(f"tools[{len(self._tools)}]", jcs(definition), keep)
        self._tools.append(Tool(name=name, digestMultibase=digest, salted=salted))
        return self

    def input(self, content: bytes | str, media_type: str | None = None, keep: bool = True) -> CompositionBuilder:
        data = content.encode() if isinstance(content, str) else content
        digest, salted = self._digest("input", data, keep)
        self._input = InputComponent(digestMultibase=digest, salted=salted, mediaType=media_type)
        return self

    def executor(
        self, *, id: str | None = None, name: str | None = None, runtime: Runtime | None = None
    ) -> CompositionBuilder:
        self._executor = Executor(id=id, name=name, runtime=runtime)
        return self

    def build(self) -> tuple[RunComposition, Disclosures]:
        if self._model is None:
            raise RunError("a run composition needs a model", code=ErrorCode.MANIFEST_INVALID)
        retrieval = None
        if self._documents:
            retrieval = RetrievalContext(documents=self._documents, digestMultibase=retrieval_root(self._documents))
        composition = RunComposition(
            model=self._model,
            configuration=self._configuration,
            instructions=self._instructions,
            retrievalContext=retrieval,
            tools=self._tools,
            input=self._input,
            executor=self._executor,
        )
        return composition, Disclosures(components=self._disclosures)


def _component_at(subject: dict[str, Any], path: str) -> dict[str, Any] | None:
    """Follow ``instructions[0]`` / ``retrievalContext.documents[1]`` / ``input`` in a subject."""
    node: Any = subject
    for part in path.split("."):
        name, _, index = part.partition("[")
        node = node.get(name) if isinstance(node, dict) else None
        if index:
            digits = index.rstrip("]")
            if not digits.isdigit():
                return None
            position = int(digits)
            node = node[position] if isinstance(node, list) and position < len(node) else None
    return node if isinstance(node, dict) else None


def check_disclosure(subject: dict[str, Any], disclosure: Disclosure, content: bytes) -> str:
    """Check disclosed content (+ salt) against the digest the declaration committed to."""
    component = _component_at(subject, disclosure.path)
    if component is None or "digestMultibase" not in component:
        raise RunError(
            f"the declaration has no component at {disclosure.path!r}", code=ErrorCode.DISCLOSURE_MISMATCH
        )
    if component.get("salted") and disclosure.salt is None:
        raise RunError(f"{disclosure.path} is salted but no salt was disclosed", code=ErrorCode.DISCLOSURE_MISMATCH)
    try:
        salt = decode_salt(disclosure.salt) if component.get("salted") and disclosure.salt else None
    except RunError as exc:
        # A malformed salt is a wrong disclosure, not a wrong manifest.
        raise RunError(f"{disclosure.path}: {exc.message}", code=ErrorCode.DISCLOSURE_MISMATCH) from exc
    if disclosure.path.startswith("tools["):
        content = jcs(_json_object(content, disclosure.path))
    if not digests_equal(component_digest(content, salt), component["digestMultibase"]):
        raise RunError(
            f"disclosed content of {disclosure.path} does not match the declared digest",
            code=ErrorCode.DISCLOSURE_MISMATCH,
        )
    return f"{disclosure.path} matches the declared digest"


def _json_object(content: bytes, path: str) -> Any:
    try:
        return parse_json(content)
    except RunIdError as exc:
        raise RunError(f"disclosed tool {path}: {exc.message}", code=ErrorCode.DISCLOSURE_MISMATCH) from exc
