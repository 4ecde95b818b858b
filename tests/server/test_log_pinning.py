"""log verify / log audit check a log against the key the auditor pinned, never the key the
server hands out, and say which origin and key they verified (against the real service)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from vc_runid.cli.serve import log_app
from vc_runid.transparency import parse_signed_checkpoint, vkey

from .conftest import Server
from .helpers import declare_and_wait


@pytest.fixture
def alice(shared_server: Server) -> Iterator[httpx.Client]:
    with shared_server.client("alice") as client:
        yield client


def _audit(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(log_app, ["audit", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_audit_names_the_origin_and_key_it_verified(alice: httpx.Client, shared_server: Server) -> None:
    declare_and_wait(alice)
    origin = parse_signed_checkpoint(alice.get("/log/checkpoint").text)[0].origin
    served = alice.get("/log/key").text.strip()
    code, output = _audit("--url", shared_server.url)
    assert code == 0, output
    assert f"verified: origin {origin}" in output  # a did:key origin is its own key
    code, output = _audit("--url", shared_server.url, "--log-key", served)
    assert code == 0, output
    assert f"pinned key {served.split('+')[1]}" in output


def test_audit_with_another_key_pinned_for_the_same_origin_fails(alice: httpx.Client, shared_server: Server) -> None:
    declare_and_wait(alice)
    origin = parse_signed_checkpoint(alice.get("/log/checkpoint").text)[0].origin
    impostor = vkey(origin, Ed25519PrivateKey.generate().public_key())
    code, output = _audit("--url", shared_server.url, "--log-key", impostor)
    assert code == 1
    assert "FAIL" in output and "carries no signature from key" in output


def test_audit_with_a_key_pinned_for_another_origin_is_not_trusted(alice: httpx.Client, shared_server: Server) -> None:
    declare_and_wait(alice)
    other = vkey("did:key:z6MkotherOrigin", Ed25519PrivateKey.generate().public_key())
    code, output = _audit("--url", shared_server.url, "--log-key", other)
    assert code == 1
    assert "RUNID_LOG_KEY_NOT_TRUSTED" in output


def test_audit_takes_the_log_from_a_trust_policy(alice: httpx.Client, shared_server: Server, tmp_path: Path) -> None:
    declare_and_wait(alice)
    origin = parse_signed_checkpoint(alice.get("/log/checkpoint").text)[0].origin
    policy = tmp_path / "trust.json"
    policy.write_text(json.dumps({"logs": [{"origin": origin, "key": alice.get("/log/key").text.strip()}]}))
    code, output = _audit("--url", shared_server.url, "--trust", str(policy))
    assert code == 0, output
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"logs": [{"origin": "log.example", "key": vkey("log.example", Ed25519PrivateKey.generate().public_key())}]}))
    code, output = _audit("--url", shared_server.url, "--trust", str(elsewhere))
    assert code == 1 and "RUNID_LOG_KEY_NOT_TRUSTED" in output
