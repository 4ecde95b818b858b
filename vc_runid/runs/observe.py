"""What an OpenAI-compatible server answered a run, read from the bytes the client received: the
model id it reports, usage, finish reason, and for a stream the content assembled from its
events (the gateway and the SDK integrations bind these).

Nothing here can fail: an answer the gateway cannot read is still bound (by its bytes), only
with less observed about it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .binding import Observed, Usage

SSE = "text/event-stream"


@dataclass
class Answer:
    """What the binding records of one upstream answer."""

    model_id: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    content: list[str] = field(default_factory=list)

    def observed(self, provider: str | None, http_status: int | None) -> Observed:
        return Observed(modelId=self.model_id, provider=provider, httpStatus=http_status, finishReason=self.finish_reason)


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None

    def count(*names: str) -> int | None:
        for name in names:
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
        return None

    usage = Usage(
        inputTokens=count("prompt_tokens", "input_tokens"),
        outputTokens=count("completion_tokens", "output_tokens"),
        totalTokens=count("total_tokens"),
    )
    return usage if usage.model_dump(exclude_none=True) else None


def _read(answer: Answer, data: Any, *, stream: bool) -> None:
    if not isinstance(data, dict):
        return
    if isinstance(data.get("model"), str):
        answer.model_id = data["model"]
    usage = _usage(data.get("usage"))
    if usage is not None:
        answer.usage = usage
    choices = data.get("choices")
    if not isinstance(choices, list):
        return
    for choice in choices:
        # The run's content is choice 0; the other choices are in the raw bytes.
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        if isinstance(choice.get("finish_reason"), str):
            answer.finish_reason = choice["finish_reason"]
        part = choice.get("delta") if stream else choice.get("message")
        text = part.get("content") if isinstance(part, dict) else None
        if text is None:
            text = choice.get("text")  # legacy completions
        if isinstance(text, str):
            answer.content.append(text)


def read_json_answer(body: bytes) -> Answer:
    answer = Answer()
    try:
        _read(answer, json.loads(body), stream=False)
    except (ValueError, UnicodeDecodeError):
        pass
    return answer


def read_sse_answer(body: bytes) -> Answer:
    """Assemble an OpenAI-style event stream (``data: {chunk}`` events, ``data: [DONE]``). Lines
    that are not JSON chunks are skipped: they are in the raw digest anyway."""
    answer = Answer()
    text = body.decode("utf-8", errors="replace")
    for event in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        data = "\n".join(line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:"))
        if not data or data == "[DONE]":
            continue
        try:
            _read(answer, json.loads(data), stream=True)
        except ValueError:
            continue
    return answer
