"""Bad input, auth and the VC API against the real service: each refusal is problem+json with a
stable code, and nothing is written to the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from vc_runid._internal.contexts import VC_V2
from vc_runid.cli.serve import log_app
from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import create_token, revoke_token
from vc_runid.vc.verification import verify_credential

from .conftest import Server
from .helpers import bind, declare, declare_and_wait, later, log_size, output_body, receipt_verifies


@pytest.fixture
def alice(shared_server: Server) -> Iterator[httpx.Client]:
    with shared_server.client("alice") as client:
        yield client


@pytest.fixture
def bob(shared_server: Server) -> Iterator[httpx.Client]:
    with shared_server.client("bob") as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return dict(body)


# --- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer runid_not-a-token"}, {"Authorization": "Basic eDp5"}])
def test_a_missing_or_wrong_token_gets_401_and_writes_nothing(shared_server: Server, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=shared_server.url, headers=headers) as anonymous:
        size = log_size(anonymous)
        response = declare(anonymous)
        assert_problem(response, 401, "RUNID_UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"
        assert_problem(anonymous.post("/credentials/issue", json={"credential": {}}), 401, "RUNID_UNAUTHORIZED")
        assert log_size(anonymous) == size


def test_a_revoked_token_gets_401(shared_server: Server) -> None:
    storage = open_storage(shared_server.home, None)
    try:
        token = create_token(storage, "carol")
        with httpx.Client(base_url=shared_server.url, headers={"Authorization": f"Bearer {token}"}) as carol:
            assert declare(carol).status_code == 201
            assert revoke_token(storage, "carol")
            size = log_size(carol)
            assert_problem(declare(carol), 401, "RUNID_UNAUTHORIZED")
            assert log_size(carol) == size
    finally:
        storage.close()


def test_a_client_cannot_bind_another_clients_run(alice: httpx.Client, bob: httpx.Client) -> None:
    run_id = declare_and_wait(alice)["runId"]
    size = log_size(alice)
    assert_problem(bind(bob, run_id), 403, "RUNID_RUN_FORBIDDEN")
    assert log_size(alice) == size
    assert alice.get(f"/runs/{run_id}").json()["status"] == "declared"


# --- the run endpoints -----------------------------------------------------------------------------


def test_a_replayed_binding_gets_409(alice: httpx.Client) -> None:
    run_id = declare_and_wait(alice)["runId"]
    body = output_body()
    assert alice.post(f"/runs/{run_id}/output", json=body).status_code == 201
    size = log_size(alice)
    assert_problem(alice.post(f"/runs/{run_id}/output", json=body), 409, "RUNID_ALREADY_BOUND")
    assert log_size(alice) == size


def test_an_unknown_run_gets_404(alice: httpx.Client) -> None:
    assert_problem(bind(alice, "urn:uuid:00000000-0000-4000-8000-000000000000"), 404, "RUNID_RUN_NOT_FOUND")
    assert_problem(alice.get("/runs/urn:uuid:00000000-0000-4000-8000-000000000000"), 404, "RUNID_RUN_NOT_FOUND")


CONTRADICTING_TIMES = [
    # (what, startedAt, completedAt — seconds from now, code)
    ("started before it was declared", -3600, -3500, "RUNID_DECLARED_AFTER_START"),
    ("completed before it started", 0, -1, "RUNID_TIME_ORDER"),
    ("completed in the service's future", 0, 3600, "RUNID_TIME_IN_FUTURE"),
]


@pytest.mark.parametrize(("what", "start", "end", "code"), CONTRADICTING_TIMES, ids=[c[0] for c in CONTRADICTING_TIMES])
def test_times_that_contradict_the_declaration_get_422(
    alice: httpx.Client, what: str, start: float, end: float, code: str
) -> None:
    run_id = declare_and_wait(alice)["runId"]
    size = log_size(alice)
    assert_problem(bind(alice, run_id, started=later(start), completed=later(end)), 422, code)
    assert log_size(alice) == size
    assert alice.get(f"/runs/{run_id}").json()["status"] == "declared"


def test_an_oversized_body_gets_413(alice: httpx.Client) -> None:
    size = log_size(alice)
    big = {"composition": {"model": {"modelId": "x" * (1 << 20)}}}
    assert_problem(alice.post("/runs", json=big), 413, "RUNID_INPUT_TOO_LARGE")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b" " * 65536

    assert_problem(alice.post("/runs", content=chunks()), 413, "RUNID_INPUT_TOO_LARGE")
    assert log_size(alice) == size


def test_malformed_json_gets_400(alice: httpx.Client) -> None:
    size = log_size(alice)
    response = alice.post("/runs", content=b'{"composition": {', headers={"content-type": "application/json"})
    assert_problem(response, 400, "RUNID_INPUT_NOT_JSON")
    assert log_size(alice) == size


@pytest.mark.parametrize(
    "body",
    [
        {"composition": {"model": {"modelId": "m", "weightsUrl": "https://x"}}},
        {"composition": {"model": {"modelId": "m"}}, "validFrom": "2020-01-01T00:00:00Z"},
        {"composition": {"model": {"modelId": "m"}}, "format": "ecdsa"},
        {"composition": {}},
    ],
    ids=["unknown composition field", "client-chosen validFrom", "unsupported format", "no model"],
)
def test_an_invalid_composition_gets_422(alice: httpx.Client, body: dict[str, Any]) -> None:
    size = log_size(alice)
    assert_problem(alice.post("/runs", json=body), 422, "RUNID_REQUEST_INVALID")
    assert log_size(alice) == size


# --- VC API -----------------------------------------------------------------------------------------


CREDENTIAL = {
    "@context": [VC_V2, {"@vocab": "https://example.org/vocab#"}],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:subject", "name": "Ada"},
}


@pytest.fixture(autouse=True)
def _names_the_generic_issuer(shared_server: Server) -> None:
    """A VC API request names its issuer: the service's generic issuer (server/issuance.py)."""
    from vc_runid.server.issuance import GenericIssuer
    from vc_runid.store.home import load_issuer

    CREDENTIAL["issuer"] = GenericIssuer.in_home(shared_server.home, load_issuer(shared_server.home)).did


def test_issue_then_verify_round_trip(alice: httpx.Client) -> None:
    response = alice.post("/credentials/issue", json={"credential": CREDENTIAL})
    assert response.status_code == 201, response.text
    vc = response.json()["verifiableCredential"]
    assert receipt_verifies(vc, response.json()["receipt"])
    assert verify_credential(vc).valid
    verified = alice.post("/credentials/verify", json={"verifiableCredential": vc, "options": {"checks": ["proof"]}})
    assert verified.status_code == 200
    assert verified.json()["verified"] is True and verified.json()["errors"] == []


def test_verify_refuses_a_tampered_credential_with_422_not_500(alice: httpx.Client) -> None:
    vc = alice.post("/credentials/issue", json={"credential": CREDENTIAL}).json()["verifiableCredential"]
    vc["credentialSubject"]["name"] = "Eve"
    response = alice.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code == 422
    assert response.json()["verified"] is False
    assert "RUNID_PROOF_INVALID" in [e["code"] for e in response.json()["errors"]]


@pytest.mark.parametrize("vc", [{}, "not.a.jwt", {"@context": "nope"}, [1, 2]])
def test_verify_answers_garbage_with_400_or_422(alice: httpx.Client, vc: Any) -> None:
    response = alice.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status_code in (400, 422)
    assert response.json()["verified"] is False


def test_run_credentials_cannot_be_issued_through_the_generic_endpoint(alice: httpx.Client) -> None:
    # Under the run context (more spellings in test_not_an_oracle.py).
    credential = {**CREDENTIAL, "@context": [VC_V2, "https://w3id.org/vc-runid/v1"],
                  "type": ["VerifiableCredential", "RunDeclarationCredential"], "validFrom": "2020-01-01T00:00:00Z"}
    assert_problem(alice.post("/credentials/issue", json={"credential": credential}), 422, "RUNID_ISSUANCE_REFUSED")
    # "RunDeclarationCredential" made to mean something else by @vocab: not the run type, but a
    # term of the run vocabulary used for another IRI, refused as not compacted.
    credential = {**CREDENTIAL, "type": ["VerifiableCredential", "RunDeclarationCredential"]}
    assert_problem(alice.post("/credentials/issue", json={"credential": credential}), 422, "RUNID_NOT_COMPACTED")


def test_presentations_verify_checks_the_holder_proof_challenge_domain_and_credentials(alice: httpx.Client) -> None:
    from vc_runid.vc.credentials import Issuer
    from vc_runid.vc.presentations import present

    vc = alice.post("/credentials/issue", json={"credential": CREDENTIAL}).json()["verifiableCredential"]
    vp = present([vc], Issuer.generate(), challenge="c-1", domain="auditor.example")
    ok = alice.post("/presentations/verify",
                    json={"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "auditor.example"}})
    assert ok.status_code == 200 and ok.json()["verified"] is True
    other = alice.post("/presentations/verify",
                       json={"verifiablePresentation": vp, "options": {"challenge": "c-2", "domain": "auditor.example"}})
    assert other.status_code == 422 and other.json()["verified"] is False
    assert "RUNID_PROOF_CHALLENGE_MISMATCH" in [e["code"] for e in other.json()["errors"]]
    unsigned = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": [vc]}
    missing = alice.post("/presentations/verify",
                         json={"verifiablePresentation": unsigned, "options": {"challenge": "c-1", "domain": "auditor.example"}})
    assert missing.status_code == 422 and missing.json()["verified"] is False


def test_openapi_describes_every_endpoint(shared_server: Server) -> None:
    paths = httpx.get(f"{shared_server.url}/openapi.json").json()["paths"]
    for path in ["/credentials/issue", "/credentials/verify", "/presentations/verify", "/runs",
                 "/runs/{run_id}/output", "/runs/{run_id}", "/log/checkpoint", "/log/proof/inclusion",
                 "/log/proof/consistency", "/log/entries", "/.well-known/did.json", "/status/1",
                 "/credentials/status"]:
        assert path in paths


def test_no_did_web_document_without_a_domain(shared_server: Server) -> None:
    assert_problem(httpx.get(f"{shared_server.url}/.well-known/did.json"), 404, "RUNID_DID_UNRESOLVED")


# --- the log, through the CLI -----------------------------------------------------------------------


def test_log_verify_and_audit_commands(alice: httpx.Client, shared_server: Server, tmp_path: Path) -> None:
    declare_and_wait(alice)
    old = tmp_path / "old.checkpoint"
    old.write_text(alice.get("/log/checkpoint").text)
    bind(alice, declare_and_wait(alice)["runId"])
    new = tmp_path / "new.checkpoint"
    new.write_text(alice.get("/log/checkpoint").text)
    runner = CliRunner()
    result = runner.invoke(log_app, ["verify", "--from", str(old), "--to", str(new), "--url", shared_server.url])
    assert result.exit_code == 0, result.output
    # swapped: the older checkpoint does not extend the newer one
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps({"consistencyProof": []}))
    result = runner.invoke(log_app, ["verify", "--from", str(new), "--to", str(old), "--proof", str(proof)])
    assert result.exit_code == 1 and "RUNID_LOG_CONSISTENCY_INVALID" in result.output
    result = runner.invoke(log_app, ["audit", "--url", shared_server.url, "--grace", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["valid"] and report["unbound"]  # declared runs above were left unbound
    result = runner.invoke(log_app, ["audit", "--home", str(shared_server.home), "--grace", "86400"])
    assert result.exit_code == 0, result.output
    assert "unbound past grace" not in result.output


def test_a_composition_whose_digests_contradict_its_content_gets_422(alice: httpx.Client) -> None:
    size = log_size(alice)
    body = {"composition": {
        "model": {"modelId": "m"},
        "configuration": {"parameters": '{"temperature":0}', "digestMultibase": "uEiBDyZ0qVmvnB2BsYWO7Ef0ZJe1gH2VnT9kCgtfN4KhrPA"},
    }}
    assert_problem(alice.post("/runs", json=body), 422, "RUNID_DECLARATION_INVALID")
    assert log_size(alice) == size
