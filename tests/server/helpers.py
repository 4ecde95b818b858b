"""Shared request bodies and checks for the service tests."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from vc_runid.cli.serve import checkpoint_key
from vc_runid.errors import RunIdError
from vc_runid.runs.declaration import log_leaf_data
from vc_runid.transparency import parse_signed_checkpoint
from vc_runid.transparency.receipt import Receipt, verify_receipt
from vc_runid.vc.policy import TrustPolicy
from vc_runid.vc.verification import verify_credential

COMPOSITION: dict[str, Any] = {
    "model": {"modelId": "llama-3.1-8b-instruct", "provider": "local", "revision": "r1"},
    "input": {"digestMultibase": "uEiCvZBZBqvVCLLCsoTrbqVVjK0_WCmXVCgCbmFCoq1QxSQ", "salted": True},
}


def declare(client: httpx.Client, composition: dict[str, Any] | None = None) -> httpx.Response:
    return client.post("/runs", json={"composition": composition or COMPOSITION})


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def output_body(started: datetime | None = None, completed: datetime | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "output": {"digestMultibase": "uEiDn1HzjwXFWtcWszHm-GqYpxAK-TzyWpYmqEBn8s3L3Jw", "mediaType": "text/plain", "size": 5},
        "startedAt": stamp(started or now),
        "completedAt": stamp(completed or now),
        "usage": {"inputTokens": 3, "outputTokens": 5},
        "observed": {"modelId": "llama-3.1-8b-instruct", "provider": "local"},
    }


def declare_and_wait(client: httpx.Client) -> dict[str, Any]:
    """Declare, then make sure the service clock has moved past validFrom."""
    response = declare(client)
    assert response.status_code == 201, response.text
    return dict(response.json())


def bind(client: httpx.Client, run_id: str, **kw: Any) -> httpx.Response:
    return client.post(f"/runs/{run_id}/output", json=output_body(**kw))


def log_size(client: httpx.Client) -> int:
    note = client.get("/log/checkpoint").text
    return parse_signed_checkpoint(note)[0].tree_size


def receipt_verifies(secured: Any, receipt: dict[str, Any]) -> bool:
    key_name, key = checkpoint_key(receipt["checkpoint"], None)
    try:
        verify_receipt(log_leaf_data(secured), Receipt.model_validate(receipt), key_name, key)
    except RunIdError:
        return False
    return True


def later(seconds: float = 0.0) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def b64decode_all(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def all_entries(client: httpx.Client) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get("/log/entries", params={"start": len(out)}).json()
        out.extend(page["entries"])
        if len(out) >= page["treeSize"] or not page["entries"]:
            return out


def service_policy(client: httpx.Client, secured: Any) -> TrustPolicy:
    """What an auditor of this service pins: its issuer DID and its log (origin + key), with the
    declaration required to be in that log."""
    issuer = verify_credential(secured).issuer
    assert issuer is not None
    log_key = client.get("/log/key").text.strip()
    return TrustPolicy.trusting(issuer, logs=[{"origin": issuer, "key": log_key}], requireLogInclusion=True)
