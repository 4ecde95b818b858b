"""A misbehaving OpenAI-compatible server for the gateway's fault tests, on raw sockets so it can
also break HTTP itself. The request's ``model`` picks the fault:

- ``ok``: a normal chat completion;   ``http-500``: a 500 with an error body
- ``slow``: headers only after 30 s;  ``garbage``: bytes that are not HTTP
- ``stall-stream``: two events, then silence;  ``slow-stream``: an event every 0.1 s, 100 of them

``GET /count`` answers how many POSTs reached it (the gateway must forward nothing undeclared).

    python tests/gateway/faulty_upstream.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys

COUNT = 0


def _response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    return head.encode() + body


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _event(text: str, finish: str | None = None) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "model": "faulty-1",
             "choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global COUNT
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        if method == "GET" and path == "/count":
            writer.write(_response("200 OK", json.dumps({"count": COUNT}).encode()))
            return
        if method == "GET":
            writer.write(_response("200 OK", b'{"object":"list","data":[]}'))
            return
        COUNT += 1
        model = json.loads(body).get("model")
        if model == "ok":
            answer = {"id": "x", "object": "chat.completion", "model": "faulty-1",
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}]}
            writer.write(_response("200 OK", json.dumps(answer).encode()))
        elif model == "http-500":
            writer.write(_response("500 Internal Server Error", b'{"error":{"message":"boom","type":"server_error"}}'))
        elif model == "slow":
            await asyncio.sleep(30)
        elif model == "garbage":
            writer.write(b"\x00\x01 this is not HTTP at all\r\n\r\n")
        elif model in ("stall-stream", "slow-stream"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            count = 2 if model == "stall-stream" else 100
            for i in range(count):
                writer.write(_chunk(_event(f"w{i} ")))
                await writer.drain()
                if model == "slow-stream":
                    await asyncio.sleep(0.1)
            if model == "stall-stream":
                await asyncio.sleep(30)
            writer.write(_chunk(_event("", "stop")) + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
