"""The gateway declaring through the issuer service (``--issuer``), and inside the service process
(``serve --gateway-upstream``): every forwarded call is in the service's log before it went
upstream, and the service returns the pair."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from vc_runid._internal.timeutil import parse_datetime
from vc_runid.demo.model import MODEL_ID
from vc_runid.runs.digests import digest_multibase

from .conftest import Service, start_gateway, start_service

CHAT = {"model": MODEL_ID, "messages": [{"role": "user", "content": "what is the run"}]}


def _logged_kinds(service_url: str, run_id: str) -> list[str]:
    entries = httpx.get(f"{service_url}/log/entries", timeout=10).json()["entries"]
    return [e["kind"] for e in entries if e["runId"] == run_id]


def test_through_the_issuer_service_every_call_is_logged(
    demo_upstream: str, issuer_service: Service, tmp_path: Path
) -> None:
    process, url = start_gateway(tmp_path, demo_upstream, "--issuer", issuer_service.url, "--token-env", "GW_TOKEN",
                                 env={"GW_TOKEN": issuer_service.token, "RUNID_HOME": str(tmp_path / "home")})
    try:
        response = httpx.post(f"{url}/v1/chat/completions", json=CHAT, timeout=30)
        run_id = response.headers["Runid-Run-Id"]
        run = httpx.get(f"{url}/runs/{run_id}", timeout=10).json()
    finally:
        process.stop()

    assert response.status_code == 200
    assert _logged_kinds(issuer_service.url, run_id) == ["declaration", "binding"]
    assert run["receipts"]["declaration"]["leafIndex"] < run["receipts"]["binding"]["leafIndex"]
    service_run = httpx.get(f"{issuer_service.url}/runs/{run_id}", timeout=10).json()
    assert service_run["binding"]["credentialSubject"]["output"]["digestMultibase"] == digest_multibase(response.content)


@pytest.fixture(scope="module")
def service_with_gateway(demo_upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Service:
    service = start_service(tmp_path_factory.mktemp("serve-gateway"), "--gateway-upstream", demo_upstream)
    yield service
    service.process.stop()


def test_serve_gateway_upstream_declares_in_the_service_process(service_with_gateway: Service) -> None:
    url = service_with_gateway.url

    response = httpx.post(f"{url}/v1/chat/completions", json={**CHAT, "stream": True}, timeout=30)
    run_id = response.headers["Runid-Run-Id"]
    deadline = time.monotonic() + 15
    while (run := httpx.get(response.headers["Runid-Run-Url"], timeout=10).json())["status"] != "bound":
        assert time.monotonic() < deadline, "not bound in time"
        time.sleep(0.05)

    assert response.status_code == 200 and response.content.endswith(b"data: [DONE]\n\n")
    assert response.headers["Runid-Run-Url"].startswith(url)
    assert run["declaration"]["issuer"] == run["binding"]["issuer"]
    bound = run["binding"]["credentialSubject"]
    assert bound["rawOutput"]["digestMultibase"] == digest_multibase(response.content)
    assert parse_datetime(run["declaredAt"], "declaredAt") <= parse_datetime(bound["startedAt"], "startedAt")
    assert _logged_kinds(url, run_id) == ["declaration", "binding"]
    models = httpx.get(f"{url}/v1/models", timeout=10)
    assert models.status_code == 200 and "Runid-Run-Id" not in models.headers


def test_a_declaration_by_an_issuer_the_policy_does_not_trust_is_not_forwarded(
    faulty_upstream: str, issuer_service: Service, tmp_path: Path
) -> None:
    policy = tmp_path / "trust.yaml"
    policy.write_text("issuers: [did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK]\n")
    process, url = start_gateway(tmp_path, f"{faulty_upstream}/v1", "--issuer", issuer_service.url, "--token-env",
                                 "GW_TOKEN", "--trust", str(policy),
                                 env={"GW_TOKEN": issuer_service.token, "RUNID_HOME": str(tmp_path / "home")})
    try:
        before = httpx.get(f"{faulty_upstream}/count", timeout=5).json()["count"]
        response = httpx.post(f"{url}/v1/chat/completions", timeout=30,
                              json={"model": "ok", "messages": [{"role": "user", "content": "hi"}]})
        after = httpx.get(f"{faulty_upstream}/count", timeout=5).json()["count"]
    finally:
        process.stop()

    assert response.status_code == 503 and response.json()["code"] == "RUNID_ISSUER_NOT_TRUSTED"
    assert after == before


def test_a_policy_that_does_not_trust_the_gateway_is_refused_at_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    policy = tmp_path / "trust.yaml"
    policy.write_text("issuers: [did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK]\n")
    result = subprocess.run(
        [sys.executable, "-m", "vc_runid", "gateway", "--upstream", "http://127.0.0.1:9/v1", "--home", str(tmp_path / "h"),
         "--trust", str(policy)], capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.returncode == 1 and result.stderr.startswith("RUNID_ISSUER_NOT_TRUSTED:")
