"""A run composition from an OpenAI-style chat-completions request — the payload users already have.

``model`` → the model; ``system``/``developer`` messages → instructions (in order, with their role);
every other message → the input (the ordered message list, as RFC 8785 JSON); ``tools`` → tool
definitions; every other request field (temperature, top_p, max_tokens, seed, stop,
response_format, …) → the configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ErrorCode, RunError
from .composition import CompositionBuilder, Disclosures, Executor, RunComposition
from .digests import jcs

INSTRUCTION_ROLES = frozenset({"system", "developer"})
_NOT_PARAMETERS = frozenset({"model", "messages", "tools", "functions", "user", "metadata", "stream"})


def _text(content: Any) -> str:
    """Message content as sent: a string, or the list of content parts as canonical JSON."""
    if isinstance(content, str):
        return content
    return jcs(content).decode("utf-8")


def composition_from_chat_request(
    request: dict[str, Any],
    *,
    provider: str = "openai",
    retrieved: Sequence[tuple[str, bytes | str]] = (),
    executor: Executor | None = None,
    salted: bool = True,
) -> tuple[RunComposition, Disclosures]:
    """The composition (and disclosures) of an OpenAI-style chat request: model,
    parameters, instructions, tools and input, salted unless ``salted=False``."""
    model = request.get("model")
    messages = request.get("messages")
    if not isinstance(model, str) or not model:
        raise RunError("the chat request has no model", code=ErrorCode.MANIFEST_INVALID)
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise RunError("the chat request's messages must be a list of objects", code=ErrorCode.MANIFEST_INVALID)
    builder = CompositionBuilder(salted=salted).model(model, provider=provider)
    conversation = []
    for message in messages:
        role = message.get("role")
        if role in INSTRUCTION_ROLES:
            builder.instruction(_text(message.get("content", "")), role=str(role))
        else:
            conversation.append(message)
    parameters = {k: v for k, v in request.items() if k not in _NOT_PARAMETERS}
    if parameters:
        builder.parameters(parameters)
    for document_id, content in retrieved:
        builder.retrieved(document_id, content)
    # Legacy `functions` are tool definitions too: dropping them would leave them undeclared.
    for tool in [*(request.get("tools") or []), *(request.get("functions") or [])]:
        if not isinstance(tool, dict):
            raise RunError("each tool must be a JSON object", code=ErrorCode.MANIFEST_INVALID)
        builder.tool(tool)
    if conversation:
        builder.input(jcs(conversation), media_type="application/json")
    if executor is not None:
        builder.executor(id=executor.id, name=executor.name, runtime=executor.runtime)
    return builder.build()
