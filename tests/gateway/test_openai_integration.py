"""``vc_runid.integrations.openai``: the real ``openai`` SDK, sync and async, streaming and not,
against the demo model served over HTTP by a real process; declared with a local key or through
the real issuer service; OpenTelemetry spans linked both ways."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from vc_runid._internal.timeutil import parse_datetime, utc_now
from vc_runid.demo.model import MODEL_ID
from vc_runid.runs.digests import digest_multibase
from vc_runid.runs.verify import verify_run
from vc_runid.vc.dids import DidResolver
from vc_runid.vc.policy import TrustPolicy
from vc_runid.vc.verification import Verifier

from .conftest import Service

openai = pytest.importorskip("openai")
from vc_runid.integrations.openai import instrument, run_of

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "what is the run"}]


def _verified(run: Any, output: bytes | None, resolver: DidResolver | None = None) -> None:
    issuer = run.declaration["issuer"]
    report = verify_run(
        run.declaration, run.binding, output=output,
        verifier=Verifier(resolver=resolver or DidResolver(), now=utc_now()),
        policy=TrustPolicy.trusting(issuer),
    )
    assert report.valid, [(c.name, c.code, c.message) for c in report.failures]


def test_a_sync_completion_is_declared_before_and_bound_after(demo_upstream: str, tmp_path: Path) -> None:
    client = instrument(openai.OpenAI(base_url=demo_upstream, api_key="x", max_retries=0), home=tmp_path)

    completion = client.chat.completions.create(model=MODEL_ID, messages=MESSAGES, temperature=0, max_tokens=8)
    run = run_of(completion)

    assert completion.choices[0].message.content
    subject = run.declaration["credentialSubject"]
    assert subject["model"] == {"modelId": MODEL_ID, "provider": "openai"}
    assert json.loads(subject["configuration"]["parameters"]) == {"temperature": 0, "max_tokens": 8}
    bound = run.binding["credentialSubject"]
    assert parse_datetime(run.declaration["validFrom"], "validFrom") <= parse_datetime(bound["startedAt"], "startedAt")
    assert bound["observed"]["modelId"] == MODEL_ID and bound["observed"]["finishReason"] == "stop"
    assert bound["output"]["mediaType"] == "application/json"  # the HTTP body the SDK received
    _verified(run, None)


def test_a_sync_stream_is_bound_with_the_content_received(demo_upstream: str, tmp_path: Path) -> None:
    client = instrument(openai.OpenAI(base_url=demo_upstream, api_key="x", max_retries=0), home=tmp_path)

    stream = client.chat.completions.create(model=MODEL_ID, messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True})
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    run = run_of(stream)
    assert text and run.binding is not None
    bound = run.binding["credentialSubject"]
    assert bound["output"]["digestMultibase"] == digest_multibase(text.encode())
    assert bound["usage"]["totalTokens"] > 0
    _verified(run, text.encode())


def test_async_completion_and_stream(demo_upstream: str, tmp_path: Path) -> None:
    async def calls() -> tuple[Any, Any, str]:
        client = instrument(openai.AsyncOpenAI(base_url=demo_upstream, api_key="x", max_retries=0), home=tmp_path)
        completion = await client.chat.completions.create(model=MODEL_ID, messages=MESSAGES)
        stream = await client.chat.completions.create(model=MODEL_ID, messages=MESSAGES, stream=True)
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        return completion, stream, text

    completion, stream, text = asyncio.run(calls())

    assert run_of(completion).binding is not None
    assert run_of(stream).binding["credentialSubject"]["output"]["digestMultibase"] == digest_multibase(text.encode())
    _verified(run_of(stream), text.encode())


def test_an_upstream_error_is_bound_and_still_raised(demo_upstream: str, tmp_path: Path) -> None:
    from vc_runid.store.runs import RunStore

    client = instrument(openai.OpenAI(base_url=demo_upstream, api_key="x", max_retries=0), home=tmp_path)

    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=MESSAGES)

    (record,) = RunStore.in_home(tmp_path).list()
    assert record.status == "bound"
    assert record.binding["credentialSubject"]["observed"]["httpStatus"] == 404


def test_declared_through_the_issuer_service(demo_upstream: str, issuer_service: Service, tmp_path: Path) -> None:
    client = instrument(openai.OpenAI(base_url=demo_upstream, api_key="x", max_retries=0),
                        issuer_url=issuer_service.url, token=issuer_service.token, home=tmp_path)

    completion = client.chat.completions.create(model=MODEL_ID, messages=MESSAGES)
    run = run_of(completion)

    logged = httpx.get(f"{issuer_service.url}/runs/{run.run_id}", timeout=10).json()
    assert logged["status"] == "bound" and logged["declaration"]["id"] == run.declaration_id
    assert (tmp_path / "receipts").is_dir()


def test_an_active_span_is_declared_and_gets_the_run_ids(demo_upstream: str, tmp_path: Path) -> None:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    client = instrument(openai.OpenAI(base_url=demo_upstream, api_key="x", max_retries=0), home=tmp_path)

    with tracer.start_as_current_span("chat") as span:
        completion = client.chat.completions.create(model=MODEL_ID, messages=MESSAGES)
        context = span.get_span_context()

    run = run_of(completion)
    assert run.declaration["credentialSubject"]["traceContext"] == {
        "traceId": f"{context.trace_id:032x}", "spanId": f"{context.span_id:016x}",
    }
    (finished,) = exporter.get_finished_spans()
    assert finished.attributes["vc_runid.run.id"] == run.run_id
    assert finished.attributes["vc_runid.declaration.id"] == run.declaration_id
    assert finished.attributes["gen_ai.operation.name"] == "chat"
    assert finished.attributes["gen_ai.response.model"] == MODEL_ID
    assert finished.attributes["gen_ai.usage.output_tokens"] > 0
