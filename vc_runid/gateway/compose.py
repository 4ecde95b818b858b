"""A run composition from an OpenAI-compatible request body, exactly as the client sent it.

Chat requests go through the library's ``composition_from_chat_request``; legacy completions
and embeddings are the same shape with ``prompt`` / ``input`` as the run's input.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ErrorCode, RunError
from ..runs.chat_request import composition_from_chat_request
from ..runs.composition import CompositionBuilder, Disclosures, RunComposition, TraceContext
from ..runs.digests import jcs

CHAT = "chat/completions"
COMPLETIONS = "completions"
EMBEDDINGS = "embeddings"

# Fields that are not generation parameters: the model, the input itself, and transport options
# that change how the answer is delivered, not what it is.
_NOT_PARAMETERS = {
    COMPLETIONS: frozenset({"model", "prompt", "stream", "user", "metadata"}),
    EMBEDDINGS: frozenset({"model", "input", "user"}),
}
_INPUT_FIELD = {COMPLETIONS: "prompt", EMBEDDINGS: "input"}

# W3C Trace Context §3.2: version-format "00", 32 hex trace-id, 16 hex parent-id, 2 hex flags.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def trace_context(traceparent: str | None) -> TraceContext | None:
    """The trace and span a ``traceparent`` header names; None when absent, malformed or all-zero
    (Trace Context §3.2.2.3: an all-zero id is invalid)."""
    if not traceparent:
        return None
    match = _TRACEPARENT.match(traceparent.strip().lower())
    if match is None or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return TraceContext(traceId=match.group(1), spanId=match.group(2))


def composition_from_request(endpoint: str, request: Any) -> tuple[RunComposition, Disclosures]:
    """``RUNID_MANIFEST_INVALID`` when the body cannot be declared (no model, no input…). The
    provider is left to the operator's registration (``ModelRegistry.complete``)."""
    if not isinstance(request, dict):
        raise RunError("the request body must be a JSON object", code=ErrorCode.MANIFEST_INVALID)
    if endpoint == CHAT:
        return composition_from_chat_request(request)
    model = request.get("model")
    if not isinstance(model, str) or not model:
        raise RunError("the request has no model", code=ErrorCode.MANIFEST_INVALID)
    field = _INPUT_FIELD[endpoint]
    if field not in request:
        raise RunError(f"the request has no {field}", code=ErrorCode.MANIFEST_INVALID)
    builder = CompositionBuilder().model(model)
    parameters = {k: v for k, v in request.items() if k not in _NOT_PARAMETERS[endpoint]}
    if parameters:
        builder.parameters(parameters)
    value = request[field]
    if isinstance(value, str):
        builder.input(value, media_type="text/plain; charset=utf-8")
    else:  # token arrays, lists of strings: their canonical JSON
        builder.input(jcs(value), media_type="application/json")
    return builder.build()
