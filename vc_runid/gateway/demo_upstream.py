"""The bundled demo model served over HTTP as a small OpenAI-compatible server, so the gateway
and the SDK integration can be tried (and tested) with no download and no key:

    python -m vc_runid.gateway.demo_upstream --port 8000      # http://127.0.0.1:8000/v1

``/v1/chat/completions`` (with ``stream``), ``/v1/completions``, ``/v1/embeddings`` (a
deterministic hash embedding) and ``/v1/models``. Answers depend only on the weights, the prompt
and the parameters, like the demo model itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..demo.model import MODEL_ID, BigramModel


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}},
                        status_code=status)


def _prompt(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def create_demo_app() -> Starlette:
    model = BigramModel()

    def generate(body: dict[str, Any], prompt: str) -> str:
        return model.generate(
            prompt,
            max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 24),
            temperature=float(body.get("temperature") or 0.0),
            seed=int(body.get("seed") or 0),
        )

    async def read(request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def chat(request: Request) -> Response:
        body = await read(request)
        if body is None:
            return _error(400, "the body is not a JSON object")
        prompt = _prompt(body.get("messages"))
        if prompt is None or body.get("model") != MODEL_ID:
            return _error(400 if prompt is None else 404, "messages must be a list" if prompt is None
                          else f"The model `{body.get('model')}` does not exist")
        text = generate(body, prompt)
        words = text.split(" ") if text else []
        created, ident = int(time.time()), f"chatcmpl-{uuid.uuid4().hex}"
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(words),
                 "total_tokens": len(prompt.split()) + len(words)}
        if not body.get("stream"):
            return JSONResponse({
                "id": ident, "object": "chat.completion", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage,
            })
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def events() -> AsyncIterator[bytes]:
            def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> bytes:
                data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
                return f"data: {json.dumps(data)}\n\n".encode()

            yield chunk({"role": "assistant", "content": ""}, None)
            for i, word in enumerate(words):
                yield chunk({"content": word if i == 0 else " " + word}, None)
            yield chunk({}, "stop")
            if include_usage:
                data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                        "choices": [], "usage": usage}
                yield f"data: {json.dumps(data)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def completions(request: Request) -> Response:
        body = await read(request)
        if body is None or not isinstance(body.get("prompt"), str):
            return _error(400, "prompt must be a string")
        text = generate(body, body["prompt"])
        return JSONResponse({
            "id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()), "model": MODEL_ID,
            "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": len(body["prompt"].split()), "completion_tokens": len(text.split()),
                      "total_tokens": len(body["prompt"].split()) + len(text.split())},
        })

    async def embeddings(request: Request) -> Response:
        body = await read(request)
        if body is None or "input" not in body:
            return _error(400, "input is required")
        items = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for index, item in enumerate(items):
            digest = hashlib.sha256(json.dumps(item).encode()).digest()
            data.append({"object": "embedding", "index": index, "embedding": [b / 255.0 for b in digest[:16]]})
        return JSONResponse({"object": "list", "data": data, "model": MODEL_ID,
                             "usage": {"prompt_tokens": len(items), "total_tokens": len(items)}})

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                                         "owned_by": "vc-runid"}]})

    return Starlette(routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ])


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(create_demo_app(), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
