"""``vc-runid gateway`` end to end: the real ``openai`` client → the gateway process → the demo
model served over HTTP; the pair fetched from the gateway and verified offline by the CLI."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from vc_runid._internal.timeutil import parse_datetime
from vc_runid.demo.model import MODEL_ID
from vc_runid.runs.composition import check_disclosure
from vc_runid.runs.digests import digest_multibase, jcs

from .conftest import start_gateway

openai = pytest.importorskip("openai")

CHAT = {
    "model": MODEL_ID,
    "messages": [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "what does the declaration say"},
    ],
    "temperature": 0,
    "seed": 7,
    "max_tokens": 12,
}


def _client(url: str) -> Any:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="not-needed", max_retries=0, timeout=30)


def _run(url: str, run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/runs/{run_id}", timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _wait_bound(url: str, run_id: str, seconds: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = _run(url, run_id)
        if run["status"] == "bound":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} was not bound within {seconds}s")


def _save_pair(run: dict[str, Any], tmp_path: Path) -> tuple[Path, Path]:
    declaration, binding = tmp_path / "declaration.json", tmp_path / "binding.json"
    declaration.write_text(json.dumps(run["declaration"]))
    binding.write_text(json.dumps(run["binding"]))
    return declaration, binding


def _trust(run: dict[str, Any], tmp_path: Path) -> Path:
    """The verifier's policy: the gateway's issuer DID is the one trusted issuer."""
    policy = tmp_path / "trust.json"
    policy.write_text(json.dumps({"issuers": [run["declaration"]["issuer"]]}))
    return policy


def test_a_call_is_declared_before_it_is_forwarded_and_bound_after(gateway: str, tmp_path: Path, verify_cli: Any) -> None:
    raw = _client(gateway).chat.completions.with_raw_response.create(**CHAT)
    completion = raw.parse()
    run_id = raw.headers["Runid-Run-Id"]

    run = _run(gateway, run_id)

    assert completion.choices[0].message.content
    assert raw.headers["Runid-Declaration-Id"] == run["declaration"]["id"] == run["declarationId"]
    assert raw.headers["Runid-Run-Url"] == f"{gateway}/runs/{run_id.replace(':', '%3A')}"
    subject = run["declaration"]["credentialSubject"]
    assert subject["id"] == run_id
    assert subject["model"]["modelId"] == MODEL_ID and subject["model"]["provider"] == "vc-runid"
    assert subject["model"]["weights"]["digestMultibase"]  # the operator's registration, hashed at start
    assert subject["executor"] == {"name": "demo_upstream on 127.0.0.1"}
    assert json.loads(subject["configuration"]["parameters"]) == {"temperature": 0, "seed": 7, "max_tokens": 12}
    assert [i["role"] for i in subject["instructions"]] == ["system"]
    bound = run["binding"]["credentialSubject"]
    declared_at = parse_datetime(run["declaration"]["validFrom"], "validFrom")
    assert declared_at <= parse_datetime(bound["startedAt"], "startedAt")  # declared before the first byte went upstream
    assert bound["observed"] == {"modelId": MODEL_ID, "provider": "vc-runid", "httpStatus": 200, "finishReason": "stop"}
    assert bound["usage"]["outputTokens"] == completion.usage.completion_tokens
    body = tmp_path / "answer.json"
    body.write_bytes(raw.content)  # the bytes the client received
    declaration, binding = _save_pair(run, tmp_path)
    trust = _trust(run, tmp_path)
    checked = verify_cli(declaration, binding, "--output", body, "--trust", trust)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    body.write_bytes(raw.content.replace(b"\"stop\"", b"\"STOP\""))
    tampered = verify_cli(declaration, binding, "--output", body, "--trust", trust)
    assert tampered.returncode == 1 and "RUNID_OUTPUT_MISMATCH" in tampered.stdout


def test_the_declared_input_is_the_conversation_exactly_as_received(gateway: str, gateway_home: Path) -> None:
    """The salts stay with the gateway's operator; with them, the input digest opens to the
    very messages the client sent (a disclosure an auditor can check)."""
    from vc_runid.store.runs import RunStore

    raw = _client(gateway).chat.completions.with_raw_response.create(**CHAT)
    run_id = raw.headers["Runid-Run-Id"]
    record = RunStore.in_home(gateway_home / "issuer").get(run_id)
    disclosure = record.disclosures.components["input"]

    result = check_disclosure(record.declaration["credentialSubject"], disclosure, jcs(CHAT["messages"][1:]))

    assert "matches" in result


def test_a_stream_passes_byte_for_byte_and_binds_content_and_sse_bytes(gateway: str, tmp_path: Path, verify_cli: Any) -> None:
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{gateway}/v1/chat/completions", json=body, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        run_id = response.headers["Runid-Run-Id"]
        received = b"".join(response.iter_raw())

    run = _wait_bound(gateway, run_id)
    bound = run["binding"]["credentialSubject"]

    assert received.endswith(b"data: [DONE]\n\n")
    assert bound["rawOutput"] == {"digestMultibase": digest_multibase(received), "mediaType": "text/event-stream",
                                  "size": len(received)}
    content = "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content", "")
        for line in received.decode().split("\n") if line.startswith("data: {") and json.loads(line[6:])["choices"]
    )
    assert bound["output"]["digestMultibase"] == digest_multibase(content.encode())
    assert bound["observed"]["finishReason"] == "stop" and bound["usage"]["totalTokens"] > 0
    out = tmp_path / "content.txt"
    out.write_text(content)
    declaration, binding = _save_pair(run, tmp_path)
    checked = verify_cli(declaration, binding, "--output", out, "--trust", _trust(run, tmp_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_openai_client_streams_through_the_gateway(gateway: str) -> None:
    stream = _client(gateway).chat.completions.create(**CHAT, stream=True)
    text = "".join((chunk.choices[0].delta.content or "") for chunk in stream if chunk.choices)

    assert text
    # The run id is on the stream's HTTP response.
    run_id = stream.response.headers["Runid-Run-Id"]
    bound = _wait_bound(gateway, run_id)["binding"]["credentialSubject"]
    assert bound["output"]["digestMultibase"] == digest_multibase(text.encode())


def test_completions_and_embeddings_are_runs_too(gateway: str) -> None:
    client = _client(gateway)
    completion = client.completions.with_raw_response.create(model=MODEL_ID, prompt="the run", max_tokens=5)
    embedding = client.embeddings.with_raw_response.create(model=MODEL_ID, input=["a", "b"])

    for raw in (completion, embedding):
        run = _run(gateway, raw.headers["Runid-Run-Id"])
        assert run["status"] == "bound"
        assert run["binding"]["credentialSubject"]["output"]["digestMultibase"] == digest_multibase(raw.content)
    declared = _run(gateway, embedding.headers["Runid-Run-Id"])["declaration"]["credentialSubject"]
    assert declared["input"]["mediaType"] == "application/json"


def test_models_is_passed_through_and_is_not_a_run(gateway: str) -> None:
    response = httpx.get(f"{gateway}/v1/models", timeout=10)

    assert response.status_code == 200 and response.json()["data"][0]["id"] == MODEL_ID
    assert "Runid-Run-Id" not in response.headers


def test_the_trace_context_of_the_call_is_declared(gateway: str) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = httpx.post(f"{gateway}/v1/chat/completions", json=CHAT, headers={"traceparent": traceparent}, timeout=30)

    subject = _run(gateway, response.headers["Runid-Run-Id"])["declaration"]["credentialSubject"]

    assert subject["traceContext"] == {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7"}


def test_64_concurrent_calls_each_get_their_own_bound_run(gateway: str) -> None:
    async def calls() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=64)) as client:
            return await asyncio.gather(*(
                client.post(f"{gateway}/v1/chat/completions", json={**CHAT, "seed": i, "temperature": 1.0})
                for i in range(64)
            ))

    responses = asyncio.run(calls())

    assert [r.status_code for r in responses] == [200] * 64
    run_ids = {r.headers["Runid-Run-Id"] for r in responses}
    assert len(run_ids) == 64
    for response in responses:
        run = _run(gateway, response.headers["Runid-Run-Id"])
        assert run["status"] == "bound"
        assert run["binding"]["credentialSubject"]["output"]["digestMultibase"] == digest_multibase(response.content)


# --- bad input and faults -------------------------------------------------------------------------


def _count(faulty_upstream: str) -> int:
    return int(httpx.get(f"{faulty_upstream}/count", timeout=5).json()["count"])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "RUNID_INPUT_NOT_JSON"),
        (b'{"model": "ok", "model": "ok", "messages": []}', "RUNID_INPUT_DUPLICATE_KEY"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "RUNID_MANIFEST_INVALID"),
        (b'{"model": "ok", "messages": "hi"}', "RUNID_MANIFEST_INVALID"),
        (b"[1, 2]", "RUNID_MANIFEST_INVALID"),
    ],
    ids=["not-json", "duplicate-key", "no-model", "messages-not-a-list", "not-an-object"],
)
def test_a_malformed_body_is_answered_like_upstream_and_nothing_is_forwarded(
    faulty_gateway: str, faulty_upstream: str, body: bytes, code: str
) -> None:
    before = _count(faulty_upstream)

    response = httpx.post(f"{faulty_gateway}/v1/chat/completions", content=body,
                          headers={"content-type": "application/json"}, timeout=10)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["code"] == code
    assert _count(faulty_upstream) == before


def test_an_upstream_error_reaches_the_client_unchanged_and_is_bound(faulty_gateway: str) -> None:
    response = httpx.post(f"{faulty_gateway}/v1/chat/completions", timeout=10,
                          json={"model": "http-500", "messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 500
    assert response.content == b'{"error":{"message":"boom","type":"server_error"}}'
    bound = _run(faulty_gateway, response.headers["Runid-Run-Id"])["binding"]["credentialSubject"]
    assert bound["observed"]["httpStatus"] == 500
    assert bound["output"]["digestMultibase"] == digest_multibase(response.content)


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [("slow", 504, "RUNID_UPSTREAM_TIMEOUT"), ("garbage", 502, "RUNID_UPSTREAM_UNREACHABLE")],
)
def test_a_slow_or_garbled_upstream_gives_a_bound_failure_not_a_hang(
    faulty_gateway: str, model: str, status: int, code: str
) -> None:
    started = time.monotonic()
    response = httpx.post(f"{faulty_gateway}/v1/chat/completions", timeout=20,
                          json={"model": model, "messages": [{"role": "user", "content": "hi"}]})

    assert time.monotonic() - started < 10  # --upstream-timeout 2
    assert response.status_code == status and response.json()["error"]["code"] == code
    bound = _run(faulty_gateway, response.headers["Runid-Run-Id"])["binding"]["credentialSubject"]
    assert bound["observed"]["httpStatus"] == status


def test_an_upstream_that_is_down_gives_a_bound_502(tmp_path: Path) -> None:
    from .conftest import free_port

    process, url = start_gateway(tmp_path, f"http://127.0.0.1:{free_port()}/v1", "--home", str(tmp_path / "issuer"))
    try:
        response = httpx.post(f"{url}/v1/chat/completions", timeout=20,
                              json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "RUNID_UPSTREAM_UNREACHABLE"
        assert _run(url, response.headers["Runid-Run-Id"])["status"] == "bound"
    finally:
        process.stop()


def test_a_stalled_stream_ends_at_the_deadline_and_binds_what_was_sent(faulty_gateway: str) -> None:
    started = time.monotonic()
    with httpx.stream("POST", f"{faulty_gateway}/v1/chat/completions", timeout=20,
                      json={"model": "stall-stream", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        received = b"".join(response.iter_raw())
        run_id = response.headers["Runid-Run-Id"]

    assert time.monotonic() - started < 10
    bound = _wait_bound(faulty_gateway, run_id)["binding"]["credentialSubject"]
    assert bound["rawOutput"]["digestMultibase"] == digest_multibase(received)
    assert bound["output"]["digestMultibase"] == digest_multibase(b"w0 w1 ")
    assert bound["observed"]["httpStatus"] == 504


def test_a_client_that_leaves_mid_stream_still_gets_its_run_bound(faulty_gateway: str) -> None:
    received = b""
    with httpx.stream("POST", f"{faulty_gateway}/v1/chat/completions", timeout=20,
                      json={"model": "slow-stream", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        run_id = response.headers["Runid-Run-Id"]
        for chunk in response.iter_raw():
            received += chunk
            if received.count(b"\n\n") >= 3:
                break  # leave: closing the response closes the connection

    bound = _wait_bound(faulty_gateway, run_id)["binding"]["credentialSubject"]
    # Bound well before the 100 events (10 s) the upstream would have sent.
    assert len(received) <= bound["rawOutput"]["size"] < 60 * len(received) / 3


def test_a_call_that_cannot_be_declared_is_not_forwarded(faulty_upstream: str, tmp_path: Path) -> None:
    from .conftest import free_port

    dead_service = f"http://127.0.0.1:{free_port()}"
    process, url = start_gateway(tmp_path, f"{faulty_upstream}/v1", "--issuer", dead_service, "--token-env", "GW_TOKEN",
                                 env={"GW_TOKEN": "runid_x", "RUNID_HOME": str(tmp_path / "home")})
    try:
        before = _count(faulty_upstream)
        response = httpx.post(f"{url}/v1/chat/completions", timeout=30,
                              json={"model": "ok", "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "RUNID_SERVICE_UNREACHABLE"
        assert _count(faulty_upstream) == before
    finally:
        process.stop()


def test_bundle_verify_bundle_and_audit_work_on_gateway_runs(gateway: str, gateway_home: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    raw = _client(gateway).chat.completions.with_raw_response.create(**CHAT)
    run_id = raw.headers["Runid-Run-Id"]
    answer = tmp_path / "answer.json"
    answer.write_bytes(raw.content)
    trust = _trust(_run(gateway, run_id), tmp_path)
    bundle = tmp_path / "audit.zip"

    def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vc_runid", *map(str, args)], capture_output=True, text=True,
                              timeout=120, check=False)

    made = cli("bundle", run_id, "--home", gateway_home / "issuer", "--output", f"{run_id}={answer}",
               "--disclose", f"{run_id}=input", "--out", bundle)
    assert made.returncode == 0, made.stdout + made.stderr
    checked = cli("verify-bundle", bundle, "--trust", trust)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    audited = cli("audit", bundle, "--trust", trust, "--workers", "1")
    assert audited.returncode == 0, audited.stdout + audited.stderr
