"""The official OpenAI SDK, instrumented: every ``chat.completions.create`` is declared before the
request leaves and bound after the answer (or the failure) came back.

    import openai
    from vc_runid.integrations.openai import instrument, run_of

    client = instrument(openai.OpenAI(), home=Path(".runid"))          # or issuer_url=…, token=…, or signer=…
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[…])
    run = run_of(completion)               # run.run_id, run.declaration, run.binding

    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[…], stream=True)
    for chunk in stream: ...
    stream.run.binding                     # bound when the stream ended (or was closed)

Works the same on ``openai.AsyncOpenAI`` (``await``, ``async for``). The request is declared
exactly as sent (``composition_from_chat_request``); when an OpenTelemetry span is active its
trace context is declared and the span gets the run's ids (``vc_runid.integrations.otel``).

What is bound: for a complete answer, the bytes of the HTTP body the SDK received; for a stream,
the assembled content of choice 0 (the SDK does not expose the event bytes — the gateway binds
those too); for an error, the error body and its HTTP status. Only ``chat.completions.create``
is instrumented; ``with_raw_response`` and other endpoints go out undeclared — put the gateway
in front when every call must be declared whatever the caller does.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import anyio.to_thread

from .._internal.timeutil import utc_now
from ..errors import UsageError
from ..runs.binding import OutputDigest, Usage, output_digest
from ..runs.chat_request import composition_from_chat_request
from ..runs.composition import Disclosures, RunComposition
from ..runs.observe import Answer, read_json_answer
from ..runs.signer import Declared, LocalSigner, RunSigner
from ..runs.workflow import bind_declared, declare_into
from ..store.home import default_home, init_home
from ..store.runs import RunStore
from ..vc.documents import SecuredWire
from . import otel

__all__ = ["InstrumentedRun", "instrument", "run_of"]

C = TypeVar("C")
TEXT = "text/plain; charset=utf-8"
_ATTRIBUTE = "_vc_runid_run"
# Keyword arguments of the SDK's create() that shape the HTTP call, not the request body.
_TRANSPORT = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})


@dataclass
class InstrumentedRun:
    """The run of one instrumented call: its declaration, and its binding once the
    answer is complete."""

    run_id: str
    declaration_id: str
    declaration: SecuredWire
    binding: SecuredWire | None = None
    #: The RUNID code when the binding could not be issued (the run then stays declared, unbound).
    binding_error: str | None = None


def run_of(response: Any) -> InstrumentedRun:
    """The run of a completion (or stream) returned by an instrumented client."""
    run = getattr(response, _ATTRIBUTE, None) or getattr(response, "run", None)
    if not isinstance(run, InstrumentedRun):
        raise UsageError("this object did not come from an instrumented chat.completions.create")
    return run


def instrument(
    client: C,
    *,
    home: Path | None = None,
    issuer_url: str | None = None,
    token: str | None = None,
    signer: RunSigner | None = None,
    provider: str | None = "openai",
) -> C:
    """Instrument ``client`` (``openai.OpenAI`` or ``openai.AsyncOpenAI``) in place and return it.

    Declares with the issuer key in ``home`` (default ``$RUNID_HOME`` or ``./.runid``, created if
    missing), or through the issuer service at ``issuer_url`` with ``token``, or with any
    ``signer`` (a ``RunSigner``); the runs, their salts and any log receipts are kept in ``home``.
    ``provider`` is recorded in the declaration's model."""
    directory = home if home is not None else default_home()
    if signer is None:
        if issuer_url is not None:
            if not token:
                raise UsageError("issuer_url needs a token (vc-runid tokens create NAME)")
            from ..client.issuer import IssuerClient

            signer = IssuerClient(issuer_url, token, timeout=10.0)
        else:
            signer = LocalSigner(init_home(directory)[0])
    calls = _Calls(signer, RunStore.in_home(directory))
    completions = client.chat.completions  # type: ignore[attr-defined]
    # Taken before create is replaced: the SDK builds its raw-response wrapper from ``create``.
    raw_create = completions.with_raw_response.create
    stream_create = completions.create
    import inspect

    if inspect.iscoroutinefunction(inspect.unwrap(stream_create)) or type(completions).__name__.startswith("Async"):
        completions.create = _async_create(calls, provider, raw_create, stream_create)
    else:
        completions.create = _sync_create(calls, provider, raw_create, stream_create)
    return client


# --- what is declared --------------------------------------------------------------------------


def _given(value: Any) -> bool:
    return type(value).__name__ not in ("NotGiven", "Omit")


def _prepare(kwargs: dict[str, Any], provider: str | None) -> tuple[dict[str, Any], RunComposition, Disclosures]:
    """The request body exactly as the SDK will send it, and its composition. Messages are made
    plain JSON objects first, and sent as such, so what is declared is what is sent."""
    sent = {k: v for k, v in kwargs.items() if _given(v)}
    messages = sent.get("messages")
    if messages is not None and not isinstance(messages, list):
        messages = list(messages)
    if isinstance(messages, list):
        messages = [m.model_dump(mode="json", exclude_none=True) if hasattr(m, "model_dump") else m for m in messages]
        sent["messages"] = messages
    body = {k: v for k, v in sent.items() if k not in _TRANSPORT}
    extra = sent.get("extra_body")
    if isinstance(extra, dict):
        body.update(extra)  # the SDK merges extra_body into the JSON it sends
    composition, disclosures = composition_from_chat_request(body, provider=provider or "")
    if not provider:
        composition = composition.model_copy(
            update={"model": composition.model.model_copy(update={"provider": None})}
        )
    trace = otel.current_trace_context()
    if trace is not None:
        composition = composition.model_copy(update={"traceContext": trace})
    return sent, composition, disclosures


class _Calls:
    """The signer and the run store of one instrumented client."""

    def __init__(self, signer: RunSigner, store: RunStore) -> None:
        self.signer = signer
        self.store = store
        # Held for the client's life: each write then pays for its commit only (RunStore.keep_open).
        self._keeper = store.keep_open()

    def declare(self, composition: RunComposition, disclosures: Disclosures) -> Declared:
        return declare_into(self.signer, composition, disclosures, self.store)


def _new_run(declared: Declared) -> InstrumentedRun:
    otel.annotate_current_span(declared.run_id, declared.declaration_id, None, "chat/completions")
    return InstrumentedRun(declared.run_id, declared.declaration_id, declared.declaration)


def _bind_call(
    calls: _Calls, declared: Declared, run: InstrumentedRun, provider: str | None, started: Any,
    output: OutputDigest, answer: Answer, status: int | None,
) -> None:
    from ..errors import RunIdError

    try:
        run.binding = bind_declared(
            calls.signer, declared, calls.store, output=output, raw_output=None, started_at=started,
            completed_at=max(utc_now(), started), usage=answer.usage, observed=answer.observed(provider, status),
        ).binding
    except RunIdError as exc:  # the answer still reaches the caller; the run stays unbound
        run.binding_error = exc.code.value
        return
    binding_id = run.binding.get("id") if isinstance(run.binding, dict) else None
    usage = answer.usage or Usage()
    otel.annotate_binding(binding_id, response_model=answer.model_id, input_tokens=usage.inputTokens,
                          output_tokens=usage.outputTokens, finish_reason=answer.finish_reason)


def _error_output(exc: BaseException) -> tuple[OutputDigest, int | None]:
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "content"):
        return output_digest(response.content, response.headers.get("content-type")), response.status_code
    return output_digest(f"{type(exc).__name__}: {exc}".encode(), TEXT), None


class _Chunks:
    """Collects what a stream delivered: content of choice 0, model, finish reason, usage."""

    def __init__(self) -> None:
        self.answer = Answer()

    def add(self, chunk: Any) -> None:
        if getattr(chunk, "model", None):
            self.answer.model_id = chunk.model
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.answer.usage = Usage(inputTokens=usage.prompt_tokens, outputTokens=usage.completion_tokens,
                                      totalTokens=usage.total_tokens)
        for choice in getattr(chunk, "choices", None) or []:
            if choice.index != 0:
                continue
            if choice.finish_reason:
                self.answer.finish_reason = choice.finish_reason
            if choice.delta is not None and choice.delta.content:
                self.answer.content.append(choice.delta.content)

    def output(self) -> OutputDigest:
        return output_digest("".join(self.answer.content).encode("utf-8"), TEXT)


# --- sync --------------------------------------------------------------------------------------


class DeclaredStream:
    """The SDK's stream, bound once when it ends, fails or is closed. ``run`` is the run."""

    def __init__(self, stream: Any, bind: Callable[[OutputDigest, Answer, int | None], None], run: InstrumentedRun) -> None:
        self._stream = stream
        self._bind = bind
        self._chunks = _Chunks()
        self._done = False
        self.run = run
        setattr_safe(stream, run)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __iter__(self) -> Iterator[Any]:
        try:
            for chunk in self._stream:
                self._chunks.add(chunk)
                yield chunk
        finally:
            self._finish()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._finish()

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            status = getattr(getattr(self._stream, "response", None), "status_code", None)
            self._bind(self._chunks.output(), self._chunks.answer, status)


def setattr_safe(target: Any, run: InstrumentedRun) -> None:
    try:
        object.__setattr__(target, _ATTRIBUTE, run)
    except (AttributeError, TypeError):
        pass


def _sync_create(calls: _Calls, provider: str | None, raw_create: Any, stream_create: Any) -> Any:
    @functools.wraps(stream_create)
    def create(*args: Any, **kwargs: Any) -> Any:
        sent, composition, disclosures = _prepare(kwargs, provider)
        declared = calls.declare(composition, disclosures)
        run = _new_run(declared)
        started = max(utc_now(), declared.declared_at)

        def bind(output: OutputDigest, answer: Answer, status: int | None) -> None:
            _bind_call(calls, declared, run, provider, started, output, answer, status)

        try:
            if sent.get("stream"):
                return DeclaredStream(stream_create(*args, **sent), bind, run)
            raw = raw_create(*args, **sent)
        except Exception as exc:
            output, status = _error_output(exc)
            bind(output, Answer(), status)
            raise
        body = raw.http_response.content
        bind(output_digest(body, raw.headers.get("content-type")), read_json_answer(body), raw.status_code)
        completion = raw.parse()
        setattr_safe(completion, run)
        return completion

    return create


# --- async -------------------------------------------------------------------------------------


class AsyncDeclaredStream:
    """The SDK's async stream, bound once when it ends, fails or is closed."""

    def __init__(self, stream: Any, bind: Callable[[OutputDigest, Answer, int | None], Any], run: InstrumentedRun) -> None:
        self._stream = stream
        self._bind = bind
        self._chunks = _Chunks()
        self._done = False
        self.run = run
        setattr_safe(stream, run)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    async def __aiter__(self) -> AsyncIterator[Any]:
        try:
            async for chunk in self._stream:
                self._chunks.add(chunk)
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await self._finish()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self._stream.close()
        finally:
            await self._finish()

    async def _finish(self) -> None:
        if not self._done:
            self._done = True
            status = getattr(getattr(self._stream, "response", None), "status_code", None)
            await self._bind(self._chunks.output(), self._chunks.answer, status)


def _async_create(calls: _Calls, provider: str | None, raw_create: Any, stream_create: Any) -> Any:
    @functools.wraps(stream_create)
    async def create(*args: Any, **kwargs: Any) -> Any:
        sent, composition, disclosures = _prepare(kwargs, provider)
        # Signing and SQLite block: off the event loop.
        declared = await anyio.to_thread.run_sync(calls.declare, composition, disclosures)
        run = _new_run(declared)
        started = max(utc_now(), declared.declared_at)

        async def bind(output: OutputDigest, answer: Answer, status: int | None) -> None:
            await anyio.to_thread.run_sync(
                lambda: _bind_call(calls, declared, run, provider, started, output, answer, status)
            )

        try:
            if sent.get("stream"):
                return AsyncDeclaredStream(await stream_create(*args, **sent), bind, run)
            raw = await raw_create(*args, **sent)
        except Exception as exc:
            output, status = _error_output(exc)
            await bind(output, Answer(), status)
            raise
        body = raw.http_response.content
        await bind(output_digest(body, raw.headers.get("content-type")), read_json_answer(body), raw.status_code)
        completion = raw.parse()
        setattr_safe(completion, run)
        return completion

    return create
