"""The declaring gateway: an OpenAI-compatible reverse proxy that declares every call before the
first byte goes upstream and binds the answer after.

    from pathlib import Path
    import uvicorn
    from vc_runid.gateway import Gateway, LocalDeclarer, create_gateway_app

    gateway = Gateway(upstream="http://127.0.0.1:8000/v1", declarer=LocalDeclarer(Path(".runid")))
    uvicorn.run(create_gateway_app(gateway), host="127.0.0.1", port=8088)

The client gets the upstream's status and body byte for byte, plus ``Runid-Run-Id``,
``Runid-Declaration-Id`` and ``Runid-Run-Url`` (where ``GET /runs/{id}`` returns the pair).
A call that cannot be declared is not forwarded (503 problem+json with a code); one that cannot
be read as a request is answered the way an OpenAI-compatible server answers it, and not
forwarded either.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._internal.timeutil import utc_now
from ..errors import ErrorCode, RunIdError
from ..runs.binding import OutputDigest, output_digest
from ..runs.observe import SSE, Answer, read_json_answer, read_sse_answer
from ..vc.documents import parse_json
from .compose import CHAT, COMPLETIONS, EMBEDDINGS, composition_from_request, trace_context
from .declarer import Declared, Declarer
from .registry import ModelRegistry

log = logging.getLogger("vc_runid.gateway")

#: Largest request body forwarded (32 MiB): long conversations with images inline are big.
MAX_REQUEST_BYTES = 32 << 20
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://w3id.org/vc-runid/problems#"
TEXT = "text/plain; charset=utf-8"

# RFC 9110 §7.6.1 hop-by-hop fields, and those the gateway sets itself.
_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding", "content-encoding",
})
# The gateway's own server writes these; the upstream's would come out twice.
_OWN = frozenset({"date", "server"})

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]


@dataclass
class Gateway:
    """What the gateway forwards to and signs with. ``timeout`` is the deadline, in seconds, for
    a whole upstream answer (and, streaming, for each next event)."""

    upstream: str
    declarer: Declarer
    upstream_key: str | None = None
    registry: ModelRegistry = field(default_factory=ModelRegistry)
    timeout: float = 600.0
    connect_timeout: float = 10.0
    public_url: str | None = None
    #: False when mounted in the issuer service, whose own ``GET /runs/{id}`` serves the pair.
    serve_runs: bool = True

    #: Threads for declaring and binding. Its own limiter, not anyio's default: inside the issuer
    #: service a declaration waits for the service, whose signing needs threads of the default one.
    threads: int = 32
    _limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)

    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    @property
    def served_by(self) -> str:
        url = httpx.URL(self.upstream)
        return f"{url.scheme}://{url.netloc.decode()}{url.path.rstrip('/')}"


# --- answers the gateway writes itself --------------------------------------------------------------


def openai_error(status: int, message: str, code: ErrorCode | str, kind: str = "invalid_request_error") -> bytes:
    """The error body OpenAI-compatible servers answer with, so SDKs raise their usual errors."""
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": str(code)}}).encode()


def problem(status: int, code: ErrorCode | str, title: str, detail: str) -> JSONResponse:
    body = {"type": PROBLEM_BASE + str(code), "title": title, "status": status, "code": str(code), "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _client_error(status: int, message: str, code: ErrorCode | str) -> Response:
    return Response(openai_error(status, message, code), status_code=status, media_type="application/json")


# --- the run around one call --------------------------------------------------------------------------


@dataclass
class _Call:
    gateway: Gateway
    run: Declared
    provider: str | None
    started_at: datetime
    headers: dict[str, str]

    async def bind(self, output: OutputDigest, raw: OutputDigest | None, answer: Answer, status: int) -> str | None:
        """Bind the run; the error code when the binding could not be issued (the answer still
        goes out: the run happened, and it stays declared and unbound for an auditor to see)."""
        completed_at = max(utc_now(), self.started_at)
        try:
            await anyio.to_thread.run_sync(lambda: self.gateway.declarer.bind(
                self.run, output=output, raw_output=raw, started_at=self.started_at, completed_at=completed_at,
                usage=answer.usage, observed=answer.observed(self.provider, status),
            ), limiter=self.gateway.limiter())
        except RunIdError as exc:
            log.error("run %s could not be bound: %s", self.run.run_id, exc)
            return exc.code.value
        except Exception as exc:
            log.exception("run %s could not be bound", self.run.run_id)
            return f"{ErrorCode.NOT_DECLARED.value}: {type(exc).__name__}"
        return None

    async def failed(self, status: int, message: str, code: ErrorCode) -> Response:
        """The upstream failed: answer the client, and bind the run with that answer."""
        body = openai_error(status, message, code, kind="upstream_error")
        error = await self.bind(output_digest(body, "application/json"), None, Answer(), status)
        headers = dict(self.headers)
        if error:
            headers["Runid-Binding-Error"] = error
        return Response(body, status_code=status, media_type="application/json", headers=headers)


def _forward_headers(request: Request, gateway: Gateway) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
    if gateway.upstream_key is not None:
        headers["authorization"] = f"Bearer {gateway.upstream_key}"
    # Identity: the bytes the gateway digests must be the bytes the client gets.
    headers["accept-encoding"] = "identity"
    return headers


def _answer_headers(response: httpx.Response, extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    kept = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
            if k.lower() not in _HOP and k.lower() not in _OWN]
    return kept + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]


async def _read_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        return None
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_REQUEST_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_gateway_app(gateway: Gateway) -> Starlette:
    """The gateway's ASGI application."""
    upstream_base = gateway.upstream.rstrip("/")
    state: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(gateway.timeout, connect=gateway.connect_timeout)
        limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            state["http"] = client
            yield
        gateway.declarer.close()

    def http() -> httpx.AsyncClient:
        client = state.get("http")
        if client is None:  # mounted in another app, whose lifespan does not run ours
            timeout = httpx.Timeout(gateway.timeout, connect=gateway.connect_timeout)
            client = state["http"] = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=512))
        return client

    async def run_call(request: Request, endpoint: str) -> Response | _RunStream:
        try:
            body = await _read_body(request)
        except ClientDisconnect:
            return Response(status_code=400)
        if body is None:
            return _client_error(413, f"request bodies are limited to {MAX_REQUEST_BYTES} bytes", ErrorCode.INPUT_TOO_LARGE)
        try:
            parsed = parse_json(body)
            composition, disclosures = composition_from_request(endpoint, parsed)
        except RunIdError as exc:
            # Answered here, as an OpenAI-compatible server would: nothing undeclared goes upstream.
            return _client_error(400, exc.message, exc.code)
        provider = gateway.registry.provider(composition.model.modelId)
        composition = gateway.registry.complete(composition, gateway.served_by)
        trace = trace_context(request.headers.get("traceparent"))
        if trace is None:
            from ..integrations.otel import current_trace_context

            trace = current_trace_context()
        if trace is not None:
            composition = composition.model_copy(update={"traceContext": trace})
        clock = time.perf_counter()
        try:
            declared = await anyio.to_thread.run_sync(
                gateway.declarer.declare, composition, disclosures, limiter=gateway.limiter()
            )
        except RunIdError as exc:
            return problem(503, exc.code, "Not declared, not forwarded", exc.message)
        except Exception as exc:
            log.exception("declaration failed")
            return problem(503, ErrorCode.NOT_DECLARED, "Not declared, not forwarded", f"{type(exc).__name__}: {exc}")
        from ..integrations.otel import annotate_current_span

        annotate_current_span(declared.run_id, declared.declaration_id, composition.model.modelId, endpoint)
        base = gateway.public_url or str(request.base_url).rstrip("/")
        runid_headers = {
            "Runid-Run-Id": declared.run_id,
            "Runid-Declaration-Id": declared.declaration_id,
            "Runid-Run-Url": f"{base.rstrip('/')}/runs/{quote(declared.run_id, safe='')}",
            # What the gateway added, for whoever measures it (W3C Server Timing).
            "Server-Timing": f"runid-declare;dur={(time.perf_counter() - clock) * 1000:.1f}",
        }
        call = _Call(gateway, declared, provider, max(utc_now(), declared.declared_at), runid_headers)
        upstream = http().build_request(
            "POST", f"{upstream_base}/{endpoint}", content=body, headers=_forward_headers(request, gateway)
        )
        try:
            with anyio.fail_after(gateway.timeout):
                response = await http().send(upstream, stream=True)
        except (TimeoutError, httpx.TimeoutException):
            return await call.failed(504, f"the upstream did not answer within {gateway.timeout:g}s", ErrorCode.UPSTREAM_TIMEOUT)
        except httpx.HTTPError as exc:
            return await call.failed(502, f"the upstream could not be reached: {type(exc).__name__}", ErrorCode.UPSTREAM_UNREACHABLE)
        if response.headers.get("content-type", "").startswith(SSE):
            return _RunStream(call, response)
        try:
            with anyio.fail_after(gateway.timeout):
                answer_body = await response.aread()
        except (TimeoutError, httpx.TimeoutException):
            await response.aclose()
            return await call.failed(504, f"the upstream answer did not complete within {gateway.timeout:g}s",
                                     ErrorCode.UPSTREAM_TIMEOUT)
        except httpx.HTTPError as exc:
            await response.aclose()
            return await call.failed(502, f"the upstream answer broke off: {type(exc).__name__}", ErrorCode.UPSTREAM_UNREACHABLE)
        media_type = response.headers.get("content-type")
        clock = time.perf_counter()
        error = await call.bind(output_digest(answer_body, media_type), None, read_json_answer(answer_body), response.status_code)
        extra = dict(runid_headers)
        extra["Server-Timing"] += f", runid-bind;dur={(time.perf_counter() - clock) * 1000:.1f}"
        if error:
            extra["Runid-Binding-Error"] = error
        return _Raw(response.status_code, _answer_headers(response, extra), answer_body)

    async def chat(request: Request) -> Response | _RunStream:
        return await run_call(request, CHAT)

    async def completions(request: Request) -> Response | _RunStream:
        return await run_call(request, COMPLETIONS)

    async def embeddings(request: Request) -> Response | _RunStream:
        return await run_call(request, EMBEDDINGS)

    async def models(request: Request) -> Response:
        """Not a run: passed through as is."""
        headers = _forward_headers(request, gateway)
        try:
            with anyio.fail_after(gateway.timeout):
                response = await http().get(f"{upstream_base}/models", headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            return _client_error(504, "the upstream did not answer in time", ErrorCode.UPSTREAM_TIMEOUT)
        except httpx.HTTPError as exc:
            return _client_error(502, f"the upstream could not be reached: {type(exc).__name__}", ErrorCode.UPSTREAM_UNREACHABLE)
        return _Raw(response.status_code, _answer_headers(response, {}), response.content)

    async def get_run(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            record = await anyio.to_thread.run_sync(gateway.declarer.store.get, run_id, limiter=gateway.limiter())
        except RunIdError as exc:
            return problem(404 if exc.code is ErrorCode.RUN_NOT_FOUND else 422, exc.code, "Run not found", exc.message)
        body: dict[str, Any] = {
            "runId": record.run_id,
            "status": record.status,
            "declarationId": record.declaration_id,
            "declaration": record.declaration,
            "declaredAt": record.declared_at,
            "binding": record.binding,
            "boundAt": record.bound_at,
        }
        receipts = gateway.declarer.receipts(record.run_id)  # the issuer service's, when it signed
        if receipts is not None:
            body["receipts"] = receipts
        return JSONResponse(body)

    async def not_declared(request: Request) -> Response:
        return _client_error(404, f"{request.url.path} is not an endpoint of this gateway", ErrorCode.USAGE)

    routes = [
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/{rest:path}", not_declared, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    if gateway.serve_runs:
        routes.append(Route("/runs/{run_id:path}", get_run, methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan)


class _Raw(Response):
    """A body sent exactly as received, with the upstream's headers (no charset or length added
    that the upstream did not send — Starlette recomputes content-length from the same bytes)."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        super().__init__(content=body, status_code=status)
        self.raw_headers = [*headers, (b"content-length", str(len(body)).encode())]


class _RunStream:
    """Pass an event stream through byte for byte, watch for the client leaving, and bind what
    the client was sent when the stream ends, fails or is abandoned."""

    def __init__(self, call: _Call, upstream: httpx.Response) -> None:
        self.call = call
        self.upstream = upstream

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        sent = bytearray()
        status = self.upstream.status_code
        deadline = self.call.gateway.timeout
        try:
            await send({
                "type": "http.response.start", "status": status,
                "headers": _answer_headers(self.upstream, self.call.headers),
            })
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()  # the client left: stop reading upstream

                group.start_soon(watch)
                try:
                    chunks = self.upstream.aiter_raw()
                    while True:
                        with anyio.fail_after(deadline):
                            chunk = await anext(chunks, None)
                        if chunk is None:
                            break
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        sent += chunk
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except (TimeoutError, httpx.HTTPError) as exc:
                    # Headers are gone already: end the stream; the binding says how far it got.
                    log.warning("run %s: upstream stream broke off: %s", self.call.run.run_id, type(exc).__name__)
                    status = 504 if isinstance(exc, (TimeoutError, httpx.TimeoutException)) else 502
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                finally:
                    group.cancel_scope.cancel()
        except OSError:
            pass  # the client's connection is gone; bound below with what it was sent
        finally:
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()
                raw = bytes(sent)
                answer = read_sse_answer(raw)
                content = "".join(answer.content).encode("utf-8")
                await self.call.bind(output_digest(content, TEXT), output_digest(raw, SSE), answer, status)
