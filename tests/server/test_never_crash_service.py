"""The service never hangs and never crashes on any input (issue 8 §4), against the real process.

Bad bodies get a typed problem+json answer (never a text/plain 500, never last-key-wins); a
CPU-heavy public verification runs off the event loop, so declarations and the checkpoint are
still answered while it runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from vc_runid.errors import ErrorCode
from vc_runid.vc.credentials import Issuer, issue_credential

from .conftest import Server, free_port
from .helpers import COMPOSITION, declare

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: ErrorCode) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    assert response.json()["code"] == code.value, response.text


def post_raw(server: Server, path: str, body: bytes, who: str | None = "alice") -> httpx.Response:
    with server.client(who) as client:
        return client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("path", ["/runs", "/credentials/issue", "/credentials/verify", "/presentations/verify"])
def test_a_body_with_a_duplicate_key_is_refused_everywhere(shared_server: Server, path: str) -> None:
    body = b'{"composition": {"model": {"modelId": "a"}}, "composition": {"model": {"modelId": "b"}}}'
    assert_problem(post_raw(shared_server, path, body), 400, ErrorCode.INPUT_DUPLICATE_KEY)


@pytest.mark.parametrize(
    "body",
    [
        b'{"composition": ',  # truncated
        b"\xff\xfe{}",  # not UTF-8
        b'{"composition": {"model": {"modelId": "\\ud800"}}}',  # a lone surrogate
        b'{"composition": {"model": {"modelId": "a"}}, "n": ' + b"9" * 5000 + b"}",  # past int limits
        b'{"composition": NaN}',
    ],
    ids=["truncated", "not-utf8", "lone-surrogate", "5000-digits", "nan"],
)
def test_a_malformed_body_is_input_not_json(shared_server: Server, body: bytes) -> None:
    assert_problem(post_raw(shared_server, "/runs", body), 400, ErrorCode.INPUT_NOT_JSON)


def test_a_list_of_600_identical_items_is_refused_with_a_typed_code(shared_server: Server) -> None:
    # Used to raise RecursionError inside canonicalization: a text/plain 500.
    from vc_runid.server.issuance import GenericIssuer
    from vc_runid.store.home import load_issuer

    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"items": {"@id": "https://example.com/items", "@container": "@list"}},
        ],
        "type": ["VerifiableCredential"],
        "issuer": GenericIssuer.in_home(shared_server.home, load_issuer(shared_server.home)).did,
        "credentialSubject": {"id": "did:example:1", "items": ["a"] * 600},
    }
    with shared_server.client() as client:
        response = client.post("/credentials/issue", json={"credential": credential})
        assert_problem(response, 422, ErrorCode.CANONICALIZATION_LIMIT)
        composition = {**COMPOSITION, "instructions": [{"role": "system", "digestMultibase": COMPOSITION["input"]["digestMultibase"]}] * 600}
        response = declare(client, composition)
        assert response.status_code in (201, 422), response.text
        if response.status_code == 422:
            assert_problem(response, 422, ErrorCode.CANONICALIZATION_LIMIT)


def test_a_megabyte_proof_value_is_refused_at_once(shared_server: Server) -> None:
    issuer = Issuer.generate()
    credential: dict[str, Any] = issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:1"}},
        issuer,
    )  # type: ignore[assignment]
    credential["proof"]["proofValue"] = "z" + "2" * 900_000  # base58 decoding is quadratic
    with shared_server.client(None) as client:
        response = client.post("/credentials/verify", json={"verifiableCredential": credential}, timeout=30)
    assert response.status_code == 422, response.text
    codes = [e["code"] for e in response.json()["errors"]]
    assert codes and ErrorCode.INTERNAL.value not in codes


def _heavy_credential() -> str:
    """A legitimate credential close to the 1 MiB limit: seconds of JSON-LD work to verify."""
    issuer = Issuer.generate()
    secured = issue_credential(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": [{"id": f"did:example:{i}", "name": f"n{i}"} for i in range(20_000)]},
        issuer,
    )
    return json.dumps({"verifiableCredential": secured})


def test_heavy_verifications_do_not_stall_declarations_or_the_checkpoint(shared_server: Server) -> None:
    body = _heavy_credential()
    finished: dict[str, float] = {}
    lock = threading.Lock()

    def verify(name: str) -> None:
        with httpx.Client(base_url=shared_server.url, timeout=120) as client:
            response = client.post("/credentials/verify", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        with lock:
            finished[name] = time.monotonic()

    threads = [threading.Thread(target=verify, args=(f"verify-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the verifications are now being read and checked
    with shared_server.client() as client:
        checkpoint = client.get("/log/checkpoint")
        finished["checkpoint"] = time.monotonic()
        declared = declare(client)
        finished["declare"] = time.monotonic()
    for thread in threads:
        thread.join(timeout=300)
    assert checkpoint.status_code == 200
    assert declared.status_code == 201, declared.text
    # Liveness, not speed: both answers came while verifications were still running (six of them
    # take seconds each; the service checks at most a few at once).
    last_verification = max(v for k, v in finished.items() if k.startswith("verify-"))
    assert finished["checkpoint"] < last_verification
    assert finished["declare"] < last_verification


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "vc_runid", *args], capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.mark.parametrize("proof", ["[]", '"x"', '{"consistencyProof": [5]}', '{"consistencyProof": ["!!"]}'])
def test_log_verify_with_a_malformed_proof_is_a_consistency_failure(shared_server: Server, tmp_path: Path, proof: str) -> None:
    with shared_server.client() as client:
        first = declare(client).json()["receipt"]["checkpoint"]
        second = declare(client).json()["receipt"]["checkpoint"]
    (tmp_path / "old.txt").write_text(first)
    (tmp_path / "new.txt").write_text(second)
    (tmp_path / "proof.json").write_text(proof)
    result = _cli("log", "verify", "--from", str(tmp_path / "old.txt"), "--to", str(tmp_path / "new.txt"),
                  "--proof", str(tmp_path / "proof.json"))
    assert result.returncode != 0 and result.stderr.startswith(ErrorCode.LOG_CONSISTENCY_INVALID.value), result.stderr


def test_log_commands_against_a_service_that_is_down_say_unreachable(shared_server: Server, tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    with shared_server.client() as client:
        first = declare(client).json()["receipt"]["checkpoint"]
        second = declare(client).json()["receipt"]["checkpoint"]
    (tmp_path / "old.txt").write_text(first)
    (tmp_path / "new.txt").write_text(second)
    verify = _cli("log", "verify", "--from", str(tmp_path / "old.txt"), "--to", str(tmp_path / "new.txt"), "--url", down)
    assert verify.returncode != 0 and verify.stderr.startswith(ErrorCode.SERVICE_UNREACHABLE.value), verify.stderr
    audit = _cli("log", "audit", "--url", down)
    assert audit.returncode != 0 and audit.stderr.startswith(ErrorCode.SERVICE_UNREACHABLE.value), audit.stderr
