"""OpenTelemetry linkage, when ``opentelemetry-api`` is installed (extra ``otel``) and a span is
recording: the declaration records the span's W3C trace context, and the span gets the run's ids.

Attribute names follow the OpenTelemetry GenAI semantic conventions where one exists
(``gen_ai.request.model``, ``gen_ai.operation.name``, ``gen_ai.response.id``…); the run's own ids
are ``vc_runid.run.id`` and ``vc_runid.declaration.id``. Without the package, or without an
active span, every function here does nothing.
"""

from __future__ import annotations

from typing import Any

from ..runs.composition import TraceContext

RUN_ID = "vc_runid.run.id"
DECLARATION_ID = "vc_runid.declaration.id"
BINDING_ID = "vc_runid.binding.id"  # a span attribute users query: not tied to the module layout
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_OPERATION = "gen_ai.operation.name"
GEN_AI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_FINISH_REASONS = "gen_ai.response.finish_reasons"

# gen_ai.operation.name values for the endpoints (semantic conventions, "gen_ai" registry).
OPERATIONS = {"chat/completions": "chat", "completions": "text_completion", "embeddings": "embeddings"}


def _span() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    span = trace.get_current_span()
    context = span.get_span_context()
    return span if context.is_valid else None


def current_trace_context() -> TraceContext | None:
    """The active span's trace and span ids, or None."""
    span = _span()
    if span is None:
        return None
    context = span.get_span_context()
    return TraceContext(traceId=f"{context.trace_id:032x}", spanId=f"{context.span_id:016x}")


def annotate_current_span(run_id: str, declaration_id: str, model: str | None = None, endpoint: str | None = None) -> None:
    """Put the run's ids (and the model) on the current span, if one is recording."""
    span = _span()
    if span is None or not span.is_recording():
        return
    span.set_attribute(RUN_ID, run_id)
    span.set_attribute(DECLARATION_ID, declaration_id)
    if model:
        span.set_attribute(GEN_AI_REQUEST_MODEL, model)
    if endpoint in OPERATIONS:
        span.set_attribute(GEN_AI_OPERATION, OPERATIONS[endpoint])


def annotate_binding(binding_id: str | None, *, response_model: str | None, input_tokens: int | None,
                     output_tokens: int | None, finish_reason: str | None) -> None:
    """Put the binding's id and the answer's model, tokens and finish reason on the
    current span, if one is recording."""
    span = _span()
    if span is None or not span.is_recording():
        return
    if binding_id:
        span.set_attribute(BINDING_ID, binding_id)
    if response_model:
        span.set_attribute(GEN_AI_RESPONSE_MODEL, response_model)
    if input_tokens is not None:
        span.set_attribute(GEN_AI_INPUT_TOKENS, input_tokens)
    if output_tokens is not None:
        span.set_attribute(GEN_AI_OUTPUT_TOKENS, output_tokens)
    if finish_reason:
        span.set_attribute(GEN_AI_FINISH_REASONS, [finish_reason])

__all__ = ["annotate_binding", "annotate_current_span", "current_trace_context"]
